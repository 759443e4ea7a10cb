import {createHash, randomUUID} from 'node:crypto'
import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import Sqlite from 'better-sqlite3'
import {expect} from 'chai'

import type {ErrorDocument} from '../../src/base-command.js'
import {systemClock, toDbTimestamp} from '../../src/core/clock.js'
import type {Database} from '../../src/core/db/connection.js'
import {MIGRATIONS} from '../../src/core/db/migrations/index.js'
import type {MigrateResult} from '../../src/core/db/migrator.js'
import {sendWaJobPayload} from '../../src/core/queue/payload.js'
import {insertAuditEvents} from '../helpers/audit.js'
import {type CliResult, parseJson, ROOT, runCli} from '../helpers/cli.js'
import {describeEachEngine} from '../helpers/engines.js'
import {insertMessage, insertOrder, premiumDemoTenant} from '../helpers/wa.js'

/**
 * A run that only reads (a command whose faultScope is 'reads', or any command with --dry-run) never
 * writes to the database: an SQLite file in DELETE journal mode stays in that mode and byte-identical (it
 * used to be switched to WAL for good), an empty (0-byte) file stays empty (it used to get a 4096-byte
 * header). The commands come from the oclif manifest, so a new read-only command or --dry-run is covered.
 */

interface ManifestCommand {
  faultScope?: string
  flags: Record<string, unknown>
}

function readOnlyRuns(): Array<{id: string; args: string[]}> {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, ManifestCommand>}
  const runs: Array<{id: string; args: string[]}> = []
  for (const [id, command] of Object.entries(manifest.commands)) {
    const words = id.split(':')
    if (command.faultScope === 'reads') runs.push({id, args: [...words, ...(EXTRA_ARGS[id] ?? [])]})
    else if ('dry-run' in command.flags) runs.push({id, args: [...words, ...(EXTRA_ARGS[id] ?? []), '--dry-run']})
  }
  return runs.sort((a, b) => a.id.localeCompare(b.id))
}

/** Arguments a command needs besides --dry-run; `db restore` gets a backup each suite makes first. */
const EXTRA_ARGS: Record<string, string[]> = {
  'queue:retry': ['all'],
  'db:restore': [],
  // The plan then reads the ledger (the migrations --migrate would apply): a real read of the database.
  release: ['--migrate'],
}

/** A backup of the suite's database (not encrypted), for `db restore --dry-run`: made by `db backup` itself. */
async function backupForRestore(cwd: string, env: Record<string, string>, force: boolean): Promise<void> {
  const args = ['db', 'backup', '--no-encrypt', '--output', path.join(cwd, 'restore-source'), '--json']
  const made = await runCli(args, {cwd, env})
  expect(made.code, describeRun(made, args)).to.equal(0)
  const file = (parseJson(made) as {file: string}).file
  EXTRA_ARGS['db:restore'] = [file, ...(force ? ['--force'] : [])]
  EXTRA_ARGS['db:backup:verify'] = [file]
}

/** An age recipient the read-only runs of `db backup` encrypt to (no key is kept: nothing decrypts them here). */
const RECIPIENT = 'age1gtrjsk70zmlche8y5f8uze37w30tpncrr0zq8u8uvvp3fyjwkshqcjtrh9'

/** The commands of the user trial and of the brief: the manifest must list them (the loop is not empty). */
const EXPECTED = [
  'audit:archive',
  'audit:logins',
  'db:fresh',
  'db:migrate',
  'db:rollback',
  'db:status',
  'observe:health',
  'queue:failed',
  'queue:flush',
  'queue:retry',
  'quota:reconcile',
  'readiness:check',
  'release',
  'schedule:history',
  'sync:rejects',
  'uat:run',
  'wa:redrive',
  'wa:remind',
  'wa:status',
]

type Doc = Record<string, unknown> & {error?: ErrorDocument['error']}
const count = (doc: Doc, key: string) => (doc[key] as unknown[]).length

