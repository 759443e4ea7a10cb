import {execFileSync, spawn} from 'node:child_process'
import {existsSync, readdirSync} from 'node:fs'

import {expect} from 'chai'
import pg from 'pg'

import {openDatabase} from '../../src/core/db/connection.js'
import type {Database} from '../../src/core/db/connection.js'
import type {WaMessageRow} from '../../src/core/db/rows.js'
import {DEFAULT_WORKER_OPTIONS, type JobEvent, runWorker, type WorkerOptions} from '../../src/core/queue/worker.js'
import {type CliExit, ROOT, runCli, startCli} from '../helpers/cli.js'
import {describeEachEngine, PG_ADMIN_URL} from '../helpers/engines.js'
import {startGateway, type TestGateway} from '../helpers/gateway.js'
import {queueMessages} from '../helpers/queue-messages.js'
import {manualClock, premiumDemoTenant, type WaTenant} from '../helpers/wa.js'

/**
 * Faults between the provider's answer and the commit of the outcome, on the real engines, with a real
 * HTTP gateway that counts calls per message (the message body is its id). The contract: no worker sends
 * a message twice by itself; after a rerun every message is sent or failed and none is `queued` without
 * a job; a message that may have gone out twice is marked (test/commands/queue-concurrency.test.ts kills
 * a worker for that).
 */

// DB_QUEUE_RETRY_AFTER of each test: longer than its fault (a reservation that expires while its worker waits
// out a fault is taken over, as Laravel's is: that send is a marked possible duplicate, not what these tests
// are about), short enough that the rerun does not wait long for a job a stopped worker left reserved.
const RETRY_AFTER = 10
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(25)
  }
}

const sendState = (m: Pick<WaMessageRow, 'metadata_json'>): Record<string, unknown> => {
  const metadata = (typeof m.metadata_json === 'string' ? JSON.parse(m.metadata_json) : m.metadata_json) as Record<string, unknown>
  return (metadata.laundry_ops_send ?? {}) as Record<string, unknown>
}

