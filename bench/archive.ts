// Audit archive benchmark for laundry-ops: rows per second, wall time and peak RSS of the real
// `laundry-ops audit archive` over 100,000 and 1,000,000 old audit events, with --chunk 1000 (the default)
// and 5000, on SQLite and PostgreSQL, beside a bare baseline over the same rows in the same run.
//
//   node --import tsx bench/archive.ts                          # both engines, 100k and 1M rows, chunk 1000 and 5000
//   node --import tsx bench/archive.ts --rows 1000000 --chunk 1000
//   node --import tsx bench/archive.ts --json                   # one JSON document instead of the tables
//   node --import tsx bench/archive.ts --engines pg --rows 100000 --cpu-prof /tmp/prof
//   node --import tsx bench/archive.ts --rows 1000000 --chunk 1000 --phases   # plus the in-process phase split
//   node --import tsx bench/archive.ts --engines sqlite --phases --phases-pragma 'cache_size=-131072'
//   node --import tsx bench/archive.ts --layout ordered         # rows appended in time order, uuid7-style ids
//
// --rows and --chunk take one number or a comma list. Per engine and row count: a template database
// (an SQLite file in a temp folder, or laundry_ops_bench_<pid>_tpl_<rows> on LAUNDRY_OPS_BENCH_PG, default
// postgres://postgres@127.0.0.1:5432) is migrated (src/core/db/migrator.ts) and filled by ONE server-side
// INSERT ... SELECT with N audit_events 91-391 days old, shaped like test/helpers/audit.ts (7 rows per
// second; metadata `[]` or `{"x":i,"note":"café/ü"}`; --layout random, the default: random v4 ids and
// seconds out of insertion order, so neither id order nor rowid/heap order follows created_at; --layout
// ordered: rows appended oldest first with time-ordered uuid7-style ids, as a live table grows; see
// bench/lib/bulk-db.ts). PostgreSQL then gets VACUUM ANALYZE, the state autovacuum leaves. Every measured
// round runs on its own copy of the template (file copy / CREATE DATABASE ... TEMPLATE), dropped after the
// round; on PostgreSQL a CHECKPOINT runs before each round so no earlier write is flushed inside it.
//
//   laundry   `node bin/run.js audit archive --days 90 --chunk C --json` with DATABASE_URL and
//             LAUNDRY_OPS_STORAGE=<temp folder>, under /usr/bin/time (peak RSS = ru_maxrss).
//   baseline  PostgreSQL: `psql -c "\copy (select <the 12 columns> ... where created_at < cutoff order by
//             created_at, id) to 'file'" -c "delete from audit_events where created_at < cutoff"`, timed together
//             (one per row count: it has no chunk). SQLite: bench/lib/sqlite-archive-baseline.mjs, plain node
//             and better-sqlite3, pages of C rows by rowid keyset -> JSON lines to a file (no fsync) -> delete
//             the page, until empty.
//
//   phases    (--phases) once more per engine, row count and chunk, on another copy: src archiveAuditEvents in
//             this process (tsx, not the bundle), with every knex statement timed by kind (knex 'query' ->
//             'query-response': driver time including row decoding) and fs.writeSync / fs.fsyncSync timed;
//             the rest of the wall time is JavaScript (line encoding, hashing, knex building) and waiting.
//             Also the bytes this process read and wrote through syscalls (/proc/self/io rchar, wchar: page
//             cache included) and its peak RSS above the RSS at the start (VmHWM, reset via clear_refs).
//             --phases-pragma P (SQLite, repeatable) runs `pragma P` on the connection first: what a pragma
//             would change, without touching src/.
//
// Rates are N / (spawn -> exit), process start included. A laundry round passes when the command exits 0
// with matched = archived = deleted = N and nothing recovered, audit_events is empty, the archive file
// holds N lines, and the manifest says rows = N with the file's real byte count and sha256. A baseline
// passes when it reports N copied and N deleted, its file holds N lines, and the table is empty.
//
// Runs the built CLI (dist/, `npm run build`); the fixtures import src/.

import {spawnSync} from 'node:child_process'
import fs, {createReadStream, existsSync, mkdirSync, readFileSync} from 'node:fs'
import {syncBuiltinESMExports} from 'node:module'
import {createHash} from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import process from 'node:process'
import {fileURLToPath} from 'node:url'

