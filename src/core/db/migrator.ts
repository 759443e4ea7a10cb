import type {Clock} from '../clock.js'
import {systemClock} from '../clock.js'
import {OpsError} from '../errors.js'
import type {Database} from './connection.js'
import {MIGRATIONS, type Migration} from './migrations/index.js'
import type {MigrationRow} from './rows.js'
import {SchemaBuilder} from './schema/schema-builder.js'
import {type Executor, LOCKS, selectRows, writeTransaction} from './transactions.js'

/** Laravel's ledger table: a database either application migrated reads the same to the other. */
export const LEDGER_TABLE = 'migrations'

export interface MigrationState {
  name: string
  ran: boolean
  batch: number | null
}

export interface MigrationStatus {
  database: string
  ledger: boolean
  migrations: MigrationState[]
  pending: string[]
  /** Rows of the ledger that laundry-ops does not know (later upstream migrations, app-specific ones). */
  unknown: Array<{name: string; batch: number}>
}

interface LedgerRow {
  id: number
  migration: string
  batch: number
}

async function ledgerExists(conn: Executor, db: Database): Promise<boolean> {
  return new SchemaBuilder(conn, db.dialect).hasTable(LEDGER_TABLE)
}

async function readLedger(conn: Executor): Promise<LedgerRow[]> {
  const rows = await conn<MigrationRow>(LEDGER_TABLE).select('id', 'migration', 'batch').orderBy('id')
  return rows.map((r) => ({id: Number(r.id), migration: String(r.migration), batch: Number(r.batch)}))
}

async function ensureLedger(conn: Executor, db: Database): Promise<void> {
  const schema = new SchemaBuilder(conn, db.dialect)
  if (await schema.hasTable(LEDGER_TABLE)) return
  // Runs inside the migrate transaction, which holds the write lock (SQLite) or the migrate lock (PG).
  await schema.create(LEDGER_TABLE, (t) => {
    t.increments('id')
    t.string('migration')
    t.integer('batch')
  })
}

function summarise(db: Database, ledger: boolean, rows: LedgerRow[]): MigrationStatus {
  const byName = new Map(rows.map((r) => [r.migration, r]))
  const known = new Set(MIGRATIONS.map((m) => m.name))
  const migrations = MIGRATIONS.map((m) => {
    const row = byName.get(m.name)
    return {name: m.name, ran: Boolean(row), batch: row ? row.batch : null}
  })
  return {
    database: db.target.display,
    ledger,
    migrations,
    pending: migrations.filter((m) => !m.ran).map((m) => m.name),
    unknown: rows.filter((r) => !known.has(r.migration)).map((r) => ({name: r.migration, batch: r.batch})),
  }
}

export async function migrationStatus(db: Database): Promise<MigrationStatus> {
  const ledger = await ledgerExists(db.knex, db)
  return summarise(db, ledger, ledger ? await readLedger(db.knex) : [])
}

/**
 * SQLite schema changes that rebuild a table need foreign key enforcement off; it can only be switched
 * outside a transaction. We check every foreign key before the transaction commits instead.
 */
async function withSchemaTransaction<T>(db: Database, work: (conn: Executor) => Promise<T>): Promise<T> {
  if (db.dialect === 'pg') return writeTransaction(db, work, {lock: LOCKS.migrate})
  await db.knex.raw('PRAGMA foreign_keys = OFF')
  try {
    return await writeTransaction(db, async (conn) => {
      const result = await work(conn)
      const broken = await selectRows<{table: string; parent: string}>(conn, db.dialect, 'PRAGMA foreign_key_check')
      if (broken.length > 0) {
        const first = broken[0]
        throw new OpsError(
          'MIGRATION_FAILED',
          `foreign key check failed after the schema change (${broken.length} rows, first in ${first.table} → ${first.parent}); nothing was changed`,
        )
      }
      return result
    })
  } finally {
    await db.knex.raw('PRAGMA foreign_keys = ON')
  }
}

export interface MigrateOptions {
  dryRun?: boolean
  /** Give each migration its own batch number, so `db rollback` undoes one at a time (artisan --step). */
  step?: boolean
  clock?: Clock
  /** Progress, for the command to render: after each migration has run (in the transaction), its name. */
  onProgress?: (done: number, total: number, migration: string) => void
}

export interface MigrateResult {
  database: string
  dry_run: boolean
  batch: number | null
  migrated: string[]
  unknown: Array<{name: string; batch: number}>
}

async function runMigration(conn: Executor, db: Database, migration: Migration, direction: 'up' | 'down', clock: Clock): Promise<void> {
  const schema = new SchemaBuilder(conn, db.dialect)
  try {
    await migration[direction](schema, clock)
  } catch (error) {
    const last = schema.log.at(-1)
    const detail = (error as Error).message.split('\n')[0]
    throw new OpsError(
      'MIGRATION_FAILED',
      `migration ${migration.name} (${direction}) failed: ${detail}${last ? ` [while running: ${last.slice(0, 120)}]` : ''}; nothing was changed`,
    )
  }
}

