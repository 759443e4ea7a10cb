// Queue throughput benchmark for laundry-ops: WhatsApp sends per second of `laundry-ops queue work`
// with the mock provider, with 1 and 4 worker processes, on SQLite and PostgreSQL, beside a bare
// claim-and-delete loop over the same `jobs` table in the same run.
//
//   node --import tsx bench/queue.ts                    # both engines, 1 and 4 workers, 20000 messages
//   node --import tsx bench/queue.ts --messages 5000    # fewer messages per round
//   node --import tsx bench/queue.ts --json             # one JSON document instead of the tables
//   node --import tsx bench/queue.ts --engines pg --workers 4 --cpu-prof /tmp/prof
//
// Per engine (an SQLite file in a temp folder; a throwaway PostgreSQL database laundry_ops_bench_<pid>
// on LAUNDRY_OPS_BENCH_PG, default postgres://postgres@127.0.0.1:5432, dropped WITH (FORCE) at the end):
// migrate + seed, demo tenant on premium with the mock provider active (test/helpers/wa.ts). Then, for
// each worker count W, with the tables emptied between rounds:
//
//   start-up  W claim loops, then W `queue work`, on an empty queue: what process start costs alone.
//   baseline  N jobs; W child processes of bench/lib/claim-loop.ts (claimNextJob + delete by id, the
//             queue's own claim statement, no payload decoding, no message) until the queue is empty.
//   laundry   N queued wa_messages + one SendWaMessageJob each; W real
//             `node bin/run.js queue work --stop-when-empty --sleep 0 --json` processes.
//
// On PostgreSQL both tables are ANALYZEd after queueing (see analyzeIfAsked; --no-analyze skips it).
//
// Rates are N / (spawn of the first process -> exit of the last), process start included. "net" rates
// take the empty-queue start-up time of the same W processes off. The laundry-ops round passes when
// every worker exits 0, the workers' `processed` add up to N (none released or failed), every message
// is `sent` with attempts = 1 (attempts counts provider calls across processes: none sent twice) and a
// distinct provider id, and no row is left in jobs or failed_jobs. The baseline passes when the loops
// claimed N distinct ids and the jobs table is empty.
//
// Runs the built CLI (dist/, `npm run build`) for the workers; the baseline and the fixtures import src/.

import {spawn} from 'node:child_process'
import {existsSync, mkdirSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import process from 'node:process'
import {fileURLToPath} from 'node:url'

import {systemClock} from '../src/core/clock.js'
import type {Knex} from 'knex'

import type {Database} from '../src/core/db/connection.js'
import {premiumTenantWithMock} from '../test/helpers/wa.js'
import {engineList, integerList, parseBenchArgs, positiveInteger} from './lib/args.mjs'
import {type BenchEnvironment, benchFail, emitBenchmark, environment, fmt, table, progress} from './lib/bench-report.js'
import {type BenchDatabase, cleanTables, countRows, createBenchDatabase, queueDummyJobs, queueMessages} from './lib/fixtures.js'

type Engine = 'sqlite' | 'pg'

const DEFAULT_MESSAGES = 20_000
const TARGET_PG_4_WORKERS = 1000 // sends/s, SPEC: 4 workers on PostgreSQL
const CHILD_TIMEOUT_MS = 240_000

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const runJs = path.join(root, 'bin', 'run.js')
const claimLoop = path.join(root, 'bench', 'lib', 'claim-loop.ts')
// Absolute, so the children can run in the temp folder (tsx is resolved from this repo).
const tsxImport = import.meta.resolve('tsx')

interface Options {
  messages: number
  json: boolean
  engines: Engine[]
  workers: number[]
  cpuProf?: string
  /** PostgreSQL: ANALYZE jobs and wa_messages after queueing (the statistics a table in use has). */
  analyze: boolean
}

function usage(): string {
  return [
    'usage: node --import tsx bench/queue.ts [--messages N] [--json] [--engines sqlite,pg] [--workers 1,4] [--cpu-prof DIR]',
    '',
    `  --messages N     messages (and baseline jobs) per round (default ${DEFAULT_MESSAGES})`,
    '  --json           print one JSON document instead of the tables',
    '  --engines LIST   engines to run, in order (default sqlite,pg)',
    '  --workers LIST   worker process counts (default 1,4)',
    '  --cpu-prof DIR   run the laundry-ops workers with node --cpu-prof, profiles written to DIR',
    '  --no-analyze     PostgreSQL: do not ANALYZE the tables after queueing (the first burst on a fresh',
    '                   database: no column statistics yet, the claim may get a plan that sorts the whole queue)',
  ].join('\n')
}

const fail: (message: string) => never = (message) => benchFail('queue', message)

function parseOptions(argv: string[]): Options {
  const args = parseBenchArgs(
    'queue',
    usage,
    {
      json: {type: 'boolean'},
      'no-analyze': {type: 'boolean'},
      messages: {type: 'string', parse: positiveInteger},
      engines: {type: 'string', parse: engineList},
      workers: {type: 'string', parse: integerList(1, 'positive integers')},
      'cpu-prof': {type: 'string', parse: (raw) => path.resolve(raw)},
    },
    argv,
  )
  return {
    messages: args.messages ?? DEFAULT_MESSAGES,
    json: args.json ?? false,
    engines: args.engines ?? ['sqlite', 'pg'],
    workers: args.workers ?? [1, 4],
    cpuProf: args['cpu-prof'],
    analyze: !args['no-analyze'],
  }
}

const log = (opts: Options, message: string) => progress(opts.json, message)

interface ChildResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** Milliseconds from the spawn of the batch's first process to this one's exit. */
  exitMs: number
}