import {archiveAuditEvents} from '../src/core/audit/archive.js'
import {toDbTimestamp} from '../src/core/clock.js'
import {engineList, integerList, oneOf, parseBenchArgs} from './lib/args.mjs'
import {type BenchEnvironment, benchFail, emitBenchmark, environment, environmentLines, fmt, pgFacts, table, progress} from './lib/bench-report.js'
import {
  type AuditLayout,
  type BulkDatabase,
  type Engine,
  checkpoint,
  cloneDatabase,
  createMigrated,
  dropAll,
  generateAuditEvents,
  pgQuery,
  storageDir,
} from './lib/bulk-db.js'
import {childEnv, describeFailure, runTimed, type TimedRun} from './lib/timed-run.js'

const DEFAULT_ROWS = [100_000, 1_000_000]
const DEFAULT_CHUNKS = [1000, 5000]
const DAYS = 90
const MIN_AGE_DAYS = 91
const MAX_AGE_DAYS = 391
const TARGET_ROWS_PER_SECOND = 100_000 // SPEC §9: 1M rows in under 10 s
const TARGET_PEAK_RSS_MB = 150
const FLAT_RSS_GROWTH = 1.15 // "flat from 100k to 1M": the 1M peak within 15% of the 100k peak
const CHILD_TIMEOUT_MS = 1_800_000
const UPSTREAM = {pgSeconds: 353, sqliteSeconds: 476, rows: 1_000_000, peakMb: 740}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const runJs = path.join(root, 'bin', 'run.js')
const sqliteBaseline = path.join(root, 'bench', 'lib', 'sqlite-archive-baseline.mjs')

interface Options {
  rows: number[]
  chunks: number[]
  engines: Engine[]
  json: boolean
  cpuProf?: string
  phases: boolean
  phasesPragmas: string[]
  layout: AuditLayout
}

function usage(): string {
  return [
    'usage: node --import tsx bench/archive.ts [--rows N[,N]] [--chunk C[,C]] [--engines sqlite,pg] [--layout random|ordered]',
    '                                          [--json] [--cpu-prof DIR] [--phases] [--phases-pragma P]',
    '',
    `  --rows LIST      audit events per round (default ${DEFAULT_ROWS.join(',')})`,
    `  --chunk LIST     --chunk values for audit archive, and the SQLite baseline page size (default ${DEFAULT_CHUNKS.join(',')})`,
    '  --engines LIST   engines to run, in order (default sqlite,pg)',
    '  --layout L       random (default: random v4 ids, rows out of created_at order, as test/helpers/audit.ts)',
    '                   or ordered (rows appended oldest first, time-ordered uuid7-style ids)',
    '  --json           print one JSON document instead of the tables',
    '  --cpu-prof DIR   run the laundry-ops archiver with node --cpu-prof, profiles written to DIR',
    '  --phases         also run src archiveAuditEvents in-process once per round and time its statements by kind',
    '  --phases-pragma P  SQLite: run `pragma P` on the connection before the in-process run (repeatable)',
  ].join('\n')
}

const fail: (message: string) => never = (message) => benchFail('archive', message)

function parseOptions(argv: string[]): Options {
  const args = parseBenchArgs(
    'archive',
    usage,
    {
      json: {type: 'boolean'},
      phases: {type: 'boolean'},
      layout: {type: 'string', parse: oneOf(['random', 'ordered'])},
      'phases-pragma': {type: 'string', multiple: true},
      rows: {type: 'string', parse: integerList(1)},
      chunk: {type: 'string', parse: integerList(100)},
      engines: {type: 'string', parse: engineList},
      'cpu-prof': {type: 'string', parse: (raw) => path.resolve(raw)},
    },
    argv,
  )
  return {
    rows: args.rows ?? DEFAULT_ROWS,
    chunks: args.chunk ?? DEFAULT_CHUNKS,
    engines: args.engines ?? ['sqlite', 'pg'],
    json: args.json ?? false,
    cpuProf: args['cpu-prof'],
    // --phases-pragma implies --phases.
    phases: (args.phases ?? false) || args['phases-pragma'] !== undefined,
    phasesPragmas: args['phases-pragma'] ?? [],
    layout: args.layout ?? 'random',
  }
}

const log = (opts: Options, message: string) => progress(opts.json, message)

interface Measured {
  seconds: number
  rowsPerSecond: number
  peakRssMb: number
  cpuSeconds: number
  backendCpuSeconds: number | null
  machineBusySeconds: number
}

interface LaundryRound extends Measured {
  result: {matched: number; archived: number; deleted: number; recovered: number; file: string | null}
  fileLines: number
  fileBytes: number
  manifestRows: number | null
  tableLeft: number
  checks: {ok: boolean; failures: string[]}
}

