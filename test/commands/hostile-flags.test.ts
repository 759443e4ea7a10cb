/**
 * Issue 9 ("Habits"): every command of oclif.manifest.json (read at run time, so a new command, flag or
 * argument is covered without touching this file; `help` aside), every option flag and argument with
 * every hostile value (0, -1, 2^53, "", whitespace, NaN, 10 kB, unicode) as `--flag v` and `--flag=v`,
 * every boolean flag as `--flag=`, `--flag=yes`, `--flag=false`, the global `--database-url` included,
 * against a seeded database and storage folder, on SQLite and PostgreSQL. Hidden flags are driven too: the
 * parser takes them from any command line, and `--at` makes `schedule run` write real ledger rows.
 *
 * Each case must end in one of two ways:
 * - refused: exit 2, exactly one `error: ` line on stderr and nothing on stdout (under --json: one
 *   {"error": {"code", "exit": 2}} document on stdout, nothing on stderr), and no table row (count and
 *   hash of every table, and the schema) and no file or folder of the working directory and storage
 *   folder (names, sizes, hashes; the SQLite file is compared by its tables, not its bytes) changed;
 * - a normal result: exit 0 or 1, one JSON document under --json, no warning on stderr with exit 0, no
 *   NaN / Invalid Date / Infinity / undefined printed or written to a changed row or file, and no
 *   INTERNAL error (a driver or system message: the value reached the database or file system unchecked).
 * Anywhere: no stack trace, no exit code other than 0/1/2, no hang (15 s per process). An empty or blank
 * value must be refused. Long-running commands get bounding flags (BASE_FLAGS) unless that flag is the
 * one under test. All failures of a command are collected and listed before its test fails;
 * HOSTILE_REPORT=<prefix> also writes them as JSON to <prefix>.<engine>.json.
 *
 * Keeping it fast (each process costs about half a CPU-second):
 * - Each argv is first parsed in-process by oclif's Parser with the command's own flag definitions (the
 *   parse `BaseCommand.init` does before anything else). `--flag v` and `--flag=v` share one process when
 *   they parse alike; parser refusals of a command with the same message and output mode share one
 *   process (`BaseCommand.catch` has nothing else to go on); each case is still judged and listed.
 * - Parser refusals are decided before configuration, database or storage are read: they run on SQLite
 *   only, with one checksum per copy at the end of the command instead of one per case. So do a non-blank
 *   `--database-url` (it replaces DATABASE_URL) and every case whose SQLite process never loaded the SQLite
 *   driver (a preload that only watches `process.dlopen` tells): a validator refused it or the command
 *   needs no database.
 * - Processes run CONCURRENCY at a time, each on its own copy of the seeded database and storage folder;
 *   a copy is restored from the template only when a case changed it.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

import {type Command, Flags, Parser} from '@oclif/core'
import {expect} from 'chai'
import pg from 'pg'

import {archiveAuditEvents} from '../../src/core/audit/archive.js'
import {toDbTimestamp} from '../../src/core/clock.js'
import {parseDatabaseUrl} from '../../src/core/config.js'
import {type Database, openDatabase} from '../../src/core/db/connection.js'
import {ensureStorageFolders} from '../../src/core/storage/layout.js'
import {pushJob} from '../../src/core/queue/database-queue.js'
import {sendWaJobPayload} from '../../src/core/queue/payload.js'
import {scheduleRun} from '../../src/core/scheduler/runner.js'
import {loadSchedule} from '../../src/core/scheduler/schedule.js'
import {COMMANDS} from '../../src/index.js'
import {insertAuditEvents} from '../helpers/audit.js'
import {BIN, ROOT} from '../helpers/cli.js'
import {describeEachEngine, PG_ADMIN_URL} from '../helpers/engines.js'
import {insertMessage, insertOrder, manualClock, premiumTenantWithMock} from '../helpers/wa.js'

// ---------------------------------------------------------------------------------------------------
// What is driven

interface ManifestFlag {
  name: string
  type: 'option' | 'boolean'
  hidden?: boolean
}
interface ManifestCommand {
  id: string
  flags: Record<string, ManifestFlag>
  args: Record<string, {name: string; required?: boolean}>
}

const MANIFEST = JSON.parse(readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, ManifestCommand>}
/** `help` only prints text and takes any word; everything else is driven. */
const SKIPPED_COMMANDS = new Set(['help'])
const DRIVEN = Object.values(MANIFEST.commands)
  .filter((c) => !SKIPPED_COMMANDS.has(c.id))
  .sort((a, b) => a.id.localeCompare(b.id))

