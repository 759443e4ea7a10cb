// Quota reconcile benchmark for laundry-ops: wall time of the real `laundry-ops quota reconcile <month>`
// for a month holding 1,000,000 orders of 10,000 tenants (the work upstream's figure was taken on), on SQLite
// and PostgreSQL, run twice (the first run creates the 10,000 quota_usage rows, the second updates them),
// beside the bare aggregate query in the same run.
//
//   node --import tsx bench/reconcile.ts                         # both engines, 10,000 tenants, 1,000,000 + 500,000 orders
//   node --import tsx bench/reconcile.ts --json                  # one JSON document instead of the tables
//   node --import tsx bench/reconcile.ts --engines pg --orders 200000 --outside 100000 --tenants 2000
//   node --import tsx bench/reconcile.ts --cpu-prof /tmp/prof    # node --cpu-prof for the reconcile runs
//
// Per engine: a throwaway database (an SQLite file in a temp folder, or laundry_ops_bench_<pid>_reconcile
// on LAUNDRY_OPS_BENCH_PG, default postgres://postgres@127.0.0.1:5432, dropped WITH (FORCE) at the end),
// migrated and seeded with the reference data (src/core/db), then filled by one INSERT ... SELECT per table
// (bench/lib/bulk-db.ts): T tenants on plan `standard` with one outlet and one customer each, then orders in
// three batches, inserted in date order, so the month is surrounded by orders the window must leave out:
//   2026-02  M/2 orders, spread back from 2026-02-28 23:59:59 (the first one at that second),
//   2026-03  N orders, the month measured, spread from 2026-03-01 00:00:00 (the first one at that second),
//   2026-04  M - M/2 orders, spread from 2026-04-01 00:00:00 (the first one at that second, outside the month).
// Order g (numbered across the batches) belongs to tenant 1 + (g * 7919) mod T; the i-th order of a batch is
// created (i * 104729) mod (the batch's days) seconds from its first second, one order per second at most.
// Defaults N = 1,000,000 and M = 500,000: the month holds exactly 1,000,000 orders, 100 for each of the
// 10,000 tenants, and the table 1,500,000. (Before 2026-12-02 the fixture was 1,000,000 orders over 181 days,
// so 2026-03 held only 171,274.) PostgreSQL then gets VACUUM ANALYZE (the state autovacuum leaves).
//
//   start-up  `node bin/run.js quota reconcile --help`, 5 times: process start, oclif, no database (median).
//   baseline  the bare aggregate `select tenant_id, count(*) from orders where created_at >= ? and created_at
//             < ? group by tenant_id`, in this process with the driver directly (better-sqlite3 / pg, no
//             knex), 3 times (first and median).
//   read      the command's own read (src reconcileQuota with dryRun: the tenants x orders x quota_usage
//             join), in this process, 3 times: how much of a run the query is. Its SQL is captured (knex
//             'query' event) and the engine's plan for it printed (EXPLAIN QUERY PLAN / EXPLAIN).
//   laundry   `node bin/run.js quota reconcile 2026-03 --json` with DATABASE_URL, under /usr/bin/time, twice:
//             run 1 inserts the 10,000 quota_usage rows, run 2 updates them. The command writes only the
//             counts that change, so before run 2 the bench makes every counter of the month one too high
//             (`update quota_usage set orders_used = orders_used + 1`, untimed): run 2 rewrites all of
//             them, the most a rerun writes. "net" = minus the start-up median.
//   in-proc   after the runs: src reconcileQuota (writing; the update path, counters made stale as before
//             each time, untimed) in this process, 3 times; minus the read above this is the write phase.
//
// Checks: the month holds N orders and the table N + M (counted directly), every tenant has orders in the
// month; both runs exit 0 and report T tenants; run 1 reports created = T (updated 0, unchanged 0), run 2
// updated = T (created 0, unchanged 0); the per-tenant counts add up to the orders of the month and equal
// the baseline's per tenant; quota_usage then holds T rows for the month summing to that count; run 1 sees
// no previous value, run 2 sees run 1's count plus one for every tenant.
//
// Target: a run's whole wall time (start-up included) under 1.5 s, both runs, every check passed.
//
// Runs the built CLI (dist/, `npm run build`); the fixtures and the read phase import src/.