interface BaselineRound extends Measured {
  kind: 'psql \\copy + delete' | 'better-sqlite3 rowid pages'
  copied: number
  deleted: number
  fileLines: number
  tableLeft: number
  loopSeconds: number | null
  checks: {ok: boolean; failures: string[]}
}

interface Round {
  engine: Engine
  rows: number
  chunk: number
  generateSeconds: number
  loadAvg1AtStart: number
  laundry: LaundryRound
  /** Shared between the chunk sizes on PostgreSQL (the \copy has no chunk): `baselineFromChunk` tells. */
  baseline: BaselineRound
  baselineFromChunk: number
  phases?: PhaseSplit
}

interface PhaseSplit {
  seconds: number
  /** Statement kind -> count and seconds (knex 'query' to 'query-response'). */
  statements: Record<string, {count: number; seconds: number}>
  writeSync: {count: number; seconds: number}
  fsyncSync: {count: number; seconds: number}
  /** Wall time not inside a statement, a write or an fsync: JavaScript, and the event loop. */
  restSeconds: number
  archived: number
  /** /proc/self/io deltas: bytes through read/write syscalls (page cache included), and their counts. */
  io: {readMb: number; writtenMb: number; readCalls: number; writeCalls: number} | null
  /** Peak RSS during the run above the RSS at its start, MB (VmHWM after a clear_refs reset). */
  peakRssGrowthMb: number | null
  pragmas: string[]
}

const measured = (run: TimedRun, rows: number): Measured => ({
  seconds: run.wallSeconds,
  rowsPerSecond: rows / run.wallSeconds,
  peakRssMb: run.peakRssMb,
  cpuSeconds: run.cpuSeconds,
  backendCpuSeconds: run.backendCpuSeconds,
  machineBusySeconds: run.machineBusySeconds,
})

/** Lines (newline bytes), size and sha256 of a file, streamed: never the whole file in memory. */
async function scanFile(file: string): Promise<{lines: number; bytes: number; sha256: string}> {
  const hash = createHash('sha256')
  let lines = 0
  let bytes = 0
  for await (const chunk of createReadStream(file, {highWaterMark: 1 << 20}) as AsyncIterable<Buffer>) {
    hash.update(chunk)
    bytes += chunk.length
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++
  }
  return {lines, bytes, sha256: hash.digest('hex')}
}

async function tableCount(b: BulkDatabase): Promise<number> {
  const db = await b.open()
  try {
    const row = await db.knex('audit_events').count({n: '*'}).first()
    return Number(row?.n ?? 0)
  } finally {
    await db.close()
  }
}

/** PostgreSQL: flush what earlier steps left dirty, so the round does not pay for it. */
async function quiesce(b: BulkDatabase): Promise<void> {
  if (b.engine === 'pg') await pgQuery('checkpoint')
}

async function runLaundry(b: BulkDatabase, n: number, chunk: number, opts: Options): Promise<LaundryRound> {
  const storage = storageDir(b)
  await quiesce(b)
  const run = await runTimed(
    [
      process.execPath,
      ...(opts.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProf, '--cpu-prof-name', `archive-${b.engine}-${n}-${chunk}-${Date.now()}.cpuprofile`] : []),
      runJs,
      'audit',
      'archive',
      '--days',
      String(DAYS),
      '--chunk',
      String(chunk),
      '--json',
    ],
    {
      cwd: b.dir,
      env: childEnv({DATABASE_URL: b.url, LAUNDRY_OPS_STORAGE: storage}),
      timeoutMs: CHILD_TIMEOUT_MS,
      pgDatabase: b.engine === 'pg' ? b.name : undefined,
    },
  )
  const failures: string[] = []
  // The command's --json document, read defensively: a field may be missing when the run failed.
  let out: {matched?: unknown; archived?: unknown; deleted?: unknown; recovered?: unknown; file?: unknown; manifest?: unknown} = {}
  try {
    out = JSON.parse(run.stdout) as typeof out
  } catch {
    failures.push(`stdout is not one JSON document`)
  }
  if (run.code !== 0) failures.push(describeFailure(run, 'audit archive'))
  const result = {
    matched: Number(out.matched ?? NaN),
    archived: Number(out.archived ?? NaN),
    deleted: Number(out.deleted ?? NaN),
    recovered: Array.isArray(out.recovered) ? out.recovered.length : NaN,
    file: typeof out.file === 'string' ? out.file : null,
  }
  for (const k of ['matched', 'archived', 'deleted'] as const) if (result[k] !== n) failures.push(`${k} ${result[k]}, expected ${n}`)
  if (result.recovered !== 0) failures.push(`recovered ${result.recovered} archives`)
  let fileLines = NaN
  let fileBytes = NaN
  let manifestRows: number | null = null
  if (result.file && existsSync(result.file)) {
    const scan = await scanFile(result.file)
    fileLines = scan.lines
    fileBytes = scan.bytes
    if (scan.lines !== n) failures.push(`archive file holds ${scan.lines} lines, expected ${n}`)
    const manifestFile = typeof out.manifest === 'string' ? out.manifest : `${result.file}.manifest.json`
    if (existsSync(manifestFile)) {
      const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {rows?: unknown; bytes?: unknown; sha256?: unknown}
      manifestRows = Number(manifest.rows)
      if (manifestRows !== n) failures.push(`manifest rows ${manifestRows}, expected ${n}`)
      if (manifest.bytes !== scan.bytes) failures.push(`manifest bytes ${String(manifest.bytes)}, file has ${scan.bytes}`)
      if (manifest.sha256 !== scan.sha256) failures.push('manifest sha256 does not match the file')
    } else failures.push(`no manifest ${manifestFile}`)
  } else failures.push(`archive file ${result.file} missing`)
  const tableLeft = await tableCount(b)
  if (tableLeft !== 0) failures.push(`${tableLeft} rows left in audit_events`)
  return {...measured(run, n), result, fileLines, fileBytes, manifestRows, tableLeft, checks: {ok: failures.length === 0, failures}}
}