/**
 * Applies every pending migration in one transaction: a failure leaves the database and the ledger as
 * they were (PostgreSQL and SQLite both have transactional DDL). Concurrent runs queue on a lock.
 */
export async function migrate(db: Database, options: MigrateOptions = {}): Promise<MigrateResult> {
  const clock = options.clock ?? systemClock
  if (options.dryRun) {
    const status = await migrationStatus(db)
    const batch = status.pending.length === 0 ? null : Math.max(0, ...status.migrations.map((m) => m.batch ?? 0), ...status.unknown.map((u) => u.batch)) + 1
    return {database: db.target.display, dry_run: true, batch, migrated: status.pending, unknown: status.unknown}
  }
  return withSchemaTransaction(db, async (conn) => {
    await ensureLedger(conn, db)
    const rows = await readLedger(conn)
    const ran = new Set(rows.map((r) => r.migration))
    const pending = MIGRATIONS.filter((m) => !ran.has(m.name))
    const status = summarise(db, true, rows)
    if (pending.length === 0) return {database: db.target.display, dry_run: false, batch: null, migrated: [], unknown: status.unknown}
    let batch = Math.max(0, ...rows.map((r) => r.batch)) + 1
    const firstBatch = batch
    for (const [index, migration] of pending.entries()) {
      await runMigration(conn, db, migration, 'up', clock)
      await conn(LEDGER_TABLE).insert({migration: migration.name, batch})
      if (options.step) batch++
      options.onProgress?.(index + 1, pending.length, migration.name)
    }
    return {database: db.target.display, dry_run: false, batch: firstBatch, migrated: pending.map((m) => m.name), unknown: status.unknown}
  })
}

export interface RollbackOptions {
  /** Undo the last N migrations instead of the last batch. */
  step?: number
  dryRun?: boolean
  clock?: Clock
}

export interface RollbackResult {
  database: string
  dry_run: boolean
  rolled_back: Array<{name: string; batch: number}>
}

function rollbackPlan(rows: LedgerRow[], step: number | undefined): LedgerRow[] {
  const newestFirst = [...rows].sort((a, b) => b.id - a.id)
  if (step !== undefined) return newestFirst.slice(0, step)
  if (newestFirst.length === 0) return []
  const lastBatch = Math.max(...rows.map((r) => r.batch))
  return newestFirst.filter((r) => r.batch === lastBatch)
}

/** Undoes the last batch (or the last `step` migrations), newest first, in one transaction. */
export async function rollback(db: Database, options: RollbackOptions = {}): Promise<RollbackResult> {
  const clock = options.clock ?? systemClock
  const byName = new Map(MIGRATIONS.map((m) => [m.name, m]))
  const plan = async (conn: Executor) => {
    if (!(await ledgerExists(conn, db))) return []
    const rows = rollbackPlan(await readLedger(conn), options.step)
    const foreign = rows.filter((r) => !byName.has(r.migration))
    if (foreign.length > 0) {
      throw new OpsError(
        'MIGRATION_UNKNOWN',
        `cannot roll back ${foreign[0].migration}: laundry-ops does not know this migration (it was run by another application); nothing was changed`,
      )
    }
    return rows
  }
  if (options.dryRun) {
    const rows = await plan(db.knex)
    return {database: db.target.display, dry_run: true, rolled_back: rows.map((r) => ({name: r.migration, batch: r.batch}))}
  }
  return withSchemaTransaction(db, async (conn) => {
    const rows = await plan(conn)
    for (const row of rows) {
      await runMigration(conn, db, byName.get(row.migration)!, 'down', clock)
      await conn(LEDGER_TABLE).where('id', row.id).delete()
    }
    return {database: db.target.display, dry_run: false, rolled_back: rows.map((r) => ({name: r.migration, batch: r.batch}))}
  })
}

async function tablesOf(conn: Executor, db: Database): Promise<string[]> {
  const names =
    db.dialect === 'pg'
      ? (await selectRows<{tablename: string}>(conn, 'pg', 'select tablename from pg_tables where schemaname = current_schema()')).map((r) => r.tablename)
      : (await selectRows<{name: string}>(conn, 'sqlite', "select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")).map(
          (r) => r.name,
        )
  return names.sort()
}

/** Every table of the database (the current schema on PostgreSQL). */
export async function listTables(db: Database): Promise<string[]> {
  return tablesOf(db.knex, db)
}

/** Drops every table of the database (the current schema on PostgreSQL), ledger included. */
export async function dropAllTables(db: Database): Promise<string[]> {
  return withSchemaTransaction(db, async (conn) => {
    const tables = await tablesOf(conn, db)
    const schema = new SchemaBuilder(conn, db.dialect)
    if (db.dialect === 'pg' && tables.length > 0) {
      await schema.raw(`drop table if exists ${tables.map((t) => `"${t.replace(/"/g, '""')}"`).join(', ')} cascade`)
    } else {
      for (const table of tables) await schema.dropIfExists(table)
    }
    return tables
  })
}
