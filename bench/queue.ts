// Queue throughput benchmark for laundry-ops: WhatsApp sends per second of `laundry-ops queue work` on
// SQLite and PostgreSQL, beside a bare claim-and-delete loop over the same `jobs` table in the same run,
// with two providers:
//
//   mock      the mock provider (answers at once): 1 and 4 worker processes (--workers).
//   gateway   a real HTTP gateway on loopback that answers every send after exactly 100 ms (--answer-ms),
//             in its own process (bench/lib/gateway.ts), counting the calls per message: the shapes
//             W workers x C in flight (`queue work --concurrency C`) of --gateway-shapes, by default
//             1 x 1 (Laravel's shape: one job at a time), 4 x 1 and 4 x 25, each with its own message count
//             so a round takes 10-30 s (1 x 1 at 100 ms is at most 10 sends/s).
//
//   node --import tsx bench/queue.ts                         # both engines, everything (~4 min here)
//   node --import tsx bench/queue.ts --messages 5000         # fewer messages per mock round
//   node --import tsx bench/queue.ts --json                  # one JSON document instead of the tables
//   node --import tsx bench/queue.ts --engines pg --workers 4 --gateway-shapes none --cpu-prof /tmp/prof
//   node --import tsx bench/queue.ts --workers none --gateway-shapes 4x25:10000
//
// Per engine (an SQLite file in a temp folder; a throwaway PostgreSQL database laundry_ops_bench_<pid>
// on LAUNDRY_OPS_BENCH_PG, default postgres://postgres@127.0.0.1:5432, dropped WITH (FORCE) at the end):
// migrate + seed, demo tenant on premium with the mock provider active (test/helpers/wa.ts). Then, with the
// tables emptied between rounds:
//
//   statements  --statements N messages drained by bench/lib/statement-count.ts (the worker in-process, one
//             job at a time, mock provider), counting every statement its driver sent: statements (on
//             PostgreSQL round trips) per send, and which.
//   start-up  W claim loops, then W `queue work`, on an empty queue: what process start costs alone.
//   baseline  N jobs; W child processes of bench/lib/claim-loop.ts (claimNextJob + delete by id, the
//             queue's own claim statement, no payload decoding, no message) until the queue is empty.
//             Measured once per W and engine, with --messages jobs; the gateway rounds of the same W are
//             set beside the same figure.
//   laundry   N queued wa_messages + one SendWaMessageJob each; W real
//             `node bin/run.js queue work --stop-when-empty --sleep 0 --json [--concurrency C]` processes.
//
// On PostgreSQL both tables are ANALYZEd after queueing (see analyzeIfAsked; --no-analyze skips it).
//
// Rates are N / (spawn of the first process -> exit of the last), process start included. "net" rates
// take the empty-queue start-up time of the same W processes off. A laundry-ops round passes when every
// worker exits 0 having stopped on an empty queue, the workers' `processed` add up to N (none released or
// failed), every message is `sent` with attempts = 1 (attempts counts provider calls across processes) and
// a distinct provider id, no row is left in jobs or failed_jobs, and, with the gateway, the gateway was
// called exactly N times, once for each message. The baseline passes when the loops claimed N distinct ids
// and the jobs table is empty. The load average (1 min) is printed with every round: the machine has 2
// cores shared with others, and a figure taken under load is not the machine's.
//
// Targets judged at the end: 4 x 25 with the 100 ms gateway at >= 500 sends/s on each engine; with the
// mock provider, 4 workers on PostgreSQL at >= 1,000 sends/s or >= 0.8x the bare loop of the same run.
//
// Runs the built CLI (dist/, `npm run build`) for the workers; the baseline, the statement count and the
// fixtures import src/.