const STATEMENT_KINDS: Array<[string, RegExp]> = [
  ['count', /^select count\(\*\)/i],
  ['key list (insert ... row_number)', /^insert into .*laundry_ops_archive_keys/is],
  // Before the page select: the SQLite batch delete names the key table too.
  ['delete', /^delete from .audit_events./i],
  ['page select (keys join audit_events)', /laundry_ops_archive_keys.* as .?k/is],
  ['lease (cache_locks)', /cache_locks/i],
]

function procIo(): Record<string, number> | null {
  try {
    return Object.fromEntries(
      readFileSync('/proc/self/io', 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(': '))
        .map(([k, v]) => [k, Number(v)]),
    )
  } catch {
    return null
  }
}

function procStatusKb(field: 'VmHWM' | 'VmRSS'): number | null {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'))
  return m ? Number(m[1]) : null
}

/** Resets this process's VmHWM to its current RSS (Linux clear_refs 5); false when not allowed. */
function resetPeakRss(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5')
    return true
  } catch {
    return false
  }
}

/** archiveAuditEvents in this process, its statements, writes and fsyncs timed. */
async function runPhases(b: BulkDatabase, n: number, chunk: number, pragmas: string[]): Promise<PhaseSplit> {
  const db = await b.open()
  if (db.dialect === 'sqlite') for (const p of pragmas) await db.knex.raw(`pragma ${p}`)
  const statements: PhaseSplit['statements'] = {}
  const started = new Map<string, bigint>()
  const io = {writeSync: {count: 0, ns: 0n}, fsyncSync: {count: 0, ns: 0n}}
  const original = {writeSync: fs.writeSync, fsyncSync: fs.fsyncSync}
  const timed = <F extends (...a: never[]) => unknown>(name: 'writeSync' | 'fsyncSync', f: F) =>
    ((...args: Parameters<F>) => {
      const t0 = process.hrtime.bigint()
      try {
        return f(...args)
      } finally {
        io[name].count++
        io[name].ns += process.hrtime.bigint() - t0
      }
    }) as F
  db.knex.on('query', (q: {__knexQueryUid: string}) => started.set(q.__knexQueryUid, process.hrtime.bigint()))
  db.knex.on('query-response', (_r: unknown, q: {__knexQueryUid: string; sql: string}) => {
    const t0 = started.get(q.__knexQueryUid)
    if (t0 === undefined) return
    started.delete(q.__knexQueryUid)
    const kind = STATEMENT_KINDS.find(([, re]) => re.test(q.sql))?.[0] ?? 'other'
    const s = (statements[kind] ??= {count: 0, seconds: 0})
    s.count++
    s.seconds += Number(process.hrtime.bigint() - t0) / 1e9
  })
  await quiesce(b)
  try {
    fs.writeSync = timed('writeSync', original.writeSync)
    fs.fsyncSync = timed('fsyncSync', original.fsyncSync)
    syncBuiltinESMExports()
    global.gc?.()
    const hwmReset = resetPeakRss()
    const rss0 = procStatusKb('VmRSS')
    const io0 = procIo()
    const t0 = process.hrtime.bigint()
    const result = await archiveAuditEvents(db, {
      days: DAYS,
      chunk,
      dryRun: false,
      gzip: false,
      clock: {now: () => new Date()},
      storage: storageDir(b),
      toolVersion: 'bench',
    })
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    const io1 = procIo()
    const hwm = procStatusKb('VmHWM')
    if (result.archived !== n) throw new Error(`in-process archive archived ${result.archived} of ${n}`)
    const ioSeconds = (x: {ns: bigint}) => Number(x.ns) / 1e9
    const inStatements = Object.values(statements).reduce((a, x) => a + x.seconds, 0)
    return {
      seconds,
      statements,
      writeSync: {count: io.writeSync.count, seconds: ioSeconds(io.writeSync)},
      fsyncSync: {count: io.fsyncSync.count, seconds: ioSeconds(io.fsyncSync)},
      restSeconds: seconds - inStatements - ioSeconds(io.writeSync) - ioSeconds(io.fsyncSync),
      archived: result.archived,
      io:
        io0 && io1
          ? {
              readMb: (io1.rchar - io0.rchar) / 2 ** 20,
              writtenMb: (io1.wchar - io0.wchar) / 2 ** 20,
              readCalls: io1.syscr - io0.syscr,
              writeCalls: io1.syscw - io0.syscw,
            }
          : null,
      peakRssGrowthMb: hwmReset && hwm !== null && rss0 !== null ? (hwm - rss0) / 1024 : null,
      pragmas: db.dialect === 'sqlite' ? pragmas : [],
    }
  } finally {
    fs.writeSync = original.writeSync
    fs.fsyncSync = original.fsyncSync
    syncBuiltinESMExports()
    await db.close()
  }
}

