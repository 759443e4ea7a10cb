import type {Knex} from 'knex'

import type {Database} from './connection.js'

export type Executor = Knex | Knex.Transaction

/** Advisory lock keys: each names one job that must not run twice at once on PostgreSQL. */
export const LOCKS = {
  migrate: 7_414_231_001,
  seed: 7_414_231_002,
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
    return db.knex.transaction(async (trx) => {
      if (options.lock !== undefined) await trx.raw('select pg_advisory_xact_lock(?)', [options.lock])
      return work(trx)
    })
  }
  // knex holds the pool's single SQLite connection for the whole transaction, so no other query of this
  // process can slip into it. knex opens a deferred transaction; we swap it (still empty) for
  // BEGIN IMMEDIATE, which takes the write lock at once, waiting on busy_timeout. knex's own COMMIT or
  // ROLLBACK then ends ours.
  return db.knex.transaction(async (trx) => {
    await trx.raw('COMMIT')
    await trx.raw('BEGIN IMMEDIATE')
    return work(trx)
  })
}

/** Rows of a raw select, whatever the driver's result shape. */
export async function selectRows<T>(conn: Executor, dialect: Database['dialect'], sql: string, bindings: readonly unknown[] = []): Promise<T[]> {
  const result = (await conn.raw(sql, bindings as Knex.RawBinding[])) as unknown
  return (dialect === 'pg' ? (result as {rows: T[]}).rows : result) as T[]
}
