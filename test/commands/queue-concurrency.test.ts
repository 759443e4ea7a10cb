import {expect} from 'chai'

import type {Database} from '../../src/core/db/connection.js'
import type {WaMessageRow} from '../../src/core/db/rows.js'
import type {ObserveReport} from '../../src/core/gates/observe-health.js'
import type {WorkerResult} from '../../src/core/queue/worker.js'
import {parseJson, runCli, startCli} from '../helpers/cli.js'
import {describeEachEngine} from '../helpers/engines.js'
import {startGateway, type TestGateway} from '../helpers/gateway.js'
import {queueMessages} from '../helpers/queue-messages.js'
import {manualClock, premiumDemoTenant, type WaTenant} from '../helpers/wa.js'

const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** A gate the gateway's answers wait on: closed, every request is held until `open()`. */
function gate() {
  let open: () => void = () => {}
  let promise = new Promise<void>((resolve) => (open = resolve))
  return {
    wait: () => promise,
    open: () => open(),
    close: () => {
      promise = new Promise<void>((resolve) => (open = resolve))
    },
  }
}

const sendState = (m: Pick<WaMessageRow, 'metadata_json'>): Record<string, unknown> => {
  const metadata = (typeof m.metadata_json === 'string' ? JSON.parse(m.metadata_json) : m.metadata_json) as Record<string, unknown>
  return (metadata.laundry_ops_send ?? {}) as Record<string, unknown>
}