async function runBaseline(b: BulkDatabase, n: number, chunk: number): Promise<BaselineRound> {
  const out = path.join(b.dir, 'baseline.out')
  const cutoff = toDbTimestamp(new Date(Date.now() - DAYS * 86_400_000))
  await quiesce(b)
  const failures: string[] = []
  let copied = NaN
  let deleted = NaN
  let loopSeconds: number | null = null
  let run: TimedRun
  if (b.engine === 'pg') {
    const columns = 'id, tenant_id, user_id, outlet_id, event_key, channel, entity_type, entity_id, request_id, ip_address, metadata_json, created_at'
    run = await runTimed(
      [
        'psql',
        '-X',
        '-v',
        'ON_ERROR_STOP=1',
        '-d',
        b.url,
        '-c',
        `\\copy (select ${columns} from audit_events where created_at < '${cutoff}' order by created_at, id) to '${out}'`,
        '-c',
        `delete from audit_events where created_at < '${cutoff}'`,
      ],
      {cwd: b.dir, env: childEnv({}), timeoutMs: CHILD_TIMEOUT_MS, pgDatabase: b.name},
    )
    if (run.code !== 0) failures.push(describeFailure(run, 'psql'))
    copied = Number(/COPY (\d+)/.exec(run.stdout)?.[1] ?? NaN)
    deleted = Number(/DELETE (\d+)/.exec(run.stdout)?.[1] ?? NaN)
  } else {
    run = await runTimed([process.execPath, sqliteBaseline, b.name, out, cutoff, String(chunk)], {cwd: b.dir, env: childEnv({}), timeoutMs: CHILD_TIMEOUT_MS})
    if (run.code !== 0) failures.push(describeFailure(run, 'sqlite baseline'))
    try {
      const o = JSON.parse(run.stdout) as {archived: number; deleted: number; loopMs: number}
      copied = o.archived
      deleted = o.deleted
      loopSeconds = o.loopMs / 1000
    } catch {
      failures.push('sqlite baseline printed no JSON')
    }
  }
  if (copied !== n) failures.push(`copied ${copied}, expected ${n}`)
  if (deleted !== n) failures.push(`deleted ${deleted}, expected ${n}`)
  const fileLines = existsSync(out) ? (await scanFile(out)).lines : NaN
  if (fileLines !== n) failures.push(`baseline file holds ${fileLines} lines, expected ${n}`)
  const tableLeft = await tableCount(b)
  if (tableLeft !== 0) failures.push(`${tableLeft} rows left in audit_events`)
  return {
    ...measured(run, n),
    kind: b.engine === 'pg' ? 'psql \\copy + delete' : 'better-sqlite3 rowid pages',
    copied,
    deleted,
    fileLines,
    tableLeft,
    loopSeconds,
    checks: {ok: failures.length === 0, failures},
  }
}

