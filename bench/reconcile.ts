// Quota reconcile benchmark for laundry-ops: wall time of the real `laundry-ops quota reconcile <month>`
// over 1,000,000 orders of 10,000 tenants, on SQLite and PostgreSQL, run twice (the first run creates the
// 10,000 quota_usage rows, the second updates them), beside the bare aggregate query in the same run.
//
//   node --import tsx bench/reconcile.ts                         # both engines, 10,000 tenants, 1,000,000 orders
//   node --import tsx bench/reconcile.ts --json                  # one JSON document instead of the tables
//   node --import tsx bench/reconcile.ts --engines pg --orders 200000 --tenants 2000
//   node --import tsx bench/reconcile.ts --cpu-prof /tmp/prof    # node --cpu-prof for the reconcile runs
//
// Per engine: a throwaway database (an SQLite file in a temp folder, or laundry_ops_bench_<pid>_reconcile
// on LAUNDRY_OPS_BENCH_PG, default postgres://postgres@127.0.0.1:5432, dropped WITH (FORCE) at the end),
// migrated and seeded with the reference data (src/core/db), then filled by one INSERT ... SELECT per table
// (bench/lib/bulk-db.ts): T tenants on plan `standard` with one outlet and one customer each, and N orders,
// order i of tenant (i * 7919) mod T, created at 2026-01-01 + (i * 104729) mod 181 days, so every month of
// 2026-01..2026-06 holds about N/6 orders and every tenant has orders in it. PostgreSQL then gets VACUUM
// ANALYZE (the state autovacuum leaves). The month measured is 2026-03 (31 days, the largest).
//
//   start-up  `node bin/run.js quota reconcile --help`, 5 times: process start, oclif, no database (median).
//   baseline  the bare aggregate `select tenant_id, count(*) from orders where created_at >= ? and created_at
//             < ? group by tenant_id`, in this process with the driver directly (better-sqlite3 / pg, no
//             knex), 3 times (first and median).
//   read      the command's own read (src reconcileQuota with dryRun: the tenants x orders x quota_usage
//             join), in this process, 3 times: how much of a run the query is. Its SQL is captured (knex
//             'query' event) and the engine's plan for it printed (EXPLAIN QUERY PLAN / EXPLAIN).
//   laundry   `node bin/run.js quota reconcile 2026-03 --json` with DATABASE_URL, under /usr/bin/time, twice:
//             run 1 inserts the 10,000 quota_usage rows, run 2 updates them. "net" = minus the start-up median.
//   in-proc   after the runs: src reconcileQuota (writing; the update path) in this process, 3 times; minus
//             the read above this is the write phase.
//
// Checks: both runs exit 0 and report T tenants and updated = T; the per-tenant counts add up to the
// orders of the month (counted directly) and equal the baseline's per tenant; quota_usage then holds T rows
// for the month summing to that count; run 1 sees no previous value, run 2 sees run 1's value for every
// tenant.
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
import {engineList, parseBenchArgs, positiveInteger} from './lib/args.mjs'
import {type BenchEnvironment, benchFail, emitBenchmark, environment, environmentLines, fmt, median, pgFacts, table, progress} from './lib/bench-report.js'
import {type BulkDatabase, type Engine, createMigrated, dropAll, generateTenantsAndOrders, pgQuery} from './lib/bulk-db.js'
import {childEnv, describeFailure, runTimed, type TimedRun} from './lib/timed-run.js'

const DEFAULT_TENANTS = 10_000
const DEFAULT_ORDERS = 1_000_000
const PERIOD = '2026-03'
const SPREAD_START = Date.UTC(2026, 0, 1) / 1000
const SPREAD_SECONDS = 181 * 86_400 // 2026-01-01 .. 2026-06-30
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
  engines: Engine[]
  json: boolean
  cpuProf?: string
}

function usage(): string {
  return [
    'usage: node --import tsx bench/reconcile.ts [--tenants T] [--orders N] [--engines sqlite,pg] [--json] [--cpu-prof DIR]',
    '',
    `  --tenants T      tenants (default ${DEFAULT_TENANTS})`,
    `  --orders N       orders over 2026-01..2026-06 (default ${DEFAULT_ORDERS})`,
    '  --engines LIST   engines to run, in order (default sqlite,pg)',
    '  --json           print one JSON document instead of the tables',
    '  --cpu-prof DIR   run the laundry-ops reconcile runs with node --cpu-prof, profiles written to DIR',
  ].join('\n')
}

const fail: (message: string) => never = (message) => benchFail('reconcile', message)

function parseOptions(argv: string[]): Options {
  const args = parseBenchArgs(
    'reconcile',
    usage,
    {
      json: {type: 'boolean'},
      tenants: {type: 'string', parse: positiveInteger},
      orders: {type: 'string', parse: positiveInteger},
      engines: {type: 'string', parse: engineList},
      'cpu-prof': {type: 'string', parse: (raw) => path.resolve(raw)},
    },
    argv,
  )
  return {
    tenants: args.tenants ?? DEFAULT_TENANTS,
    orders: args.orders ?? DEFAULT_ORDERS,
    engines: args.engines ?? ['sqlite', 'pg'],
    json: args.json ?? false,
    cpuProf: args['cpu-prof'],
  }
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
  ordersSum: number
  previousNull: number
  checks: {ok: boolean; failures: string[]}
}