import {type ChildProcess, fork, spawn} from 'node:child_process'
import {existsSync, mkdirSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import process from 'node:process'
import {fileURLToPath} from 'node:url'

import type {Knex} from 'knex'

import {systemClock} from '../src/core/clock.js'
import type {Database} from '../src/core/db/connection.js'
import type {WorkerResult} from '../src/core/queue/worker.js'
import {premiumDemoTenant, premiumTenantWithMock} from '../test/helpers/wa.js'
import {BenchArgError, engineList, integerList, parseBenchArgs, positiveInteger} from './lib/args.mjs'
import {type BenchEnvironment, benchFail, emitBenchmark, environment, fmt, table, progress} from './lib/bench-report.js'
import {type BenchDatabase, cleanTables, countRows, createBenchDatabase, queueDummyJobs, queueMessages} from './lib/fixtures.js'
import type {GatewayMessage, GatewayStats} from './lib/gateway.js'

type Engine = 'sqlite' | 'pg'

const DEFAULT_MESSAGES = 20_000
const DEFAULT_SHAPES = '1x1:200,4x1:800,4x25:10000'
const DEFAULT_STATEMENT_MESSAGES = 500
const DEFAULT_ANSWER_MS = 100
/** Mock provider, 4 workers on PostgreSQL: sends/s, or this share of the bare loop of the same run. */
const TARGET_PG_4_WORKERS = 1000
const TARGET_PG_4_WORKERS_RATIO = 0.8
/** 4 workers x 25 in flight with the 100 ms gateway, each engine: sends/s. */
const TARGET_GATEWAY_4X25 = 500
const CHILD_TIMEOUT_MS = 240_000

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const runJs = path.join(root, 'bin', 'run.js')
const claimLoop = path.join(root, 'bench', 'lib', 'claim-loop.ts')
const statementCount = path.join(root, 'bench', 'lib', 'statement-count.ts')
const gatewayScript = path.join(root, 'bench', 'lib', 'gateway.ts')
// Absolute, so the children can run in the temp folder (tsx is resolved from this repo).
const tsxImport = import.meta.resolve('tsx')

interface Shape {
  workers: number
  concurrency: number
  messages: number
}

interface Options {
  messages: number
  json: boolean
  engines: Engine[]
  /** Worker counts of the mock rounds (none: no mock round). */
  workers: number[]
  shapes: Shape[]
  answerMs: number
  /** Messages of the statement count (0: not run). */
  statements: number
  cpuProf?: string
  /** PostgreSQL: ANALYZE jobs and wa_messages after queueing (the statistics a table in use has). */
  analyze: boolean
}

function usage(): string {
  return [
    'usage: node --import tsx bench/queue.ts [--messages N] [--json] [--engines sqlite,pg] [--workers 1,4|none]',
    '                                        [--gateway-shapes WxC:N,...|none] [--answer-ms 100] [--statements N] [--cpu-prof DIR] [--no-analyze]',
    '',
    `  --messages N          messages per mock round, and jobs per baseline round (default ${DEFAULT_MESSAGES})`,
    '  --json                print one JSON document instead of the tables',
    '  --engines LIST        engines to run, in order (default sqlite,pg)',
    '  --workers LIST        worker process counts of the mock-provider rounds (default 1,4; none: no mock round)',
    `  --gateway-shapes LIST gateway rounds: W workers x C in flight each : N messages (default ${DEFAULT_SHAPES}; none: no gateway round)`,
    `  --answer-ms MS        the gateway's fixed answer time (default ${DEFAULT_ANSWER_MS})`,
    `  --statements N        messages of the statement count, 0 to skip it (default ${DEFAULT_STATEMENT_MESSAGES})`,
    '  --cpu-prof DIR        run the laundry-ops workers with node --cpu-prof, profiles written to DIR',
    '  --no-analyze          PostgreSQL: do not ANALYZE the tables after queueing (the first burst on a fresh',
    '                        database: no column statistics yet, the claim may get a plan that sorts the whole queue)',
  ].join('\n')
}

const fail: (message: string) => never = (message) => benchFail('queue', message)

function parseShapes(raw: string, name: string): Shape[] {
  if (raw === 'none') return []
  return raw.split(',').map((part) => {
    const m = /^(\d+)x(\d+):(\d+)$/.exec(part.trim())
    const [workers, concurrency, messages] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0]
    if (!m || workers < 1 || concurrency < 1 || messages < 1) throw new BenchArgError(`${name} takes shapes like 4x25:10000 (or none), got '${part}'`)
    return {workers, concurrency, messages}
  })
}

const workerList = (raw: string, name: string): number[] => (raw === 'none' ? [] : integerList(1, 'positive integers or none')(raw, name))

function nonNegativeInteger(raw: string, name: string): number {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0) throw new BenchArgError(`${name} needs an integer >= 0, got '${raw}'`)
  return n
}

