// Fixtures for bench/queue.ts: throwaway databases, queued messages and jobs, table cleaning.

import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import pg from 'pg'

import {toDbTimestamp} from '../../src/core/clock.js'
import {parseDatabaseUrl} from '../../src/core/config.js'
import {type Database, openDatabase} from '../../src/core/db/connection.js'
import {uuid7} from '../../src/core/domain/ids.js'
import {unixSeconds} from '../../src/core/queue/database-queue.js'
import {MESSAGING_QUEUE, sendWaJobPayload} from '../../src/core/queue/payload.js'

export const PG_SERVER_URL = process.env.LAUNDRY_OPS_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432'
export const BENCH_PHONE = '6281234567890'

/** An SQLite file in a temp folder, or a new database on the PostgreSQL server; drop() removes it. */
export interface BenchDatabase {
  engine: 'sqlite' | 'pg'
  url: string
  /** Working directory for the child processes (keeps .env files and storage out of the repo). */
  dir: string
  db: Database
  drop(): Promise<void>
}

function pgUrl(database: string): string {
  const url = new URL(PG_SERVER_URL)
  url.pathname = `/${database}`
  return url.toString()
}

async function pgAdmin(sql: string): Promise<void> {
  const client = new pg.Client({connectionString: pgUrl('postgres'), connectionTimeoutMillis: 5000})
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

export async function createBenchDatabase(engine: 'sqlite' | 'pg'): Promise<BenchDatabase> {
  const dir = mkdtempSync(path.join(tmpdir(), 'laundry-ops-bench-'))
  if (engine === 'sqlite') {
    const url = `sqlite:${path.join(dir, 'bench.sqlite')}`
    const db = await openDatabase(parseDatabaseUrl(url, dir), {create: true})
    return {
      engine,
      url,
      dir,
      db,
      async drop() {
        await db.close().catch(() => {})
        rmSync(dir, {recursive: true, force: true})
      },
    }
  }
  const name = `laundry_ops_bench_${process.pid}`
  await pgAdmin(`drop database if exists "${name}" with (force)`)
  await pgAdmin(`create database "${name}"`)
  const url = pgUrl(name)
  let db: Database
  try {
    db = await openDatabase(parseDatabaseUrl(url, dir), {create: true})
  } catch (error) {
    await pgAdmin(`drop database if exists "${name}" with (force)`).catch(() => {})
    throw error
  }
  return {
    engine,
    url,
    dir,
    db,
    async drop() {
      await db.close().catch(() => {})
      await pgAdmin(`drop database if exists "${name}" with (force)`)
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

const jobRow = (payload: string, now: Date) => ({
  queue: MESSAGING_QUEUE,
  payload,
  attempts: 0,
  reserved_at: null,
  available_at: unixSeconds(now),
  created_at: unixSeconds(now),
})

/**
 * `count` queued messages for the demo tenant and one SendWaMessageJob per message, in bulk (as
 * test/commands/queue-race.test.ts queueMessages does). Returns the message ids.
 */
export async function queueMessages(db: Database, tenant: {tenantId: string; outletId: string}, count: number): Promise<string[]> {
  const now = new Date()
  const stamp = toDbTimestamp(now)
  const ids = Array.from({length: count}, () => uuid7())
  const messages = ids.map((id) => ({
    id,
    tenant_id: tenant.tenantId,
    outlet_id: tenant.outletId,
    template_id: 'WA_ORDER_DONE',
    idempotency_key: `bench:${id}`,
    to_phone: BENCH_PHONE,
    body_text: `Pesanan ${id} sudah selesai dan siap diambil.`,
    status: 'queued',
    attempts: 0,
    metadata_json: '{}',
    source_channel: 'system',
    created_at: stamp,
    updated_at: stamp,
  }))
  await db.knex.batchInsert('wa_messages', messages, 500)
  await db.knex.batchInsert(
    'jobs',
    ids.map((id) => jobRow(sendWaJobPayload({waMessageId: id, now}), now)),
    500,
  )
  return ids
}

/** `count` jobs with a real-sized payload naming no message: rows for the bare claim-and-delete loop. */
export async function queueDummyJobs(db: Database, count: number): Promise<void> {
  const now = new Date()
  await db.knex.batchInsert(
    'jobs',
    Array.from({length: count}, () => jobRow(sendWaJobPayload({waMessageId: uuid7(), now}), now)),
    500,
  )
}

/**
 * Empties the queue tables and the messages between rounds: PostgreSQL also gets a VACUUM (dead rows of
 * the last round gone, statistics left alone), SQLite a WAL checkpoint.
 */
export async function cleanTables(db: Database): Promise<void> {
  await db.knex('jobs').delete()
  await db.knex('failed_jobs').delete()
  await db.knex('wa_messages').delete()
  if (db.dialect === 'pg') await db.knex.raw('vacuum jobs, failed_jobs, wa_messages')
  else await db.knex.raw('pragma wal_checkpoint(truncate)')
}

export async function countRows(db: Database, table: string): Promise<number> {
  const row = await db.knex(table).count({n: '*'}).first()
  return Number(row?.n ?? 0)
}