import {existsSync, mkdirSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import process from 'node:process'
import {fileURLToPath} from 'node:url'

import Sqlite from 'better-sqlite3'
import type {Knex} from 'knex'
import pg from 'pg'

import {periodWindow, reconcileQuota} from '../src/core/quota/reconcile.js'
import {BenchArgError, engineList, parseBenchArgs, positiveInteger} from './lib/args.mjs'
import {type BenchEnvironment, benchFail, emitBenchmark, environment, environmentLines, fmt, median, pgFacts, table, progress} from './lib/bench-report.js'
import {type BulkDatabase, type Engine, type OrdersBatch, createMigrated, dropAll, generateTenantsAndOrders, pgQuery} from './lib/bulk-db.js'
import {childEnv, describeFailure, runTimed, type TimedRun} from './lib/timed-run.js'

const DEFAULT_TENANTS = 10_000
const DEFAULT_ORDERS = 1_000_000
const DEFAULT_OUTSIDE = 500_000
const PERIOD = '2026-03'
const DAY = 86_400
const FEBRUARY = Date.UTC(2026, 1, 1) / 1000
const MARCH = Date.UTC(2026, 2, 1) / 1000
const APRIL = Date.UTC(2026, 3, 1) / 1000
const TARGET_SECONDS = 1.5 // SPEC §9, both engines
const UPSTREAM = {pgSeconds: 21.3, sqliteSeconds: 15.6}
const STARTUP_RUNS = 5
const QUERY_RUNS = 3
const CHILD_TIMEOUT_MS = 600_000

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const runJs = path.join(root, 'bin', 'run.js')

interface Options {
  tenants: number
  orders: number
  outside: number
  engines: Engine[]
  json: boolean
  cpuProf?: string
}

function usage(): string {
  return [
    'usage: node --import tsx bench/reconcile.ts [--tenants T] [--orders N] [--outside M] [--engines sqlite,pg] [--json] [--cpu-prof DIR]',
    '',
    `  --tenants T      tenants (default ${DEFAULT_TENANTS})`,
    `  --orders N       orders in the month reconciled, ${PERIOD} (default ${DEFAULT_ORDERS}; at least T, at most 2,678,400)`,
    `  --outside M      orders outside it, half in 2026-02 and half in 2026-04 (default ${DEFAULT_OUTSIDE}; 0 for none)`,
    '  --engines LIST   engines to run, in order (default sqlite,pg)',
    '  --json           print one JSON document instead of the tables',
    '  --cpu-prof DIR   run the laundry-ops reconcile runs with node --cpu-prof, profiles written to DIR',
  ].join('\n')
}

const fail: (message: string) => never = (message) => benchFail('reconcile', message)

function nonNegativeInteger(raw: string, name: string): number {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0) throw new BenchArgError(`${name} needs an integer >= 0, got '${raw}'`)
  return n
}

function parseOptions(argv: string[]): Options {
  const args = parseBenchArgs(
    'reconcile',
    usage,
    {
      json: {type: 'boolean'},
      tenants: {type: 'string', parse: positiveInteger},
      orders: {type: 'string', parse: positiveInteger},
      outside: {type: 'string', parse: nonNegativeInteger},
      engines: {type: 'string', parse: engineList},
      'cpu-prof': {type: 'string', parse: (raw) => path.resolve(raw)},
    },
    argv,
  )
  const opts = {
    tenants: args.tenants ?? DEFAULT_TENANTS,
    orders: args.orders ?? DEFAULT_ORDERS,
    outside: args.outside ?? DEFAULT_OUTSIDE,
    engines: args.engines ?? ['sqlite', 'pg'],
    json: args.json ?? false,
    cpuProf: args['cpu-prof'],
  }
  // Every tenant gets orders in the month; one order per second at most (the spread below).
  if (opts.orders < opts.tenants) fail(`--orders ${opts.orders} is fewer than --tenants ${opts.tenants}: some tenant would have no order in ${PERIOD}`)
  if (opts.orders > 31 * DAY) fail(`--orders ${opts.orders}: at most ${31 * DAY} (one a second in ${PERIOD})`)
  if (opts.outside > 2 * 28 * DAY) fail(`--outside ${opts.outside}: at most ${2 * 28 * DAY}`)
  return opts
}