interface Hostile {
  label: string
  value: string
}
const TEN_KB = '9'.repeat(10_240)
/** The values of the issue. The 10 kB string is digits, so a numeric flag that converts it gets Infinity. */
const HOSTILE: Hostile[] = [
  {label: '0', value: '0'},
  {label: '-1', value: '-1'},
  {label: '2^53', value: String(2 ** 53)},
  {label: '""', value: ''},
  {label: 'whitespace', value: ' \t\n '},
  {label: 'NaN', value: 'NaN'},
  {label: '10 kB', value: TEN_KB},
  {label: 'unicode', value: 'ünï🧺\u200b٣٠'},
]
const JSON_ON_SQLITE = new Set(['2^53', '10 kB', '""', 'NaN'])
/** An empty or blank value cannot mean anything: it must be refused, never read as "flag absent". */
const BLANK_LABELS = new Set(['""', 'whitespace'])
/** Boolean flags take no value: `--dry-run=` and friends must be refused, not read as true or false. */
const BOOLEAN_FORMS = ['', 'yes', 'false']

/** A minute (UTC) at which no baseline task is due: `schedule run` / `schedule work` stay quick and deterministic. */
const QUIET_MINUTE = '2026-01-01T03:07:00Z'
const FAILED_JOB_UUID = '9f0c3a52-6b1e-4d7a-8c2f-3e4d5a6b7c8d'

/**
 * Bounding and positional base argv: a long-running command gets flags that make it end, unless the flag
 * under test is that flag (then its hostile value is what bounds it, and the timeout catches a hang).
 */
const BASE_FLAGS: Record<string, Array<[string, string?]>> = {
  'queue:work': [['stop-when-empty'], ['max-time', '1']],
  'schedule:work': [
    ['max-time', '1'],
    ['at', QUIET_MINUTE],
  ],
  'schedule:run': [['at', QUIET_MINUTE]],
  // The dry run: the pack itself (an isolated database, a server, ten scenarios) is not what is driven here.
  'uat:run': [['dry-run']],
  // The plan only: the checklist itself (the gates, the UAT pack, a restart signal) is not what is driven here.
  release: [['dry-run']],
  // Any free port (several cases run at once), and a bound: a server that listens runs until stopped.
  serve: [
    ['port', '0'],
    ['max-time', '1'],
  ],
}
/** Base flags replaced while one flag is under test: `--sleep` only matters when the worker does not stop on an empty queue. */
const BASE_OVERRIDES: Record<string, Record<string, Array<[string, string?]>>> = {
  'queue:work': {sleep: [['max-time', '1']]},
}
const BASE_ARGS: Record<string, Record<string, string>> = {
  'queue:retry': {ids: FAILED_JOB_UUID},
}
const CASE_TIMEOUT_MS = 15_000
const CONCURRENCY = 4

// ---------------------------------------------------------------------------------------------------
// Cases

interface Case {
  command: string
  /** `--days`, `--dry-run=`, `<period>`. */
  target: string
  label: string
  argv: string[]
  /** `both forms` when `--flag v` and `--flag=v` parse alike and one process covers both. */
  form: string
  json: boolean
  hostile: string
  blank: boolean
  /** oclif's own parser refuses the argv: decided before configuration or database are read. */
  parseRefused: boolean
  /** The parser's outcome (its error message for a refusal). */
  parseKey: string
}

type CommandClass = typeof Command & {baseFlags?: Record<string, unknown>; enableJsonFlag?: boolean}
const CLASSES = COMMANDS as unknown as Record<string, CommandClass>

/** What oclif's parser makes of argv for this command: the parsed flags and args, or the refusal. */
async function parseOutcome(id: string, argv: string[]): Promise<{refused: boolean; key: string}> {
  const cls = CLASSES[id]
  if (!cls) return {refused: false, key: `unknown command class ${id}: ${argv.join('\u0000')}`}
  const flags = {...(cls.baseFlags ?? {}), ...(cls.flags ?? {})} as Record<string, unknown>
  if (cls.enableJsonFlag) flags.json = Flags.boolean({description: 'Format output as json.', helpGroup: 'GLOBAL'})
  try {
    const parsed = await Parser.parse(argv, {flags, args: cls.args ?? {}, strict: cls.strict ?? true, context: undefined} as unknown as Parameters<
      typeof Parser.parse
    >[1])
    return {refused: false, key: JSON.stringify({flags: parsed.flags, args: parsed.args, argv: parsed.argv})}
  } catch (error) {
    return {refused: true, key: `refused: ${(error as Error).message}`}
  }
}

function baseArgv(command: ManifestCommand, exceptFlag?: string, exceptArg?: string): {flags: string[]; args: string[]} {
  const flags: string[] = []
  const base = (exceptFlag !== undefined ? BASE_OVERRIDES[command.id]?.[exceptFlag] : undefined) ?? BASE_FLAGS[command.id] ?? []
  for (const [name, value] of base) {
    if (name === exceptFlag || !(name in command.flags)) continue
    flags.push(`--${name}`)
    if (value !== undefined) flags.push(value)
  }
  const args: string[] = []
  for (const arg of Object.values(command.args)) {
    if (arg.name === exceptArg) break
    const value = BASE_ARGS[command.id]?.[arg.name]
    if (value === undefined) {
      if (exceptArg !== undefined) throw new Error(`${command.id}: give <${arg.name}> a value in BASE_ARGS so a later argument can be driven`)
      break
    }
    args.push(value)
  }
  return {flags, args}
}

