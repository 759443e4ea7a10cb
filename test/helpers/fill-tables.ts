import {randomUUID} from 'node:crypto'

import type {Database} from '../../src/core/db/connection.js'
import {listTables} from './db-checksum.js'

interface Column {
  name: string
  type: string
  /** An auto-numbered key the database fills (serial / integer primary key). */
  generated: boolean
  maxLength: number | null
}

interface ForeignKey {
  column: string
  table: string
  references: string
}

async function columnsOf(db: Database, table: string): Promise<Column[]> {
  if (db.dialect === 'pg') {
    const {rows}: {rows: Array<{name: string; type: string; def: string | null; len: number | null}>} = await db.knex.raw(
      `select column_name as name, data_type as type, column_default as def, character_maximum_length as len
         from information_schema.columns where table_schema = 'public' and table_name = ? order by ordinal_position`,
      [table],
    )
    return rows.map((r) => ({
      name: r.name,
      type: r.type.toLowerCase(),
      generated: typeof r.def === 'string' && r.def.startsWith('nextval('),
      maxLength: r.len,
    }))
  }
  const rows: Array<{name: string; type: string; pk: number}> = await db.knex.raw(`pragma table_info("${table}")`)
  const autoKey = rows.filter((r) => r.pk > 0).length === 1 ? rows.find((r) => r.pk > 0 && /^integer$/i.test(r.type)) : undefined
  return rows.map((r) => {
    const len = /\((\d+)\)/.exec(r.type)
    return {name: r.name, type: r.type.toLowerCase(), generated: r === autoKey, maxLength: len ? Number(len[1]) : null}
  })
}

async function foreignKeysOf(db: Database, table: string): Promise<ForeignKey[]> {
  if (db.dialect === 'pg') {
    const {rows}: {rows: ForeignKey[]} = await db.knex.raw(
      `select a.attname as column, cf.relname as table, af.attname as references
         from pg_constraint c
         join pg_class cl on cl.oid = c.conrelid join pg_class cf on cf.oid = c.confrelid
         join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
         join pg_attribute af on af.attrelid = c.confrelid and af.attnum = c.confkey[1]
        where c.contype = 'f' and cl.relname = ? and cl.relnamespace = 'public'::regnamespace`,
      [table],
    )
    return rows
  }
  const rows: Array<{from: string; table: string; to: string}> = await db.knex.raw(`pragma foreign_key_list("${table}")`)
  return rows.map((r) => ({column: r.from, table: r.table, references: r.to}))
}

function valueFor(column: Column, n: number): unknown {
  const t = column.type
  const tag = `${n}${randomUUID().slice(0, 8)}`
  if (t === 'uuid' || (/char\(36\)/.test(t) && (column.name === 'id' || column.name.endsWith('_id')))) return randomUUID()
  if (/bool/.test(t)) return true
  if (/timestamp|datetime/.test(t)) return new Date(Date.UTC(2026, 10, 20, 8, n % 60, 7))
  if (/^date$/.test(t)) return '2026-11-20'
  if (/json/.test(t)) return JSON.stringify({filled: tag, list: [1, 'two', null]})
  if (/numeric|decimal|double|real|float/.test(t)) return 12.5 + n
  if (/smallint|tinyint/.test(t)) return (n % 100) + 1
  if (/int/.test(t)) return 1000 + n
  const text = `fill-${column.name}-${tag}`
  return column.maxLength ? text.slice(-column.maxLength) : text
}

/**
 * Adds one row to every table (every column filled, foreign keys pointing at the rows it added, else at
 * an existing row), parents before children: a database where no table is empty, with every column type
 * the schema uses holding a value. Returns the tables it filled.
 */
export async function fillEveryTable(db: Database): Promise<string[]> {
  const tables = (await listTables(db)).filter((t) => !t.startsWith('sqlite_'))
  const keys = new Map<string, ForeignKey[]>()
  for (const t of tables) keys.set(t, await foreignKeysOf(db, t))
  const ordered: string[] = []
  const visit = (t: string, path: Set<string>): void => {
    if (ordered.includes(t) || path.has(t)) return
    path.add(t)
    for (const fk of keys.get(t) ?? []) if (fk.table !== t && tables.includes(fk.table)) visit(fk.table, path)
    ordered.push(t)
  }
  for (const t of tables) visit(t, new Set())
  const added = new Map<string, Record<string, unknown>>()
  let n = 0
  for (const table of ordered) {
    n++
    const columns = await columnsOf(db, table)
    const fks = keys.get(table) ?? []
    const row: Record<string, unknown> = {}
    for (const c of columns) {
      if (c.generated) continue
      const fk = fks.find((f) => f.column === c.name)
      if (fk) {
        const own = added.get(fk.table)
        const existing: Record<string, unknown> | undefined = await db.knex(fk.table).first(fk.references)
        const value = own?.[fk.references] ?? existing?.[fk.references]
        row[c.name] = value ?? null
        continue
      }
      row[c.name] = valueFor(c, n)
    }
    const generated = columns.find((c) => c.generated)
    if (generated) {
      const [inserted]: Array<Record<string, unknown>> = await db.knex(table).insert(row).returning(generated.name)
      row[generated.name] = inserted[generated.name]
    } else {
      await db.knex(table).insert(row)
    }
    added.set(table, row)
  }
  return ordered
}