/** The local cluster's version folder (/etc/postgresql/<v>), when this machine runs the test server and we may stop it. */
function localCluster(): string | null {
  if (process.getuid?.() !== 0 || !existsSync('/etc/postgresql')) return null
  if (!/@(127\.0\.0\.1|localhost)(:5432)?\//.test(PG_ADMIN_URL)) return null
  try {
    execFileSync('which', ['pg_ctlcluster'], {stdio: 'pipe'})
  } catch {
    return null
  }
  return readdirSync('/etc/postgresql')[0] ?? null
}

describeEachEngine('the send path under database faults [slow]', {from: 'seeded'}, (ctx) => {
  let db: Database
  let gateway: TestGateway
  let t: WaTenant
  let retryAfter = RETRY_AFTER
  const env = () => ({DATABASE_URL: ctx.scratch.url, DB_QUEUE_RETRY_AFTER: String(retryAfter)})
  // No --timeout: better-sqlite3 waits for a lock synchronously, which would make every job in hand overrun
  // it; a job that overruns it is cut off like a killed worker's (queue-concurrency.test.ts covers that).
  const workerArgs = (concurrency: number) => ['queue', 'work', '--stop-when-empty', '--sleep', '0', '--timeout', '0', '--concurrency', String(concurrency)]

  before(async () => {
    gateway = await startGateway(() => ({status: 200, delayMs: Math.floor(Math.random() * 21)}))
    db = await ctx.scratch.open()
    t = await premiumDemoTenant(db, manualClock(new Date().toISOString()), {provider: 'http', credentials: {url: gateway.url, token: 'f'}})
  })
  after(() => gateway.close())
  beforeEach(async () => {
    retryAfter = RETRY_AFTER
    gateway.requests.length = 0
    gateway.counts.clear()
    await db.knex('jobs').delete()
    await db.knex('failed_jobs').delete()
    await db.knex('wa_messages').delete()
  })

  /** Starts `workers` worker processes, injects the fault once the gateway has seen `faultAt` sends, and waits for them. */
  async function drainUnderFault(options: {workers: number; concurrency: number; faultAt: number; inject: () => Promise<void>}): Promise<CliExit[]> {
    const running = Array.from({length: options.workers}, () => startCli(workerArgs(options.concurrency), {cwd: ctx.scratch.dir, env: env()}))
    await until(`${options.faultAt} sends`, () => gateway.requests.length >= options.faultAt)
    await options.inject()
    const exits = await Promise.all(running.map((w) => w.exited(180_000)))
    for (const exit of exits) {
      expect([0, 1], exit.stderr).to.include(exit.code)
      // A worker the fault stopped says so in one line, after finishing the jobs in hand.
      // (or a job that overran --timeout while the database held it: Laravel's worker exits 1 then too).
      if (exit.code === 1) expect(exit.stderr.trim().split('\n').at(-1)).to.match(/^error: |^Worker stopped \(timeout\)/)
    }
    return exits
  }

  /** Reruns the worker until no job is left, waiting out reservations a stopped worker left behind. */
  async function finishDrain(): Promise<void> {
    for (let round = 0; round < 8; round++) {
      const left = Number((await db.knex('jobs').count({n: '*'}).first())?.n)
      if (left === 0) return
      const free = Number((await db.knex('jobs').whereNull('reserved_at').count({n: '*'}).first())?.n)
      if (free === 0) await sleep(retryAfter * 1000 + 500)
      const rerun = await runCli(workerArgs(16), {cwd: ctx.scratch.dir, env: env(), timeoutMs: 120_000})
      expect(rerun.code, rerun.stderr).to.equal(0)
    }
    const left = await db.knex('jobs').select('id', 'reserved_at', 'available_at', 'attempts')
    throw new Error(`jobs still left after 8 reruns: ${JSON.stringify(left.slice(0, 5))} (${left.length} in all)`)
  }

  /** Every message sent (or failed, with no job left for it), none sent twice, no attempt left in flight. */
  async function expectNoneSentTwice(ids: string[]): Promise<void> {
    expect(Number((await db.knex('jobs').count({n: '*'}).first())?.n), 'jobs left').to.equal(0)
    const messages = await db.knex<WaMessageRow>('wa_messages').whereIn('id', ids).select('id', 'status', 'last_error_code', 'metadata_json')
    expect(messages).to.have.length(ids.length)
    const queued = messages.filter((m) => m.status === 'queued')
    expect(queued, 'messages left queued').to.deep.equal([])
    const failed = messages.filter((m) => m.status === 'failed')
    // A job the faults failed (its tries used up before the provider was called) failed its message with a
    // code `wa redrive` requeues by default.
    expect(failed.every((m) => m.last_error_code === 'UNKNOWN_ERROR')).to.equal(true)
    expect(
      [...gateway.counts].filter(([, n]) => n > 1),
      'messages sent twice',
    ).to.deep.equal([])
    for (const m of messages) {
      if (m.status === 'sent') expect(gateway.counts.get(m.id), m.id).to.equal(1)
    }
    expect(messages.filter((m) => m.status === 'sent' && sendState(m).in_flight)).to.deep.equal([])
  }

  if (ctx.dialect === 'pg') {
    it('idle_in_transaction_session_timeout (200 ms) below the gateway answer time (300 ms): no session is idle in a transaction while the gateway answers; every message is sent once, no job fails (core)', async function () {
      this.timeout(60_000)
      const slow = await startGateway(() => ({status: 200, delayMs: 300}))
      try {
        await premiumDemoTenant(db, manualClock(new Date().toISOString()), {provider: 'http', credentials: {url: slow.url, token: 'i'}})
        const ids = await queueMessages(db, t.tenantId, t.outletId, 20)
        const short = await openDatabase(ctx.scratch.target, {timeouts: {idle_in_transaction_session_timeout: 200}})
        let result
        try {
          result = await runWorker(short, {...DEFAULT_WORKER_OPTIONS, stopWhenEmpty: true, sleep: 0, tries: 3, timeout: 30, concurrency: 4})
        } finally {
          await short.close()
        }
        expect(result).to.deep.include({processed: 20, failed: 0, released: 0, exit_code: 0})
        expect(result.messages).to.deep.include({sent: 20, possible_duplicates: 0})
        expect([...slow.counts.values()].every((n) => n === 1) && slow.counts.size === 20).to.equal(true)
        expect(Number((await db.knex('failed_jobs').count({n: '*'}).first())?.n)).to.equal(0)
        for (const [id, n] of slow.counts) gateway.counts.set(id, n)
        await expectNoneSentTwice(ids)
      } finally {
        await slow.close()
        await premiumDemoTenant(db, manualClock(new Date().toISOString()), {provider: 'http', credentials: {url: gateway.url, token: 'f'}})
      }
    })

    it('PostgreSQL stopped for 20 s during a 4-worker drain of 5,000: no message sent twice; a rerun sends the rest', async function () {
      const version = localCluster()
      if (!version) this.skip() // the server is not ours to stop (not root, or not the local cluster)
      this.timeout(300_000)
      retryAfter = 30
      const ids = await queueMessages(db, t.tenantId, t.outletId, 5000)
      const cluster = (action: 'stop' | 'start') =>
        execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action, ...(action === 'stop' ? ['-m', 'fast'] : [])], {stdio: 'pipe'})
      let stopped = false
      try {
        const exits = await drainUnderFault({
          workers: 4,
          concurrency: 4,
          faultAt: 1000,
          inject: async () => {
            cluster('stop')
            stopped = true
            await sleep(20_000)
            cluster('start')
            stopped = false
          },
        })
        expect(
          exits.some((e) => e.code === 1 || /recording the outcome failed/.test(e.stderr)),
          'the stop reached a worker',
        ).to.equal(true)
      } finally {
        if (stopped) cluster('start')
      }
      await until('the server accepting connections', async () => {
        try {
          await db.knex.raw('select 1')
          return true
        } catch {
          return false
        }
      })
      await finishDrain()
      await expectNoneSentTwice(ids)
    })

    it('backends terminated again and again mid-drain: no message sent twice; a rerun sends the rest', async function () {
      this.timeout(240_000)
      const ids = await queueMessages(db, t.tenantId, t.outletId, 2000)
      const admin = new pg.Client({connectionString: ctx.scratch.url})
      await admin.connect()
      let terminated = 0
      try {
        const exits = await drainUnderFault({
          workers: 4,
          concurrency: 4,
          faultAt: 300,
          inject: async () => {
            const end = Date.now() + 3000
            while (Date.now() < end) {
              // CASE keeps our own session out of it whatever order the planner evaluates the conditions in.
              const r = await admin.query<{n: string}>(
                `select count(*) filter (where case when pid <> pg_backend_pid() then pg_terminate_backend(pid) else false end) as n
                   from pg_stat_activity where datname = current_database()`,
              )
              terminated += Number(r.rows[0]?.n ?? 0)
              await sleep(250)
            }
          },
        })
        expect(terminated, 'backends terminated').to.be.greaterThan(0)
        expect(
          exits.some((e) => e.code === 1 || /recording the outcome failed/.test(e.stderr)),
          'the terminations reached a worker',
        ).to.equal(true)
      } finally {
        await admin.end()
      }
      await finishDrain()
      await expectNoneSentTwice(ids)
    })
  }

  if (ctx.dialect === 'sqlite') {
    it('another writer holds the write lock for 15 s mid-drain: no message sent twice; a rerun sends the rest', async function () {
      this.timeout(240_000)
      retryAfter = 25
      const file = ctx.scratch.target.client === 'sqlite' ? ctx.scratch.target.filename : ''
      const ids = await queueMessages(db, t.tenantId, t.outletId, 2000)
      const exits = await drainUnderFault({
        workers: 4,
        concurrency: 4,
        faultAt: 300,
        inject: () =>
          new Promise<void>((resolve, reject) => {
            const holder = spawn(
              process.execPath,
              [
                '-e',
                `const D = require('better-sqlite3'); const d = new D(process.argv[1]); d.pragma('busy_timeout = 30000'); d.exec('BEGIN IMMEDIATE'); console.log('locked'); setTimeout(() => { d.exec('COMMIT'); d.close() }, 15000)`,
                file,
              ],
              {cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit']},
            )
            holder.on('error', reject)
            holder.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`the lock holder exited ${code}`))))
          }),
      })
      expect(
        exits.some((e) => e.code === 1 || /recording the outcome failed/.test(e.stderr)),
        'the lock reached a worker',
      ).to.equal(true)
      await finishDrain()
      await expectNoneSentTwice(ids)
    })

    it('the database full mid-drain (max_page_count on the worker connection, core): the outcome recording waits for space and the message is not sent again; a rerun sends the rest', async function () {
      this.timeout(120_000)
      const ids = await queueMessages(db, t.tenantId, t.outletId, 4000)
      const worker = await openDatabase(ctx.scratch.target, {sqliteBusyTimeoutMs: 20})
      const events: JobEvent[] = []
      const options: WorkerOptions = {...DEFAULT_WORKER_OPTIONS, stopWhenEmpty: true, sleep: 0, timeout: 0, concurrency: 4, retryAfter}
      let settled = false
      const run = runWorker(worker, options, {onEvent: (e) => events.push(e)}).then(
        (result) => ({result, error: null}),
        (error: unknown) => ({result: null, error: error as Error & {code?: string}}),
      )
      void run.finally(() => (settled = true))
      try {
        await until('200 sends', () => gateway.requests.length >= 200)
        // No free page left and no room to grow: the next write that needs a page fails with SQLITE_FULL.
        await worker.knex.raw('vacuum')
        const [{page_count: pages}] = await worker.knex.raw<Array<{page_count: number}>>('pragma page_count')
        await worker.knex.raw(`pragma max_page_count = ${pages}`)
        await until('the full database to stop a write', () => settled || events.some((e) => e.type === 'recording'), 30_000)
        await sleep(2000)
      } finally {
        await worker.knex.raw('pragma max_page_count = 1073741823')
      }
      const {result, error} = await run
      await worker.close()
      const recorded = events.filter((e) => e.type === 'recording')
      const hit = recorded.length > 0 || error?.code === 'DISK_FULL'
      expect(hit, `the full database reached the worker (error: ${error?.message})`).to.equal(true)
      for (const e of recorded) expect(e.type === 'recording' && e.retry.code).to.equal('DISK_FULL')
      if (result) expect(result.exit_code).to.equal(0)
      await finishDrain()
      await expectNoneSentTwice(ids)
    })
  }
})
