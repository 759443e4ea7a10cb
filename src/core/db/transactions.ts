import type {Knex} from 'knex'

import type {Database} from './connection.js'

export type Executor = Knex | Knex.Transaction

/**
 * Runs `work` as one write transaction that holds the write lock from its first statement:
 * on PostgreSQL a normal transaction; on SQLite `BEGIN IMMEDIATE`, so two writers queue on the
 * busy timeout instead of failing late on a read-to-write lock upgrade.
 */
export async function writeTransaction<T>(db: Database, work: (trx: Executor) => Promise<T>): Promise<T> {
  if (db.dialect === 'pg') return db.knex.transaction((trx) => work(trx))
  // The SQLite pool holds exactly one connection, so these raw statements share it.
  await db.knex.raw('BEGIN IMMEDIATE')
  try {
    const result = await work(db.knex)
    await db.knex.raw('COMMIT')
    return result
  } catch (error) {
    await db.knex.raw('ROLLBACK').catch(() => {})
    throw error
  }
}

/** Rows of a raw select, whatever the driver's result shape. */
export async function selectRows<T>(conn: Executor, dialect: Database['dialect'], sql: string, bindings: readonly unknown[] = []): Promise<T[]> {
  const result = (await conn.raw(sql, bindings as Knex.RawBinding[])) as unknown
  return (dialect === 'pg' ? (result as {rows: T[]}).rows : result) as T[]
}