/** What each run reports on the prepared database: proof that it went through its real work, not a shortcut. */
const ON_DATA: Record<string, (doc: Doc) => void> = {
  'audit:archive': (doc) => expect(doc).to.include({dry_run: true, matched: 40}),
  'db:backup': (doc) => expect(doc).to.include({dry_run: false, encryption: 'x25519', tables: 34}),
  'db:backup:verify': (doc) => expect(doc).to.include({ok: true, tables: 34}),
  'db:backup:list': (doc) => expect(count(doc, 'backups')).to.be.greaterThan(0),
  // The 40 old events are outside the hour: the report runs its queries and finds none.
  'audit:logins': (doc) => expect(doc).to.deep.include({totals: {events: 0, accounts: 0, ips: 0}}),
  'db:fresh': (doc) => expect(count(doc, 'dropped')).to.be.greaterThan(10),
  'db:migrate': (doc) => expect(doc).to.deep.include({dry_run: true, migrated: []}),
  'db:rollback': (doc) => expect(count(doc, 'rolled_back')).to.equal(MIGRATIONS.length),
  'db:restore': (doc) => expect(doc).to.include({dry_run: true, replaced: true, tables: 34}),
  'db:status': (doc) => expect(doc).to.deep.include({ledger: true, pending: []}),
  'observe:health': (doc) => expect(doc.checks).to.be.an('array').that.is.not.empty,
  'queue:failed': (doc) => expect(count(doc, 'failed')).to.equal(2),
  'queue:flush': (doc) => expect(doc).to.include({dry_run: true, deleted: 2}),
  'queue:retry': (doc) => expect(count(doc, 'retried')).to.equal(2),
  'quota:reconcile': (doc) => expect(Number(doc.updated) + Number(doc.created)).to.be.greaterThan(0),
  'readiness:check': (doc) => expect(doc.checks).to.be.an('array').that.is.not.empty,
  // The plan: five steps, none run; the ledger read says nothing is pending.
  release: (doc) => {
    expect(doc).to.include({dry_run: true, ok: true})
    expect((doc.steps as Array<{status: string}>).map((s) => s.status)).to.deep.equal(['planned', 'planned', 'planned', 'planned', 'planned'])
    expect((doc.steps as Array<{detail: string}>)[0].detail).to.equal('nothing to migrate: no migration is pending')
  },
  'schedule:history': (doc) => expect(doc.entries).to.deep.equal([]),
  'sync:rejects': (doc) => expect(doc).to.deep.include({reasons: [], totals: {rejected: 0, applied: 0, devices: 0}}),
  // The dry run opens no database at all: every scenario Blocked, the report written.
  'uat:run': (doc) =>
    expect(doc).to.deep.include({target: {kind: 'dry-run'}, summary: {total: 10, passed: 0, failed: 0, blocked: 10, overall: 'BLOCKED', decision: 'PENDING'}}),
  'wa:redrive': (doc) => expect(doc).to.include({dry_run: true, processed: 2}),
  'wa:remind': (doc) => expect(doc).to.include({dry_run: true, enqueued: 3}),
  // The two failed messages of the demo tenant (updated just now: inside the default 24h).
  'wa:status': (doc) => expect(doc).to.deep.include({totals: {queued: 0, failed: 2}}),
}

function describeRun(result: CliResult, args: string[]): string {
  return `${args.join(' ')} (exit ${result.code})\n${result.stdout.slice(0, 2000)}\n--- stderr ---\n${result.stderr}`
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex')

/** Bytes 18 and 19 of the header: 1 = rollback journal (DELETE, …), 2 = WAL. */
function headerJournal(file: string): 'rollback' | 'wal' {
  const header = readFileSync(file).subarray(18, 20)
  if (header[0] === 1 && header[1] === 1) return 'rollback'
  if (header[0] === 2 && header[1] === 2) return 'wal'
  throw new Error(`${file}: unexpected header bytes 18-19 ${header[0]} ${header[1]}`)
}

/** The journal, WAL and shared-memory files SQLite keeps beside `file`. */
function sideFiles(file: string): string[] {
  const base = path.basename(file)
  return readdirSync(path.dirname(file)).filter((name) => name !== base && name.startsWith(base))
}

/** Row counts of every table (PostgreSQL: what a read-only run must leave as it was). */
async function rowCounts(db: Database): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const table of ['migrations', 'audit_events', 'wa_messages', 'jobs', 'failed_jobs', 'quota_usage', 'cache', 'cache_locks', 'orders']) {
    const [{n}]: Array<{n: number | string}> = await db.knex(table).count({n: '*'})
    counts[table] = Number(n)
  }
  return counts
}

