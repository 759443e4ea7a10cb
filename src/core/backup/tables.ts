import {collectGarbage} from './memory.js'
import {TableChecksum, sqliteRowText, type TableStats} from './checksum.js'

/** The Laravel migrations ledger as the manifest records it: the schema the backup holds. */
export interface SchemaLedger {
  migrations: number
  last: string | null
  names: string[]
}

export interface DatabaseContents {
  serverVersion: string
  schema: SchemaLedger
  tables: Record<string, TableStats>
}

type SqliteDatabase = import('better-sqlite3').Database

/** Opens an SQLite file for reading only (the backup copy, a restored file). */
export async function openSqliteFile(filename: string, options: {readonly: boolean} = {readonly: true}): Promise<SqliteDatabase> {
  const {default: Database} = await import('better-sqlite3')
  return new Database(filename, {readonly: options.readonly, fileMustExist: true})
}

/** Every table of an SQLite file with its row count and content checksum, the ledger and the library version. */
export function sqliteContents(db: SqliteDatabase): DatabaseContents {
  const names = (
    db.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\' order by name").pluck().all() as string[]
  ).sort()
  const tables: Record<string, TableStats> = {}
  for (const name of names) {
    const sum = new TableChecksum()
    const statement = db.prepare(`select * from "${name.replace(/"/g, '""')}"`).raw(true)
    for (const row of statement.iterate() as Iterable<unknown[]>) {
      sum.add(sqliteRowText(row))
      if (sum.rows % GC_EVERY_ROWS === 0) collectGarbage()
    }
    tables[name] = {rows: sum.rows, checksum: sum.digest()}
  }
  const serverVersion = `SQLite ${db.prepare('select sqlite_version()').pluck().get() as string}`
  let ledger: string[] = []
  if (names.includes('migrations')) ledger = db.prepare('select migration from migrations order by id').pluck().all() as string[]
  return {serverVersion, schema: {migrations: ledger.length, last: ledger.at(-1) ?? null, names: ledger}, tables}
}

/** Is there any table in this SQLite file (a database worth refusing to overwrite)? */
export function sqliteTableNames(db: SqliteDatabase): string[] {
  return db.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\' order by name").pluck().all() as string[]
}

/** The subset of pg's Client the snapshot reads use. */
export interface PgQueryable {
  query<R = Record<string, unknown>>(text: string | {text: string; rowMode?: 'array'; types?: unknown}, values?: unknown[]): Promise<{rows: R[]}>
}

/** User tables of a PostgreSQL database, as `table` in public and `schema.table` elsewhere. */
export async function pgTables(client: PgQueryable): Promise<Array<{schema: string; table: string; key: string}>> {
  const {rows} = await client.query<{schema: string; table: string}>(
    `select n.nspname as schema, c.relname as table
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and not c.relispartition
        and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp\\_%'
        and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype = 'e')`,
  )
  return rows.map((r) => ({...r, key: r.schema === 'public' ? r.table : `${r.schema}.${r.table}`})).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`

/** Digests per cursor fetch: small batches die young (fewer objects promoted to V8's old space). */
const FETCH_ROWS = 500

/** Rows between two full collections (see collectGarbage): a few milliseconds each, every 100,000 rows. */
const GC_EVERY_ROWS = 100_000

/** The digest as PostgreSQL sends it (`\\x` and 64 hex digits), not turned into a Buffer. */
const rawText = {getTypeParser: () => (value: string) => value}

/**
 * Row counts and checksums of every user table, read in the client's current transaction (the backup's
 * exported snapshot, or a restored database) through a cursor. The server hashes each row's text
 * (`t::text`, PostgreSQL's own, so types never go through JavaScript values; as UTF-8, as TableChecksum
 * hashes a text) and only the 32-byte digests come over: memory stays flat whatever the table's size.
 */
export async function pgContents(client: PgQueryable, onTable?: (table: string, rows: number) => void): Promise<DatabaseContents> {
  const tables: Record<string, TableStats> = {}
  for (const t of await pgTables(client)) {
    const sum = new TableChecksum()
    await client.query(
      `declare laundry_ops_backup_rows no scroll cursor for select sha256(convert_to(t::text, 'UTF8')) as d from ${quoteIdent(t.schema)}.${quoteIdent(t.table)} t`,
    )
    for (;;) {
      const {rows} = await client.query<string[]>({text: `fetch forward ${FETCH_ROWS} from laundry_ops_backup_rows`, rowMode: 'array', types: rawText})
      for (const row of rows) sum.addHexDigest(row[0], 2)
      if (rows.length < FETCH_ROWS) break
      if (sum.rows % GC_EVERY_ROWS === 0) collectGarbage()
    }
    await client.query('close laundry_ops_backup_rows')
    tables[t.key] = {rows: sum.rows, checksum: sum.digest()}
    onTable?.(t.key, sum.rows)
  }
  const version = (await client.query<{v: string}>('select version() as v')).rows[0].v
  const serverVersion = version.split(' on ')[0]
  let names: string[] = []
  const ledger = await client.query<{present: boolean}>("select to_regclass('migrations') is not null as present")
  if (ledger.rows[0].present) names = (await client.query<{migration: string}>('select migration from migrations order by id')).rows.map((r) => r.migration)
  return {serverVersion, schema: {migrations: names.length, last: names.at(-1) ?? null, names}, tables}
}

/** Differences between a database's tables and a manifest's, for the restore's final check. */
export function compareTables(expected: Record<string, TableStats>, actual: Record<string, TableStats>): string[] {
  const problems: string[] = []
  for (const [name, stats] of Object.entries(expected)) {
    const got = actual[name]
    if (!got) problems.push(`${name}: missing`)
    else if (got.rows !== stats.rows) problems.push(`${name}: ${got.rows} rows, expected ${stats.rows}`)
    else if (got.checksum !== stats.checksum) problems.push(`${name}: content checksum differs`)
  }
  return problems
}