function childEnv(url: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('DATABASE_URL') && !k.startsWith('LAUNDRY_OPS_') && k !== 'DEBUG') env[k] = v
  }
  env.DATABASE_URL = url
  env.NO_COLOR = '1'
  return env
}

/** Spawns all processes at once; resolves when the last exits, with its time from the first spawn. */
async function runBatch(commands: Array<{args: string[]}>, cwd: string, env: NodeJS.ProcessEnv): Promise<{ms: number; children: ChildResult[]}> {
  const t0 = process.hrtime.bigint()
  const children = await Promise.all(
    commands.map(
      ({args}) =>
        new Promise<ChildResult>((resolve, reject) => {
          const child = spawn(process.execPath, args, {cwd, env, stdio: ['ignore', 'pipe', 'pipe']})
          let stdout = ''
          let stderr = ''
          child.stdout.on('data', (d) => (stdout += d))
          child.stderr.on('data', (d) => (stderr += d))
          const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS)
          child.on('error', reject)
          child.on('close', (code, signal) => {
            clearTimeout(timer)
            resolve({code, signal, stdout, stderr, exitMs: Number(process.hrtime.bigint() - t0) / 1e6})
          })
        }),
    ),
  )
  return {ms: Math.max(...children.map((c) => c.exitMs)), children}
}

function parseChildJson(c: ChildResult, what: string): unknown {
  try {
    return JSON.parse(c.stdout) as unknown
  } catch {
    throw new Error(
      `${what}: stdout is not one JSON document (exit ${c.code}, signal ${c.signal})\n${c.stdout.slice(0, 2000)}\n--- stderr ---\n${c.stderr.slice(0, 2000)}`,
    )
  }
}

const claimLoopArgs = () => ({args: ['--import', tsxImport, claimLoop]})
const workerArgs = (opts: Options) => ({
  args: [...(opts.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProf] : []), runJs, 'queue', 'work', '--stop-when-empty', '--sleep', '0', '--json'],
})
const times = <T>(n: number, f: () => T): T[] => Array.from({length: n}, f)

interface BaselineRound {
  seconds: number
  rowsPerSecond: number
  /** N over the span from the first loop's start to the last loop's end (inside the processes). */
  inLoopRowsPerSecond: number
  perProcess: number[]
  checks: {ok: boolean; failures: string[]}
}

interface LaundryRound {
  seconds: number
  sendsPerSecond: number
  perWorker: number[]
  checks: {
    ok: boolean
    failures: string[]
    processedSum: number
    released: number
    failed: number
    notSent: number
    attemptsNotOne: number
    distinctProviderIds: number
    jobsLeft: number
    failedJobs: number
  }
}

interface RoundResult {
  engine: Engine
  workers: number
  messages: number
  loadAvg1AtStart: number
  startup: {claimLoopSeconds: number; workerSeconds: number}
  baseline: BaselineRound
  laundry: LaundryRound
  /** laundry-ops sends/s divided by baseline rows/s. */
  ratio: number
  net: {baselineRowsPerSecond: number; sendsPerSecond: number}
}