describeEachEngine('read-only commands and --dry-run runs write nothing to the database', (ctx) => {
  let cwd: string
  let env: Record<string, string>
  let file: string

  before(async function () {
    this.timeout(120_000)
    cwd = ctx.scratch.dir
    env = {DATABASE_URL: ctx.scratch.url, LAUNDRY_OPS_STORAGE: path.join(cwd, 'storage'), LAUNDRY_OPS_BACKUP_RECIPIENT: RECIPIENT}
    if (ctx.dialect === 'sqlite') {
      file = (ctx.scratch.target as {filename: string}).filename
      new Sqlite(file).close()
    }
    for (const args of [
      ['db', 'migrate'],
      ['db', 'seed'],
    ]) {
      const result = await runCli(args, {cwd, env})
      expect(result.code, describeRun(result, args)).to.equal(0)
    }
    // Data that makes every dry run do its real work: old audit events, failed jobs, failed messages,
    // open invoices 10 days old, and this month's orders the quota row does not count yet.
    const db = await ctx.scratch.open()
    try {
      const t = await premiumDemoTenant(db, systemClock)
      const now = new Date()
      await insertAuditEvents(db, 40, {now, minDays: 100, maxDays: 120})
      const tenDaysAgo = {now: () => new Date(now.getTime() - 10 * 86_400_000)}
      for (let i = 0; i < 3; i++) await insertOrder(db, t, tenDaysAgo, {code: `ORD-OLD-${i}`, due: 5000})
      for (let i = 0; i < 2; i++) await insertOrder(db, t, systemClock, {code: `ORD-NEW-${i}`, due: 0})
      for (let i = 0; i < 2; i++) {
        const id = await insertMessage(db, t, systemClock, {})
        await db.knex('wa_messages').where({id}).update({status: 'failed', last_error_code: 'NETWORK_ERROR'})
        await db.knex('failed_jobs').insert({
          uuid: randomUUID(),
          connection: 'database',
          queue: 'messaging',
          payload: sendWaJobPayload({waMessageId: id, now}),
          exception: 'RuntimeException: gateway down',
          failed_at: toDbTimestamp(now),
        })
      }
    } finally {
      await db.close()
    }
    if (ctx.dialect === 'sqlite') {
      const conn = new Sqlite(file)
      conn.pragma('journal_mode = DELETE')
      conn.close()
      expect(headerJournal(file)).to.equal('rollback')
      expect(sideFiles(file)).to.deep.equal([])
    }
    await backupForRestore(cwd, env, true)
  })

  it('the manifest lists every read-only command and --dry-run of the trial', () => {
    expect(readOnlyRuns().map((r) => r.id)).to.include.members(EXPECTED)
    // A new read-only command or --dry-run needs its line in ON_DATA, so it is checked on real data too.
    expect(Object.keys(ON_DATA).sort()).to.deep.equal(readOnlyRuns().map((r) => r.id))
  })

  it('each run succeeds on the data; the SQLite file stays in DELETE mode and byte-identical, with no -wal/-shm left (PostgreSQL: no row changes)', async function () {
    this.timeout(180_000)
    const db = ctx.dialect === 'pg' ? await ctx.scratch.open() : undefined
    try {
      const before = ctx.dialect === 'sqlite' ? sha256(file) : await rowCounts(db!)
      for (const run of readOnlyRuns()) {
        const args = [...run.args, '--json']
        const result = await runCli(args, {cwd, env})
        const what = describeRun(result, args)
        const doc = parseJson(result) as Doc
        expect(doc.error, what).to.equal(undefined)
        expect(result.code, what).to.be.oneOf([0, 1]) // the gates exit 1 on a failed check
        ON_DATA[run.id](doc)
        if (ctx.dialect === 'sqlite') {
          expect(sha256(file), `${what}\nthe file changed`).to.equal(before)
          expect(headerJournal(file), what).to.equal('rollback')
          expect(sideFiles(file), what).to.deep.equal([])
        } else {
          expect(await rowCounts(db!), what).to.deep.equal(before)
        }
      }
    } finally {
      await db?.close()
    }
  })

  it('a write command still works on the database afterwards (SQLite: it switches the file to WAL, as every writer does)', async () => {
    const args = ['queue', 'flush', '--json']
    const result = await runCli(args, {cwd, env})
    expect(result.code, describeRun(result, args)).to.equal(0)
    expect(parseJson(result)).to.include({dry_run: false, deleted: 2})
    if (ctx.dialect === 'sqlite') {
      expect(headerJournal(file)).to.equal('wal')
      expect(sideFiles(file)).to.deep.equal([])
    }
  })
})

