import type {Knex} from 'knex'

import type {Executor} from './transactions.js'

/** The part of knex's client (or a transaction's client) selectRows uses on PostgreSQL. */
interface PoolingClient {
  dialect: string
  acquireConnection(): Promise<PgConnection>
  releaseConnection(connection: PgConnection): Promise<unknown>
}
interface PgConnection {
  query(config: {name: string; text: string; values: readonly unknown[]}): Promise<{rows: unknown[]}>
}

/** A fixed statement's server-side name and its text with PostgreSQL's `$n` placeholders, by its `?` text. */
const preparedStatements = new Map<string, {name: string; text: string}>()

function preparedStatement(sql: string): {name: string; text: string} {
  let statement = preparedStatements.get(sql)
  if (!statement) {
    let position = 0
    statement = {name: `laundry_ops_${preparedStatements.size + 1}`, text: sql.replace(/\?/g, () => `$${++position}`)}
    preparedStatements.set(sql, statement)
  }
  return statement
}

/**
 * Runs one fixed SQL statement (`?` placeholders, portable SQL, no `?` inside literals) and returns its rows
 * on either engine. For the API's per-request paths (the token guard, /api/me, order creation): knex's
 * query builder spends about 110 µs compiling a simple select that runs in 40 µs as raw SQL (measured on
 * this machine kind), and every request made several. On SQLite it goes through knex.raw (the connection
 * caches prepared statements, see connection.ts). On PostgreSQL it is a named prepared statement on the
 * pooled connection (or the transaction's): the server parses and plans it once per connection instead of
 * on every request, which was most of the database's CPU per statement (bench/api.ts).
 */
export async function selectRows<T>(conn: Executor, sql: string, bindings: readonly Knex.RawBinding[] = []): Promise<T[]> {
  const client = (conn as unknown as {client: PoolingClient}).client
  if (client.dialect === 'postgresql') {
    if (bindings.includes(undefined as unknown as Knex.RawBinding)) throw new Error(`selectRows: an undefined binding in ${sql}`)
    const statement = preparedStatement(sql)
    const connection = await client.acquireConnection()
    try {
      return (await connection.query({name: statement.name, text: statement.text, values: bindings})).rows as T[]
    } finally {
      await client.releaseConnection(connection)
    }
  }
  const result: unknown = await conn.raw(sql, bindings)
  // better-sqlite3 answers a statement that returns rows with the row array, any other with its run info.
  return Array.isArray(result) ? (result as T[]) : []
}