/** The three batches of the fixture (see the header). */
function batches(opts: Options): OrdersBatch[] {
  const february = Math.floor(opts.outside / 2)
  return [
    {orders: february, startSeconds: FEBRUARY, spanSeconds: MARCH - FEBRUARY, fromEnd: true},
    {orders: opts.orders, startSeconds: MARCH, spanSeconds: APRIL - MARCH},
    {orders: opts.outside - february, startSeconds: APRIL, spanSeconds: 30 * DAY},
  ]
}

const log = (opts: Options, message: string) => progress(opts.json, message)
const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9

interface LaundryRun {
  seconds: number
  netSeconds: number
  peakRssMb: number
  cpuSeconds: number
  backendCpuSeconds: number | null
  machineBusySeconds: number
  tenants: number
  updated: number
  created: number
  unchanged: number
  ordersSum: number
  previousNull: number
  checks: {ok: boolean; failures: string[]}
}

interface EngineResult {
  engine: Engine
  tenants: number
  /** Orders in the month, and outside it (2026-02 and 2026-04), as generated. */
  orders: number
  outside: number
  period: string
  /** Counted directly after the generation. */
  ordersInPeriod: number
  ordersInTable: number
  generateSeconds: number
  loadAvg1AtStart: number
  startup: {medianSeconds: number; samples: number[]}
  baseline: {firstSeconds: number; medianSeconds: number; samples: number[]; groups: number; sum: number}
  read: {firstSeconds: number; medianSeconds: number; samples: number[]}
  /** The engine's plan for the command's read statement. */
  plan: string[]
  /** src reconcileQuota with writes (update path), in this process. */
  inProcess: {medianSeconds: number; samples: number[]}
  runs: LaundryRun[]
  checks: {ok: boolean; failures: string[]}
}

/** The bare aggregate with the driver itself; returns the per-tenant counts. */
async function bareAggregate(b: BulkDatabase, start: string, end: string): Promise<{seconds: number; counts: Map<string, number>}> {
  const sql = 'select tenant_id, count(*) as n from orders where created_at >= $1 and created_at < $2 group by tenant_id'
  if (b.engine === 'sqlite') {
    const db = new Sqlite(b.name, {readonly: true})
    try {
      const stmt = db.prepare(sql.replace('$1', '?').replace('$2', '?'))
      const t0 = process.hrtime.bigint()
      const rows = stmt.all(start, end) as Array<{tenant_id: string; n: number}>
      const s = seconds(t0)
      return {seconds: s, counts: new Map(rows.map((r) => [r.tenant_id, Number(r.n)]))}
    } finally {
      db.close()
    }
  }
  const client = new pg.Client({connectionString: b.url})
  await client.connect()
  try {
    const t0 = process.hrtime.bigint()
    const {rows} = await client.query<{tenant_id: unknown; n: unknown}>(sql, [start, end])
    const s = seconds(t0)
    return {seconds: s, counts: new Map(rows.map((r) => [String(r.tenant_id), Number(r.n)]))}
  } finally {
    await client.end()
  }
}

async function ordersIn(b: BulkDatabase, start: string, end: string): Promise<{inPeriod: number; total: number; tenantsInPeriod: number}> {
  const db = await b.open()
  try {
    const row = await db.knex('orders').where('created_at', '>=', start).where('created_at', '<', end).count({n: '*'}).countDistinct({t: 'tenant_id'}).first()
    const all = await db.knex('orders').count({n: '*'}).first()
    return {inPeriod: Number(row?.n ?? 0), tenantsInPeriod: Number(row?.t ?? 0), total: Number(all?.n ?? 0)}
  } finally {
    await db.close()
  }
}

async function quotaState(b: BulkDatabase, period: string): Promise<{rows: number; sum: number}> {
  const db = await b.open()
  try {
    const row = await db.knex('quota_usage').where({period}).count({n: '*'}).sum({s: 'orders_used'}).first()
    return {rows: Number(row?.n ?? 0), sum: Number(row?.s ?? 0)}
  } finally {
    await db.close()
  }
}

/** Every counter of the month one too high, so the next reconcile rewrites them all (untimed). */
async function makeStale(b: BulkDatabase): Promise<void> {
  const db = await b.open()
  try {
    await db.knex('quota_usage').where({period: PERIOD}).increment('orders_used', 1)
  } finally {
    await db.close()
  }
}