async function casesFor(command: ManifestCommand, engine: 'sqlite' | 'pg'): Promise<Case[]> {
  const topic = command.id.split(':')
  const cases: Case[] = []
  // Half the values run with --json and half without; PostgreSQL takes the other half, so every value
  // that reaches the engine is seen in both output modes. SQLite takes the overflowing numbers under
  // --json: it compares a 'NaN-NaN-NaN' date string without complaint, and only the JSON shows it.
  const jsonFor = (label: string) => JSON_ON_SQLITE.has(label) === (engine === 'sqlite')
  const hasJson = 'json' in command.flags
  const add = async (target: string, label: string, hostile: string, blank: boolean, json: boolean, forms: Array<[string, string[], string[]]>) => {
    const outcomes = await Promise.all(forms.map(([, head, tail]) => parseOutcome(command.id, [...head, ...tail, ...(json ? ['--json'] : [])])))
    const distinct = outcomes.every((o) => o.key === outcomes[0].key) ? [0] : forms.map((_, i) => i)
    for (const i of distinct) {
      const [form, head, tail] = forms[distinct.length === 1 && forms.length > 1 ? cases.length % forms.length : i]
      cases.push({
        command: command.id,
        target,
        label,
        argv: [...topic, ...head, ...tail, ...(json ? ['--json'] : [])],
        form: distinct.length === 1 && forms.length > 1 ? 'both forms' : form,
        json,
        hostile,
        blank,
        parseRefused: outcomes[i].refused,
        parseKey: outcomes[i].key,
      })
    }
  }
  for (const flag of Object.values(command.flags)) {
    const base = baseArgv(command, flag.name)
    const head = [...base.args, ...base.flags]
    if (flag.type === 'boolean') {
      for (const v of BOOLEAN_FORMS)
        await add(`--${flag.name}=`, `--${flag.name}=${v}`, v, false, false, [[`--${flag.name}=${v}`, head, [`--${flag.name}=${v}`]]])
      continue
    }
    for (const h of HOSTILE) {
      const json = hasJson && jsonFor(h.label)
      await add(`--${flag.name}`, h.label, h.value, BLANK_LABELS.has(h.label), json, [
        [`--${flag.name} v`, head, [`--${flag.name}`, h.value]],
        [`--${flag.name}=v`, head, [`--${flag.name}=${h.value}`]],
      ])
    }
  }
  for (const arg of Object.values(command.args)) {
    const base = baseArgv(command, undefined, arg.name)
    for (const h of HOSTILE) {
      const json = hasJson && jsonFor(h.label)
      await add(`<${arg.name}>`, h.label, h.value, BLANK_LABELS.has(h.label), json, [['argument', [], [...base.args, h.value, ...base.flags]]])
    }
  }
  return cases
}

// ---------------------------------------------------------------------------------------------------
// Running one case

interface Outcome {
  code: number | null
  signal: NodeJS.Signals | null
  timedOut: boolean
  stdout: string
  stderr: string
  ms: number
}

const running = new Set<ChildProcess>()

function runBinary(argv: string[], cwd: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<Outcome> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    // Its own process group: a timeout also kills what it started (schedule tasks).
    const child = spawn(process.execPath, [...nodeArgs, BIN, ...argv], {cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true})
    running.add(child)
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => {
      timedOut = true
      killGroup(child)
    }, CASE_TIMEOUT_MS)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      running.delete(child)
      resolve({code, signal, timedOut, stdout, stderr, ms: Date.now() - started})
    })
  })
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
  } catch {
    child.kill('SIGKILL')
  }
}

function childEnv(slot: Slot): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('DATABASE_URL') && !k.startsWith('LAUNDRY_OPS_') && k !== 'DEBUG') env[k] = v
  }
  return {...env, NO_COLOR: '1', DATABASE_URL: slot.url, LAUNDRY_OPS_STORAGE: path.join(slot.dir, 'storage')}
}

// ---------------------------------------------------------------------------------------------------
// The rules

const STACK = /^\s+at .*(:\d+:\d+\)?$|\(native\)$|<anonymous>\)?$)/m
const WARNING = /warn/i
const NONSENSE = /\bNaN\b|Invalid Date|\bInfinity\b|\bundefined\b|\[object Object\]/
/** A driver or system message in a human-mode error line: the value reached the database or the file system unchecked. */
const RAW_ERROR =
  /^error: E[A-Z]{3,}: | - no such (table|column)|invalid input syntax for|out of range for type|^error: .*\b(select|insert into|update|delete from)\b.* - /im
/**
 * Gates that report an invalid configuration as a failed check with exit 1 (README: "An invalid
 * configuration ... gives failed checks and exit 1, never an error"): for these flags a blank value may
 * end in exit 1 instead of exit 2, and must change nothing either way.
 */
