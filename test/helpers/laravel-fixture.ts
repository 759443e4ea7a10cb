import {readFileSync} from 'node:fs'
import path from 'node:path'

import type {Database} from '../../src/core/db/connection.js'
import {ROOT} from './cli.js'

/** The statements Laravel 12.51 ran for the upstream migrations (captured from a real run; shared/fixtures). */
export function laravelSchemaSql(dialect: 'sqlite' | 'pg'): string {
  const candidates = [
    path.join(ROOT, 'fixtures', 'laravel', `laravel-schema.${dialect}.sql`),
    path.join(ROOT, '..', 'shared', 'fixtures', 'laravel', `laravel-schema.${dialect}.sql`),
  ]
  for (const file of candidates) {
    try {
      return readFileSync(file, 'utf8')
    } catch {
      // Not in this place: try the next.
    }
  }
  throw new Error(`laravel-schema.${dialect}.sql not found in ${candidates.join(' or ')}`)
}

/** Migrates a database exactly as `php artisan migrate` did, ledger rows included. */
export async function migrateLikeLaravel(db: Database): Promise<void> {
  const sql = laravelSchemaSql(db.dialect)
  if (db.dialect === 'pg') {
    await db.knex.raw(sql)
    return
  }
  // better-sqlite3's exec runs a multi-statement script, pragmas included, on the knex connection.
  const client = db.knex.client as {acquireConnection(): Promise<{exec(sql: string): void}>; releaseConnection(conn: unknown): Promise<void>}
  const conn = await client.acquireConnection()
  try {
    conn.exec(sql)
  } finally {
    await client.releaseConnection(conn)
  }
}