async function runLaundry(
  b: BulkDatabase,
  opts: Options,
  expect: {ordersInPeriod: number; perTenant: Map<string, number>; previous: 'null' | Map<string, number>; write: 'create' | 'update'},
  startupSeconds: number,
  label: string,
): Promise<{run: LaundryRun; orders: Map<string, number>}> {
  if (b.engine === 'pg') await pgQuery('checkpoint')
  const t: TimedRun = await runTimed(
    [
      process.execPath,
      ...(opts.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProf, '--cpu-prof-name', `reconcile-${b.engine}-${label}-${Date.now()}.cpuprofile`] : []),
      runJs,
      'quota',
      'reconcile',
      PERIOD,
      '--json',
    ],
    {cwd: b.dir, env: childEnv({DATABASE_URL: b.url}), timeoutMs: CHILD_TIMEOUT_MS, pgDatabase: b.engine === 'pg' ? b.name : undefined},
  )
  const failures: string[] = []
  // The command's --json document, read defensively: a field may be missing when the run failed.
  let out: {tenants?: unknown; updated?: unknown; created?: unknown; unchanged?: unknown; period?: unknown} = {}
  try {
    out = JSON.parse(t.stdout) as typeof out
  } catch {
    failures.push('stdout is not one JSON document')
  }
  if (t.code !== 0) failures.push(describeFailure(t, `quota reconcile (${label})`))
  const tenants = (Array.isArray(out.tenants) ? out.tenants : []) as Array<{id: string; orders: number; previous: number | null}>
  const orders = new Map(tenants.map((x) => [x.id, Number(x.orders)]))
  const ordersSum = tenants.reduce((a, x) => a + Number(x.orders), 0)
  const previousNull = tenants.filter((x) => x.previous === null).length
  if (tenants.length !== opts.tenants) failures.push(`${tenants.length} tenants reported, expected ${opts.tenants}`)
  const want = {updated: expect.write === 'update' ? opts.tenants : 0, created: expect.write === 'create' ? opts.tenants : 0, unchanged: 0}
  for (const key of ['updated', 'created', 'unchanged'] as const) {
    if (out[key] !== want[key]) failures.push(`${key} ${String(out[key])}, expected ${want[key]}`)
  }
  if (out.period !== PERIOD) failures.push(`period ${String(out.period)}`)
  if (ordersSum !== expect.ordersInPeriod) failures.push(`per-tenant counts add up to ${ordersSum}, the month has ${expect.ordersInPeriod} orders`)
  const mismatched = tenants.filter((x) => (expect.perTenant.get(x.id) ?? 0) !== Number(x.orders)).length
  if (mismatched) failures.push(`${mismatched} tenants differ from the bare aggregate`)
  if (expect.previous === 'null') {
    if (previousNull !== tenants.length) failures.push(`${tenants.length - previousNull} tenants had a previous value on the first run`)
  } else {
    const prev = expect.previous
    const wrong = tenants.filter((x) => x.previous !== (prev.get(x.id) ?? NaN) + 1).length
    if (wrong) failures.push(`${wrong} tenants' previous value is not the first run's count plus one`)
  }
  const q = await quotaState(b, PERIOD)
  if (q.rows !== opts.tenants) failures.push(`quota_usage holds ${q.rows} rows for ${PERIOD}, expected ${opts.tenants}`)
  if (q.sum !== expect.ordersInPeriod) failures.push(`quota_usage sums to ${q.sum}, expected ${expect.ordersInPeriod}`)
  return {
    run: {
      seconds: t.wallSeconds,
      netSeconds: t.wallSeconds - startupSeconds,
      peakRssMb: t.peakRssMb,
      cpuSeconds: t.cpuSeconds,
      backendCpuSeconds: t.backendCpuSeconds,
      machineBusySeconds: t.machineBusySeconds,
      tenants: tenants.length,
      updated: Number(out.updated ?? NaN),
      created: Number(out.created ?? NaN),
      unchanged: Number(out.unchanged ?? NaN),
      ordersSum,
      previousNull,
      checks: {ok: failures.length === 0, failures},
    },
    orders,
  }
}