const GATE_CONFIG_FLAGS: Record<string, string[]> = {'readiness:check': ['--database-url']}

function oneJson(stdout: string): {ok: true; value: unknown} | {ok: false} {
  try {
    return {ok: true, value: JSON.parse(stdout) as unknown}
  } catch {
    return {ok: false}
  }
}

/** The rules a case broke, given its outcome and whether data or files changed. */
function judge(c: Case, o: Outcome, changed: string | null, written: string | null = null): string[] {
  const broken: string[] = []
  if (o.timedOut) return [`timeout: still running after ${CASE_TIMEOUT_MS / 1000} s (killed)`]
  if (o.code === null) return [`killed by ${o.signal}`]
  if (STACK.test(o.stdout) || STACK.test(o.stderr)) broken.push('stack trace')
  if (![0, 1, 2].includes(o.code)) broken.push(`exit ${o.code} (only 0, 1, 2 exist)`)
  if (c.parseRefused && o.code !== 2) broken.push('the parser refuses this argv but the binary did not exit 2 (harness and binary disagree: rebuild?)')
  const json = c.json ? oneJson(o.stdout) : undefined
  if (o.code === 2) {
    if (c.json) {
      const error = json?.ok ? (json.value as {error?: {code?: unknown; exit?: unknown}}).error : undefined
      if (!json?.ok) broken.push('refusal under --json: stdout is not one JSON document')
      else if (typeof error?.code !== 'string' || error.exit !== 2) broken.push('refusal under --json: no {"error": {"code", "exit": 2}} document')
      if (o.stderr !== '') broken.push('refusal under --json: stderr not empty')
    } else {
      const lines = o.stderr.replace(/\n$/, '').split('\n')
      if (lines.length !== 1 || !lines[0].startsWith('error: ')) broken.push(`refusal: stderr is ${lines.length} line(s), not one 'error: ' line`)
      if (o.stdout !== '') broken.push('refusal: stdout not empty')
    }
    if (changed) broken.push(`refused, but changed: ${changed}`)
  } else if (o.code === 0 || o.code === 1) {
    const gate = o.code === 1 && (GATE_CONFIG_FLAGS[c.command] ?? []).includes(c.target)
    if (c.blank && !gate) broken.push(`blank value accepted (exit ${o.code})`)
    if (c.blank && gate && changed) broken.push(`blank value reported as a failed check, but changed: ${changed}`)
    if (o.code === 0 && WARNING.test(o.stderr)) broken.push('exit 0 with a warning')
    const text = `${o.stdout}\n${o.stderr}`.split(c.hostile || '\u0000').join('')
    const nonsense = NONSENSE.exec(text)
    if (nonsense) broken.push(`exit ${o.code} printing ${nonsense[0]}`)
    if (written) broken.push(`exit ${o.code} with ${written}`)
    if (c.json && !json?.ok) broken.push(`exit ${o.code} under --json: stdout is not one JSON document`)
    if (o.code === 1) {
      const code = json?.ok ? (json.value as {error?: {code?: unknown}}).error?.code : undefined
      if (code === 'INTERNAL' || (!c.json && RAW_ERROR.test(o.stderr)))
        broken.push('exit 1 with an internal error (the value reached the database or file system unchecked)')
    }
  }
  return broken
}

function shown(token: string): string {
  if (token === TEN_KB) return '<10 kB of 9s>'
  if (token.includes(TEN_KB)) return JSON.stringify(token.replace(TEN_KB, '<10 kB of 9s>'))
  return /^[\w@%+=:,./-]+$/.test(token) ? token : JSON.stringify(token)
}

function firstLines(text: string, n = 3): string {
  return text
    .replace(/9{50,}/g, (run) => `<${run.length} 9s>`)
    .split('\n')
    .filter(Boolean)
    .slice(0, n)
    .map((l) => (l.length > 240 ? `${l.slice(0, 240)}…` : l))
    .join('\n        ')
}

// ---------------------------------------------------------------------------------------------------
// Seeded template, copies, checksums

interface Slot {
  index: number
  dir: string
  url: string
  pgName?: string
  db?: Database
}

async function tableNames(db: Database): Promise<string[]> {
  if (db.dialect === 'sqlite') {
    const rows = await db.knex.raw<Array<{name: string}>>("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name")
    return rows.map((r) => r.name)
  }
  const rows = await db.knex.raw<{rows: Array<{tablename: string}>}>('select tablename from pg_tables where schemaname = current_schema() order by 1')
  return rows.rows.map((r) => r.tablename)
}

/** Every row of a table as text (SQLite: JSON with sorted keys; PostgreSQL: the row's text form). */
async function rowTexts(db: Database, table: string): Promise<string[]> {
  if (db.dialect === 'pg') {
    const rows = await db.knex.raw<{rows: Array<{r: string}>}>('select x::text as r from ?? as x', [table])
    return rows.rows.map((row) => row.r)
  }
  const rows = await db.knex.select<Array<Record<string, unknown>>>('*').from(table)
  return rows.map((r) =>
    JSON.stringify(
      Object.keys(r)
        .sort()
        .map((k) => [k, r[k]]),
    ),
  )
}

