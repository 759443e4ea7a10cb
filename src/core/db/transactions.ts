import type {Knex} from 'knex'

import type {Database} from './connection.js'
import {isStalePreparedStatement} from './raw.js'

export type Executor = Knex | Knex.Transaction

/** Advisory lock keys: each names one job that must not run twice at once on PostgreSQL. */
export const LOCKS = {
  migrate: 7_414_231_001,
  seed: 7_414_231_002,
  /** The key space of invoice lease claims and assignments, one lock per outlet and date (reference A-2). */
  invoiceLease: 7_414_231_003,
  /** The key space of sync mutation ids, one lock per tenant and mutation id (reference A-8). */
  syncMutation: 7_414_231_004,
} as const

export interface WriteTransactionOptions {
  /**
   * On PostgreSQL, first take this transaction-scoped advisory lock, so that concurrent runs of the
   * same job (two `db seed`, two `db migrate`) queue instead of racing on read-then-insert.
   */
  lock?: number
}

/**
 * Runs `work` as one write transaction that holds the write lock from its first statement:
 * on PostgreSQL a normal transaction (serialised by `options.lock` when given); on SQLite
 * `BEGIN IMMEDIATE`, so two writers queue on the busy timeout instead of failing late on a
 * read-to-write lock upgrade.
 */
export async function writeTransaction<T>(db: Database, work: (trx: Executor) => Promise<T>, options: WriteTransactionOptions = {}): Promise<T> {
  if (db.dialect === 'pg') {
    const attempt = () =>
      db.knex.transaction(async (trx) => {
        if (options.lock !== undefined) await trx.raw('select pg_advisory_xact_lock(?)', [options.lock])
        return work(trx)
      })
    try {
      return await attempt()
    } catch (error) {
      // A prepared statement went stale under the transaction (a migration changed a column type while we
      // run): the transaction rolled back whole, and its statements are prepared anew on the second run.
      if (!isStalePreparedStatement(error)) throw error
      return attempt()
    }
  }
  // knex holds the pool's single SQLite connection for the whole transaction, so no other query of this
  // process can slip into it. knex opens a deferred transaction; we swap it (still empty) for
  // BEGIN IMMEDIATE, which takes the write lock at once, waiting on busy_timeout. knex's own COMMIT or
  // ROLLBACK then ends ours.
  return db.knex.transaction(async (trx) => {
    await trx.raw('COMMIT')
    await beginImmediate(trx)
    return work(trx)
  })
}

const BUSY_RETRY_MS = 10_000

/**
 * BEGIN IMMEDIATE. The connection's busy_timeout makes SQLite wait for the write lock, but better-sqlite3
 * waits synchronously, holding the event loop; a connection opened with busy_timeout 0 (several
 * connections in one process, e.g. the scheduler tests) gets SQLITE_BUSY at once and we retry here,
 * asynchronously, for up to 10 s. On a final failure a plain BEGIN keeps knex's ROLLBACK valid, so the
 * caller sees SQLITE_BUSY, not "cannot rollback - no transaction is active".
 */
async function beginImmediate(trx: Knex.Transaction): Promise<void> {
  const deadline = Date.now() + BUSY_RETRY_MS
  for (;;) {
    try {
      await trx.raw('BEGIN IMMEDIATE')
      return
    } catch (error) {
      const code = (error as {code?: string}).code
      if (code !== 'SQLITE_BUSY' || Date.now() >= deadline) {
        await trx.raw('BEGIN').catch(() => {})
        throw error
      }
      await new Promise((resolve) => setTimeout(resolve, 1 + Math.floor(Math.random() * 10)))
    }
  }
}

const isSqliteBusy = (error: unknown) => {
  const code = (error as {code?: unknown})?.code
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY')
}

/**
 * One statement run on its own (its own implicit transaction, no BEGIN): on SQLite it takes the write lock
 * when it starts, as BEGIN IMMEDIATE does, and a statement refused with SQLITE_BUSY changed nothing, so it
 * is tried again, asynchronously, for up to 10 s (as beginImmediate does, for connections opened with
 * busy_timeout 0). On PostgreSQL `statement` runs once.
 */
export async function singleStatement<T>(db: Database, statement: () => Promise<T>): Promise<T> {
  if (db.dialect === 'pg') return statement()
  const deadline = Date.now() + BUSY_RETRY_MS
  for (;;) {
    try {
      return await statement()
    } catch (error) {
      if (!isSqliteBusy(error) || Date.now() >= deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 1 + Math.floor(Math.random() * 10)))
    }
  }
}

/** Rows of a raw select, whatever the driver's result shape. */
export async function selectRows<T>(conn: Executor, dialect: Database['dialect'], sql: string, bindings: readonly unknown[] = []): Promise<T[]> {
  const result = (await conn.raw(sql, bindings as Knex.RawBinding[])) as unknown
  return (dialect === 'pg' ? (result as {rows: T[]}).rows : result) as T[]
}

/**
 * On PostgreSQL, a transaction-scoped advisory lock on a named resource (`invoice-lease:<outlet>:<date>`)
 * within the key space `scope` (a LOCKS value): concurrent transactions naming the same resource queue
 * until the holder commits or rolls back. A no-op on SQLite, whose write transactions are serialised whole.
 */
export async function lockResource(conn: Executor, dialect: Database['dialect'], scope: number, resource: string): Promise<void> {
  if (dialect === 'pg') await conn.raw('select pg_advisory_xact_lock(hashtextextended(?, ?))', [resource, scope])
}