interface EngineResult {
  engine: Engine
  tenants: number
  orders: number
  period: string
  ordersInPeriod: number
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

async function ordersIn(b: BulkDatabase, start: string, end: string): Promise<number> {
  const db = await b.open()
  try {
    const row = await db.knex('orders').where('created_at', '>=', start).where('created_at', '<', end).count({n: '*'}).first()
    return Number(row?.n ?? 0)
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

async function runLaundry(
  b: BulkDatabase,
  opts: Options,
  expect: {ordersInPeriod: number; perTenant: Map<string, number>; previous: 'null' | Map<string, number>},
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
  let out: {tenants?: unknown; updated?: unknown; period?: unknown} = {}
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
  if (out.updated !== opts.tenants) failures.push(`updated ${String(out.updated)}, expected ${opts.tenants}`)
  if (out.period !== PERIOD) failures.push(`period ${String(out.period)}`)
  if (ordersSum !== expect.ordersInPeriod) failures.push(`per-tenant counts add up to ${ordersSum}, the month has ${expect.ordersInPeriod} orders`)
  const mismatched = tenants.filter((x) => (expect.perTenant.get(x.id) ?? 0) !== Number(x.orders)).length
  if (mismatched) failures.push(`${mismatched} tenants differ from the bare aggregate`)
  if (expect.previous === 'null') {
    if (previousNull !== tenants.length) failures.push(`${tenants.length - previousNull} tenants had a previous value on the first run`)
  } else {
    const prev = expect.previous
    const wrong = tenants.filter((x) => x.previous !== (prev.get(x.id) ?? null)).length
    if (wrong) failures.push(`${wrong} tenants' previous value is not the first run's count`)
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
      ordersSum,
      previousNull,
      checks: {ok: failures.length === 0, failures},
    },
    orders,
  }
}

async function benchEngine(engine: Engine, opts: Options): Promise<EngineResult> {
  const failures: string[] = []
  log(opts, `${engine}: database, migrate, seed, ${fmt(opts.tenants)} tenants and ${fmt(opts.orders)} orders`)
  const b = await createMigrated(engine, 'reconcile', {seed: true})
  try {
    const t0 = process.hrtime.bigint()
    {
      const db = await b.open()
      try {
        await generateTenantsAndOrders(db, {tenants: opts.tenants, orders: opts.orders, startSeconds: SPREAD_START, spanSeconds: SPREAD_SECONDS})
      } finally {
        await db.close()
      }
    }
    const generateSeconds = seconds(t0)
    const window = periodWindow(PERIOD)
    const ordersInPeriod = await ordersIn(b, window.start, window.end)
    log(opts, `${engine}: generated in ${fmt(generateSeconds, 1)} s; ${fmt(ordersInPeriod)} orders in ${PERIOD}`)
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
    const first = await runLaundry(b, opts, {ordersInPeriod, perTenant, previous: 'null'}, startup.medianSeconds, 'run1')
    runs.push(first.run)
    log(opts, `${engine}: run 1 ${fmt(first.run.seconds, 2)} s${first.run.checks.ok ? '' : ` FAIL ${first.run.checks.failures.join('; ')}`}`)
    log(opts, `${engine}: laundry-ops quota reconcile ${PERIOD}, run 2 (updates them)`)
    const second = await runLaundry(b, opts, {ordersInPeriod, perTenant, previous: first.orders}, startup.medianSeconds, 'run2')
    runs.push(second.run)
    log(opts, `${engine}: run 2 ${fmt(second.run.seconds, 2)} s${second.run.checks.ok ? '' : ` FAIL ${second.run.checks.failures.join('; ')}`}`)
    const inProcessSamples: number[] = []
    {
      const db = await b.open()
      try {
        for (let i = 0; i < QUERY_RUNS; i++) {
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
      period: PERIOD,
      ordersInPeriod,
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
  out.push(`${fmt(opts.tenants)} tenants, ${fmt(opts.orders)} orders over 2026-01..2026-06; period ${PERIOD}`, '')
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
      `${r.engine}: ${r.runs.map((x, i) => `run ${i + 1}: tenants ${x.tenants}, updated ${x.updated}, orders sum ${x.ordersSum}, previous null ${x.previousNull}`).join('; ')}; ` +
        `bare aggregate ${r.baseline.groups} tenants summing to ${r.baseline.sum}` +
        (r.checks.failures.length ? ` -- FAILURES: ${r.checks.failures.join('; ')}` : ''),
    )
  }
  out.push(
    '',
    `Target (SPEC §9): under ${TARGET_SECONDS} s on both engines; upstream (PHP) ${UPSTREAM.pgSeconds} s PostgreSQL / ${UPSTREAM.sqliteSeconds} s SQLite.`,
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