/**
 * Rows of every table (count and a hash of the rows in a fixed order) and the schema. On PostgreSQL one
 * statement computes it all on the server.
 */
async function tableChecksum(db: Database): Promise<Record<string, string>> {
  const sum: Record<string, string> = {}
  const tables = await tableNames(db)
  if (db.dialect === 'pg') {
    const parts = [
      `select '(schema)' as t, count(*)::text as n, md5(coalesce(string_agg(x::text, E'\\n' order by x::text), '')) as h from (select table_name, column_name, data_type, column_default, is_nullable from information_schema.columns where table_schema = current_schema() union all select indexname, indexdef, '', '', '' from pg_indexes where schemaname = current_schema()) as x`,
      ...tables.map((t) => `select '${t}', count(*)::text, md5(coalesce(string_agg(x::text, E'\\n' order by x::text), '')) from "${t}" as x`),
    ]
    const rows = await db.knex.raw<{rows: Array<{t: string; n: string; h: string}>}>(parts.join(' union all '))
    for (const r of rows.rows) sum[r.t] = `${r.n} rows ${r.h.slice(0, 16)}`
    return sum
  }
  const schema = await db.knex.raw<unknown[]>("select type, name, tbl_name, sql from sqlite_master where name not like 'sqlite_%'")
  sum['(schema)'] = `${schema.length} rows ${hash(schema.map((r) => JSON.stringify(r)))}`
  for (const table of tables) {
    const rows = await rowTexts(db, table)
    sum[table] = `${rows.length} rows ${hash(rows)}`
  }
  return sum
}

function hash(lines: string[]): string {
  const h = createHash('sha256')
  for (const line of [...lines].sort()) h.update(line).update('\n')
  return h.digest('hex').slice(0, 16)
}

const SQLITE_FILE = /^database\.sqlite(-wal|-shm|-journal)?$/

/** Every folder and file under the slot's working directory (names, sizes, hashes), the SQLite database itself aside. */
function fileChecksum(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (at: string) => {
    for (const entry of readdirSync(at, {withFileTypes: true}).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(at, entry.name)
      const rel = path.relative(dir, full)
      if (entry.isDirectory()) {
        out[`${rel}/`] = 'dir'
        walk(full)
      } else if (!(rel.startsWith('storage') && path.dirname(rel) === 'storage' && SQLITE_FILE.test(entry.name))) {
        out[rel] = `${statSync(full).size} bytes ${createHash('sha256').update(readFileSync(full)).digest('hex').slice(0, 16)}`
      }
    }
  }
  walk(dir)
  return out
}

function diff(before: Record<string, string>, after: Record<string, string>): string[] {
  const out: string[] = []
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (before[key] !== after[key]) out.push(`${key}: ${before[key] ?? 'absent'} -> ${after[key] ?? 'absent'}`)
  }
  return out
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({connectionString: PG_ADMIN_URL})
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/** The data worth protecting: demo seed, old and recent audit events, failed WA messages, a queued send, failed jobs, money due, a scheduler ledger, an archive. */
async function seedTemplate(db: Database, storage: string): Promise<void> {
  const now = new Date()
  const clock = manualClock(now.toISOString())
  const t = await premiumTenantWithMock(db, clock)
  ensureStorageFolders(storage)
  // A real archive in storage (and the rows it took gone from the table).
  await insertAuditEvents(db, 20, {now, minDays: 500, maxDays: 520})
  await archiveAuditEvents(db, {days: 400, chunk: 100, dryRun: false, gzip: false, clock, storage, toolVersion: 'test'})
  // Audit events a wrong --days, --channel or --chunk would archive, and recent ones nothing may touch.
  await insertAuditEvents(db, 150, {now, minDays: 100, maxDays: 400, channel: (i) => (i % 2 === 0 ? 'api' : 'web'), tenantId: t.tenantId})
  await insertAuditEvents(db, 30, {now, minDays: 1, maxDays: 60})
  // Orders with money due in every aging bucket (wa remind), and one paid.
  for (const [i, days] of [1, 10, 20, 45, 3].entries()) {
    const id = await insertOrder(db, t, clock, {code: `HOSTILE-${i}`, phone: `6281200000${i}`, total: 40_000, due: i === 4 ? 0 : 15_000 + i})
    const at = toDbTimestamp(new Date(now.getTime() - days * 86_400_000))
    await db.knex('orders').where({id}).update({created_at: at, updated_at: at})
  }
  // Failed WA messages: retryable (wa redrive) and permanent; a queued one with its send job (queue work).
  for (const code of ['NETWORK_ERROR', 'RATE_LIMIT', 'PROVIDER_TIMEOUT', 'PHONE_INVALID']) {
    const id = await insertMessage(db, t, clock, {})
    await db.knex('wa_messages').where({id}).update({status: 'failed', last_error_code: code, attempts: 5})
  }
  const queued = await insertMessage(db, t, clock, {})
  await pushJob(db.knex, {queue: 'messaging', payload: sendWaJobPayload({waMessageId: queued, now}), now})
  // Failed jobs, old and recent (queue failed / retry / flush).
  for (const [uuid, hours] of [
    [FAILED_JOB_UUID, 2],
    ['0b7e2d44-1c3a-4f5e-9a8b-7c6d5e4f3a2b', 500],
  ] as const) {
    await db.knex('failed_jobs').insert({
      uuid,
      connection: 'database',
      queue: 'messaging',
      payload: sendWaJobPayload({waMessageId: queued, now, uuid}),
      exception: 'RuntimeException: provider down',
      failed_at: toDbTimestamp(new Date(now.getTime() - hours * 3_600_000)),
    })
  }
  // A scheduler ledger: a minute where two tasks ran, one failing.
  const {tasks} = loadSchedule({cwd: storage, env: {}})
  const at = Date.parse('2026-11-30T00:00:00Z')
  await scheduleRun(db, {
    tasks,
    executor: ({task}) => Promise.resolve(task.name === 'wa-redrive' ? {exitCode: 1, error: 'exit 1'} : {exitCode: 0}),
    clock: {now: () => new Date(at)},
    cachePrefix: 'laravel_cache_',
    heartbeatMs: false,
  })
}

