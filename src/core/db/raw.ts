import type {Knex} from 'knex'

import {READ_ONLY_VIOLATION} from './connection.js'
import type {Executor} from './transactions.js'

/** The part of knex's client (or a transaction's client) selectRows uses on PostgreSQL. */
interface PoolingClient {
  dialect: string
  acquireConnection(): Promise<PgConnection>
  releaseConnection(connection: PgConnection): Promise<unknown>
}
interface PgConnection {
  query(config: {name?: string; text: string; values?: readonly unknown[]}): Promise<{rows: unknown[]}>
  /** node-postgres's protocol state: the named statements it believes the server holds. */
  connection?: {parsedStatements?: Record<string, string>; submittedNamedStatements?: Record<string, string>}
}

/** A fixed statement's server-side name and its text with PostgreSQL's `$n` placeholders, by its `?` text. */
const preparedStatements = new Map<string, {name: string; text: string}>()
/**
 * Bumped when the server reports a prepared statement stale (a migration changed the type of a column it
 * returns): every statement then gets a new name, so each pooled connection prepares it afresh at its next
 * use instead of failing once per connection. (The stale ones stay on their connections, unused.)
 */
let generation = 1

function preparedStatement(sql: string): {name: string; text: string} {
  let statement = preparedStatements.get(sql)
  if (!statement) {
    let position = 0
    statement = {name: `laundry_ops_${generation}_${preparedStatements.size + 1}`, text: sql.replace(/\?/g, () => `$${++position}`)}
    preparedStatements.set(sql, statement)
  }
  return statement
}

function renamePreparedStatements(): void {
  generation++
  preparedStatements.clear()
}

/** Set on the error of a statement that failed as stale inside a transaction: the transaction may be run again. */
export const STALE_PREPARED_STATEMENT = 'laundryOpsStalePreparedStatement'

/** Did this transaction fail only because a prepared statement had gone stale (writeTransaction runs it again, once)? */
export function isStalePreparedStatement(error: unknown): boolean {
  return Boolean(error && typeof error === 'object' && (error as Record<string, unknown>)[STALE_PREPARED_STATEMENT] === true)
}

/**
 * A named statement the server can no longer run as prepared: its result type changed under it (a
 * migration altered a column it returns: 0A000 "cached plan must not change result type"), or the server
 * does not hold it (26000: a pooler or DISCARD ALL dropped it).
 */
function isStalePrepared(error: unknown): boolean {
  const e = error as {code?: string; message?: string}
  return (e?.code === '0A000' && /cached plan must not change result type/i.test(String(e.message))) || e?.code === '26000'
}

function forgetPrepared(connection: PgConnection, name: string): void {
  delete connection.connection?.parsedStatements?.[name]
  delete connection.connection?.submittedNamedStatements?.[name]
}

/** Is this executor a knex transaction that has already committed or rolled back? */
function isFinishedTransaction(conn: Executor): boolean {
  const trx = conn as unknown as {isCompleted?: () => boolean}
  return typeof trx.isCompleted === 'function' && trx.isCompleted()
}

async function runPrepared(conn: Executor, client: PoolingClient, sql: string, bindings: readonly Knex.RawBinding[]): Promise<unknown[]> {
  if (bindings.includes(undefined as unknown as Knex.RawBinding)) throw new Error(`selectRows: an undefined binding in ${sql}`)
  // knex's own guard for a transaction used after its end (its connection may serve another transaction by now).
  if (isFinishedTransaction(conn)) throw new Error(`Transaction query already complete, run with DEBUG=knex:tx for more info (${sql})`)
  const inTransaction = typeof (conn as unknown as {isCompleted?: unknown}).isCompleted === 'function'
  const statement = preparedStatement(sql)
  const connection = await client.acquireConnection()
  try {
    try {
      return (await connection.query({name: statement.name, text: statement.text, values: bindings})).rows
    } catch (error) {
      if (!isStalePrepared(error)) throw error
      if (preparedStatements.get(sql) === statement) renamePreparedStatements()
      if (inTransaction) {
        // The transaction is aborted; it can be run again from its start (writeTransaction does, once).
        if (error && typeof error === 'object') Object.assign(error, {[STALE_PREPARED_STATEMENT]: true})
        throw error
      }
      // Outside a transaction: drop the stale one on this connection (server and client side alike, so that
      // a request still holding the old name prepares it again instead of colliding), then run it under its
      // new name, once.
      await connection.query({text: `DEALLOCATE ${statement.name}`}).catch(() => {})
      forgetPrepared(connection, statement.name)
      const renamed = preparedStatement(sql)
      return (await connection.query({name: renamed.name, text: renamed.text, values: bindings})).rows
    }
  } catch (error) {
    // As connection.ts's query-error hook tags knex's queries: a write refused by a read-only session.
    if ((error as {code?: string})?.code === '25006' && error && typeof error === 'object') Object.assign(error, {[READ_ONLY_VIOLATION]: true})
    throw error
  } finally {
    await client.releaseConnection(connection)
  }
}

/**
 * Runs one fixed SQL statement (`?` placeholders, portable SQL, no `?` inside literals) and returns its rows
 * on either engine. For the API's per-request paths (the token guard, /api/me, order creation): knex's
 * query builder spends about 110 µs compiling a simple select that runs in 40 µs as raw SQL (measured on
 * this machine kind), and every request made several. On SQLite it goes through knex.raw (the connection
 * caches prepared statements, see connection.ts). On PostgreSQL it is a named prepared statement on the
 * pooled connection (or the transaction's): the server parses and plans it once per connection instead of
 * on every request, which was most of the database's CPU per statement (bench/api.ts). A statement whose
 * prepared form went stale (a migration changed a column type under a running server) is prepared again.
 * Keep the set of SQL texts bounded (no text built from a request's sizes): each one stays prepared on
 * every connection that ran it.
 */
export async function selectRows<T>(conn: Executor, sql: string, bindings: readonly Knex.RawBinding[] = []): Promise<T[]> {
  const client = (conn as unknown as {client: PoolingClient}).client
  if (client.dialect === 'postgresql') return (await runPrepared(conn, client, sql, bindings)) as T[]
  const result: unknown = await conn.raw(sql, bindings)
  // better-sqlite3 answers a statement that returns rows with the row array, any other with its run info.
  return Array.isArray(result) ? (result as T[]) : []
}