const mb = (x: number) => fmt(x, 1)
const cpu = (r: Measured) => `${fmt(r.cpuSeconds, 2)}${r.backendCpuSeconds === null ? '' : ` + ${fmt(r.backendCpuSeconds, 2)}`}`

function targetLines(rounds: Round[]): string[] {
  const out: string[] = []
  for (const engine of [...new Set(rounds.map((r) => r.engine))]) {
    const mine = rounds.filter((r) => r.engine === engine)
    const big = mine.filter((r) => r.rows >= 1_000_000)
    const small = mine.filter((r) => r.rows === 100_000)
    for (const r of big) {
      const l = r.laundry
      out.push(
        `${engine} ${fmt(r.rows)} rows, chunk ${r.chunk}: ${fmt(l.rowsPerSecond)} rows/s in ${fmt(l.seconds, 2)} s -> ` +
          `${l.checks.ok && l.rowsPerSecond >= TARGET_ROWS_PER_SECOND ? 'MET' : 'NOT MET'} (>= ${fmt(TARGET_ROWS_PER_SECOND)} rows/s, every row archived); ` +
          `every row archived: ${l.checks.ok ? 'yes' : 'NO'}; peak RSS ${mb(l.peakRssMb)} MB -> ${l.checks.ok && l.peakRssMb < TARGET_PEAK_RSS_MB ? 'MET' : 'NOT MET'} (< ${TARGET_PEAK_RSS_MB} MB)`,
      )
      const s = small.find((x) => x.chunk === r.chunk)
      if (s) {
        const growth = l.peakRssMb / s.laundry.peakRssMb
        out.push(
          `  RSS 100,000 -> ${fmt(r.rows)} rows, chunk ${r.chunk}: ${mb(s.laundry.peakRssMb)} -> ${mb(l.peakRssMb)} MB (x${fmt(growth, 2)}) -> ` +
            `${growth <= FLAT_RSS_GROWTH ? 'flat' : 'NOT flat'} (<= x${FLAT_RSS_GROWTH})`,
        )
      }
    }
  }
  return out
}