/**
 * PostgreSQL plans the claim from the column statistics of jobs. A jobs table that was never analyzed
 * with rows in it (a fresh database) has none, and the planner then picks a bitmap scan of the whole
 * queue plus a sort for every claim, whose cost grows with the backlog; once autovacuum has analyzed
 * the table it walks jobs_pkey and stops at the first free row. Analyzing after queueing gives every
 * round the second, steady-state plan, whatever autovacuum happened to do; --no-analyze leaves it.
 */
async function analyzeIfAsked(db: Database, opts: Options): Promise<void> {
  if (db.dialect === 'pg' && opts.analyze) await db.knex.raw('analyze jobs, wa_messages')
}

async function runBaseline(b: BenchDatabase, n: number, w: number, opts: Options): Promise<BaselineRound> {
  const {db} = b
  await queueDummyJobs(db, n)
  await analyzeIfAsked(db, opts)
  const batch = await runBatch(times(w, claimLoopArgs), b.dir, childEnv(b.url))
  const failures: string[] = []
  const outs = batch.children.map((c, i) => {
    if (c.code !== 0) failures.push(`claim loop ${i + 1} exited ${c.code ?? c.signal}: ${c.stderr.trim().split('\n').slice(-3).join(' | ')}`)
    return c.code === 0 ? (parseChildJson(c, `claim loop ${i + 1}`) as {claimed: number; ids: number[]; loopStart: number; loopEnd: number}) : null
  })
  const ok = outs.filter((o) => o !== null)
  const ids = ok.flatMap((o) => o.ids)
  if (ids.length !== n) failures.push(`claimed ${ids.length} of ${n}`)
  if (new Set(ids).size !== ids.length) failures.push(`${ids.length - new Set(ids).size} ids claimed twice`)
  const left = await countRows(db, 'jobs')
  if (left !== 0) failures.push(`${left} jobs left`)
  const loopSpan = ok.length > 0 ? (Math.max(...ok.map((o) => o.loopEnd)) - Math.min(...ok.map((o) => o.loopStart))) / 1000 : NaN
  return {
    seconds: batch.ms / 1000,
    rowsPerSecond: n / (batch.ms / 1000),
    inLoopRowsPerSecond: n / loopSpan,
    perProcess: outs.map((o) => o?.claimed ?? 0),
    checks: {ok: failures.length === 0, failures},
  }
}

async function runLaundry(b: BenchDatabase, tenant: {tenantId: string; outletId: string}, n: number, w: number, opts: Options): Promise<LaundryRound> {
  const {db} = b
  await queueMessages(db, tenant, n)
  await analyzeIfAsked(db, opts)
  const batch = await runBatch(
    times(w, () => workerArgs(opts)),
    b.dir,
    childEnv(b.url),
  )
  const failures: string[] = []
  const results = batch.children.map((c, i) => {
    const out = parseChildJson(c, `worker ${i + 1}`) as {processed?: number; released?: number; failed?: number; stopReason?: string; error?: unknown}
    if (c.code !== 0) failures.push(`worker ${i + 1} exited ${c.code ?? c.signal}: ${JSON.stringify(out.error ?? out).slice(0, 300)}`)
    else if (out.stopReason !== 'empty') failures.push(`worker ${i + 1} stopped for ${out.stopReason}`)
    return out
  })
  const sum = (k: 'processed' | 'released' | 'failed') => results.reduce((a, r) => a + Number(r[k] ?? 0), 0)
  const count = async (q: Knex.QueryBuilder) => Number(((await q.count({n: '*'}).first()) as {n?: unknown} | undefined)?.n ?? 0)
  const checks = {
    processedSum: sum('processed'),
    released: sum('released'),
    failed: sum('failed'),
    notSent: await count(db.knex('wa_messages').whereNot({status: 'sent'})),
    attemptsNotOne: await count(db.knex('wa_messages').whereNot({attempts: 1})),
    distinctProviderIds: Number((await db.knex('wa_messages').countDistinct({n: 'provider_message_id'}).first())?.n ?? 0),
    jobsLeft: await countRows(db, 'jobs'),
    failedJobs: await countRows(db, 'failed_jobs'),
  }
  const messages = await countRows(db, 'wa_messages')
  if (messages !== n) failures.push(`${messages} messages in wa_messages, expected ${n}`)
  if (checks.processedSum !== n) failures.push(`workers processed ${checks.processedSum} of ${n}`)
  if (checks.released !== 0) failures.push(`${checks.released} jobs released`)
  if (checks.failed !== 0) failures.push(`${checks.failed} jobs failed`)
  if (checks.notSent !== 0) failures.push(`${checks.notSent} messages not sent`)
  if (checks.attemptsNotOne !== 0) failures.push(`${checks.attemptsNotOne} messages with attempts != 1`)
  if (checks.distinctProviderIds !== n) failures.push(`${checks.distinctProviderIds} distinct provider ids for ${n} messages`)
  if (checks.jobsLeft !== 0) failures.push(`${checks.jobsLeft} jobs left`)
  if (checks.failedJobs !== 0) failures.push(`${checks.failedJobs} failed_jobs rows`)
  return {
    seconds: batch.ms / 1000,
    sendsPerSecond: n / (batch.ms / 1000),
    perWorker: results.map((r) => Number(r.processed ?? 0)),
    checks: {ok: failures.length === 0, failures, ...checks},
  }
}