async function benchEngine(engine: Engine, opts: Options): Promise<EngineResult> {
  const failures: string[] = []
  log(opts, `${engine}: database, migrate, seed, ${fmt(opts.tenants)} tenants, ${fmt(opts.orders)} orders in ${PERIOD} and ${fmt(opts.outside)} outside`)
  const b = await createMigrated(engine, 'reconcile', {seed: true})
  try {
    const t0 = process.hrtime.bigint()
    {
      const db = await b.open()
      try {
        await generateTenantsAndOrders(db, {tenants: opts.tenants, batches: batches(opts)})
      } finally {
        await db.close()
      }
    }
    const generateSeconds = seconds(t0)
    const window = periodWindow(PERIOD)
    const counted = await ordersIn(b, window.start, window.end)
    const ordersInPeriod = counted.inPeriod
    if (ordersInPeriod !== opts.orders) failures.push(`${PERIOD} holds ${ordersInPeriod} orders, generated ${opts.orders}`)
    if (counted.total !== opts.orders + opts.outside) failures.push(`orders holds ${counted.total} rows, generated ${opts.orders + opts.outside}`)
    if (counted.tenantsInPeriod !== opts.tenants) failures.push(`${counted.tenantsInPeriod} tenants have orders in ${PERIOD}, expected ${opts.tenants}`)
    log(opts, `${engine}: generated in ${fmt(generateSeconds, 1)} s; ${fmt(ordersInPeriod)} orders in ${PERIOD}, ${fmt(counted.total)} in the table`)
    const loadAvg1AtStart = os.loadavg()[0]

    const env = childEnv({DATABASE_URL: b.url})
    const startupSamples: number[] = []
    for (let i = 0; i < STARTUP_RUNS; i++) {
      const r = await runTimed([process.execPath, runJs, 'quota', 'reconcile', '--help'], {cwd: b.dir, env, timeoutMs: 60_000})
      if (r.code !== 0) failures.push(describeFailure(r, 'quota reconcile --help'))
      startupSamples.push(r.wallSeconds)
    }
    const startup = {medianSeconds: median(startupSamples), samples: startupSamples}

    const baseSamples: number[] = []
    let perTenant = new Map<string, number>()
    for (let i = 0; i < QUERY_RUNS; i++) {
      const r = await bareAggregate(b, window.start, window.end)
      baseSamples.push(r.seconds)
      perTenant = r.counts
    }
    const baseSum = [...perTenant.values()].reduce((a, x) => a + x, 0)
    if (baseSum !== ordersInPeriod) failures.push(`bare aggregate sums to ${baseSum}, the month has ${ordersInPeriod}`)
    const baseline = {firstSeconds: baseSamples[0], medianSeconds: median(baseSamples), samples: baseSamples, groups: perTenant.size, sum: baseSum}
    log(opts, `${engine}: bare aggregate ${baseSamples.map((s) => fmt(s, 3)).join(' / ')} s, ${perTenant.size} groups`)

    const readSamples: number[] = []
    let plan: string[] = []
    {
      const db = await b.open()
      let captured: {sql: string; bindings: unknown[]} | undefined
      db.knex.on('query', (q: {sql: string; bindings?: unknown[]}) => {
        if (!captured && /^select/i.test(q.sql) && /group by/i.test(q.sql)) captured = {sql: q.sql, bindings: q.bindings ?? []}
      })
      try {
        for (let i = 0; i < QUERY_RUNS; i++) {
          const r0 = process.hrtime.bigint()
          const r = await reconcileQuota(db, {period: PERIOD, dryRun: true, clock: {now: () => new Date()}})
          readSamples.push(seconds(r0))
          if (r.tenants.length !== opts.tenants) failures.push(`dry-run read returned ${r.tenants.length} tenants`)
        }
        if (captured && db.dialect === 'sqlite') {
          const raw = await db.knex.raw<Array<{detail: string}>>(`explain query plan ${captured.sql}`, captured.bindings as Knex.RawBinding[])
          plan = raw.map((x) => x.detail)
        } else if (captured) {
          // knex hands pg the statement with $n placeholders: run EXPLAIN with the driver itself.
          const client = new pg.Client({connectionString: b.url})
          await client.connect()
          try {
            plan = (await client.query<{'QUERY PLAN': string}>(`explain ${captured.sql}`, captured.bindings)).rows.map((x) => String(x['QUERY PLAN']))
          } finally {
            await client.end()
          }
        }
      } finally {
        await db.close()
      }
    }
    const read = {firstSeconds: readSamples[0], medianSeconds: median(readSamples), samples: readSamples}
    log(opts, `${engine}: command's read (dry run, in-process) ${readSamples.map((s) => fmt(s, 3)).join(' / ')} s`)

    const runs: LaundryRun[] = []
    log(opts, `${engine}: laundry-ops quota reconcile ${PERIOD}, run 1 (creates the quota rows)`)
    const first = await runLaundry(b, opts, {ordersInPeriod, perTenant, previous: 'null', write: 'create'}, startup.medianSeconds, 'run1')
    runs.push(first.run)
    log(opts, `${engine}: run 1 ${fmt(first.run.seconds, 2)} s${first.run.checks.ok ? '' : ` FAIL ${first.run.checks.failures.join('; ')}`}`)
    log(opts, `${engine}: laundry-ops quota reconcile ${PERIOD}, run 2 (updates them)`)
    await makeStale(b)
    const second = await runLaundry(b, opts, {ordersInPeriod, perTenant, previous: first.orders, write: 'update'}, startup.medianSeconds, 'run2')
    runs.push(second.run)
    log(opts, `${engine}: run 2 ${fmt(second.run.seconds, 2)} s${second.run.checks.ok ? '' : ` FAIL ${second.run.checks.failures.join('; ')}`}`)
    const inProcessSamples: number[] = []
    {
      const db = await b.open()
      try {
        for (let i = 0; i < QUERY_RUNS; i++) {
          await db.knex('quota_usage').where({period: PERIOD}).increment('orders_used', 1)
          const r0 = process.hrtime.bigint()
          const r = await reconcileQuota(db, {period: PERIOD, clock: {now: () => new Date()}})
          inProcessSamples.push(seconds(r0))
          if (r.updated !== opts.tenants) failures.push(`in-process reconcile updated ${r.updated}`)
        }
      } finally {
        await db.close()
      }
    }
    log(opts, `${engine}: in-process reconcile (writes) ${inProcessSamples.map((s) => fmt(s, 3)).join(' / ')} s`)
    const ok = failures.length === 0 && runs.every((r) => r.checks.ok)
    return {
      engine,
      tenants: opts.tenants,
      orders: opts.orders,
      outside: opts.outside,
      period: PERIOD,
      ordersInPeriod,
      ordersInTable: counted.total,
      generateSeconds,
      loadAvg1AtStart,
      startup,
      baseline,
      read,
      plan,
      inProcess: {medianSeconds: median(inProcessSamples), samples: inProcessSamples},
      runs,
      checks: {ok, failures: [...failures, ...runs.flatMap((r) => r.checks.failures)]},
    }
  } finally {
    await b.drop()
  }
}