function parseOptions(argv: string[]): Options {
  const args = parseBenchArgs(
    'queue',
    usage,
    {
      json: {type: 'boolean'},
      'no-analyze': {type: 'boolean'},
      messages: {type: 'string', parse: positiveInteger},
      engines: {type: 'string', parse: engineList},
      workers: {type: 'string', parse: workerList},
      'gateway-shapes': {type: 'string', parse: parseShapes},
      'answer-ms': {type: 'string', parse: nonNegativeInteger},
      statements: {type: 'string', parse: nonNegativeInteger},
      'cpu-prof': {type: 'string', parse: (raw) => path.resolve(raw)},
    },
    argv,
  )
  return {
    messages: args.messages ?? DEFAULT_MESSAGES,
    json: args.json ?? false,
    engines: args.engines ?? ['sqlite', 'pg'],
    workers: args.workers ?? [1, 4],
    shapes: args['gateway-shapes'] ?? parseShapes(DEFAULT_SHAPES, '--gateway-shapes'),
    answerMs: args['answer-ms'] ?? DEFAULT_ANSWER_MS,
    statements: args.statements ?? DEFAULT_STATEMENT_MESSAGES,
    cpuProf: args['cpu-prof'],
    analyze: !args['no-analyze'],
  }
}

const log = (opts: Options, message: string) => progress(opts.json, message)
const load1 = () => Math.round(os.loadavg()[0] * 100) / 100

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
const workerArgs = (opts: Options, concurrency = 1) => ({
  args: [
    ...(opts.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProf] : []),
    runJs,
    'queue',
    'work',
    '--stop-when-empty',
    '--sleep',
    '0',
    '--json',
    ...(concurrency > 1 ? ['--concurrency', String(concurrency)] : []),
  ],
})
const times = <T>(n: number, f: () => T): T[] => Array.from({length: n}, f)

/** The gateway child process: its URL, and its counts on request. */
interface Gateway {
  url: string
  reset(): Promise<GatewayStats>
  stats(): Promise<GatewayStats>
  close(): void
}

async function startGateway(answerMs: number): Promise<Gateway> {
  const child: ChildProcess = fork(gatewayScript, ['--answer-ms', String(answerMs)], {
    execArgv: ['--import', tsxImport],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  const waiting: Array<(stats: GatewayStats) => void> = []
  const url = await new Promise<string>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`the gateway process exited ${code} before listening`)))
    child.on('message', (m: GatewayMessage) => {
      if (m.type === 'listening') resolve(m.url)
      else if (m.type === 'stats') waiting.shift()?.(m.stats)
    })
  })
  child.removeAllListeners('exit')
  const ask = (type: 'reset' | 'stats') =>
    new Promise<GatewayStats>((resolve) => {
      waiting.push(resolve)
      child.send({type})
    })
  return {url, reset: () => ask('reset'), stats: () => ask('stats'), close: () => child.kill()}
}

interface BaselineRound {
  seconds: number
  rowsPerSecond: number
  /** N over the span from the first loop's start to the last loop's end (inside the processes). */
  inLoopRowsPerSecond: number
  perProcess: number[]
  loadAvg1AtStart: number
  checks: {ok: boolean; failures: string[]}
}

interface Startup {
  claimLoopSeconds: number
  workerSeconds: number
}

/** The bare loop of W processes on one engine, with the start-up of the same W processes: measured once. */
interface Bare {
  engine: Engine
  workers: number
  jobs: number
  startup: Startup
  baseline: BaselineRound
}

interface LaundryRound {
  seconds: number
  sendsPerSecond: number
  perWorker: number[]
  loadAvg1AtStart: number
  loadAvg1AtEnd: number
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
  /** The gateway's counts over the round (gateway rounds only). */
  gateway?: GatewayStats
}

interface RoundResult {
  engine: Engine
  provider: 'mock' | 'gateway'
  workers: number
  concurrency: number
  messages: number
  /** Gateway rounds: W x C / answer time, the most sends/s the shape allows. */
  ceilingSendsPerSecond: number | null
  bare: Bare
  laundry: LaundryRound
  /** laundry-ops sends/s divided by the bare loop's rows/s (same engine, same W, same run). */
  ratio: number
  net: {baselineRowsPerSecond: number; sendsPerSecond: number}
}

interface StatementCount {
  engine: Engine
  sends: number
  /** The drain's time, one worker in-process, one job at a time. */
  seconds: number
  statements: number
  perSend: number
  /** Statement (first 90 characters), how many, mean ms from the call to its answer. */
  kinds: Array<[string, number, number]>
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
  const loadAvg1AtStart = load1()
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
    loadAvg1AtStart,
    checks: {ok: failures.length === 0, failures},
  }
}