async function startupSeconds(b: BenchDatabase, w: number, opts: Options): Promise<{claimLoopSeconds: number; workerSeconds: number}> {
  const env = childEnv(b.url)
  const loops = await runBatch(times(w, claimLoopArgs), b.dir, env)
  // No --cpu-prof here: the profiles are for the real rounds.
  const workers = await runBatch(
    times(w, () => workerArgs({...opts, cpuProf: undefined})),
    b.dir,
    env,
  )
  for (const c of [...loops.children, ...workers.children]) {
    if (c.code !== 0) throw new Error(`empty-queue start-up run exited ${c.code ?? c.signal}: ${c.stderr.slice(0, 1000)}`)
  }
  return {claimLoopSeconds: loops.ms / 1000, workerSeconds: workers.ms / 1000}
}

function report(env: BenchEnvironment, opts: Options, pgVersion: string | null, rounds: RoundResult[]): string {
  const out: string[] = []
  out.push(
    `laundry-ops queue benchmark, ${env.date}`,
    `node ${env.node} (${env.platform}), ${env.cores} cores, load average ${env.loadAvg.join(' ')} at start`,
    `NODE_EXTRA_CA_CERTS: ${env.nodeExtraCaCerts ? `set (${env.nodeExtraCaCerts})` : 'not set'}`,
    `commit ${env.commit}${env.srcChangesSinceCommit ? ` (+${env.srcChangesSinceCommit} uncommitted src/ changes)` : ''}, dist/index.js built ${env.distBuiltAt ?? 'MISSING'}`,
    `PostgreSQL: ${pgVersion ?? 'not run'}${pgVersion ? (opts.analyze ? ', tables analyzed after queueing' : ', NOT analyzed after queueing (--no-analyze)') : ''}; ` +
      `${opts.messages} messages (and ${opts.messages} baseline jobs) per round`,
    '',
  )
  out.push(
    table(
      ['engine', 'workers', 'baseline claim+delete rows/s', 'laundry-ops sends/s', 'ratio to baseline', 'checks'],
      rounds.map((r) => [
        r.engine,
        String(r.workers),
        fmt(r.baseline.rowsPerSecond),
        fmt(r.laundry.sendsPerSecond),
        `${fmt(r.ratio, 2)}x`,
        r.baseline.checks.ok && r.laundry.checks.ok ? 'OK' : 'FAIL',
      ]),
      [false, true, true, true, true, false],
    ),
    '',
    'Details (seconds are spawn of the first process to exit of the last; net = minus the empty-queue start-up of the same processes):',
    '',
    table(
      [
        'engine',
        'W',
        'load',
        'start-up loop / worker s',
        'baseline s',
        'baseline in-loop rows/s',
        'baseline net rows/s',
        'laundry s',
        'laundry net sends/s',
        'per worker',
      ],
      rounds.map((r) => [
        r.engine,
        String(r.workers),
        fmt(r.loadAvg1AtStart, 2),
        `${fmt(r.startup.claimLoopSeconds, 2)} / ${fmt(r.startup.workerSeconds, 2)}`,
        fmt(r.baseline.seconds, 2),
        fmt(r.baseline.inLoopRowsPerSecond),
        fmt(r.net.baselineRowsPerSecond),
        fmt(r.laundry.seconds, 2),
        fmt(r.net.sendsPerSecond),
        r.laundry.perWorker.join(' + '),
      ]),
      [false, true, true, true, true, true, true, true, true, false],
    ),
    '',
  )
  for (const r of rounds) {
    const c = r.laundry.checks
    out.push(
      `${r.engine} W=${r.workers}: processed ${c.processedSum}/${r.messages}, released ${c.released}, failed ${c.failed}, not sent ${c.notSent}, ` +
        `attempts != 1: ${c.attemptsNotOne}, distinct provider ids ${c.distinctProviderIds}, jobs left ${c.jobsLeft}, failed_jobs ${c.failedJobs}; ` +
        `baseline claimed ${r.baseline.perProcess.join(' + ')}` +
        (r.baseline.checks.failures.length + c.failures.length ? ` -- FAILURES: ${[...r.baseline.checks.failures, ...c.failures].join('; ')}` : ''),
    )
  }
  const pg4 = rounds.find((r) => r.engine === 'pg' && r.workers === 4)
  if (pg4) {
    out.push(
      '',
      `Target (>= ${fmt(TARGET_PG_4_WORKERS)} sends/s, 4 workers, PostgreSQL, none sent twice): ${fmt(pg4.laundry.sendsPerSecond)} sends/s, ` +
        `${pg4.laundry.checks.attemptsNotOne === 0 && pg4.laundry.checks.ok ? 'none sent twice' : 'CHECKS FAILED'} -> ` +
        `${pg4.laundry.sendsPerSecond >= TARGET_PG_4_WORKERS && pg4.laundry.checks.ok ? 'MET' : 'NOT MET'}`,
    )
  }
  return `${out.join('\n')}\n`
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2))
  if (!existsSync(path.join(root, 'dist', 'index.js'))) fail('dist/index.js is missing: build first (npm run build)')
  if (opts.cpuProf) mkdirSync(opts.cpuProf, {recursive: true})
  const env = environment(root)
  const rounds: RoundResult[] = []
  let pgVersion: string | null = null
  let current: BenchDatabase | undefined

  const onSignal = async (signal: NodeJS.Signals) => {
    process.stderr.write(`bench/queue: ${signal}, dropping the bench database\n`)
    await current?.drop().catch(() => {})
    process.exit(130)
  }
  const stop = (signal: NodeJS.Signals) => void onSignal(signal)
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)

  for (const engine of opts.engines) {
    log(opts, `${engine}: creating the database, migrating, seeding`)
    current = await createBenchDatabase(engine)
    try {
      const {db} = current
      if (engine === 'pg') pgVersion = String((await db.knex.raw<{rows: Array<{server_version: string}>}>('show server_version')).rows[0].server_version)
      const tenant = await premiumTenantWithMock(db, systemClock)
      for (const w of opts.workers) {
        await cleanTables(db)
        const loadAvg1AtStart = os.loadavg()[0]
        log(opts, `${engine} W=${w}: start-up on an empty queue`)
        const startup = await startupSeconds(current, w, opts)
        log(opts, `${engine} W=${w}: baseline, ${opts.messages} jobs`)
        const baseline = await runBaseline(current, opts.messages, w, opts)
        log(opts, `${engine} W=${w}: baseline ${fmt(baseline.rowsPerSecond)} rows/s${baseline.checks.ok ? '' : ` FAIL ${baseline.checks.failures.join('; ')}`}`)
        await cleanTables(db)
        log(opts, `${engine} W=${w}: laundry-ops queue work, ${opts.messages} messages`)
        const laundry = await runLaundry(current, tenant, opts.messages, w, opts)
        log(
          opts,
          `${engine} W=${w}: laundry-ops ${fmt(laundry.sendsPerSecond)} sends/s${laundry.checks.ok ? '' : ` FAIL ${laundry.checks.failures.join('; ')}`}`,
        )
        await cleanTables(db)
        rounds.push({
          engine,
          workers: w,
          messages: opts.messages,
          loadAvg1AtStart,
          startup,
          baseline,
          laundry,
          ratio: laundry.sendsPerSecond / baseline.rowsPerSecond,
          net: {
            baselineRowsPerSecond: opts.messages / (baseline.seconds - startup.claimLoopSeconds),
            sendsPerSecond: opts.messages / (laundry.seconds - startup.workerSeconds),
          },
        })
      }
    } finally {
      await current.drop()
      current = undefined
    }
  }

  const ok = rounds.every((r) => r.baseline.checks.ok && r.laundry.checks.ok)
  emitBenchmark('queue', {
    json: opts.json,
    environment: {...env, postgres: pgVersion},
    fields: {
      messages: opts.messages,
      pgAnalyzeAfterQueueing: opts.analyze,
      targetPg4WorkersSendsPerSecond: TARGET_PG_4_WORKERS,
      ok,
      rounds,
    },
    text: () => report(env, opts, pgVersion, rounds),
    ok,
  })
}

await main()