function report(env: BenchEnvironment, pgVersion: string | null, opts: Options, results: EngineResult[]): string {
  const out: string[] = [`laundry-ops quota reconcile benchmark, ${env.date}`, ...environmentLines(env, pgVersion)]
  out.push(`${fmt(opts.tenants)} tenants; period ${PERIOD} holding ${fmt(opts.orders)} orders; ${fmt(opts.outside)} more in 2026-02 and 2026-04`, '')
  const cpu = (r: LaundryRun) => `${fmt(r.cpuSeconds, 2)}${r.backendCpuSeconds === null ? '' : ` + ${fmt(r.backendCpuSeconds, 2)}`}`
  out.push(
    table(
      [
        'engine',
        'orders in month',
        'run 1 s (insert)',
        'run 2 s (update)',
        'start-up s',
        'run 1 / 2 net s',
        'bare aggregate s',
        'command read s',
        'peak RSS MB',
        'checks',
      ],
      results.map((r) => [
        r.engine,
        fmt(r.ordersInPeriod),
        fmt(r.runs[0]?.seconds ?? NaN, 2),
        fmt(r.runs[1]?.seconds ?? NaN, 2),
        fmt(r.startup.medianSeconds, 3),
        `${fmt(r.runs[0]?.netSeconds ?? NaN, 2)} / ${fmt(r.runs[1]?.netSeconds ?? NaN, 2)}`,
        `${fmt(r.baseline.firstSeconds, 3)} (median ${fmt(r.baseline.medianSeconds, 3)})`,
        `${fmt(r.read.firstSeconds, 3)} (median ${fmt(r.read.medianSeconds, 3)})`,
        r.runs.map((x) => fmt(x.peakRssMb, 1)).join(' / '),
        r.checks.ok ? 'OK' : 'FAIL',
      ]),
      [false, true, true, true, true, true, true, true, true, false],
    ),
    '',
    'start-up = median of `quota reconcile --help`; net = run minus start-up. bare aggregate = select tenant_id, count(*) ... group by tenant_id',
    "with the driver directly; command read = src reconcileQuota with dryRun in this process (the command's join query, no writes).",
    '',
    table(
      [
        'engine',
        'load',
        'generate s',
        'run 1 CPU s (node + backend)',
        'run 2 CPU s',
        'run 1 / 2 machine busy s',
        'in-process read / read+write s',
        'start-up samples s',
      ],
      results.map((r) => [
        r.engine,
        fmt(r.loadAvg1AtStart, 2),
        fmt(r.generateSeconds, 1),
        r.runs[0] ? cpu(r.runs[0]) : 'n/a',
        r.runs[1] ? cpu(r.runs[1]) : 'n/a',
        r.runs.map((x) => fmt(x.machineBusySeconds, 2)).join(' / '),
        `${fmt(r.read.medianSeconds, 3)} / ${fmt(r.inProcess.medianSeconds, 3)}`,
        r.startup.samples.map((s) => fmt(s, 3)).join(' '),
      ]),
      [false, true, true, true, true, true, true, false],
    ),
    '',
  )
  for (const r of results) out.push(`${r.engine} plan of the command's read:`, ...r.plan.map((l) => `  ${l}`), '')
  for (const r of results) {
    out.push(
      `${r.engine}: ${r.runs.map((x, i) => `run ${i + 1}: tenants ${x.tenants}, created ${x.created}, updated ${x.updated}, unchanged ${x.unchanged}, orders sum ${x.ordersSum}, previous null ${x.previousNull}`).join('; ')}; ` +
        `bare aggregate ${r.baseline.groups} tenants summing to ${r.baseline.sum}` +
        (r.checks.failures.length ? ` -- FAILURES: ${r.checks.failures.join('; ')}` : ''),
    )
  }
  out.push(
    '',
    `Target (SPEC §9): under ${TARGET_SECONDS} s on both engines, judged on each run's whole wall time (start-up included);`,
    `upstream (PHP) ${UPSTREAM.pgSeconds} s PostgreSQL / ${UPSTREAM.sqliteSeconds} s SQLite, for a month of 1,000,000 orders over 10,000 tenants.`,
  )
  for (const r of results) {
    const worst = Math.max(...r.runs.map((x) => x.seconds))
    out.push(`${r.engine}: runs ${r.runs.map((x) => `${fmt(x.seconds, 2)} s`).join(', ')} -> ${worst < TARGET_SECONDS && r.checks.ok ? 'MET' : 'NOT MET'}`)
  }
  return `${out.join('\n')}\n`
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2))
  if (!existsSync(path.join(root, 'dist', 'index.js'))) fail('dist/index.js is missing: build first (npm run build)')
  if (opts.cpuProf) mkdirSync(opts.cpuProf, {recursive: true})
  const env = environment(root)
  let pgVersion: string | null = null
  const results: EngineResult[] = []
  const onSignal = async (signal: NodeJS.Signals) => {
    process.stderr.write(`bench/reconcile: ${signal}, dropping the bench databases\n`)
    await dropAll()
    process.exit(130)
  }
  const stop = (signal: NodeJS.Signals) => {
    onSignal(signal).catch((error: unknown) => {
      process.stderr.write(`bench/reconcile: could not drop the bench databases: ${String(error)}\n`)
      process.exit(130)
    })
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    for (const engine of opts.engines) {
      if (engine === 'pg') pgVersion = await pgFacts((sql) => pgQuery(sql))
      results.push(await benchEngine(engine, opts))
    }
  } finally {
    await dropAll()
  }
  const ok = results.every((r) => r.checks.ok)
  emitBenchmark('reconcile', {
    json: opts.json,
    environment: {...env, postgres: pgVersion},
    fields: {
      tenants: opts.tenants,
      orders: opts.orders,
      outside: opts.outside,
      period: PERIOD,
      targetSeconds: TARGET_SECONDS,
      upstream: UPSTREAM,
      ok,
      results,
    },
    text: () => report(env, pgVersion, opts, results),
    ok,
  })
}

await main()
