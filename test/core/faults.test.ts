import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, rmdirSync, rmSync, statfsSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import BetterSqlite3 from 'better-sqlite3'
import {expect} from 'chai'
import pg from 'pg'

import {archiveAuditEvents, type ArchiveOptions} from '../../src/core/audit/archive.js'
import {archivedIds, readArchiveLines} from '../../src/core/audit/archive-files.js'
import {fixedClock, toDbTimestamp} from '../../src/core/clock.js'
import {type Database, openDatabase, type SessionTimeouts} from '../../src/core/db/connection.js'
import {migrate} from '../../src/core/db/migrator.js'
import {uuid7} from '../../src/core/domain/ids.js'
import {mockProvider, type WaProvider} from '../../src/core/messaging/providers.js'
import {redriveFailedMessages, type RedriveResult} from '../../src/core/messaging/redrive.js'
import {decodePayload, waMessageIdOf} from '../../src/core/queue/payload.js'
import {DEFAULT_WORKER_OPTIONS, type JobEvent, runWorker, type WorkerOptions, type WorkerResult} from '../../src/core/queue/worker.js'
import {type CliResult, parseJson, runCli} from '../helpers/cli.js'
import {describeEachEngine} from '../helpers/engines.js'

/**
 * Faults (issue class 10): a lost connection, a server-side timeout, a full disk and a lock held by
 * another process, injected for real (no mocks), stop a command that commits as it goes. The error says
 * what happened (a code and a plain message, never the SQL statement the driver failed on), what was done
 * and committed (checked against the rows), what was not, and what to do next; the rerun finishes the work
 * with nothing done twice.
 *
 * Which fault exists on which engine:
 * - connection loss, server-side timeouts, a database-wide timeout default: PostgreSQL only (SQLite is a
 *   file opened in our own process: no server connection to lose, no statement_timeout);
 * - the database full: both (SQLite: `PRAGMA max_page_count` on the command's connection; PostgreSQL: the
 *   jobs table in a tablespace on a small tmpfs, so the server's own write fails with ENOSPC);
 * - the archive's disk full: both (the storage folder on a small tmpfs; the file is ours on both engines);
 * - a lock: both (PostgreSQL: another session's lock and a short lock_timeout of ours; SQLite: another
 *   connection's BEGIN IMMEDIATE and the fixed 10 s busy timeout, through the CLI: the slowest case).
 * The queue worker's faults are connection losses (in a job, at the claim): PostgreSQL only.
 */

const NOW = new Date('2026-02-17T02:00:00Z')
const clock = fixedClock(NOW)
/** SQL a fault message must never carry (knex puts the failed statement in front of the driver's message). */
const SQL_TEXT = /\b(select|insert into|update|delete from|rollback|begin|commit|pragma)\b/i

type Fault = Error & {code?: string}

/**
 * The error the run fails with. A run that is still going after `ms` fails the test at once (a lock or a
 * timeout of ours that is not set would otherwise wait on the server for ever).
 */
async function rejection(promise: Promise<unknown>, ms = 20_000): Promise<Fault> {
  let timer: NodeJS.Timeout | undefined
  const stuck = new Promise<'stuck'>((resolve) => {
    timer = setTimeout(() => resolve('stuck'), ms)
  })
  let outcome: unknown
  try {
    outcome = await Promise.race([promise, stuck])
  } catch (error) {
    return error as Fault
  } finally {
    clearTimeout(timer)
  }
  if (outcome === 'stuck') throw new Error(`the run was still waiting after ${ms / 1000} s: the injected fault did not stop it`)
  throw new Error(`expected the run to fail on the injected fault, but it succeeded: ${JSON.stringify(outcome)}`)
}

/** The plain one-line report a user sees for a fault. */
function expectPlainFault(error: Fault, code: string): string {
  expect(error.code, `${error.name}: ${error.message}`).to.equal(code)
  expect(error.message).to.not.match(SQL_TEXT)
  expect(error.message).to.not.include('\n')
  return error.message
}

/** The one line of a failed CLI run (exit 1, nothing on stdout), checked for SQL text. */
function expectOneLine(result: CliResult): string {
  expect(result.code, result.stderr).to.equal(1)
  expect(result.stdout).to.equal('')
  const lines = result.stderr.trim().split('\n')
  expect(lines, result.stderr).to.have.length(1)
  expect(lines[0]).to.match(/^error: /)
  expect(lines[0]).to.not.match(SQL_TEXT)
  return lines[0]
}

const sh = (command: string, args: string[]) => execFileSync(command, args, {stdio: 'pipe'}).toString()

