/**
 * Checksums of database contents for the hostile-input API tests: every table (listed from the database
 * itself, so a new table is covered without a change here), or one tenant's rows. A checksum is the
 * sha256 of each row's JSON (values normalised across drivers), sorted, so row order never matters.
 */
import {createHash} from 'node:crypto'

import type {Knex} from 'knex'

import type {Database} from '../../src/core/db/connection.js'

/** The application tables (the migrator's bookkeeping included: nothing may change there either). */
export async function listTables(db: Database): Promise<string[]> {
  if (db.dialect === 'sqlite') {
    const rows: Array<{name: string}> = await db.knex.raw(`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`)
    return rows.map((row) => row.name)
  }
  const result: {rows: Array<{tablename: string}>} = await db.knex.raw(`select tablename from pg_tables where schemaname = current_schema() order by tablename`)
  return result.rows.map((row) => row.tablename)
}

const columnCache = new WeakMap<Database, Map<string, string[]>>()

export async function tableColumns(db: Database, table: string): Promise<string[]> {
  let cache = columnCache.get(db)
  if (!cache) columnCache.set(db, (cache = new Map<string, string[]>()))
  let columns = cache.get(table)
  if (!columns) {
    columns = Object.keys(await db.knex(table).columnInfo())
    cache.set(table, columns)
  }
  return columns
}

function normalise(value: unknown): unknown {
  if (value instanceof Date) return `date:${value.toISOString()}`
  if (Buffer.isBuffer(value)) return `hex:${value.toString('hex')}`
  if (typeof value === 'bigint') return value.toString()
  if (value !== null && typeof value === 'object') return JSON.stringify(value)
  return value
}

/** The checksum of a set of rows; `omit` names columns left out of every row. */
export function rowsChecksum(rows: Array<Record<string, unknown>>, omit: readonly string[] = []): string {
  const lines = rows.map((row) =>
    JSON.stringify(
      Object.keys(row)
        .filter((column) => !omit.includes(column))
        .sort()
        .map((column) => [column, normalise(row[column])]),
    ),
  )
  lines.sort()
  const hash = createHash('sha256')
  for (const line of lines) hash.update(line).update('\n')
  return `${rows.length}:${hash.digest('hex')}`
}

export interface TableChecksumOptions {
  /** Tables left out entirely. */
  skipTables?: readonly string[]
  /** Columns left out, per table. */
  omitColumns?: Readonly<Record<string, readonly string[]>>
}

/**
 * table → checksum of all its rows, in one statement on the database itself (every row as JSON text,
 * sorted, aggregated), so a test can take it around every request.
 */
export async function databaseChecksums(db: Database, options: TableChecksumOptions = {}): Promise<Record<string, string>> {
  const tables = (await listTables(db)).filter((table) => !options.skipTables?.includes(table))
  const parts: string[] = []
  for (const table of tables) {
    const omit = options.omitColumns?.[table] ?? []
    const quoted = `"${table.replace(/"/g, '""')}"`
    const name = `'${table.replace(/'/g, "''")}'`
    if (db.dialect === 'pg') {
      const row = `(to_jsonb(t)${omit.map((column) => ` - '${column}'`).join('')})::text`
      parts.push(`select ${name} as tbl, count(*)::text || ':' || coalesce(md5(string_agg(${row}, chr(10) order by ${row})), '') as sum from ${quoted} t`)
    } else {
      const columns = (await tableColumns(db, table)).filter((column) => !omit.includes(column))
      const row = `json_array(${columns.map((column) => `"${column}"`).join(', ')})`
      parts.push(`select ${name} as tbl, count(*) || ':' || coalesce(group_concat(r, char(10)), '') as sum from (select ${row} as r from ${quoted} order by r)`)
    }
  }
  const result: unknown = await db.knex.raw(parts.join(' union all '))
  const rows = (db.dialect === 'pg' ? (result as {rows: unknown[]}).rows : result) as Array<{tbl: string; sum: string}>
  return Object.fromEntries(rows.map((row) => [row.tbl, db.dialect === 'pg' ? row.sum : createHash('sha256').update(row.sum).digest('hex')]))
}

/**
 * The rows of one tenant, per table: rows with its tenant_id; in a table without one, the rows that hang
 * off its users (user_id, tokenable_id), orders (order_id) or outlets (outlet_id).
 */
export async function tenantRows(db: Database, tenant: string): Promise<Record<string, Array<Record<string, unknown>>>> {
  const knex = db.knex
  const users = ((await knex('users').where({tenant_id: tenant}).pluck('id')) as unknown[]).map(Number)
  const orders = (await knex('orders').where({tenant_id: tenant}).pluck('id')) as string[]
  const outlets = (await knex('outlets').where({tenant_id: tenant}).pluck('id')) as string[]
  const out: Record<string, Array<Record<string, unknown>>> = {}
  for (const table of await listTables(db)) {
    const columns = await tableColumns(db, table)
    let query: Knex.QueryBuilder | undefined
    if (columns.includes('tenant_id')) query = knex(table).where({tenant_id: tenant})
    else if (columns.includes('order_id')) query = knex(table).whereIn('order_id', orders)
    else if (columns.includes('tokenable_id')) query = knex(table).whereIn('tokenable_id', users).andWhere({tokenable_type: 'App\\Models\\User'})
    else if (columns.includes('user_id')) query = knex(table).whereIn('user_id', users)
    else if (columns.includes('outlet_id')) query = knex(table).whereIn('outlet_id', outlets)
    if (query) out[table] = (await query.select()) as Array<Record<string, unknown>>
  }
  return out
}

/** table → checksum of the tenant's rows (tenantRows). */
export async function tenantChecksums(db: Database, tenant: string): Promise<Record<string, string>> {
  const rows = await tenantRows(db, tenant)
  return Object.fromEntries(Object.entries(rows).map(([table, list]) => [table, rowsChecksum(list)]))
}