// ---------------------------------------------------------------------------------------------------
// The suite

interface Failure {
  engine: string
  command: string
  target: string
  label: string
  form: string
  json: boolean
  argv: string
  code: number | null
  stderr: string
  stdout: string
  rules: string[]
  /** A parser refusal judged on the process of another argv with the same parse error and output mode. */
  sameProcessAs?: string
}

/**
 * The processes to start for a command's cases. A parser refusal ends in `BaseCommand.catch` with only
 * the error message, the output mode and the command id to go on, so refusals of one command with the
 * same message and mode share one process (e.g. `--dry-run=yes` and `--gzip=yes`: "Unexpected argument:
 * yes"). Every case is still judged and reported on its own.
 */
function processesFor(cases: Case[]): Case[][] {
  const runs: Case[][] = []
  const shared = new Map<string, Case[]>()
  for (const c of cases) {
    if (!c.parseRefused) {
      runs.push([c])
      continue
    }
    const key = `${c.json}\u0000${c.parseKey}`
    const group = shared.get(key)
    if (group) group.push(c)
    else {
      shared.set(key, [c])
      runs.push(shared.get(key)!)
    }
  }
  // Cases that reach the command first (each checked, and restored when it changed something); parser
  // refusals after them, checked per copy in one batch at the end.
  return runs.sort((a, b) => Number(a[0].parseRefused) - Number(b[0].parseRefused))
}

/**
 * Whether a case's process on SQLite loaded the SQLite driver (so went on to open the database), by
 * command, flag and value (the output mode and the flag form do not decide that). Filled by the SQLite
 * half through a preload that only watches `process.dlopen`; read by the PostgreSQL half.
 */
const reachedDatabase = new Map<string, boolean>()
const reachKey = (c: Case) => `${c.command}\u0000${c.target}\u0000${c.label}`
const TRIPWIRE = `import {writeFileSync} from 'node:fs'
const marker = process.env.HOSTILE_TRIPWIRE
const dlopen = process.dlopen
if (marker) process.dlopen = function (...args) {
  if (String(args[1]).includes('better_sqlite3')) writeFileSync(marker, String(args[1]))
  return dlopen.apply(this, args)
}
`

/** Engine-independent cases, run on SQLite only (see the header). */
function engineIndependent(c: Case): string | null {
  if (c.parseRefused) return 'parser refusal'
  // A non-blank --database-url replaces DATABASE_URL: which engine the environment names cannot matter.
  if (c.target === '--database-url' && !c.blank) return '--database-url replaces DATABASE_URL'
  // Decided before the database was opened (a validator refused the value, or the command needs no database).
  if (reachedDatabase.get(reachKey(c)) === false) return 'did not open the database on SQLite'
  return null
}