describeEachEngine('queue work --concurrency [slow]', {from: 'seeded'}, (ctx) => {
  let db: Database
  let gateway: TestGateway
  let t: WaTenant
  let behaviour: () => Promise<{status: number; delayMs?: number}> | {status: number; delayMs?: number}
  const env = () => ({DATABASE_URL: ctx.scratch.url})

  before(async () => {
    gateway = await startGateway(() => behaviour())
    db = await ctx.scratch.open()
    t = await premiumDemoTenant(db, manualClock(new Date().toISOString()), {provider: 'http', credentials: {url: gateway.url, token: 'c'}})
  })
  after(() => gateway.close())
  beforeEach(async () => {
    gateway.requests.length = 0
    gateway.counts.clear()
    await db.knex('jobs').delete()
    await db.knex('wa_messages').delete()
  })

  it('4 worker processes x 16 in flight over 5,000 messages, a gateway answering in 0-50 ms: each message reaches it exactly once, none is left unsent', async function () {
    this.timeout(240_000)
    behaviour = () => ({status: 200, delayMs: Math.floor(Math.random() * 51)})
    const ids = await queueMessages(db, t.tenantId, t.outletId, 5000)
    const workers = await Promise.all(
      [1, 2, 3, 4].map(() =>
        runCli(['queue', 'work', '--stop-when-empty', '--sleep', '0', '--concurrency', '16', '--json'], {cwd: ctx.scratch.dir, env: env(), timeoutMs: 230_000}),
      ),
    )
    for (const w of workers) expect(w.code, w.stderr).to.equal(0)
    const results = workers.map((w) => parseJson(w) as WorkerResult)
    expect(results.reduce((a, r) => a + r.processed, 0)).to.equal(5000)
    expect(
      results.every((r) => r.processed > 0),
      `per worker: ${results.map((r) => r.processed).join(',')}`,
    ).to.equal(true)
    expect(results.reduce((a, r) => a + r.messages.sent, 0)).to.equal(5000)
    expect(results.reduce((a, r) => a + r.messages.possible_duplicates, 0)).to.equal(0)

    expect(gateway.requests).to.have.length(5000)
    expect([...gateway.counts].filter(([, n]) => n !== 1)).to.deep.equal([])
    expect(ids.every((id) => gateway.counts.get(id) === 1)).to.equal(true)
    // The idempotency key is the message and its attempt.
    expect(gateway.requests.every((r) => r.idempotencyKey === `${r.text}:1`)).to.equal(true)
    // The worker's own send state stays in the database: the gateway gets the message's metadata only.
    expect(gateway.requests.filter((r) => 'laundry_ops_send' in r.metadata)).to.deep.equal([])
    const left = await db.knex('wa_messages').whereNot({status: 'sent'}).count({n: '*'}).first()
    expect(Number(left?.n)).to.equal(0)
    expect(Number((await db.knex('jobs').count({n: '*'}).first())?.n)).to.equal(0)
    // No attempt is left marked in flight.
    const marks = await db.knex<WaMessageRow>('wa_messages').select('metadata_json')
    expect(marks.filter((m) => sendState(m).in_flight)).to.have.length(0)
  })

  it('--max-jobs counts jobs with many in flight', async () => {
    behaviour = () => ({status: 200, delayMs: 20})
    await queueMessages(db, t.tenantId, t.outletId, 20)
    const run = await runCli(['queue', 'work', '--concurrency', '4', '--max-jobs', '10', '--sleep', '0', '--json'], {cwd: ctx.scratch.dir, env: env()})
    expect(run.code, run.stderr).to.equal(0)
    expect(parseJson(run)).to.deep.include({processed: 10, stop_reason: 'max_jobs'})
    expect(gateway.requests).to.have.length(10)
    expect(Number((await db.knex('jobs').whereNull('reserved_at').count({n: '*'}).first())?.n)).to.equal(10)
  })

  it('SIGTERM with 16 sends in flight to a slow gateway: all 16 complete and are recorded, nothing new is claimed, exit 0', async () => {
    const held = gate()
    behaviour = async () => {
      await held.wait()
      return {status: 200, delayMs: 100}
    }
    const ids = await queueMessages(db, t.tenantId, t.outletId, 40)
    const worker = startCli(['queue', 'work', '--concurrency', '16', '--sleep', '0.2'], {cwd: ctx.scratch.dir, env: env()})
    await until('16 sends at the gateway', () => gateway.requests.length === 16)
    worker.signal('SIGTERM')
    await worker.waitFor(/SIGTERM received: finishing the jobs in hand/, {stream: 'stderr'})
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(gateway.requests, 'nothing claimed after SIGTERM').to.have.length(16)
    held.open()
    const exit = await worker.exited()
    expect(exit.code, exit.stderr).to.equal(0)
    expect(exit.stderr).to.match(/Worker stopped \(signal\): 16 job\(s\) processed, 0 released, 0 failed; messages: 16 sent/)
    const sent = ((await db.knex('wa_messages').where({status: 'sent'}).pluck('id')) as unknown[]).map(String)
    expect([...sent].sort()).to.deep.equal(gateway.requests.map((r) => r.text).sort())
    expect(ids.filter((id) => sent.includes(id))).to.have.length(16)
    // The other 24 jobs were never touched.
    expect(await db.knex('jobs').whereNotNull('reserved_at').count({n: '*'}).first()).to.satisfy((r: {n: unknown}) => Number(r.n) === 0)
    expect(await db.knex('jobs').where({attempts: 0}).count({n: '*'}).first()).to.satisfy((r: {n: unknown}) => Number(r.n) === 24)
  })

  it('SIGKILL with 16 sends in flight: the 16 jobs are reclaimed after retry_after and sent, each marked as a possible duplicate and counted by observe health', async function () {
    this.timeout(60_000)
    const held = gate()
    behaviour = async () => {
      await held.wait()
      return {status: 200}
    }
    const ids = await queueMessages(db, t.tenantId, t.outletId, 40)
    // --timeout long enough for all 16 claims on a loaded machine (the first job's timer starts at its claim).
    const fast = {...env(), DB_QUEUE_RETRY_AFTER: '10'}
    const worker = startCli(['queue', 'work', '--concurrency', '16', '--sleep', '0.2', '--timeout', '8'], {cwd: ctx.scratch.dir, env: fast})
    await until('16 sends at the gateway', () => gateway.requests.length === 16)
    worker.signal('SIGKILL')
    expect((await worker.exited()).signal).to.equal('SIGKILL')
    const inFlight = gateway.requests.map((r) => r.text)
    held.open()
    const reserved = await db.knex('jobs').whereNotNull('reserved_at').count({n: '*'}).first()
    expect(Number(reserved?.n)).to.equal(16)
    const marked = await db.knex<WaMessageRow>('wa_messages').whereIn('id', inFlight).select('metadata_json')
    expect(marked.every((m) => (sendState(m).in_flight as {attempt?: number} | undefined)?.attempt === 1)).to.equal(true)

    await new Promise((resolve) => setTimeout(resolve, 10_200))
    const rerun = await runCli(['queue', 'work', '--stop-when-empty', '--concurrency', '16', '--timeout', '8', '--sleep', '0', '--json'], {
      cwd: ctx.scratch.dir,
      env: fast,
    })
    expect(rerun.code, rerun.stderr).to.equal(0)
    const result = parseJson(rerun) as WorkerResult
    expect(result).to.deep.include({processed: 40, failed: 0})
    expect(result.messages).to.deep.include({sent: 40, possible_duplicates: 16})
    // At-least-once: the 16 went to the gateway twice, with the same idempotency key both times.
    for (const id of ids) {
      const calls = gateway.requests.filter((r) => r.text === id)
      expect(calls, id).to.have.length(inFlight.includes(id) ? 2 : 1)
      expect(calls.every((c) => c.idempotencyKey === `${id}:1`)).to.equal(true)
    }
    const messages = await db.knex<WaMessageRow>('wa_messages').select('id', 'status', 'attempts', 'metadata_json')
    expect(messages.every((m) => m.status === 'sent' && Number(m.attempts) === 1)).to.equal(true)
    const duplicates = messages.filter((m) => Number(sendState(m).possible_duplicates) === 1).map((m) => m.id)
    expect(duplicates.sort()).to.deep.equal([...inFlight].sort())
    expect(messages.filter((m) => sendState(m).in_flight)).to.have.length(0)

    const health = await runCli(['observe', 'health', '--json'], {cwd: ctx.scratch.dir, env: env()})
    const check = (parseJson(health) as ObserveReport).checks.find((c) => c.key === 'wa.possible_duplicates.window')
    expect(check).to.deep.include({status: 'warn'})
    expect(check?.message).to.match(/=16 in last 15 minutes/)
  })
})