/** Mounts a tmpfs of `size` on `dir`; false when this machine does not let us (no root, no tmpfs). */
function mountTmpfs(dir: string, size: string, extra = ''): boolean {
  mkdirSync(dir, {recursive: true})
  try {
    sh('mount', ['-t', 'tmpfs', '-o', `size=${size}${extra}`, 'tmpfs', dir])
    return true
  } catch {
    return false
  }
}

function unmount(dir: string): void {
  try {
    sh('umount', [dir])
  } catch {
    sh('umount', ['-l', dir])
  }
  rmdirSync(dir)
}

/** Leaves about `bytes` free on the file system of `dir` (a filler file takes the rest). */
function fillDisk(dir: string, bytes: number): string {
  const {bavail, bsize} = statfsSync(dir)
  const filler = path.join(dir, 'filler.bin')
  writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - bytes)))
  return filler
}

describeEachEngine('faults tell what happened, what was done and what to do next', (ctx) => {
  let db: Database
  let tenantId: string
  /** Connections opened by a test (for a fault of its own): closed after it. */
  const extra: Database[] = []
  const openExtra = async (timeouts?: Partial<SessionTimeouts>): Promise<Database> => {
    const opened = await openDatabase(ctx.scratch.target, timeouts ? {timeouts} : {})
    extra.push(opened)
    return opened
  }

  before(async () => {
    db = await ctx.scratch.open()
    await migrate(db)
    tenantId = uuid7()
    await db.knex('plans').insert({key: 'standard', name: 'Standar', orders_limit: 1000}).onConflict('key').ignore()
    await db.knex('tenants').insert({id: tenantId, name: 'Fault Tenant', status: 'active'})
    // The mock provider (registered by the migrations) active for the tenant, for the worker's sends.
    const mock = await db.knex('wa_providers').where({key: 'mock'}).first<{id: number}>('id')
    const at = toDbTimestamp(NOW)
    await db
      .knex('wa_provider_configs')
      .insert({id: uuid7(), tenant_id: tenantId, provider_id: mock.id, credentials_json: '{"token":"t"}', is_active: true, created_at: at, updated_at: at})
  })
  beforeEach(async () => {
    for (const table of ['jobs', 'wa_messages', 'audit_events', 'cache_locks', 'quota_usage']) await db.knex(table).delete()
  })
  afterEach(async () => {
    await Promise.all(extra.splice(0).map((d) => d.close().catch(() => {})))
  })

  // ---------------------------------------------------------------------------------------------------
  // Data and checks

  /** `n` failed messages with a retryable reason, in redrive order (oldest updated_at first). */
  async function failedMessages(n: number): Promise<string[]> {
    const ids: string[] = []
    const rows = []
    for (let i = 0; i < n; i++) {
      const id = uuid7()
      ids.push(id)
      const at = toDbTimestamp(new Date(NOW.getTime() - (n - i) * 60_000))
      rows.push({
        id,
        tenant_id: tenantId,
        template_id: 'WA_ORDER_DONE',
        idempotency_key: `fault-${id}`,
        to_phone: '6281234567890',
        body_text: `pesan ${i}`,
        status: 'failed',
        attempts: 5,
        last_error_code: 'NETWORK_ERROR',
        last_error_message: 'network timeout',
        metadata_json: '{}',
        source_channel: 'system',
        created_at: at,
        updated_at: at,
      })
    }
    await db.knex.batchInsert('wa_messages', rows, 100)
    return ids
  }

  const queuedIds = async () =>
    ((await db.knex('wa_messages').where({status: 'queued'}).orderBy('updated_at').orderBy('id').pluck('id')) as string[]).map(String)

  /** The message id of every send job, one entry per job (a message enqueued twice shows twice). */
  async function jobMessageIds(): Promise<string[]> {
    const payloads = (await db.knex('jobs').pluck('payload')) as string[]
    return payloads.map((p) => waMessageIdOf(decodePayload(p).command))
  }

  /** Requeued and committed = exactly these messages, each with exactly one send job. */
  async function expectRequeued(ids: string[]): Promise<void> {
    expect((await queuedIds()).sort()).to.deep.equal([...ids].sort())
    expect((await jobMessageIds()).sort()).to.deep.equal([...ids].sort())
  }

  /** `n` audit events older than 90 days, with some metadata so that a page of 100 rows is about 50 kB. */
  async function oldAuditEvents(n: number): Promise<string[]> {
    const ids: string[] = []
    const rows = []
    for (let i = 0; i < n; i++) {
      const id = uuid7()
      ids.push(id)
      const at = toDbTimestamp(new Date(NOW.getTime() - 100 * 86_400_000 + i * 1000))
      rows.push({
        id,
        tenant_id: tenantId,
        event_key: 'ORDER_CREATED',
        channel: 'api',
        entity_type: 'order',
        entity_id: `ORD-${i}`,
        request_id: `req-${i}`,
        ip_address: '10.0.0.1',
        metadata_json: JSON.stringify({i, note: 'x'.repeat(150)}),
        created_at: at,
        updated_at: at,
      })
    }
    await db.knex.batchInsert('audit_events', rows, 200)
    return ids
  }

  const auditIds = async () => ((await db.knex('audit_events').pluck('id')) as string[]).map(String)
  const archiveFiles = (storage: string) => {
    const dir = path.join(storage, 'app', 'audit-archives')
    return existsSync(dir) ? readdirSync(dir).filter((name) => name.startsWith('audit-events-')) : []
  }

  /** Every row exactly once: in the table or in one archive file (a file may share rows with the table only until its run is finished). */
  async function expectEachRowOnce(storage: string, ids: string[]): Promise<void> {
    const archived = archivedIds(path.join(storage, 'app', 'audit-archives'))
    for (const [id, files] of archived) expect(files, `row ${id}`).to.have.length(1)
    const table = await auditIds()
    expect(
      table.filter((id) => archived.has(id)),
      'rows both archived and still in the table',
    ).to.deep.equal([])
    expect([...archived.keys(), ...table].sort()).to.deep.equal([...ids].sort())
  }

  const archiveOptions = (storage: string, more: Partial<ArchiveOptions> = {}): ArchiveOptions => ({
    days: 90,
    chunk: 100,
    dryRun: false,
    gzip: false,
    clock,
    storage,
    toolVersion: '0.0.0-test',
    ...more,
  })

  const redrive = (on: Database, limit = 2000): Promise<RedriveResult> =>
    redriveFailedMessages(on, {limit, reasons: [], allReasons: false, dryRun: false, clock})

  /**
   * A PostgreSQL trigger for one test: `body` runs in a plpgsql function after `events`, for each row
   * matching `rowWhen`, or once per statement without it. The returned function drops it.
   */
  async function pgTrigger(table: string, events: string, body: string, rowWhen?: string): Promise<() => Promise<void>> {
    const name = `laundry_ops_fault_${table}`
    await db.knex.raw(`create or replace function ${name}() returns trigger language plpgsql as $$ begin ${body}; return null; end $$`)
    const each = rowWhen ? `for each row when (${rowWhen})` : 'for each statement'
    await db.knex.raw(`create trigger ${name} after ${events} on ${table} ${each} execute function ${name}()`)
    return async () => {
      await db.knex.raw(`drop trigger if exists ${name} on ${table}`)
      await db.knex.raw(`drop function if exists ${name}()`)
    }
  }

  /** A session of someone else (the web application, a migration) on the same database. */
  async function otherSession(): Promise<pg.Client> {
    const client = new pg.Client({connectionString: ctx.scratch.url})
    await client.connect()
    return client
  }

  const cliEnv = (storage: string) => ({DATABASE_URL: ctx.scratch.url, LAUNDRY_OPS_STORAGE: storage})

  // ---------------------------------------------------------------------------------------------------
  // The full disk: the archive file on a small tmpfs (both engines: the file is ours)

  describe('a full disk under the archive folder', () => {
    let mounts: string[] = []
    const storageOn = function (this: Mocha.Context, size: string): string {
      const storage = path.join(ctx.scratch.dir, `storage-${mounts.length + 1}`)
      if (!mountTmpfs(storage, size)) {
        this.skip() // reported as pending: mounting a tmpfs needs root (mount -t tmpfs failed)
      }
      mounts.push(storage)
      return storage
    }
    afterEach(() => {
      for (const dir of mounts) unmount(dir)
      mounts = []
    })

    it('mid-way: DISK_FULL names the file, says how many rows it holds, that the next run finishes it and to free space; after freeing space a rerun archives every row exactly once (CLI)', async function () {
      const storage = storageOn.call(this, '128k')
      const ids = await oldAuditEvents(600)
      const failed = await runCli(['audit', 'archive', '--chunk', '100'], {cwd: ctx.scratch.dir, env: cliEnv(storage)})
      const line = expectOneLine(failed)
      expect(line).to.match(/^error: the disk is out of space \(writing \S+\)/)
      const files = archiveFiles(storage).filter((f) => f.endsWith('.jsonl'))
      expect(files).to.have.length(1)
      const file = path.join(storage, 'app', 'audit-archives', files[0])
      const counts = /(\d+) row\(s\) were written and fsynced to (\S+) and (\d+) of them deleted/.exec(line)
      const written = Number(counts?.[1])
      const deleted = Number(counts?.[3])
      expect(line).to.include(`were written and fsynced to ${file} and`)
      expect(written).to.be.greaterThan(0).and.lessThan(600)
      // The file holds at least the fsynced rows (a torn page after them may add whole lines: the rerun keeps them).
      expect(readArchiveLines(file).lines.length).to.be.at.least(written)
      expect(line).to.include(
        `${600 - deleted} matching row(s) are still in the table (${written - deleted} of them already in the file, ${600 - written} not yet written)`,
      )
      expect(line).to.include(`finishes ${files[0]}`)
      expect(line).to.match(/free space/)
      // Nothing lost: every row is in the table or in the file.
      const inFile = new Set(readArchiveLines(file).lines.map((l) => String((JSON.parse(l) as {id: string}).id)))
      const table = new Set(await auditIds())
      expect(ids.filter((id) => !inFile.has(id) && !table.has(id))).to.deep.equal([])

      sh('mount', ['-o', 'remount,size=8m', storage]) // free space
      const rerun = await runCli(['audit', 'archive', '--chunk', '100'], {cwd: ctx.scratch.dir, env: cliEnv(storage)})
      expect(rerun.code, rerun.stderr).to.equal(0)
      expect(rerun.stderr).to.include(`Finished the interrupted archive ${file}`)
      await expectEachRowOnce(storage, ids)
      expect(await auditIds()).to.deep.equal([])
      expect(archiveFiles(storage).filter((f) => f.endsWith('.manifest.json'))).to.have.length(2)
    })

    it('before the first page: DISK_FULL, no archive file is left behind, nothing archived, free space and rerun', async function () {
      const storage = storageOn.call(this, '256k')
      const ids = await oldAuditEvents(300)
      mkdirSync(path.join(storage, 'app', 'audit-archives'), {recursive: true})
      const filler = fillDisk(storage, 8192) // room for the small source record, not for a 50 kB page
      const error = await rejection(archiveAuditEvents(db, archiveOptions(storage)))
      const message = expectPlainFault(error, 'DISK_FULL')
      expect(message).to.match(/no row was archived or deleted, and no archive file was left behind/)
      expect(message).to.match(/free space/)
      expect(message).to.match(/rerun/)
      expect(archiveFiles(storage), 'files left in the archive folder').to.deep.equal([])
      expect((await auditIds()).sort()).to.deep.equal([...ids].sort())

      rmSync(filler)
      const rerun = await archiveAuditEvents(db, archiveOptions(storage))
      expect(rerun).to.deep.include({matched: 300, archived: 300, deleted: 300, recovered: []})
      await expectEachRowOnce(storage, ids)
    })

    it('mid-way with deletes committed (core): the counts in the message are the rows in the file and the rows deleted', async function () {
      const storage = storageOn.call(this, '192k')
      const ids = await oldAuditEvents(800)
      const error = await rejection(archiveAuditEvents(db, archiveOptions(storage, {deleteBatchRows: 100})))
      const message = expectPlainFault(error, 'DISK_FULL')
      const [, written, file, deleted] = /(\d+) row\(s\) were written and fsynced to (\S+) and (\d+) of them deleted from the table/.exec(message) ?? []
      expect(Number(written)).to.be.greaterThan(100).and.lessThan(800)
      expect(Number(deleted)).to.equal(Number(written)) // each fsynced page is deleted before the next is written (batch 100)
      expect(await auditIds()).to.have.length(800 - Number(deleted))
      expect(readArchiveLines(file).lines.length).to.be.at.least(Number(written))
      expect(message).to.include(`writing ${file}`)
      expect(message).to.match(/free space/)

      sh('mount', ['-o', 'remount,size=8m', storage])
      const rerun = await archiveAuditEvents(db, archiveOptions(storage, {deleteBatchRows: 100}))
      expect(rerun.recovered.map((r) => r.file)).to.deep.equal([file])
      expect(rerun.archived + rerun.recovered[0].rows).to.equal(800)
      await expectEachRowOnce(storage, ids)
    })
  })

  // ---------------------------------------------------------------------------------------------------
  // The database full, mid-way through `wa redrive`

  if (ctx.dialect === 'sqlite') {
    it('SQLite database full (max_page_count) mid-way through wa redrive: DISK_FULL with the messages requeued and committed; a rerun requeues the rest once', async () => {
      const ids = await failedMessages(200)
      const full = await openExtra()
      await full.knex.raw('vacuum') // no free pages left from earlier tests: the room is the 2 pages below
      const [{page_count: pages}] = await full.knex.raw<Array<{page_count: number}>>('pragma page_count')
      await full.knex.raw(`pragma max_page_count = ${pages + 2}`)
      const error = await rejection(redrive(full))
      const message = expectPlainFault(error, 'DISK_FULL')
      const done = Number(/(\d+) of 200 candidate message\(s\) were requeued and committed/.exec(message)?.[1])
      expect(done).to.be.greaterThan(0).and.lessThan(200)
      await expectRequeued(ids.slice(0, done))
      expect(message).to.include(`the other ${200 - done} were not changed`)
      expect(message).to.include(ctx.scratch.target.client === 'sqlite' ? ctx.scratch.target.filename : '?')
      expect(message).to.match(/free space/)
      expect(message).to.match(/rerun/)

      const rerun = await redrive(db)
      expect(rerun.requeued).to.equal(200 - done)
      await expectRequeued(ids)
    })
  }

  if (ctx.dialect === 'pg') {
    describe('the PostgreSQL server out of space (the jobs table in a tablespace on a small tmpfs)', () => {
      const dir = `/tmp/laundry-ops-faults-space-${process.pid}`
      const space = `laundry_ops_faults_${process.pid}`
      let mounted = false
      let created = false
      before(async function () {
        const owner = (name: string) => sh('id', [name === 'u' ? '-u' : '-g', 'postgres']).trim()
        let ids: string
        try {
          ids = `,uid=${owner('u')},gid=${owner('g')},mode=0700`
        } catch {
          this.skip() // no postgres system user on this machine: the server is elsewhere, its disk out of reach
        }
        mounted = mountTmpfs(dir, '64k', ids!)
        if (!mounted) this.skip() // mounting a tmpfs needs root
        try {
          await db.knex.raw(`create tablespace ${space} location '${dir}'`)
          created = true
        } catch {
          this.skip() // the server cannot use the folder (another machine, or not a superuser)
        }
      })
      after(async () => {
        if (created) {
          await db.knex.raw('alter table jobs set tablespace pg_default')
          await db.knex.raw(`drop tablespace if exists ${space}`)
        }
        if (mounted) unmount(dir)
      })

      it('mid-way through wa redrive: DISK_FULL with the messages requeued and committed; after freeing space a rerun requeues the rest once', async () => {
        await db.knex.raw('truncate jobs') // a new, empty file: dead rows of earlier tests would not fit in 64 kB
        await db.knex.raw(`alter table jobs set tablespace ${space}`)
        const ids = await failedMessages(300)
        const error = await rejection(redrive(db))
        const message = expectPlainFault(error, 'DISK_FULL')
        expect(message).to.match(/^the PostgreSQL server at 127\.0\.0\.1:5432 is out of space/)
        const done = Number(/(\d+) of 300 candidate message\(s\) were requeued and committed/.exec(message)?.[1])
        expect(done).to.be.greaterThan(0).and.lessThan(300)
        await expectRequeued(ids.slice(0, done))
        expect(message).to.include(`the other ${300 - done} were not changed`)
        expect(message).to.match(/free space/)

        sh('mount', ['-o', 'remount,size=8m', dir])
        expect((await redrive(db)).requeued).to.equal(300 - done)
        await expectRequeued(ids)
      })
    })
  }

  // ---------------------------------------------------------------------------------------------------
  // Connection loss and server-side timeouts: PostgreSQL only

  if (ctx.dialect === 'pg') {
    it('connection lost mid-way through `wa redrive --limit 2000` (CLI): one line with DB_CONNECTION_LOST, how many were requeued and committed, the rest, rerun; the rerun requeues each message once', async () => {
      const ids = await failedMessages(50)
      // The server ends our session while the 20th message is being requeued (19 are committed).
      const drop = await pgTrigger(
        'wa_messages',
        'update',
        `if (select count(*) from wa_messages where status = 'queued') = 20 then perform pg_terminate_backend(pg_backend_pid()); end if`,
        `new.status = 'queued'`,
      )
      const storage = path.join(ctx.scratch.dir, 'storage')
      let line: string
      try {
        line = expectOneLine(await runCli(['wa', 'redrive', '--limit', '2000'], {cwd: ctx.scratch.dir, env: cliEnv(storage)}))
      } finally {
        await drop()
      }
      expect(line).to.match(/^error: the connection to PostgreSQL at 127\.0\.0\.1:5432\/\S+ was lost \(/)
      expect(line).to.include('19 of 50 candidate message(s) were requeued and committed')
      expect(line).to.include('the other 31 were not changed')
      expect(line).to.match(/rerun `laundry-ops wa redrive`/)
      await expectRequeued(ids.slice(0, 19))

      const json = parseJson(await runCli(['wa', 'redrive', '--limit', '2000', '--json'], {cwd: ctx.scratch.dir, env: cliEnv(storage)})) as {requeued: number}
      expect(json.requeued).to.equal(31)
      await expectRequeued(ids)
    })

    it('connection lost mid-way through audit archive (core): DB_CONNECTION_LOST with the rows in the file and those deleted; the next run finishes the file and each row is archived once', async () => {
      const storage = path.join(ctx.scratch.dir, `storage-cut-${Date.now()}`)
      const ids = await oldAuditEvents(500)
      // The second delete batch ends its own session: batch 1 (100 rows) is committed, batch 2 is not.
      const drop = await pgTrigger(
        'audit_events',
        'delete',
        `if (select count(*) from audit_events) < 350 then perform pg_terminate_backend(pg_backend_pid()); end if`,
      )
      let error: Fault
      try {
        error = await rejection(archiveAuditEvents(await openExtra(), archiveOptions(storage, {deleteBatchRows: 100})))
      } finally {
        await drop()
      }
      const message = expectPlainFault(error, 'DB_CONNECTION_LOST')
      const [file] = archiveFiles(storage).filter((f) => f.endsWith('.jsonl'))
      const full = path.join(storage, 'app', 'audit-archives', file)
      // Page 3 is written before the failed delete of batch 2 is awaited.
      expect(message).to.include(`300 row(s) were written and fsynced to ${full} and 100 of them deleted from the table`)
      expect(message).to.include('400 matching row(s) are still in the table (200 of them already in the file, 200 not yet written)')
      expect(message).to.include(`the next \`laundry-ops audit archive\` run finishes ${file}`)
      expect(await auditIds()).to.have.length(400)
      expect(readArchiveLines(full).lines).to.have.length(300)

      const rerun = await archiveAuditEvents(db, archiveOptions(storage, {deleteBatchRows: 100}))
      expect(rerun.recovered).to.deep.equal([{file: full, rows: 300, deleted_from_table: 200, torn_tail: false}])
      expect(rerun).to.deep.include({matched: 200, archived: 200, deleted: 200})
      await expectEachRowOnce(storage, ids)
    })

    it('a statement longer than our statement_timeout (core): DB_TIMEOUT with the messages requeued and committed; a rerun requeues the rest once', async () => {
      const ids = await failedMessages(50)
      const drop = await pgTrigger(
        'wa_messages',
        'update',
        `if (select count(*) from wa_messages where status = 'queued') = 20 then perform pg_sleep(2); end if`,
        `new.status = 'queued'`,
      )
      let error: Fault
      try {
        error = await rejection(redrive(await openExtra({statement_timeout: 200})))
      } finally {
        await drop()
      }
      const message = expectPlainFault(error, 'DB_TIMEOUT')
      expect(message).to.match(/cancelled a statement \(statement_timeout\)/)
      expect(message).to.include('19 of 50 candidate message(s) were requeued and committed')
      expect(message).to.include('the other 31 were not changed')
      expect(message).to.match(/rerun/)
      await expectRequeued(ids.slice(0, 19))
      expect((await redrive(db)).requeued).to.equal(31)
      await expectRequeued(ids)
    })

    it('a database-wide statement_timeout and idle_in_transaction_session_timeout of 1 ms do not break audit archive or quota reconcile (CLI): our sessions set their own', async () => {
      const ids = await oldAuditEvents(300)
      const storage = path.join(ctx.scratch.dir, `storage-defaults-${Date.now()}`)
      const database = ctx.scratch.target.client === 'pg' ? ctx.scratch.target.database : ''
      // Slow statements, as on a big table: 20 ms, far above the database default, far below ours.
      const dropDelete = await pgTrigger('audit_events', 'delete', 'perform pg_sleep(0.02)')
      const dropQuota = await pgTrigger('quota_usage', 'insert or update', 'perform pg_sleep(0.02)')
      await db.knex.raw(`alter database "${database}" set statement_timeout = '1ms'`)
      await db.knex.raw(`alter database "${database}" set idle_in_transaction_session_timeout = '1ms'`)
      try {
        // The default is real: a session that does not set its own is cancelled.
        const web = await otherSession()
        try {
          expect((await web.query('show statement_timeout')).rows).to.deep.equal([{statement_timeout: '1ms'}])
          const cancelled = await rejection(web.query('select pg_sleep(0.02)'))
          expect(cancelled.code).to.equal('57014')
        } finally {
          await web.end().catch(() => {})
        }
        const archive = await runCli(['audit', 'archive', '--chunk', '100'], {cwd: ctx.scratch.dir, env: cliEnv(storage)})
        expect(archive.code, archive.stderr).to.equal(0)
        expect(archive.stdout).to.match(/^Archive summary: matched=300, archived=300, deleted=300, dry_run=no$/m)
        await expectEachRowOnce(storage, ids)
        const quota = await runCli(['quota', 'reconcile', '2026-02'], {cwd: ctx.scratch.dir, env: cliEnv(storage)})
        expect(quota.code, quota.stderr).to.equal(0)
        expect(quota.stdout).to.match(/Quota reconcile summary: period=2026-02, tenants=1, updated=0, dry_run=no, created=1, unchanged=0/)
      } finally {
        await db.knex.raw(`alter database "${database}" reset statement_timeout`)
        await db.knex.raw(`alter database "${database}" reset idle_in_transaction_session_timeout`)
        await dropDelete()
        await dropQuota()
      }
    })
  }

  // ---------------------------------------------------------------------------------------------------
  // The queue worker: connection lost in a job and between jobs (PostgreSQL only, as above)

  if (ctx.dialect === 'pg') {
    describe('queue work', () => {
      const drain: WorkerOptions = {...DEFAULT_WORKER_OPTIONS, stopWhenEmpty: true, sleep: 0, timeout: 30}
      /** What the provider was asked to send: message body -> times. */
      let sends: Map<string, number>
      let providers: ReadonlyMap<string, WaProvider>
      beforeEach(() => {
        const seen = new Map<string, number>()
        sends = seen
        providers = new Map([
          [
            'mock',
            {
              ...mockProvider,
              sendText(to, text, credentials, metadata) {
                seen.set(text, (seen.get(text) ?? 0) + 1)
                return mockProvider.sendText(to, text, credentials, metadata)
              },
            },
          ],
        ])
      })
      const sentIds = async () => ((await db.knex('wa_messages').where({status: 'sent'}).orderBy('id').pluck('id')) as string[]).map(String)

      it('connection lost while the outcome of a send is recorded (core): the recording is tried again on a new connection, the message is not sent again, and the drain finishes', async () => {
        const ids = await failedMessages(30)
        await redrive(db)
        // The 10th send's own update ends its session once (a sequence is not rolled back with it), after
        // the provider accepted the message.
        await db.knex.raw('create sequence if not exists laundry_ops_fault_once')
        const dropSend = await pgTrigger(
          'wa_messages',
          'update',
          `if (select count(*) from wa_messages where status = 'sent') = 10 then if nextval('laundry_ops_fault_once') = 1 then perform pg_terminate_backend(pg_backend_pid()); end if; end if`,
          `new.status = 'sent'`,
        )
        const events: JobEvent[] = []
        let result: WorkerResult
        try {
          result = await runWorker(await openExtra(), drain, {clock, providers, onEvent: (e) => events.push(e)})
        } finally {
          await dropSend()
          await db.knex.raw('drop sequence if exists laundry_ops_fault_once')
        }
        expect(result).to.deep.include({processed: 30, failed: 0, released: 0, exit_code: 0})
        expect(result.messages).to.deep.include({sent: 30, possible_duplicates: 0})
        const retries = events.filter((e) => e.type === 'recording')
        expect(retries, 'one recording tried again').to.have.length(1)
        expect(retries[0].type === 'recording' && retries[0].retry.code).to.equal('DB_CONNECTION_LOST')
        expect(await sentIds()).to.deep.equal([...ids].sort())
        expect(await jobMessageIds()).to.deep.equal([])
        // The provider was asked once per message: the fault cost a second recording, not a second send.
        expect([...sends.values()].every((n) => n === 1) && sends.size === 30, JSON.stringify([...sends])).to.equal(true)
      })

      it('connection lost while the next job is claimed (core): DB_CONNECTION_LOST with the jobs processed and no job in hand; a restarted worker sends every other message once', async () => {
        const ids = await failedMessages(30)
        await redrive(db)
        const drop = await pgTrigger(
          'jobs',
          'update',
          `if (select count(*) from wa_messages where status = 'sent') = 5 then perform pg_terminate_backend(pg_backend_pid()); end if`,
          'new.reserved_at is not null',
        )
        let error: Fault
        try {
          error = await rejection(runWorker(await openExtra(), drain, {clock, providers}))
        } finally {
          await drop()
        }
        const message = expectPlainFault(error, 'DB_CONNECTION_LOST')
        expect(message).to.include('5 job(s) processed, 0 released and 0 failed before it')
        expect(message).to.match(/no job was in hand/)
        expect(message).to.match(/restart the worker/)
        expect(await sentIds()).to.deep.equal([...ids.slice(0, 5)].sort())
        expect(await db.knex('jobs').whereNotNull('reserved_at').pluck('id')).to.deep.equal([])

        expect(await runWorker(db, drain, {clock, providers})).to.deep.include({processed: 25, failed: 0})
        expect(await sentIds()).to.deep.equal([...ids].sort())
        expect([...sends.values()].every((n) => n === 1) && sends.size === 30, JSON.stringify([...sends])).to.equal(true)
      })
    })
  }

  // ---------------------------------------------------------------------------------------------------
  // Locks held by another process

  if (ctx.dialect === 'pg') {
    it('a table lock held by another session (core, lock_timeout 300 ms): audit archive fails with DB_LOCKED, nothing changed, no archive file', async () => {
      const ids = await oldAuditEvents(200)
      const storage = path.join(ctx.scratch.dir, `storage-lock-${Date.now()}`)
      const migration = await otherSession()
      try {
        await migration.query('begin')
        await migration.query('lock table audit_events in access exclusive mode')
        const error = await rejection(archiveAuditEvents(await openExtra({lock_timeout: 300}), archiveOptions(storage)))
        const message = expectPlainFault(error, 'DB_LOCKED')
        expect(message).to.match(/held by another session/)
        expect(message).to.match(/no row was archived|nothing was (archived|changed)|no new archive was started/)
        expect(message).to.match(/rerun/)
      } finally {
        await migration.query('rollback').catch(() => {})
        await migration.end().catch(() => {})
      }
      expect(archiveFiles(storage)).to.deep.equal([])
      expect((await auditIds()).sort()).to.deep.equal([...ids].sort())
      expect(await db.knex('cache_locks').pluck('key'), 'archive lease left behind').to.deep.equal([])
    })

    it('a row lock held by another session mid-way through wa redrive (core, lock_timeout 300 ms): DB_LOCKED with the messages requeued and committed', async () => {
      const ids = await failedMessages(50)
      const web = await otherSession()
      try {
        await web.query('begin')
        await web.query('select id from wa_messages where id = $1 for update', [ids[19]])
        const error = await rejection(redrive(await openExtra({lock_timeout: 300})))
        const message = expectPlainFault(error, 'DB_LOCKED')
        expect(message).to.include('19 of 50 candidate message(s) were requeued and committed')
        expect(message).to.include('the other 31 were not changed')
        expect(message).to.match(/rerun/)
      } finally {
        await web.query('rollback').catch(() => {})
        await web.end().catch(() => {})
      }
      await expectRequeued(ids.slice(0, 19))
      expect((await redrive(db)).requeued).to.equal(31)
      await expectRequeued(ids)
    })
  }

  if (ctx.dialect === 'sqlite') {
    it('another connection holding BEGIN IMMEDIATE (CLI, waits the 10 s busy timeout): audit archive fails with DB_LOCKED, nothing changed, no archive file', async () => {
      const ids = await oldAuditEvents(200)
      const storage = path.join(ctx.scratch.dir, `storage-lock-${Date.now()}`)
      const other = new BetterSqlite3(ctx.scratch.target.client === 'sqlite' ? ctx.scratch.target.filename : '')
      let line: string
      try {
        other.exec('BEGIN IMMEDIATE')
        line = expectOneLine(await runCli(['audit', 'archive'], {cwd: ctx.scratch.dir, env: cliEnv(storage), timeoutMs: 60_000}))
      } finally {
        if (other.inTransaction) other.exec('ROLLBACK')
        other.close()
      }
      expect(line).to.match(/stayed locked by another process/)
      expect(line).to.match(/nothing was (archived|changed)|no row was archived|no new archive was started/)
      expect(line).to.match(/rerun `laundry-ops audit archive` once the other process has finished/)
      expect(archiveFiles(storage)).to.deep.equal([])
      expect((await auditIds()).sort()).to.deep.equal([...ids].sort())
      const json = parseJson(await runCli(['audit', 'archive', '--json'], {cwd: ctx.scratch.dir, env: cliEnv(storage)})) as {archived: number}
      expect(json.archived).to.equal(200)
    })
  }
})