describeEachEngine('[slow] hostile flag values through the CLI', (ctx) => {
  const slots: Slot[] = []
  let templateDir: string
  let templateUrl: string
  let templatePgName: string | undefined
  let cleanTables: Record<string, string>
  let cleanFiles: Record<string, string>
  /** The template's rows, to tell the rows a case wrote from those it found. */
  const cleanRows = new Map<string, Set<string>>()
  const failures: Failure[] = []
  const stats = {cases: 0, processes: 0, sqliteOnly: 0, restores: 0, started: 0, childMs: 0, checkMs: 0, slowestMs: 0, cpu: process.cpuUsage()}

  async function openSlot(slot: Slot): Promise<void> {
    slot.db = await openDatabase(parseDatabaseUrl(slot.url, slot.dir))
  }

  async function restore(slot: Slot): Promise<void> {
    stats.restores++
    await slot.db?.close()
    slot.db = undefined
    rmSync(slot.dir, {recursive: true, force: true})
    cpSync(templateDir, slot.dir, {recursive: true})
    if (slot.pgName)
      await adminQuery(`drop database if exists "${slot.pgName}" with (force); `).then(() =>
        adminQuery(`create database "${slot.pgName}" template "${templatePgName}"`),
      )
    await openSlot(slot)
  }

  interface Changes {
    summary: string
    tables: string[]
    files: string[]
  }

  /** What changed on the slot since it was clean (tables, then files), or null. */
  async function changes(slot: Slot): Promise<Changes | null> {
    const t0 = Date.now()
    const tables = diff(cleanTables, await tableChecksum(slot.db!))
    const files = diff(cleanFiles, fileChecksum(slot.dir))
    stats.checkMs += Date.now() - t0
    if (tables.length + files.length === 0) return null
    const found = [...tables.map((t) => `table ${t}`), ...files.map((f) => `file ${f}`)]
    return {
      summary: found.slice(0, 4).join('; ') + (found.length > 4 ? ` (+${found.length - 4} more)` : ''),
      tables: tables.map((t) => t.split(':')[0]).filter((t) => t !== '(schema)'),
      files: files.map((f) => f.split(':')[0]).filter((f) => !f.endsWith('/')),
    }
  }

  /** NaN, Invalid Date, Infinity … in what an accepted case wrote: new rows of the changed tables, changed files. */
  async function nonsenseWritten(slot: Slot, changed: Changes, hostile: string): Promise<string | null> {
    const tables = new Set(await tableNames(slot.db!))
    for (const table of changed.tables.filter((t) => tables.has(t))) {
      const clean = cleanRows.get(table) ?? new Set<string>()
      for (const row of await rowTexts(slot.db!, table)) {
        const match = !clean.has(row) && NONSENSE.exec(row.split(hostile || '\u0000').join(''))
        if (match) return `${match[0]} written to table ${table}`
      }
    }
    for (const file of changed.files) {
      const full = path.join(slot.dir, file)
      let text: string
      try {
        text = statSync(full).size > 5_000_000 ? '' : readFileSync(full, 'utf8')
      } catch {
        continue
      }
      const match = NONSENSE.exec(text.split(hostile || '\u0000').join(''))
      if (match) return `${match[0]} written to file ${file}`
    }
    return null
  }

  let tripwire: string | undefined

  before(async function () {
    this.timeout(120_000)
    stats.started = Date.now()
    stats.cpu = process.cpuUsage()
    const root = ctx.scratch.dir
    if (ctx.dialect === 'sqlite') {
      tripwire = path.join(root, 'tripwire.mjs')
      writeFileSync(tripwire, TRIPWIRE)
    }
    templateDir = path.join(root, 'template')
    const storage = path.join(templateDir, 'storage')
    mkdirSync(storage, {recursive: true})
    templateUrl = ctx.dialect === 'sqlite' ? `sqlite:${path.join(storage, 'database.sqlite')}` : ctx.scratch.url
    templatePgName = ctx.dialect === 'pg' ? new URL(ctx.scratch.url).pathname.slice(1) : undefined
    const db = await openDatabase(parseDatabaseUrl(templateUrl, templateDir), {create: true})
    try {
      await seedTemplate(db, storage)
      cleanTables = await tableChecksum(db)
      for (const table of await tableNames(db)) cleanRows.set(table, new Set(await rowTexts(db, table)))
    } finally {
      await db.close()
    }
    cleanFiles = fileChecksum(templateDir)
    for (let index = 0; index < CONCURRENCY; index++) {
      const dir = path.join(root, `slot-${index}`)
      let url = `sqlite:${path.join(dir, 'storage', 'database.sqlite')}`
      let pgName: string | undefined
      if (templatePgName) {
        pgName = `${templatePgName}_s${index}`
        const u = new URL(templateUrl)
        u.pathname = `/${pgName}`
        url = u.toString()
      }
      const slot: Slot = {index, dir, url, pgName}
      await restore(slot)
      slots.push(slot)
    }
    stats.restores = 0
    for (const slot of slots) expect(await changes(slot), `slot ${slot.index} is a faithful copy`).to.equal(null)
  })

  after(async function () {
    this.timeout(60_000)
    for (const child of running) killGroup(child)
    for (const slot of slots) {
      await slot.db?.close().catch(() => {})
      if (slot.pgName) await adminQuery(`drop database if exists "${slot.pgName}" with (force)`).catch(() => {})
    }
    const seconds = ((Date.now() - stats.started) / 1000).toFixed(1)
    const cpu = process.cpuUsage(stats.cpu)
    console.log(
      `      hostile flags [${ctx.dialect}]: ${stats.cases} cases in ${stats.processes} processes, ${seconds} s wall; ` +
        `children ${(stats.childMs / 1000).toFixed(0)} s summed (slowest ${(stats.slowestMs / 1000).toFixed(1)} s), ` +
        `this process ${((cpu.user + cpu.system) / 1e6).toFixed(1)} CPU-s (checksums ${(stats.checkMs / 1000).toFixed(1)} s); ` +
        `${stats.restores} restores; ${stats.sqliteOnly} engine-independent cases left to the SQLite half; ${failures.length} failing cases`,
    )
    if (process.env.HOSTILE_REPORT) writeFileSync(`${process.env.HOSTILE_REPORT}.${ctx.dialect}.json`, JSON.stringify(failures, null, 1))
  })

  for (const command of DRIVEN) {
    it(`${command.id.replace(/:/g, ' ')}: every flag and argument with every hostile value`, async function () {
      this.timeout(600_000)
      let cases = await casesFor(command, ctx.dialect)
      if (ctx.dialect === 'pg') {
        const all = cases.length
        cases = cases.filter((c) => engineIndependent(c) === null)
        stats.sqliteOnly += all - cases.length
      }
      stats.cases += cases.length
      const runs = processesFor(cases)
      const mine: Failure[] = []
      const unchecked = new Map<Slot, Case[]>()
      const record = (c: Case, o: Outcome, rules: string[], sameProcessAs?: string) => {
        if (rules.length === 0) return
        const json = c.json ? oneJson(o.stdout) : undefined
        mine.push({
          engine: ctx.dialect,
          command: command.id,
          target: c.target,
          label: c.label,
          form: c.form,
          json: c.json,
          argv: c.argv.map(shown).join(' '),
          code: o.code,
          stderr: firstLines(o.stderr),
          stdout: json?.ok ? firstLines(JSON.stringify(json.value), 1) : firstLines(o.stdout, 2),
          rules,
          sameProcessAs,
        })
      }
      let next = 0
      await Promise.all(
        slots.map(async (slot) => {
          while (next < runs.length) {
            const [c, ...alike] = runs[next++]
            stats.processes++
            let o: Outcome
            if (tripwire) {
              const marker = path.join(ctx.scratch.dir, `tripwire-${slot.index}`)
              rmSync(marker, {force: true})
              o = await runBinary(c.argv, slot.dir, {...childEnv(slot), HOSTILE_TRIPWIRE: marker}, ['--import', pathToFileURL(tripwire).href])
              const reached = existsSync(marker)
              for (const one of [c, ...alike]) reachedDatabase.set(reachKey(one), reachedDatabase.get(reachKey(one)) === true || reached)
            } else {
              o = await runBinary(c.argv, slot.dir, childEnv(slot))
            }
            stats.childMs += o.ms
            if (!o.timedOut) stats.slowestMs = Math.max(stats.slowestMs, o.ms)
            if (c.parseRefused) {
              record(c, o, judge(c, o, null))
              for (const other of alike) record(other, o, judge(other, o, null), c.argv.map(shown).join(' '))
              unchecked.set(slot, [...(unchecked.get(slot) ?? []), c, ...alike])
              continue
            }
            const changed = await changes(slot)
            const written = changed && o.code !== 2 ? await nonsenseWritten(slot, changed, c.hostile) : null
            record(c, o, judge(c, o, changed?.summary ?? null, written))
            if (changed) await restore(slot)
          }
          const batch = unchecked.get(slot) ?? []
          const changed = batch.length > 0 ? await changes(slot) : null
          if (changed) {
            mine.push({
              engine: ctx.dialect,
              command: command.id,
              target: [...new Set(batch.map((c) => c.target))].join(', '),
              label: `one of ${batch.length} parser refusals`,
              form: '',
              json: false,
              argv: batch.map((c) => c.argv.map(shown).join(' ')).join(' | '),
              code: 2,
              stderr: '',
              stdout: '',
              rules: [`refused, but changed: ${changed.summary}`],
            })
            await restore(slot)
          }
        }),
      )
      failures.push(...mine)
      if (mine.length > 0) {
        const report = mine.map(
          (f) =>
            `  - ${f.target} ${f.label} (${f.form}${f.json ? ', --json' : ''}): ${f.rules.join('; ')}\n` +
            `      $ laundry-ops ${f.argv}\n` +
            (f.sameProcessAs ? `      (same parse error as \`${f.sameProcessAs}\`, judged on its process)\n` : '') +
            `      exit ${f.code}${f.stderr ? `, stderr: ${f.stderr}` : ''}${f.stdout && f.code !== 2 ? `\n      stdout: ${f.stdout}` : ''}`,
        )
        expect.fail(`${mine.length} of ${cases.length} hostile cases of \`${command.id.replace(/:/g, ' ')}\` failed:\n${report.join('\n')}`)
      }
    })
  }
})
