import type {Knex} from 'knex'

import type {Executor} from './transactions.js'

/**
 * Runs one fixed SQL statement (knex `?` placeholders, portable SQL) and returns its rows on either engine.
 * For the API's per-request paths (the token guard, /api/me): knex's query builder spends about 110 µs
 * compiling a simple select that runs in 40 µs as raw SQL (measured on this machine kind), and every
 * authenticated request made several.
 */
export async function selectRows<T>(conn: Executor, sql: string, bindings: readonly Knex.RawBinding[] = []): Promise<T[]> {
  const result: unknown = await conn.raw(sql, bindings)
  // better-sqlite3 answers a select with the row array; pg with a result object.
  return (Array.isArray(result) ? result : (result as {rows: T[]}).rows) as T[]
}