async function runLaundry(
  b: BenchDatabase,
  tenant: {tenantId: string; outletId: string},
  n: number,
  shape: {workers: number; concurrency: number},
  opts: Options,
  gateway?: Gateway,
): Promise<LaundryRound> {
  const {db} = b
  await queueMessages(db, tenant, n)
  await analyzeIfAsked(db, opts)
  await gateway?.reset()
  const loadAvg1AtStart = load1()
  const batch = await runBatch(
    times(shape.workers, () => workerArgs(opts, shape.concurrency)),
    b.dir,
    childEnv(b.url),
  )
  const loadAvg1AtEnd = load1()
  const failures: string[] = []
  const results = batch.children.map((c, i) => {
    const out = parseChildJson(c, `worker ${i + 1}`) as Partial<WorkerResult> & {error?: unknown}
    if (c.code !== 0) failures.push(`worker ${i + 1} exited ${c.code ?? c.signal}: ${JSON.stringify(out.error ?? out).slice(0, 300)}`)
    else if (out.stop_reason !== 'empty') failures.push(`worker ${i + 1} stopped for ${out.stop_reason}`)
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
  let stats: GatewayStats | undefined
  if (gateway) {
    stats = await gateway.stats()
    if (stats.calls !== n) failures.push(`the gateway was called ${stats.calls} times for ${n} messages`)
    if (stats.messages !== n) failures.push(`the gateway saw ${stats.messages} distinct messages of ${n}`)
    if (stats.twiceCount !== 0) failures.push(`${stats.twiceCount} messages reached the gateway more than once: ${JSON.stringify(stats.twice)}`)
  }
  return {
    seconds: batch.ms / 1000,
    sendsPerSecond: n / (batch.ms / 1000),
    perWorker: results.map((r) => Number(r.processed ?? 0)),
    loadAvg1AtStart,
    loadAvg1AtEnd,
    checks: {ok: failures.length === 0, failures, ...checks},
    gateway: stats,
  }
}

async function startupSeconds(b: BenchDatabase, w: number, opts: Options): Promise<Startup> {
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

async function countStatements(b: BenchDatabase, tenant: {tenantId: string; outletId: string}, n: number, opts: Options): Promise<StatementCount> {
  await queueMessages(b.db, tenant, n)
  await analyzeIfAsked(b.db, opts)
  const batch = await runBatch([{args: ['--import', tsxImport, statementCount]}], b.dir, childEnv(b.url))
  const [c] = batch.children
  if (c.code !== 0) throw new Error(`statement count exited ${c.code ?? c.signal}: ${c.stderr.slice(0, 2000)}`)
  const out = parseChildJson(c, 'statement count') as Omit<StatementCount, 'engine'>
  if (out.sends !== n) throw new Error(`statement count: ${out.sends} of ${n} messages sent`)
  return {engine: b.engine, ...out}
}

const shapeName = (r: {workers: number; concurrency: number}) => `${r.workers} x ${r.concurrency}`
const checksCell = (r: RoundResult) => (r.bare.baseline.checks.ok && r.laundry.checks.ok ? 'OK' : 'FAIL')

function targets(opts: Options, rounds: RoundResult[]): Array<{name: string; value: string; met: boolean}> {
  const out: Array<{name: string; value: string; met: boolean}> = []
  for (const engine of opts.engines) {
    const r = rounds.find((x) => x.engine === engine && x.provider === 'gateway' && x.workers === 4 && x.concurrency === 25)
    if (r && opts.answerMs === 100) {
      out.push({
        name: `${engine}: 4 x 25 with the 100 ms gateway >= ${fmt(TARGET_GATEWAY_4X25)} sends/s, each message sent once`,
        value: `${fmt(r.laundry.sendsPerSecond)} sends/s (load ${fmt(r.laundry.loadAvg1AtStart, 2)}), checks ${checksCell(r)}`,
        met: r.laundry.sendsPerSecond >= TARGET_GATEWAY_4X25 && r.laundry.checks.ok,
      })
    }
  }
  const pg4 = rounds.find((x) => x.engine === 'pg' && x.provider === 'mock' && x.workers === 4)
  if (pg4) {
    out.push({
      name: `pg: mock provider, 4 workers >= ${fmt(TARGET_PG_4_WORKERS)} sends/s or >= ${TARGET_PG_4_WORKERS_RATIO}x the bare loop of the same run`,
      value: `${fmt(pg4.laundry.sendsPerSecond)} sends/s beside a bare loop of ${fmt(pg4.bare.baseline.rowsPerSecond)} rows/s (${fmt(pg4.ratio, 2)}x), checks ${checksCell(pg4)}`,
      met:
        (pg4.laundry.sendsPerSecond >= TARGET_PG_4_WORKERS || pg4.ratio >= TARGET_PG_4_WORKERS_RATIO) && pg4.laundry.checks.ok && pg4.bare.baseline.checks.ok,
    })
  }
  return out
}

function report(env: BenchEnvironment, opts: Options, pgVersion: string | null, rounds: RoundResult[], counts: StatementCount[], bares: Bare[]): string {
  const out: string[] = []
  out.push(
    `laundry-ops queue benchmark, ${env.date}`,
    `node ${env.node} (${env.platform}), ${env.cores} cores, load average ${env.loadAvg.join(' ')} at start`,
    `NODE_EXTRA_CA_CERTS: ${env.nodeExtraCaCerts ? `set (${env.nodeExtraCaCerts})` : 'not set'}`,
    `commit ${env.commit}${env.srcChangesSinceCommit ? ` (+${env.srcChangesSinceCommit} uncommitted src/ changes)` : ''}, dist/index.js built ${env.distBuiltAt ?? 'MISSING'}`,
    `PostgreSQL: ${pgVersion ?? 'not run'}${pgVersion ? (opts.analyze ? ', tables analyzed after queueing' : ', NOT analyzed after queueing (--no-analyze)') : ''}; ` +
      `${fmt(opts.messages)} messages per mock round and jobs per bare-loop round`,
    '',
  )
  if (bares.length > 0) {
    out.push(
      'Baseline: the bare claim-and-delete loop (bench/lib/claim-loop.ts, W processes), this run:',
      '',
      table(
        ['engine', 'W', 'jobs', 'rows/s', 'in-loop rows/s', 'net rows/s', 'load', 'checks'],
        bares.map((b) => [
          b.engine,
          String(b.workers),
          fmt(b.jobs),
          fmt(b.baseline.rowsPerSecond),
          fmt(b.baseline.inLoopRowsPerSecond),
          fmt(b.jobs / (b.baseline.seconds - b.startup.claimLoopSeconds)),
          fmt(b.baseline.loadAvg1AtStart, 2),
          b.baseline.checks.ok ? 'OK' : `FAIL: ${b.baseline.checks.failures.join('; ')}`,
        ]),
        [false, true, true, true, true, true, true, false],
      ),
      '',
    )
  }
  const mock = rounds.filter((r) => r.provider === 'mock')
  if (mock.length > 0) {
    out.push(
      'Mock provider (answers at once):',
      '',
      table(
        ['engine', 'workers', 'bare loop rows/s', 'laundry-ops sends/s', 'ratio to bare loop', 'net sends/s', 'load start/end', 'checks'],
        mock.map((r) => [
          r.engine,
          String(r.workers),
          fmt(r.bare.baseline.rowsPerSecond),
          fmt(r.laundry.sendsPerSecond),
          `${fmt(r.ratio, 2)}x`,
          fmt(r.net.sendsPerSecond),
          `${fmt(r.laundry.loadAvg1AtStart, 2)} / ${fmt(r.laundry.loadAvg1AtEnd, 2)}`,
          checksCell(r),
        ]),
        [false, true, true, true, true, true, true, false],
      ),
      '',
    )
  }
  const gw = rounds.filter((r) => r.provider === 'gateway')
  if (gw.length > 0) {
    out.push(
      `HTTP gateway answering every send after ${opts.answerMs} ms (its own process; ceiling = W x C / answer time):`,
      '',
      table(
        [
          'engine',
          'W x C',
          'messages',
          'ceiling sends/s',
          'laundry-ops sends/s',
          'of ceiling',
          'bare loop rows/s',
          'ratio',
          'gateway calls (once each)',
          'answer lateness p99 ms',
          'load start/end',
          'checks',
        ],
        gw.map((r) => [
          r.engine,
          shapeName(r),
          fmt(r.messages),
          fmt(r.ceilingSendsPerSecond ?? NaN),
          fmt(r.laundry.sendsPerSecond),
          `${fmt((100 * r.laundry.sendsPerSecond) / (r.ceilingSendsPerSecond ?? NaN))}%`,
          fmt(r.bare.baseline.rowsPerSecond),
          `${fmt(r.ratio, 2)}x`,
          r.laundry.gateway
            ? `${fmt(r.laundry.gateway.calls)} (${r.laundry.gateway.twiceCount === 0 ? 'yes' : `${r.laundry.gateway.twiceCount} twice`})`
            : 'n/a',
          r.laundry.gateway ? fmt(r.laundry.gateway.lateMs.p99, 1) : 'n/a',
          `${fmt(r.laundry.loadAvg1AtStart, 2)} / ${fmt(r.laundry.loadAvg1AtEnd, 2)}`,
          checksCell(r),
        ]),
        [false, true, true, true, true, true, true, true, true, true, true, false],
      ),
      '',
    )
  }
  if (rounds.length > 0) {
    out.push(
      'Details (seconds are spawn of the first process to exit of the last; net = minus the empty-queue start-up of the same processes):',
      '',
      table(
        ['engine', 'provider', 'W x C', 'start-up loop / worker s', 'laundry s', 'net sends/s', 'per worker'],
        rounds.map((r) => [
          r.engine,
          r.provider,
          shapeName(r),
          `${fmt(r.bare.startup.claimLoopSeconds, 2)} / ${fmt(r.bare.startup.workerSeconds, 2)}`,
          fmt(r.laundry.seconds, 2),
          fmt(r.net.sendsPerSecond),
          r.laundry.perWorker.join(' + '),
        ]),
        [false, false, true, true, true, true, false],
      ),
      '',
    )
    for (const r of rounds) {
      const c = r.laundry.checks
      out.push(
        `${r.engine} ${r.provider} ${shapeName(r)}: processed ${c.processedSum}/${r.messages}, released ${c.released}, failed ${c.failed}, not sent ${c.notSent}, ` +
          `attempts != 1: ${c.attemptsNotOne}, distinct provider ids ${c.distinctProviderIds}, jobs left ${c.jobsLeft}, failed_jobs ${c.failedJobs}` +
          (r.laundry.gateway
            ? `; gateway: ${r.laundry.gateway.calls} calls for ${r.laundry.gateway.messages} messages, ${r.laundry.gateway.twiceCount} sent twice, ` +
              `at most ${r.laundry.gateway.maxInFlight} waiting, answers late by p50 ${r.laundry.gateway.lateMs.p50} / max ${r.laundry.gateway.lateMs.max} ms`
            : '') +
          (c.failures.length ? ` -- FAILURES: ${c.failures.join('; ')}` : ''),
      )
    }
    out.push('')
  }
  for (const c of counts) {
    out.push(
      `Statements per send, ${c.engine} (${c.sends} sends in ${fmt(c.seconds, 2)} s, one worker in-process, mock provider; on PostgreSQL each is a round trip): ${fmt(c.perSend, 2)}`,
      '  per send  mean ms  statement',
      ...c.kinds.map(([kind, n, ms]) => `  ${fmt(n / c.sends, 2).padStart(8)}  ${fmt(ms, 3).padStart(7)}  ${kind}`),
      '',
    )
  }
  const judged = targets(opts, rounds)
  if (judged.length > 0) {
    out.push('Targets:')
    for (const t of judged) out.push(`  ${t.name}: ${t.value} -> ${t.met ? 'MET' : 'NOT MET'}`)
  }
  return `${out.join('\n')}\n`
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2))
  if (!existsSync(path.join(root, 'dist', 'index.js'))) fail('dist/index.js is missing: build first (npm run build)')
  if (opts.cpuProf) mkdirSync(opts.cpuProf, {recursive: true})
  const env = environment(root)
  const rounds: RoundResult[] = []
  const counts: StatementCount[] = []
  const bares: Bare[] = []
  let pgVersion: string | null = null
  let current: BenchDatabase | undefined
  let gateway: Gateway | undefined

  const onSignal = async (signal: NodeJS.Signals) => {
    process.stderr.write(`bench/queue: ${signal}, dropping the bench database\n`)
    gateway?.close()
    await current?.drop().catch(() => {})
    process.exit(130)
  }
  const stop = (signal: NodeJS.Signals) => void onSignal(signal)
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)

  if (opts.shapes.length > 0) gateway = await startGateway(opts.answerMs)
  try {
    for (const engine of opts.engines) {
      log(opts, `${engine}: creating the database, migrating, seeding`)
      current = await createBenchDatabase(engine)
      const b = current
      try {
        const {db} = b
        if (engine === 'pg') pgVersion = String((await db.knex.raw<{rows: Array<{server_version: string}>}>('show server_version')).rows[0].server_version)
        let tenant = await premiumTenantWithMock(db, systemClock)
        if (opts.statements > 0) {
          await cleanTables(db)
          log(opts, `${engine}: statements per send, ${opts.statements} messages (load ${load1()})`)
          const c = await countStatements(b, tenant, opts.statements, opts)
          counts.push(c)
          log(opts, `${engine}: ${fmt(c.perSend, 2)} statements per send`)
        }
        const bareOf = new Map<number, Bare>()
        const bare = async (w: number): Promise<Bare> => {
          const known = bareOf.get(w)
          if (known) return known
          await cleanTables(db)
          log(opts, `${engine} W=${w}: start-up on an empty queue (load ${load1()})`)
          const startup = await startupSeconds(b, w, opts)
          log(opts, `${engine} W=${w}: bare claim-and-delete loop, ${opts.messages} jobs (load ${load1()})`)
          const baseline = await runBaseline(b, opts.messages, w, opts)
          log(
            opts,
            `${engine} W=${w}: bare loop ${fmt(baseline.rowsPerSecond)} rows/s${baseline.checks.ok ? '' : ` FAIL ${baseline.checks.failures.join('; ')}`}`,
          )
          const result = {engine, workers: w, jobs: opts.messages, startup, baseline}
          bareOf.set(w, result)
          bares.push(result)
          return result
        }
        const round = async (provider: 'mock' | 'gateway', shape: Shape) => {
          const base = await bare(shape.workers)
          await cleanTables(db)
          log(opts, `${engine} ${provider} ${shapeName(shape)}: laundry-ops queue work, ${shape.messages} messages (load ${load1()})`)
          const laundry = await runLaundry(b, tenant, shape.messages, shape, opts, provider === 'gateway' ? gateway : undefined)
          log(
            opts,
            `${engine} ${provider} ${shapeName(shape)}: ${fmt(laundry.sendsPerSecond)} sends/s${laundry.checks.ok ? '' : ` FAIL ${laundry.checks.failures.join('; ')}`}`,
          )
          await cleanTables(db)
          rounds.push({
            engine,
            provider,
            workers: shape.workers,
            concurrency: shape.concurrency,
            messages: shape.messages,
            ceilingSendsPerSecond: provider === 'gateway' && opts.answerMs > 0 ? (shape.workers * shape.concurrency * 1000) / opts.answerMs : null,
            bare: base,
            laundry,
            ratio: laundry.sendsPerSecond / base.baseline.rowsPerSecond,
            net: {
              baselineRowsPerSecond: base.jobs / (base.baseline.seconds - base.startup.claimLoopSeconds),
              sendsPerSecond: shape.messages / (laundry.seconds - base.startup.workerSeconds),
            },
          })
        }
        for (const w of opts.workers) await round('mock', {workers: w, concurrency: 1, messages: opts.messages})
        if (gateway && opts.shapes.length > 0) {
          tenant = await premiumDemoTenant(db, systemClock, {provider: 'http', credentials: {url: gateway.url, token: 'bench'}})
          for (const shape of opts.shapes) await round('gateway', shape)
        }
      } finally {
        await b.drop()
        current = undefined
      }
    }
  } finally {
    gateway?.close()
  }

  const judged = targets(opts, rounds)
  const ok = rounds.every((r) => r.bare.baseline.checks.ok && r.laundry.checks.ok) && bares.every((b) => b.baseline.checks.ok)
  emitBenchmark('queue', {
    json: opts.json,
    environment: {...env, postgres: pgVersion},
    fields: {
      messages: opts.messages,
      answerMs: opts.answerMs,
      pgAnalyzeAfterQueueing: opts.analyze,
      ok,
      targets: judged,
      statements: counts,
      baselines: bares,
      rounds,
    },
    text: () => report(env, opts, pgVersion, rounds, counts, bares),
    ok,
  })
}

await main()