describe('read-only commands and --dry-run runs on an empty (0-byte) SQLite file', () => {
  let dir: string
  let file: string
  let env: Record<string, string>

  before(async function () {
    this.timeout(60_000)
    dir = mkdtempSync(path.join(tmpdir(), 'laundry-ops-empty-'))
    file = path.join(dir, 'empty.sqlite')
    writeFileSync(file, '')
    env = {DATABASE_URL: `sqlite:${file}`, LAUNDRY_OPS_STORAGE: path.join(dir, 'storage'), LAUNDRY_OPS_BACKUP_RECIPIENT: RECIPIENT}
    await backupForRestore(dir, env, false)
  })

  after(() => rmSync(dir, {recursive: true, force: true}))

  it('each run reports an empty database (no ledger, missing tables named) and the file stays 0 bytes', async function () {
    this.timeout(120_000)
    for (const run of readOnlyRuns()) {
      const args = [...run.args, '--json']
      const result = await runCli(args, {cwd: dir, env})
      const what = describeRun(result, args)
      const doc = parseJson(result) as Doc
      expect(statSync(file).size, `${what}\nthe empty file was written`).to.equal(0)
      expect(sideFiles(file), what).to.deep.equal([])
      if (doc.error) {
        // The commands that need tables name the missing ones (an empty database is not migrated).
        expect(doc.error.code, what).to.equal('NOT_MIGRATED')
        expect(doc.error.message, what).to.match(/has no [\w, ]+ tables?\b.*: run `laundry-ops db migrate` first/)
        expect(result.code, what).to.equal(1)
      } else {
        expect(result.code, what).to.be.oneOf([0, 1])
      }
      if (run.id === 'db:status') expect(doc).to.deep.include({ledger: false, pending: MIGRATIONS.map((m) => m.name)})
      if (run.id === 'db:migrate') expect(doc).to.deep.include({dry_run: true, migrated: MIGRATIONS.map((m) => m.name)})
      if (run.id === 'db:fresh') expect(doc).to.deep.include({dry_run: true, dropped: []})
      if (run.id === 'db:rollback') expect(doc).to.deep.include({dry_run: true, rolled_back: []})
      if (run.id === 'release')
        expect((doc.steps as Array<{detail: string}>)[0].detail).to.match(new RegExp(`^would apply ${MIGRATIONS.length} migration\\(s\\): `))
      if (run.id === 'readiness:check') {
        expect(result.code, what).to.equal(1)
        expect(doc.checks, what).to.deep.include({key: 'database.migrations.pending', status: 'fail', message: 'Migrations table is missing.'})
      }
    }
  })

  it('db migrate (a writer) still migrates it, in WAL mode', async () => {
    const migrate = await runCli(['db', 'migrate', '--json'], {cwd: dir, env})
    expect(migrate.code, describeRun(migrate, ['db', 'migrate'])).to.equal(0)
    expect((parseJson(migrate) as MigrateResult).migrated).to.have.length(MIGRATIONS.length)
    expect(statSync(file).size).to.be.greaterThan(0)
    expect(headerJournal(file)).to.equal('wal')
    const status = await runCli(['db', 'status', '--json'], {cwd: dir, env})
    expect(status.code).to.equal(0)
    expect(parseJson(status)).to.deep.include({ledger: true, pending: []})
    expect(sideFiles(file)).to.deep.equal([])
  })
})
