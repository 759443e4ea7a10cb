/**
 * Issue 13 ("Progress on long work"), through the built CLI as cron or a CI job runs it (stdout and stderr
 * are pipes, not a terminal): each long command prints progress lines on stderr; its stdout is byte for
 * byte the stdout of a `--quiet` run from the same database (the same file or database name, restored
 * between the runs, with the storage folder, under a frozen wall clock where a command prints the time);
 * and under `--json` stderr is empty. LAUNDRY_OPS_PROGRESS_INTERVAL_MS=0 gives a line at every change.
 */
import {cpSync, existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

import {expect} from 'chai'
import pg from 'pg'

import {archiveAuditEvents} from '../../src/core/audit/archive.js'
import {unfinishedArchives} from '../../src/core/audit/archive-files.js'
import {toDbTimestamp} from '../../src/core/clock.js'
import {type Database, openDatabase} from '../../src/core/db/connection.js'
import {pushJob} from '../../src/core/queue/database-queue.js'
import {sendWaJobPayload} from '../../src/core/queue/payload.js'
import {insertAuditEvents, recordArchiveSource} from '../helpers/audit.js'
import {type CliResult, parseJson, ROOT, runCli} from '../helpers/cli.js'
import {createScratchDatabase, describeEachEngine, PG_ADMIN_URL, type ScratchDatabase} from '../helpers/engines.js'
import {startGateway, type TestGateway} from '../helpers/gateway.js'
import {insertMessage, insertOrder, manualClock, premiumDemoTenant, type WaTenant} from '../helpers/wa.js'

/** The wall clock of the CLI runs that print times or name files after them (audit archive, queue work). */
const FROZEN_AT = new Date(Math.floor(Date.now() / 1000) * 1000 + 60_000).toISOString()
const FROZEN_CLOCK = {FROZEN_CLOCK_AT: FROZEN_AT, NODE_OPTIONS: `--import=${pathToFileURL(path.join(ROOT, 'test', 'helpers', 'frozen-clock.mjs')).href}`}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({connectionString: PG_ADMIN_URL})
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/** CREATE DATABASE … TEMPLATE waits for the sessions of a CLI process that just exited to go. */
async function copyPgDatabase(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await adminQuery(`create database "${to}" template "${from}"`)
      return
    } catch (error) {
      if (attempt >= 50 || !/being accessed by other users/.test((error as Error).message)) throw error
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

/**
 * The state of a scratch database and its storage folder, to run a command again from the very same state:
 * the SQLite file (with its WAL, or its absence) or a PostgreSQL copy, under the same path or name, so the
 * database shown in the output is the same too.
 */
async function snapshot(scratch: ScratchDatabase): Promise<{restore: () => Promise<void>; drop: () => Promise<void>}> {
  const saved = mkdtempSync(path.join(tmpdir(), 'laundry-ops-progress-'))
  const storage = path.join(scratch.dir, 'storage')
  if (existsSync(storage)) cpSync(storage, path.join(saved, 'storage'), {recursive: true})
  const restoreStorage = () => {
    rmSync(storage, {recursive: true, force: true})
    if (existsSync(path.join(saved, 'storage'))) cpSync(path.join(saved, 'storage'), storage, {recursive: true})
  }
  const target = scratch.target
  if (target.client === 'sqlite') {
    const files = ['', '-wal', '-shm'].map((suffix) => target.filename + suffix)
    for (const file of files) if (existsSync(file)) cpSync(file, path.join(saved, path.basename(file)))
    return {
      async restore() {
        restoreStorage()
        for (const file of files) {
          rmSync(file, {force: true})
          const copy = path.join(saved, path.basename(file))
          if (existsSync(copy)) cpSync(copy, file)
        }
        await Promise.resolve()
      },
      async drop() {
        rmSync(saved, {recursive: true, force: true})
        await Promise.resolve()
      },
    }
  }
  const copy = `${target.database}_snap`
  await copyPgDatabase(target.database, copy)
  return {
    async restore() {
      restoreStorage()
      await adminQuery(`drop database if exists "${target.database}" with (force)`)
      await copyPgDatabase(copy, target.database)
    },
    async drop() {
      rmSync(saved, {recursive: true, force: true})
      await adminQuery(`drop database if exists "${copy}" with (force)`)
    },
  }
}

interface ThreeRuns {
  progress: CliResult
  quiet: CliResult
  json: CliResult
}

/**
 * The command three times from the same state: with progress, with --quiet, with --json. `restored` runs
 * after each restore (a PostgreSQL copy is a new database, with a new oid).
 */
async function runThreeWays(scratch: ScratchDatabase, args: string[], env: Record<string, string>, restored = async () => {}): Promise<ThreeRuns> {
  const state = await snapshot(scratch)
  try {
    const options = {
      cwd: scratch.dir,
      env: {DATABASE_URL: scratch.url, LAUNDRY_OPS_STORAGE: path.join(scratch.dir, 'storage'), LAUNDRY_OPS_PROGRESS_INTERVAL_MS: '0', ...env},
    }
    const progress = await runCli(args, options)
    await state.restore()
    await restored()
    const quiet = await runCli([...args, '--quiet'], options)
    await state.restore()
    await restored()
    const json = await runCli([...args, '--json'], options)
    for (const [name, run] of Object.entries({progress, quiet, json})) {
      expect(run.code, `${args.join(' ')} (${name}): ${run.stderr}`).to.equal(0)
    }
    return {progress, quiet, json}
  } finally {
    await state.drop()
  }
}

/** The lines on stderr that start with `<title>: `. */
function progressLines(stderr: string, title: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith(`${title}: `))
}

/** What every command must show: progress lines on stderr, the same stdout with --quiet (and no progress line then), nothing on stderr under --json. */
function expectProgressContract(runs: ThreeRuns, title: string, normalise: (stdout: string) => string = (s) => s): string[] {
  const lines = progressLines(runs.progress.stderr, title)
  expect(lines, `progress lines on stderr:\n${runs.progress.stderr}`).to.not.deep.equal([])
  expect(runs.progress.stdout, 'stdout of the run with progress').to.not.equal('')
  expect(normalise(runs.progress.stdout)).to.equal(normalise(runs.quiet.stdout))
  expect(progressLines(runs.quiet.stderr, title), `--quiet: ${runs.quiet.stderr}`).to.deep.equal([])
  expect(runs.json.stderr, '--json: stderr').to.equal('')
  parseJson(runs.json)
  for (const line of lines) {
    expect(line).to.not.match(/NaN|Infinity|undefined/)
    expect(line, 'no terminal control sequence in a plain line').to.not.include('\u001B')
  }
  return lines
}

describeEachEngine('progress on stderr: audit archive, quota reconcile, wa redrive, wa remind, queue work', {from: 'seeded'}, (ctx) => {
  const clock = manualClock(new Date().toISOString())
  let gateway: TestGateway
  let tenant: WaTenant

  async function withDb<T>(work: (db: Database) => Promise<T>): Promise<T> {
    const db = await openDatabase(ctx.scratch.target, {create: true})
    try {
      return await work(db)
    } finally {
      await db.close()
    }
  }

  before(async () => {
    // A gateway that answers with an id made of the message text (the message id): the same in every run.
    gateway = await startGateway((req) => ({status: 200, body: {message_id: `gw-${req.text}`}}))
    tenant = await withDb((db) => premiumDemoTenant(db, clock, {provider: 'http', credentials: {url: gateway.url, token: 't'}}))
  })
  after(() => gateway?.close())

  it('audit archive: rows archived of matched, with the recovery of an interrupted archive first', async () => {
    const storage = path.join(ctx.scratch.dir, 'storage')
    await withDb(async (db) => {
      await insertAuditEvents(db, 3000, {now: new Date(FROZEN_AT), minDays: 100, maxDays: 200})
      // A run that stopped after its first page (as a kill would): its file has no manifest yet.
      const stopped = await archiveAuditEvents(db, {
        days: 90,
        chunk: 100,
        dryRun: false,
        gzip: false,
        clock: {now: () => new Date(Date.parse(FROZEN_AT) - 3_600_000)},
        storage,
        toolVersion: 'test',
        onProgress: (done) => {
          if (done > 0) throw new Error('stopped')
        },
      }).catch((error: Error) => error)
      expect(stopped).to.be.instanceOf(Error)
    })
    // The unfinished archive records its database; a PostgreSQL copy has another oid: it is this database's again.
    const adopt = () =>
      withDb(async (db) => Promise.all(unfinishedArchives(path.join(storage, 'app', 'audit-archives')).map((file) => recordArchiveSource(db, file))))
    const runs = await runThreeWays(ctx.scratch, ['audit', 'archive', '--days', '90', '--chunk', '100'], FROZEN_CLOCK, async () => {
      await adopt()
    })
    const lines = expectProgressContract(runs, 'audit archive')
    expect(runs.progress.stdout).to.match(/^Archive summary: matched=2900, archived=2900, deleted=2900, dry_run=no\nArchive file: .*\.jsonl\n$/)
    const recovery = lines.filter((l) => l.startsWith('audit archive: finishing an interrupted archive: '))
    expect(lines.slice(0, recovery.length), lines.join('\n')).to.deep.equal(recovery)
    expect(recovery.at(-1)).to.match(/^audit archive: finishing an interrupted archive: 100\/100 rows \(100%\)/)
    expect(lines).to.include('audit archive: 0/2900 rows (0%)')
    expect(
      lines.some((l) => /^audit archive: 1500\/2900 rows \(51%\), \d+ rows\/s, about .+ left$/.test(l)),
      lines.join('\n'),
    ).to.equal(true)
    expect(lines.at(-1)).to.match(/^audit archive: 2900\/2900 rows \(100%\) in \d+(\.\d)? (s|min)/)
    expect(parseJson(runs.json)).to.deep.include({matched: 2900, archived: 2900})

    // The default interval (5 s): a run this short prints the closing line only.
    await withDb((db) => insertAuditEvents(db, 500, {now: new Date(FROZEN_AT), minDays: 100, maxDays: 200}))
    const quick = await runCli(['audit', 'archive'], {cwd: ctx.scratch.dir, env: {DATABASE_URL: ctx.scratch.url, LAUNDRY_OPS_STORAGE: storage}})
    expect(quick.code, quick.stderr).to.equal(0)
    expect(progressLines(quick.stderr, 'audit archive')).to.have.length(1)
    expect(quick.stderr).to.match(/^audit archive: 500\/500 rows \(100%\) in /m)
  })

  it('quota reconcile: the count, then the rows written', async () => {
    await withDb(async (db) => {
      const now = toDbTimestamp(clock.now())
      const tenants = Array.from({length: 300}, (_, i) => ({
        id: `0195f3a0-0000-7000-8000-${String(100_000 + i).padStart(12, '0')}`,
        name: `Tenant ${String(i).padStart(3, '0')}`,
        status: 'active',
        created_at: now,
        updated_at: now,
      }))
      await db.knex.batchInsert('tenants', tenants, 100)
    })
    const runs = await runThreeWays(ctx.scratch, ['quota', 'reconcile', '2025-01'], {})
    const lines = expectProgressContract(runs, 'quota reconcile')
    expect(runs.progress.stdout).to.match(/\nQuota reconcile summary: period=2025-01, tenants=301, updated=\d+, dry_run=no, created=\d+, unchanged=\d+\n$/)
    expect(lines[0]).to.equal('quota reconcile: counting the orders per tenant…')
    expect(lines).to.include('quota reconcile: writing quota_usage: 0/301 tenants (0%)')
    expect(lines.at(-1)).to.match(/^quota reconcile: writing quota_usage: 301\/301 tenants \(100%\) in /)
  })

  it('wa redrive: progress from 200 candidates up, none below', async () => {
    const ids = await withDb(async (db) => {
      const inserted: string[] = []
      for (let i = 0; i < 250; i++) inserted.push(await insertMessage(db, tenant, clock, {body: `redrive ${i}`}))
      for (let i = 0; i < inserted.length; i += 100) {
        await db
          .knex('wa_messages')
          .whereIn('id', inserted.slice(i, i + 100))
          .update({status: 'failed', last_error_code: 'NETWORK_ERROR', attempts: 5})
      }
      return inserted
    })
    const few = await runCli(['wa', 'redrive', '--limit', '199', '--dry-run'], {
      cwd: ctx.scratch.dir,
      env: {DATABASE_URL: ctx.scratch.url, LAUNDRY_OPS_PROGRESS_INTERVAL_MS: '0'},
    })
    expect(few.code, few.stderr).to.equal(0)
    expect(few.stderr, 'below 200 candidates').to.equal('')

    const runs = await runThreeWays(ctx.scratch, ['wa', 'redrive', '--limit', '300'], {})
    const lines = expectProgressContract(runs, 'wa redrive')
    expect(runs.progress.stdout.trimEnd().split('\n')).to.have.length(251)
    expect(runs.progress.stdout).to.match(/\nRedrive summary: processed=250, dry_run=no, requeued=250\n$/)
    expect(runs.progress.stdout).to.include(`Candidate: ${ids[0]} NETWORK_ERROR attempts=5\n`)
    expect(lines[0]).to.equal('wa redrive: 0/250 messages (0%)')
    expect(lines.at(-1)).to.match(/^wa redrive: 250\/250 messages \(100%\) in /)
  })

  it('wa remind: progress from 200 candidates up, none below', async () => {
    await withDb(async (db) => {
      for (let i = 0; i < 260; i++) {
        const id = await insertOrder(db, tenant, clock, {code: `PRG-${String(i).padStart(3, '0')}`, total: 40_000, due: 15_000})
        // Ten days old on the as-of date (bucket d8_14), except every fifth: two days (d0_7).
        const at = `2026-02-${i % 5 === 0 ? '15' : '07'} 08:00:00`
        await db.knex('orders').where({id}).update({created_at: at, updated_at: at})
      }
    })
    const env = {DATABASE_URL: ctx.scratch.url, LAUNDRY_OPS_PROGRESS_INTERVAL_MS: '0'}
    // 52 orders in d0_7: below 200, no progress.
    const few = await runCli(['wa', 'remind', '--as-of', '2026-02-17', '--bucket', 'd0_7', '--dry-run'], {cwd: ctx.scratch.dir, env})
    expect(few.code, few.stderr).to.equal(0)
    expect(few.stdout).to.match(/Aging reminder summary: processed=52,/)
    expect(few.stderr, 'below 200 candidates').to.equal('')
    // 208 orders in d8_14: the count of the expected candidates follows the bucket.
    const bucket = await runCli(['wa', 'remind', '--as-of', '2026-02-17', '--bucket', 'd8_14', '--limit', '1000', '--dry-run'], {cwd: ctx.scratch.dir, env})
    expect(bucket.stdout).to.match(/Aging reminder summary: processed=208,/)
    expect(progressLines(bucket.stderr, 'wa remind').at(-1)).to.match(/^wa remind: 208\/208 candidates \(100%\) in /)

    const runs = await runThreeWays(ctx.scratch, ['wa', 'remind', '--as-of', '2026-02-17', '--limit', '250'], {})
    const lines = expectProgressContract(runs, 'wa remind')
    expect(runs.progress.stdout).to.match(/^Candidate 1: PRG-\d{3} due=15000 bucket=d(0_7|8_14) age=(2|10)d -> enqueued\n/)
    expect(runs.progress.stdout).to.match(/\nAging reminder summary: processed=250, enqueued=250, skipped=0, dry_run=no, as_of=2026-02-17, already_sent=0\n$/)
    expect(lines[0]).to.equal('wa remind: 0/250 candidates (0%)')
    expect(lines.at(-1)).to.match(/^wa remind: 250\/250 candidates \(100%\) in /)
  })

  it('queue work: a status line of processed, failed and released jobs with the rate', async () => {
    await withDb(async (db) => {
      await db.knex('jobs').delete()
      // Due by the workers' frozen clock, whenever this test runs (the whole suite may start long before it).
      const now = new Date(Date.parse(FROZEN_AT) - 1000)
      for (let i = 0; i < 300; i++) {
        const id = await insertMessage(db, tenant, clock, {})
        // The gateway's message id is the text: the message id, the same in every run.
        await db.knex('wa_messages').where({id}).update({body_text: id})
        await pushJob(db.knex, {queue: 'messaging', payload: sendWaJobPayload({waMessageId: id, now}), now})
      }
    })
    const runs = await runThreeWays(ctx.scratch, ['queue', 'work', '--stop-when-empty'], FROZEN_CLOCK)
    // A job's duration is measured, so it differs from run to run with or without progress: only it is masked.
    const lines = expectProgressContract(runs, 'queue work', (stdout) => stdout.replace(/ \d+ ms /g, ' N ms '))
    expect(runs.progress.stdout.trimEnd().split('\n')).to.have.length(300)
    expect(runs.progress.stdout).to.match(/^ {2}\S+ \S+ App\\Jobs\\SendWaMessageJob #\d+ \d+ ms sent \(attempt 1, gw-\S+\) DONE\n/)
    expect(lines.length).to.be.at.least(1)
    for (const line of lines) expect(line).to.match(/^queue work: \d+ processed, 0 failed, 0 released(, [\d.]+ jobs\/s)?$/)
    expect(lines.at(-1)).to.match(/^queue work: 300 processed, 0 failed, 0 released, [\d.]+ jobs\/s$/)
    expect(runs.progress.stderr).to.match(/Worker stopped \(empty\): 300 job\(s\) processed/)
    expect(parseJson(runs.json)).to.deep.include({processed: 300})
  })
})

for (const dialect of ['sqlite', 'pg'] as const) {
  describe(`progress on stderr: db migrate and db fresh [${dialect}]`, function () {
    let scratch: ScratchDatabase | undefined
    before(async function () {
      const {pgAvailable} = await import('../helpers/engines.js')
      if (dialect === 'pg' && !(await pgAvailable())) {
        if (process.env.LAUNDRY_OPS_REQUIRE_PG === '1') throw new Error(`PostgreSQL is required but ${PG_ADMIN_URL} does not answer`)
        this.skip()
      }
      scratch = await createScratchDatabase(dialect)
    })
    after(async () => {
      await scratch?.drop()
    })

    it('db migrate: one line per migration', async () => {
      const runs = await runThreeWays(scratch!, ['db', 'migrate'], {})
      const lines = expectProgressContract(runs, 'db migrate')
      const applied = runs.progress.stdout.match(/^ {2}DONE {2}(\S+)$/gm)!.map((l) => l.trim().split(/\s+/)[1])
      expect(applied.length).to.be.above(10)
      expect(lines).to.have.length(applied.length)
      lines.forEach((line, i) => expect(line).to.match(new RegExp(`^db migrate: ${i + 1}/${applied.length} ${applied[i]} \\(\\d+ ms\\)$`)))
    })

    it('db fresh: one line per migration after the drop', async () => {
      const runs = await runThreeWays(scratch!, ['db', 'fresh'], {})
      const lines = expectProgressContract(runs, 'db fresh')
      expect(runs.progress.stdout).to.match(/^Fresh schema in .*: \d+ table\(s\) dropped, (\d+) migration\(s\) applied\.\n$/)
      const count = Number(/(\d+) migration\(s\) applied/.exec(runs.progress.stdout)![1])
      expect(lines).to.have.length(count)
      expect(lines.at(-1)).to.match(new RegExp(`^db fresh: ${count}/${count} \\S+ \\(\\d+ ms\\)$`))
      expect(runs.progress.stderr).to.match(/^Dropped \d+ table\(s\)\.\n(db fresh: .*\n)+Applied \d+ migration\(s\)\.\n$/)
    })
  })
}
