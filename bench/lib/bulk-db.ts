// Large throwaway databases for bench/archive.ts and bench/reconcile.ts: migrated (src/core/db/migrator.ts),
// filled by ONE server-side statement per table (a recursive CTE on SQLite, generate_series on
// PostgreSQL), and cloned per measured round (a file copy on SQLite, CREATE DATABASE ... TEMPLATE on
// PostgreSQL), so every round starts from the same rows without generating them again.
//
// PostgreSQL databases are named laundry_ops_bench_<pid>_<label> on LAUNDRY_OPS_BENCH_PG (default
// postgres://postgres@127.0.0.1:5432) and dropped WITH (FORCE); SQLite files live in their own temp folder.

import {copyFileSync, mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import pg from 'pg'

import {parseDatabaseUrl} from '../../src/core/config.js'
import {type Database, openDatabase} from '../../src/core/db/connection.js'
import {migrate} from '../../src/core/db/migrator.js'
import {seedDatabase} from '../../src/core/db/seeds/index.js'
import {PG_SERVER_URL} from './fixtures.js'

export type Engine = 'sqlite' | 'pg'

export interface BulkDatabase {
  engine: Engine
  url: string
  /** PostgreSQL database name, or the SQLite file. */
  name: string
  /** Working directory (and storage) for the child processes: its own temp folder. */
  dir: string
  /** Open with the application's own openDatabase (knex). */
  open(): Promise<Database>
  drop(): Promise<void>
}

const live = new Set<BulkDatabase>()

/** Drops every database this process created and has not dropped yet (signal handlers, failures). */
export async function dropAll(): Promise<void> {
  for (const b of [...live]) await b.drop().catch(() => {})
}

function pgUrl(database: string): string {
  const url = new URL(PG_SERVER_URL)
  url.pathname = `/${database}`
  return url.toString()
}

/** One statement on its own connection (database `postgres` unless named). */
export async function pgQuery(sql: string, params: unknown[] = [], database = 'postgres'): Promise<Array<Record<string, unknown>>> {
  const client = new pg.Client({connectionString: pgUrl(database), connectionTimeoutMillis: 5000})
  await client.connect()
  try {
    return (await client.query<Record<string, unknown>>(sql, params)).rows
  } finally {
    await client.end()
  }
}

function make(engine: Engine, name: string, dir: string): BulkDatabase {
  const url = engine === 'sqlite' ? `sqlite:${name}` : pgUrl(name)
  const b: BulkDatabase = {
    engine,
    url,
    name,
    dir,
    open: () => openDatabase(parseDatabaseUrl(url, dir), {create: true}),
    async drop() {
      live.delete(b)
      if (engine === 'pg') await pgQuery(`drop database if exists "${name}" with (force)`)
      rmSync(dir, {recursive: true, force: true})
    },
  }
  live.add(b)
  return b
}

const tempDir = () => mkdtempSync(path.join(tmpdir(), 'laundry-ops-bench-'))

/** An empty database, migrated; with the reference data (plans, roles) when `seed`. */
export async function createMigrated(engine: Engine, label: string, options: {seed?: boolean} = {}): Promise<BulkDatabase> {
  const dir = tempDir()
  let b: BulkDatabase
  if (engine === 'sqlite') {
    b = make(engine, path.join(dir, 'bench.sqlite'), dir)
  } else {
    const name = `laundry_ops_bench_${process.pid}_${label}`
    await pgQuery(`drop database if exists "${name}" with (force)`)
    await pgQuery(`create database "${name}"`)
    b = make(engine, name, dir)
  }
  try {
    const db = await b.open()
    try {
      await migrate(db)
      if (options.seed) await seedDatabase(db, {env: 'production'})
    } finally {
      await db.close()
    }
  } catch (error) {
    await b.drop().catch(() => {})
    throw error
  }
  return b
}

/**
 * A copy of `template` (which must have no open connection: SQLite checkpointed and closed, PostgreSQL
 * with no sessions). SQLite copies the file; PostgreSQL uses CREATE DATABASE ... TEMPLATE with the
 * FILE_COPY strategy (no WAL for the copied data), so the copy comes with the template's visibility
 * map and column statistics.
 */
export async function cloneDatabase(template: BulkDatabase, label: string): Promise<BulkDatabase> {
  const dir = tempDir()
  if (template.engine === 'sqlite') {
    const file = path.join(dir, 'bench.sqlite')
    copyFileSync(template.name, file)
    return make('sqlite', file, dir)
  }
  const name = `laundry_ops_bench_${process.pid}_${label}`
  await pgQuery(`drop database if exists "${name}" with (force)`)
  await pgQuery(`create database "${name}" template "${template.name}" strategy = file_copy`)
  return make('pg', name, dir)
}

/** SQLite: fold the WAL into the main file, so a copy of the file alone holds every row. */
export async function checkpoint(db: Database): Promise<void> {
  if (db.dialect === 'sqlite') await db.knex.raw('pragma wal_checkpoint(truncate)')
  else await db.knex.raw('checkpoint')
}

/** A storage folder for a child process inside the database's folder. */
export function storageDir(b: BulkDatabase): string {
  const dir = path.join(b.dir, 'storage')
  mkdirSync(dir, {recursive: true})
  return dir
}

// ----- audit_events ------------------------------------------------------------------------------------

/** SQLite: a random v4-looking uuid, lower-case hex. */
const SQLITE_UUID4 = `lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
  substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))`

/** Layout of generated audit events: see generateAuditEvents. */
export type AuditLayout = 'random' | 'ordered'

/**
 * `count` audit events, all older than `minDays` days before `nowSeconds`, spread over (maxDays - minDays)
 * days, every 7 consecutive rows sharing one second, event_key AUTH_LOGIN_FAILED for every third row,
 * metadata `[]` for every fifth row and `{"x":<i>,"note":"café/ü"}` otherwise, a random request_id. One
 * INSERT ... SELECT.
 *
 * - `random` (the shape of test/helpers/audit.ts insertAuditEvents): random v4 ids, and the seconds spread
 *   out of insertion order (stride 7919 s modulo the span), so neither the id order nor the rowid/heap
 *   order follows created_at: every page of the archive touches rows all over the table and its indexes.
 * - `ordered` (a table that grew as the app writes it): rows inserted oldest first, ids time-ordered
 *   uuid7-style (48-bit millisecond prefix), so heap/rowid order, id order and created_at order agree.
 */
export async function generateAuditEvents(
  db: Database,
  count: number,
  o: {nowSeconds: number; minDays: number; maxDays: number; layout?: AuditLayout},
): Promise<void> {
  const layout = o.layout ?? 'random'
  const span = (o.maxDays - o.minDays) * 86_400
  const base = o.nowSeconds - o.minDays * 86_400
  // ordered: second of row i counted from the oldest, 7 rows per second, spread evenly over the span
  const stride = Math.max(1, Math.floor(span / Math.ceil(count / 7)))
  const columns = `"id", "tenant_id", "user_id", "outlet_id", "event_key", "channel", "entity_type", "entity_id", "request_id", "ip_address", "metadata_json", "created_at", "updated_at"`
  if (db.dialect === 'sqlite') {
    const seconds = layout === 'random' ? `${base} - ((i / 7) * 7919) % ${span}` : `${base - span} + (i / 7) * ${stride}`
    const id =
      layout === 'random'
        ? SQLITE_UUID4
        : `lower(printf('%08x-%04x-7', ms >> 16, ms & 65535) || substr(hex(randomblob(2)), 2) || '-' ||
             substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))`
    // A bigger page cache for the generation only (this connection); the measured runs use their own.
    const [{cache_size: cache}] = await db.knex.raw<Array<{cache_size: number}>>('pragma cache_size')
    await db.knex.raw('pragma cache_size = -262144')
    await db.knex.raw(
      `with recursive s(i) as (select 0 union all select i + 1 from s where i < ?)
       insert into "audit_events" (${columns})
       select ${id}, null, null, null,
              case when i % 3 = 0 then 'AUTH_LOGIN_FAILED' else 'ORDER_CREATED' end, 'api', 'order', 'ORD-' || i,
              ${SQLITE_UUID4}, '10.0.0.1',
              case when i % 5 = 0 then '[]' else '{"x":' || i || ',"note":"café/ü"}' end,
              datetime(sec, 'unixepoch'), datetime(sec, 'unixepoch')
       from (select i, ${seconds} as sec, (${seconds}) * 1000 + i % 7 as ms from s)`,
      [count - 1],
    )
    await db.knex.raw(`pragma cache_size = ${Number(cache)}`)
    return
  }
  const seconds = layout === 'random' ? `${base}::bigint - ((i / 7) * 7919) % ${span}` : `${base - span}::bigint + (i / 7) * ${stride}`
  const id =
    layout === 'random'
      ? 'gen_random_uuid()'
      : `(lpad(to_hex(ms >> 16), 8, '0') || '-' || lpad(to_hex(ms & 65535), 4, '0') || '-7' || substr(md5(random()::text), 1, 3) || '-' ||
          substr('89ab', 1 + floor(random() * 4)::int, 1) || substr(md5(random()::text), 1, 3) || '-' || substr(md5(random()::text), 1, 12))::uuid`
  await db.knex.raw(
    `insert into "audit_events" (${columns})
     select ${id}, null, null, null,
            case when i % 3 = 0 then 'AUTH_LOGIN_FAILED' else 'ORDER_CREATED' end, 'api', 'order', 'ORD-' || i,
            gen_random_uuid()::text, '10.0.0.1',
            (case when i % 5 = 0 then '[]' else '{"x":' || i || ',"note":"café/ü"}' end)::json,
            ts, ts
     from (select i, ms, timestamp '1970-01-01 00:00:00' + make_interval(secs => sec) as ts
           from (select i, ${seconds} as sec, (${seconds}) * 1000 + i % 7 as ms
                 from generate_series(0, ?::bigint - 1) as g(i)) as x) as s
     order by i`,
    [count],
  )
  await db.knex.raw('vacuum analyze "audit_events"')
}

// ----- tenants and orders -------------------------------------------------------------------------------

/** Deterministic ids: tenant, outlet and customer i share the first 8 hex digits (i) and differ at the end. */
const sqliteId = (expr: string, kind: number) => `printf('%08x-0000-7000-8000-00000000000${kind}', ${expr})`
const pgId = (expr: string, kind: number) => `(lpad(to_hex(${expr}), 8, '0') || '-0000-7000-8000-00000000000${kind}')::uuid`

/** One run of generated orders: `orders` of them spread over `spanSeconds` from `startSeconds`. */
export interface OrdersBatch {
  orders: number
  /** First second of the spread, UTC epoch seconds. */
  startSeconds: number
  spanSeconds: number
  /** Spread back from the span's last second instead (the batch's first order at start + span - 1). */
  fromEnd?: boolean
}

export interface OrdersShape {
  tenants: number
  /** Inserted in this order, one INSERT ... SELECT each. */
  batches: OrdersBatch[]
}

/**
 * `tenants` tenants (plan `standard`, named `Tenant 000001`...), each with one outlet and one customer, and
 * the orders of every batch. Orders are numbered g = 0, 1, 2... across the batches (in batch order); order
 * g, the i-th of its batch (i from 0), belongs to tenant 1 + (g * 7919) mod tenants, is named `ORD-<g>`,
 * and is created at the batch's start + (i * 104729) mod span seconds (`fromEnd`: start + span - 1 - that).
 * So the first order of a batch is created at the batch's first (`fromEnd`: last) second exactly, a batch
 * of k * tenants orders gives every tenant k of them, and (104729 being prime, and no factor of a whole
 * number of days) no two orders of a batch share a second while the batch is smaller than its span. One
 * INSERT ... SELECT per table and batch.
 */
export async function generateTenantsAndOrders(db: Database, s: OrdersShape): Promise<void> {
  const k = db.knex
  const stamp = '2025-12-01 00:00:00'
  const plan = await k('plans').where({key: 'standard'}).first<{id: number} | undefined>('id')
  if (!plan) throw new Error('plan standard missing: seed the reference data first')
  if (db.dialect === 'sqlite') {
    const [{cache_size: cache}] = await k.raw<Array<{cache_size: number}>>('pragma cache_size')
    await k.raw('pragma cache_size = -262144')
    const series = (from: number, to: number) => `with recursive s(i) as (select ${Number(from)} union all select i + 1 from s where i < ${Number(to)})`
    await k.raw(
      `${series(1, s.tenants)} insert into "tenants" ("id", "name", "current_plan_id", "status", "created_at", "updated_at")
       select ${sqliteId('i', 1)}, printf('Tenant %06d', i), ?, 'active', ?, ? from s`,
      [plan.id, stamp, stamp],
    )
    await k.raw(
      `${series(1, s.tenants)} insert into "outlets" ("id", "tenant_id", "name", "code", "created_at", "updated_at")
       select ${sqliteId('i', 2)}, ${sqliteId('i', 1)}, 'Outlet', 'OPS', ?, ? from s`,
      [stamp, stamp],
    )
    await k.raw(
      `${series(1, s.tenants)} insert into "customers" ("id", "tenant_id", "name", "phone_normalized", "created_at", "updated_at")
       select ${sqliteId('i', 3)}, ${sqliteId('i', 1)}, 'Customer', '6281000000001', ?, ? from s`,
      [stamp, stamp],
    )
    let first = 0
    for (const b of s.batches) {
      if (b.orders > 0) {
        const offset = `((i - ?) * 104729) % ?`
        // s(g): the global order number; i = g - first within the batch.
        await k.raw(
          `${series(first, first + b.orders - 1)} insert into "orders" ("id", "tenant_id", "outlet_id", "customer_id", "order_code", "total_amount", "due_amount", "created_at", "updated_at")
           select ${SQLITE_UUID4}, ${sqliteId('t', 1)}, ${sqliteId('t', 2)}, ${sqliteId('t', 3)}, 'ORD-' || i, 12000, 12000, ts, ts
           from (select i, 1 + (i * 7919) % ? as t, datetime(? ${b.fromEnd ? `- ${offset}` : `+ ${offset}`}, 'unixepoch') as ts from s)`,
          [s.tenants, b.fromEnd ? b.startSeconds + b.spanSeconds - 1 : b.startSeconds, first, b.spanSeconds],
        )
      }
      first += b.orders
    }
    await k.raw(`pragma cache_size = ${Number(cache)}`)
    return
  }
  await k.raw(
    `insert into "tenants" ("id", "name", "current_plan_id", "status", "created_at", "updated_at")
     select ${pgId('i', 1)}, 'Tenant ' || lpad(i::text, 6, '0'), ?, 'active', ?, ? from generate_series(1, ?::int) as g(i)`,
    [plan.id, stamp, stamp, s.tenants],
  )
  await k.raw(
    `insert into "outlets" ("id", "tenant_id", "name", "code", "created_at", "updated_at")
     select ${pgId('i', 2)}, ${pgId('i', 1)}, 'Outlet', 'OPS', ?, ? from generate_series(1, ?::int) as g(i)`,
    [stamp, stamp, s.tenants],
  )
  await k.raw(
    `insert into "customers" ("id", "tenant_id", "name", "phone_normalized", "created_at", "updated_at")
     select ${pgId('i', 3)}, ${pgId('i', 1)}, 'Customer', '6281000000001', ?, ? from generate_series(1, ?::int) as g(i)`,
    [stamp, stamp, s.tenants],
  )
  let first = 0
  for (const b of s.batches) {
    if (b.orders > 0) {
      const offset = `((i - ?::bigint) * 104729) % ?::bigint`
      await k.raw(
        `insert into "orders" ("id", "tenant_id", "outlet_id", "customer_id", "order_code", "total_amount", "due_amount", "created_at", "updated_at")
         select gen_random_uuid(), ${pgId('t', 1)}, ${pgId('t', 2)}, ${pgId('t', 3)}, 'ORD-' || i, 12000, 12000, ts, ts
         from (select i, 1 + (i * 7919) % ?::int as t,
                      timestamp '1970-01-01 00:00:00' + make_interval(secs => ?::bigint ${b.fromEnd ? '-' : '+'} ${offset}) as ts
               from generate_series(?::bigint, ?::bigint) as g(i)) as o`,
        [s.tenants, b.fromEnd ? b.startSeconds + b.spanSeconds - 1 : b.startSeconds, first, b.spanSeconds, first, first + b.orders - 1],
      )
    }
    first += b.orders
  }
  await k.raw('vacuum analyze "tenants", "outlets", "customers", "orders", "quota_usage"')
}