function report(env: BenchEnvironment, pg: string | null, opts: Options, rounds: Round[]): string {
  const out: string[] = [
    `laundry-ops audit archive benchmark, ${env.date}`,
    ...environmentLines(env, pg),
    `row layout: ${opts.layout === 'random' ? 'random (v4 ids, rows out of created_at order)' : 'ordered (appended oldest first, uuid7-style ids)'}; archive --days ${DAYS} of rows ${MIN_AGE_DAYS}-${MAX_AGE_DAYS} days old`,
    '',
  ]
  out.push(
    table(
      ['engine', 'rows', 'chunk', 'laundry-ops rows/s', 'laundry-ops s', 'peak RSS MB', 'baseline rows/s', 'baseline s', 'ratio', 'checks'],
      rounds.map((r) => [
        r.engine,
        fmt(r.rows),
        String(r.chunk),
        fmt(r.laundry.rowsPerSecond),
        fmt(r.laundry.seconds, 2),
        mb(r.laundry.peakRssMb),
        `${fmt(r.baseline.rowsPerSecond)}${r.baselineFromChunk !== r.chunk ? '*' : ''}`,
        fmt(r.baseline.seconds, 2),
        `${fmt(r.laundry.rowsPerSecond / r.baseline.rowsPerSecond, 2)}x`,
        r.laundry.checks.ok && r.baseline.checks.ok ? 'OK' : 'FAIL',
      ]),
      [false, true, true, true, true, true, true, true, true, false],
    ),
    '',
    'Baselines: PostgreSQL psql \\copy (ordered) + delete, one per row count (* = the same measurement as the row above);',
    'SQLite better-sqlite3 pages of <chunk> rows by rowid -> file -> delete. Seconds are spawn -> exit.',
    '',
    'Details (CPU s = the process (user+sys) + its PostgreSQL backends (polled); machine busy = CPU-seconds used by the whole',
    'machine during the run, all cores: much more than the sum means something else was running):',
    '',
    table(
      ['engine', 'rows', 'chunk', 'load', 'generate s', 'laundry CPU s', 'laundry machine busy s', 'baseline CPU s', 'baseline RSS MB', 'archive MB'],
      rounds.map((r) => [
        r.engine,
        fmt(r.rows),
        String(r.chunk),
        fmt(r.loadAvg1AtStart, 2),
        fmt(r.generateSeconds, 1),
        cpu(r.laundry),
        fmt(r.laundry.machineBusySeconds, 2),
        cpu(r.baseline),
        mb(r.baseline.peakRssMb),
        fmt(r.laundry.fileBytes / 2 ** 20, 1),
      ]),
      [false, true, true, true, true, true, true, true, true, true],
    ),
    '',
  )
  for (const r of rounds) {
    const f = [...r.laundry.checks.failures, ...r.baseline.checks.failures]
    out.push(
      `${r.engine} ${r.rows}/${r.chunk}: matched ${r.laundry.result.matched}, archived ${r.laundry.result.archived}, deleted ${r.laundry.result.deleted}, ` +
        `file lines ${r.laundry.fileLines}, manifest rows ${r.laundry.manifestRows}, table left ${r.laundry.tableLeft}; ` +
        `baseline copied ${r.baseline.copied}, deleted ${r.baseline.deleted}, file lines ${r.baseline.fileLines}, left ${r.baseline.tableLeft}` +
        (f.length ? ` -- FAILURES: ${f.join('; ')}` : ''),
    )
  }
  const withPhases = rounds.filter((r) => r.phases)
  if (withPhases.length > 0) {
    const kinds = [...new Set(withPhases.flatMap((r) => Object.keys(r.phases!.statements)))]
    const cell = (x: {count: number; seconds: number} | undefined) => (x ? `${fmt(x.seconds, 2)} (${fmt(x.count)})` : '-')
    out.push(
      '',
      'Phases (--phases): src archiveAuditEvents in this process, seconds (calls); "rest" = JavaScript and event loop outside them:',
      '',
      table(
        ['engine', 'rows', 'chunk', 'total s', ...kinds, 'writeSync', 'fsyncSync', 'rest'],
        withPhases.map((r) => {
          const p = r.phases!
          return [
            r.engine,
            fmt(r.rows),
            String(r.chunk),
            fmt(p.seconds, 2),
            ...kinds.map((k) => cell(p.statements[k])),
            cell(p.writeSync),
            cell(p.fsyncSync),
            fmt(p.restSeconds, 2),
          ]
        }),
        [false, true, true, true, ...kinds.map(() => true), true, true, true],
      ),
      '',
      'Syscall I/O of the in-process run (/proc/self/io: rchar/wchar, page cache included; SQLite does its file I/O in this',
      'process, PostgreSQL in its backends) and peak RSS growth during it:',
      '',
      table(
        ['engine', 'rows', 'chunk', 'pragmas', 'read MB (calls)', 'written MB (calls)', 'written bytes per row', 'peak RSS growth MB'],
        withPhases.map((r) => {
          const p = r.phases!
          return [
            r.engine,
            fmt(r.rows),
            String(r.chunk),
            p.pragmas.join('; ') || '-',
            p.io ? `${fmt(p.io.readMb)} (${fmt(p.io.readCalls)})` : 'n/a',
            p.io ? `${fmt(p.io.writtenMb)} (${fmt(p.io.writeCalls)})` : 'n/a',
            p.io ? fmt((p.io.writtenMb * 2 ** 20) / r.rows) : 'n/a',
            p.peakRssGrowthMb === null ? 'n/a' : fmt(p.peakRssGrowthMb, 1),
          ]
        }),
        [false, true, true, false, true, true, true, true],
      ),
    )
  }
  out.push(
    '',
    `Targets (SPEC §9): >= ${fmt(TARGET_ROWS_PER_SECOND)} rows/s for 1,000,000 rows (under 10 s), every row archived, peak RSS < ${TARGET_PEAK_RSS_MB} MB and flat from 100k to 1M.`,
    `Upstream (PHP): ${UPSTREAM.pgSeconds} s PostgreSQL / ${UPSTREAM.sqliteSeconds} s SQLite for 1M rows, ${UPSTREAM.peakMb} MB.`,
    ...targetLines(rounds),
  )
  return `${out.join('\n')}\n`
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2))
  if (!existsSync(path.join(root, 'dist', 'index.js'))) fail('dist/index.js is missing: build first (npm run build)')
  if (opts.engines.includes('pg') && spawnSync('psql', ['--version']).status !== 0) fail('psql is needed for the PostgreSQL baseline')
  if (opts.cpuProf) mkdirSync(opts.cpuProf, {recursive: true})
  const env = environment(root)
  const rounds: Round[] = []
  let pg: string | null = null

  const onSignal = async (signal: NodeJS.Signals) => {
    process.stderr.write(`bench/archive: ${signal}, dropping the bench databases\n`)
    await dropAll()
    process.exit(130)
  }
  const stop = (signal: NodeJS.Signals) => {
    onSignal(signal).catch((error: unknown) => {
      process.stderr.write(`bench/archive: could not drop the bench databases: ${String(error)}\n`)
      process.exit(130)
    })
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)

  try {
    for (const engine of opts.engines) {
      if (engine === 'pg') pg = await pgFacts((sql) => pgQuery(sql))
      for (const n of opts.rows) {
        log(opts, `${engine} ${n} rows: template database, migrate, generate`)
        const template = await createMigrated(engine, `tpl_${n}`)
        let generateSeconds: number
        {
          const db = await template.open()
          const t0 = process.hrtime.bigint()
          await generateAuditEvents(db, n, {nowSeconds: Math.floor(Date.now() / 1000), minDays: MIN_AGE_DAYS, maxDays: MAX_AGE_DAYS, layout: opts.layout})
          await checkpoint(db)
          generateSeconds = Number(process.hrtime.bigint() - t0) / 1e9
          await db.close()
        }
        log(opts, `${engine} ${n} rows: generated in ${fmt(generateSeconds, 1)} s`)
        let pgBaseline: {round: BaselineRound; chunk: number} | undefined
        try {
          for (const chunk of opts.chunks) {
            let baseline: BaselineRound
            let baselineFromChunk = chunk
            if (engine === 'pg' && pgBaseline) {
              baseline = pgBaseline.round
              baselineFromChunk = pgBaseline.chunk
            } else {
              const copy = await cloneDatabase(template, `b${chunk}`)
              try {
                log(opts, `${engine} ${n} rows: baseline${engine === 'sqlite' ? `, page ${chunk}` : ''}`)
                baseline = await runBaseline(copy, n, chunk)
              } finally {
                await copy.drop()
              }
              log(
                opts,
                `${engine} ${n} rows: baseline ${fmt(baseline.rowsPerSecond)} rows/s${baseline.checks.ok ? '' : ` FAIL ${baseline.checks.failures.join('; ')}`}`,
              )
              if (engine === 'pg') pgBaseline = {round: baseline, chunk}
            }
            const copy = await cloneDatabase(template, `l${chunk}`)
            const loadAvg1AtStart = os.loadavg()[0]
            let laundry: LaundryRound
            try {
              log(opts, `${engine} ${n} rows: laundry-ops audit archive --chunk ${chunk}`)
              laundry = await runLaundry(copy, n, chunk, opts)
            } finally {
              await copy.drop()
            }
            log(
              opts,
              `${engine} ${n} rows chunk ${chunk}: laundry-ops ${fmt(laundry.rowsPerSecond)} rows/s, ${fmt(laundry.seconds, 2)} s, ${mb(laundry.peakRssMb)} MB` +
                `${laundry.checks.ok ? '' : ` FAIL ${laundry.checks.failures.join('; ')}`}`,
            )
            let phases: PhaseSplit | undefined
            if (opts.phases) {
              const again = await cloneDatabase(template, `p${chunk}`)
              try {
                log(opts, `${engine} ${n} rows chunk ${chunk}: phases (in-process archiveAuditEvents)`)
                phases = await runPhases(again, n, chunk, opts.phasesPragmas)
              } finally {
                await again.drop()
              }
            }
            rounds.push({engine, rows: n, chunk, generateSeconds, loadAvg1AtStart, laundry, baseline, baselineFromChunk, phases})
          }
        } finally {
          await template.drop()
        }
      }
    }
  } finally {
    await dropAll()
  }

  const ok = rounds.every((r) => r.laundry.checks.ok && r.baseline.checks.ok)
  emitBenchmark('archive', {
    json: opts.json,
    environment: {...env, postgres: pg},
    fields: {
      days: DAYS,
      layout: opts.layout,
      rowAgeDays: [MIN_AGE_DAYS, MAX_AGE_DAYS],
      targets: {rowsPerSecond: TARGET_ROWS_PER_SECOND, peakRssMb: TARGET_PEAK_RSS_MB, flatRssGrowth: FLAT_RSS_GROWTH},
      upstream: UPSTREAM,
      ok,
      rounds,
    },
    text: () => report(env, pg, opts, rounds),
    ok,
  })
}

await main()
