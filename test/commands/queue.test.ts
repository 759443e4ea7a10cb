import {readFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import type {Database} from '../../src/core/db/connection.js'
import type {JobRow, WaMessageRow, WaProviderRow} from '../../src/core/db/rows.js'
import {pushJob} from '../../src/core/queue/database-queue.js'
import type {FailedJobSummary, FlushResult, RetryResult} from '../../src/core/queue/failed-jobs.js'
import {sendWaJobPayload} from '../../src/core/queue/payload.js'
import type {WorkerResult} from '../../src/core/queue/worker.js'
import {parseJson, ROOT, runCli, startCli} from '../helpers/cli.js'
import {describeEachEngine} from '../helpers/engines.js'
import {startGateway, type TestGateway} from '../helpers/gateway.js'
import {insertMessage, manualClock, premiumDemoTenant, type WaTenant} from '../helpers/wa.js'

const FIXTURE_MESSAGE_ID = '0195f3a0-0000-7000-8000-000000000001'

/** A worker as a supervisor runs it: a child process we can signal. */
function startWorker(args: string[], env: Record<string, string>, cwd: string) {
  return startCli(['queue', 'work', ...args], {cwd, env})
}

async function pushSend(db: Database, id: string) {
  const now = new Date()
  await pushJob(db.knex, {queue: 'messaging', payload: sendWaJobPayload({waMessageId: id, now}), now})
}

describeEachEngine('laundry-ops queue (CLI)', {from: 'seeded'}, (ctx) => {
  const clock = manualClock(new Date().toISOString())
  let db: Database
  let t: WaTenant
  let env: Record<string, string>
  let gateway: TestGateway
  let firstRequest: () => void
  let gatewayReached: Promise<void>

  before(async () => {
    db = await ctx.scratch.open()
    gateway = await startGateway(() => {
      firstRequest?.()
      return {status: 200, delayMs: 1500}
    })
    t = await premiumDemoTenant(db, clock)
    env = {DATABASE_URL: ctx.scratch.url}
  })
  after(() => gateway.close())
  beforeEach(async () => {
    await db.knex('jobs').delete()
    await db.knex('failed_jobs').delete()
    gatewayReached = new Promise((resolve) => (firstRequest = resolve))
  })

  async function useProvider(key: 'mock' | 'http') {
    const provider = await db.knex<WaProviderRow>('wa_providers').where({key}).first()
    let providerId = provider?.id
    if (!provider) [{id: providerId}] = await db.knex<WaProviderRow>('wa_providers').insert({key, name: 'HTTP Gateway', active: true}).returning('id')
    await db
      .knex('wa_provider_configs')
      .where({tenant_id: t.tenantId})
      .update({
        provider_id: providerId,
        credentials_json: JSON.stringify(key === 'http' ? {url: gateway.url, token: 't'} : {}),
      })
  }

  it('queue work --stop-when-empty sends the message of a job the Laravel application queued', async () => {
    await useProvider('mock')
    await insertMessage(db, t, clock, {id: FIXTURE_MESSAGE_ID})
    const payload = readFileSync(path.join(ROOT, 'fixtures/laravel/laravel-send-wa-job-payload.json'), 'utf8')
    await db.knex('jobs').insert({queue: 'messaging', payload, attempts: 0, reserved_at: null, available_at: 1772352000, created_at: 1772352000})
    const result = await runCli(['queue', 'work', '--stop-when-empty', '--json'], {cwd: ctx.scratch.dir, env})
    expect(result.code, result.stderr).to.equal(0)
    expect(parseJson(result)).to.deep.equal({
      processed: 1,
      released: 0,
      failed: 0,
      messages: {sent: 1, retry_scheduled: 0, failed: 0, skipped: 0, possible_duplicates: 0, failed_reasons: {}},
      remaining: {ready: 0, delayed: 0, reserved: 0, next_delayed_at: null},
      stop_reason: 'empty',
      exit_code: 0,
    })
    const message = await db.knex<WaMessageRow>('wa_messages').where({id: FIXTURE_MESSAGE_ID}).first()
    expect(message?.status).to.equal('sent')
    expect(message?.provider_message_id).to.match(/^mock-[a-z0-9]{16}$/)
  })

  it('refuses bad worker input with exit 2 and touches no job', async () => {
    const id = await insertMessage(db, t, clock, {})
    await pushSend(db, id)
    for (const [args, pattern] of [
      [['--queue', ''], /--queue is empty: give a value/],
      [['--queue', 'messaging,'], /--queue 'messaging,' is invalid: expected a comma-separated list of queue names/],
      [['--queue', 'messaging,,default'], /--queue 'messaging,,default' is invalid/],
      [['--sleep', '-1'], /Expected a number of seconds from 0 to 86400 but received: -1/],
      [['--timeout', '90'], /--timeout 90 must be below DB_QUEUE_RETRY_AFTER \(90 s\)/],
      [['--backoff', 'soon'], /--backoff 'soon' is invalid/],
      [['--tries', '-2'], /tries/],
    ] as Array<[string[], RegExp]>) {
      const result = await runCli(['queue', 'work', '--stop-when-empty', ...args], {cwd: ctx.scratch.dir, env})
      expect(result.code, args.join(' ')).to.equal(2)
      expect(result.stderr.trim().split('\n')).to.have.length(1)
      expect(result.stderr).to.match(pattern)
    }
    const jobs = await db.knex('jobs').select('attempts', 'reserved_at')
    expect(jobs).to.deep.equal([{attempts: 0, reserved_at: null}])
    expect((await db.knex<WaMessageRow>('wa_messages').where({id}).first())?.status).to.equal('queued')
  })

  it('lists, retries (atomically) and flushes failed jobs; an unknown uuid changes nothing', async () => {
    await pushJob(db.knex, {queue: 'messaging', payload: '{"uuid":"11111111-2222-4333-8444-555555555555","not":"a job"}', now: new Date()})
    await runCli(['queue', 'work', '--stop-when-empty'], {cwd: ctx.scratch.dir, env})
    const {failed} = parseJson(await runCli(['queue', 'failed', '--json'], {cwd: ctx.scratch.dir, env})) as {failed: FailedJobSummary[]}
    expect(failed).to.have.length(1)
    expect(failed[0]).to.deep.include({uuid: '11111111-2222-4333-8444-555555555555', connection: 'database', queue: 'messaging', class: 'unknown'})
    expect(failed[0].exception).to.equal('MalformedJobError: payload has no data.command string')

    const unknown = await runCli(['queue', 'retry', '11111111-2222-4333-8444-555555555555', 'aaaaaaaa-0000-4000-8000-000000000000'], {
      cwd: ctx.scratch.dir,
      env,
    })
    expect(unknown.code).to.equal(2)
    expect(unknown.stderr).to.match(/no failed job with uuid aaaaaaaa-0000-4000-8000-000000000000 .*nothing was retried/)
    expect(await db.knex('jobs').count({n: '*'}).first()).to.satisfy((r: {n: unknown}) => Number(r.n) === 0)

    const dry = parseJson(await runCli(['queue', 'retry', 'all', '--dry-run', '--json'], {cwd: ctx.scratch.dir, env})) as RetryResult
    expect(dry.retried).to.deep.equal([{uuid: '11111111-2222-4333-8444-555555555555', queue: 'messaging', job_id: null}])
    const retried = await runCli(['queue', 'retry', '11111111-2222-4333-8444-555555555555'], {cwd: ctx.scratch.dir, env})
    expect(retried.stdout).to.equal('The failed job [11111111-2222-4333-8444-555555555555] has been pushed back onto the queue.\n')
    expect(await db.knex('failed_jobs').select('id')).to.deep.equal([])
    expect(await db.knex('jobs').select('queue', 'attempts', 'reserved_at')).to.deep.equal([{queue: 'messaging', attempts: 0, reserved_at: null}])

    await runCli(['queue:work', '--stop-when-empty'], {cwd: ctx.scratch.dir, env})
    expect((parseJson(await runCli(['queue', 'flush', '--dry-run', '--json'], {cwd: ctx.scratch.dir, env})) as FlushResult).deleted).to.equal(1)
    expect((parseJson(await runCli(['queue', 'flush', '--hours', '1', '--json'], {cwd: ctx.scratch.dir, env})) as FlushResult).deleted).to.equal(0)
    expect((await runCli(['queue:flush'], {cwd: ctx.scratch.dir, env})).stdout).to.equal('Deleted 1 failed job(s).\n')
  })

  it('SIGTERM: a busy worker finishes the job in hand and exits 0 without taking another', async () => {
    await useProvider('http')
    const ids = [await insertMessage(db, t, clock, {}), await insertMessage(db, t, clock, {})]
    for (const id of ids) await pushSend(db, id)
    const worker = startWorker(['--sleep', '0.2'], env, ctx.scratch.dir)
    await gatewayReached
    worker.signal('SIGTERM')
    const exit = await worker.exited()
    expect(exit.code, exit.stderr).to.equal(0)
    expect(exit.stderr).to.match(/SIGTERM received: finishing the job in hand/)
    const statuses = await db.knex<WaMessageRow>('wa_messages').whereIn('id', ids).orderBy('created_at').orderBy('id').select('id', 'status')
    expect(statuses.filter((m) => m.status === 'sent')).to.have.length(1)
    expect(await db.knex('jobs').select('reserved_at')).to.deep.equal([{reserved_at: null}])
  })

  it('queue restart: a busy worker exits 0 after its current job', async () => {
    await useProvider('http')
    for (let i = 0; i < 2; i++) await pushSend(db, await insertMessage(db, t, clock, {}))
    const worker = startWorker(['--sleep', '0.2', '--json'], env, ctx.scratch.dir)
    await gatewayReached
    const restart = await runCli(['queue', 'restart'], {cwd: ctx.scratch.dir, env})
    expect(restart.stdout).to.equal('Broadcasting queue restart signal.\n')
    const exit = await worker.exited()
    expect(exit.code, exit.stderr).to.equal(0)
    expect(JSON.parse(exit.stdout)).to.deep.include({processed: 1, stop_reason: 'restart'})
    expect(await db.knex('jobs').count({n: '*'}).first()).to.satisfy((r: {n: unknown}) => Number(r.n) === 1)
  })

  it('SIGKILL while holding a job: the job is reclaimed after retry_after and completed [slow]', async () => {
    await useProvider('http')
    const id = await insertMessage(db, t, clock, {})
    await pushSend(db, id)
    const fastEnv = {...env, DB_QUEUE_RETRY_AFTER: '3'}
    const worker = startWorker(['--sleep', '0.2', '--timeout', '2'], fastEnv, ctx.scratch.dir)
    await gatewayReached
    worker.signal('SIGKILL')
    expect((await worker.exited()).signal).to.equal('SIGKILL')
    const [held] = await db.knex<JobRow>('jobs').select('reserved_at', 'attempts')
    expect(held.reserved_at).to.not.equal(null)
    // Still reserved: another worker leaves it alone ...
    const early = parseJson(
      await runCli(['queue', 'work', '--stop-when-empty', '--timeout', '2', '--json'], {cwd: ctx.scratch.dir, env: fastEnv}),
    ) as WorkerResult
    expect(early.processed).to.equal(0)
    // ... until retry_after has passed.
    await new Promise((resolve) => setTimeout(resolve, 3200))
    const late = await runCli(['queue', 'work', '--stop-when-empty', '--timeout', '2', '--json'], {cwd: ctx.scratch.dir, env: fastEnv})
    expect(parseJson(late), late.stderr).to.deep.include({processed: 1})
    expect((await db.knex<WaMessageRow>('wa_messages').where({id}).first())?.status).to.equal('sent')
    expect(await db.knex('jobs').select('id')).to.deep.equal([])
  })
})
