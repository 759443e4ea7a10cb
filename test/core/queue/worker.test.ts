import {readFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import type {Database} from '../../../src/core/db/connection.js'
import {enqueueOrderEvent} from '../../../src/core/messaging/dispatch.js'
import {mockProvider, type WaProvider} from '../../../src/core/messaging/providers.js'
import type {WaMessageRow} from '../../../src/core/db/rows.js'
import {pushJob, unixSeconds} from '../../../src/core/queue/database-queue.js'
import {sendWaJobPayload} from '../../../src/core/queue/payload.js'
import {signalQueueRestart} from '../../../src/core/queue/restart-signal.js'
import {DEFAULT_WORKER_OPTIONS, runWorker, type WorkerOptions} from '../../../src/core/queue/worker.js'
import {ROOT} from '../../helpers/cli.js'
import {describeEachEngine} from '../../helpers/engines.js'
import {
  failedJobs,
  insertMessage,
  insertOrder,
  manualClock,
  metadataOf,
  planId,
  premiumDemoTenant,
  queuedJobs,
  waMessage,
  type WaTenant,
} from '../../helpers/wa.js'

const FIXTURE_MESSAGE_ID = '0195f3a0-0000-7000-8000-000000000001'
const drain: WorkerOptions = {...DEFAULT_WORKER_OPTIONS, stopWhenEmpty: true, sleep: 0, timeout: 30}

const message = (db: Database, id: string) => waMessage(db, {id})
const jobsOf = queuedJobs

describeEachEngine('queue worker and WhatsApp send job', {from: 'seeded', seed: {at: '2026-03-01T08:00:00Z'}}, (ctx) => {
  const clock = manualClock('2026-03-01T08:00:00Z')
  let db: Database
  let t: WaTenant

  before(async () => {
    db = await ctx.scratch.open()
    t = await premiumDemoTenant(db, clock)
  })
  beforeEach(async () => {
    await db.knex('jobs').delete()
    await db.knex('failed_jobs').delete()
    clock.set('2026-03-01T08:00:00Z')
  })

  it('runs the job exactly as the Laravel application queued it (captured payload)', async () => {
    await insertMessage(db, t, clock, {id: FIXTURE_MESSAGE_ID})
    const payload = readFileSync(path.join(ROOT, 'fixtures/laravel/laravel-send-wa-job-payload.json'), 'utf8')
    await db.knex('jobs').insert({queue: 'messaging', payload, attempts: 0, reserved_at: null, available_at: 1772352000, created_at: 1772352000})
    const result = await runWorker(db, drain, {clock})
    expect(result).to.deep.include({processed: 1, failed: 0, stop_reason: 'empty', exit_code: 0})
    const sent = await message(db, FIXTURE_MESSAGE_ID)
    expect(sent.status).to.equal('sent')
    expect(sent.provider_message_id).to.match(/^mock-[a-z0-9]{16}$/)
    expect(sent).to.deep.include({attempts: 1, last_error_code: null, updated_by: null, source_channel: 'system', provider_id: t.mockProviderId})
    expect(await jobsOf(db)).to.deep.equal([])
  })

  it('UAT-09 / WaApiTest W4: order events enqueue one message each, sent by the worker', async () => {
    const orderId = await insertOrder(db, t, clock, {code: 'ORD-WA-001', phone: '6281233331111', pickup: true, total: 19000})
    const meta = {event: 'order_created', source: 'api', actor_user_id: t.adminId}
    const created = await enqueueOrderEvent(db, orderId, 'WA_PICKUP_CONFIRM', {}, meta, {clock, brandName: 'Laundry Demo'})
    expect(created.status).to.equal('enqueued')
    const jobs = await jobsOf(db)
    expect(jobs).to.have.length(1)
    expect(jobs[0]).to.deep.include({queue: 'messaging', attempts: 0, available_at: 1772352000})
    // Same event again: the idempotency key finds the message; no second row, no second job.
    const again = await enqueueOrderEvent(db, orderId, 'WA_PICKUP_CONFIRM', {}, meta, {clock, brandName: 'Laundry Demo'})
    expect(again.status).to.equal('existing')
    expect(await jobsOf(db)).to.have.length(1)

    await db.knex('orders').where({id: orderId}).update({courier_status: 'pickup_on_the_way'})
    await enqueueOrderEvent(db, orderId, 'WA_PICKUP_OTW', {}, {...meta, event: 'courier_pickup_otw'}, {clock, brandName: 'Laundry Demo'})
    await runWorker(db, drain, {clock})

    const rows = await db.knex<WaMessageRow>('wa_messages').where({order_id: orderId}).orderBy('template_id')
    expect(rows.map((r) => [r.template_id, r.status, Number(r.created_by), r.source_channel])).to.deep.equal([
      ['WA_PICKUP_CONFIRM', 'sent', t.adminId, 'system'],
      ['WA_PICKUP_OTW', 'sent', t.adminId, 'system'],
    ])
    expect(rows[0].body_text).to.equal(
      'Halo Pelanggan WA, pesanan Anda sudah kami terima di Laundry Demo.\nKode order: ORD-WA-001.\nStatus awal: menunggu pickup kurir.\nTotal saat ini: Rp19.000.\nTerima kasih.',
    )
    expect(rows[0].idempotency_key).to.equal(`${t.tenantId}:${t.outletId}:ORD-WA-001:WA_PICKUP_CONFIRM`)
    expect(metadataOf(rows[0])).to.deep.include({
      template_source: 'default',
      template_version: 1,
    })
  })

  it('WaApiTest W5: a transient failure is retried with backoff 30/60/120/240 s, then fails after 5 attempts', async () => {
    const id = await insertMessage(db, t, clock, {metadata: {mock_failure: 'transient'}})
    await pushJob(db.knex, {queue: 'messaging', payload: sendWaJobPayload({waMessageId: id, now: clock.now()}), now: clock.now()})
    const delays: number[] = []
    for (let attempt = 1; attempt <= 5; attempt++) {
      const ran = await runWorker(db, drain, {clock})
      expect(ran.processed, `attempt ${attempt}`).to.equal(1)
      const pending = await jobsOf(db)
      if (attempt < 5) {
        expect(pending).to.have.length(1)
        const delay = pending[0].available_at - unixSeconds(clock.now())
        delays.push(delay)
        // Before the backoff has passed the worker finds nothing to do.
        expect((await runWorker(db, drain, {clock})).processed).to.equal(0)
        expect(JSON.parse(pending[0].payload)).to.have.property('delay', delay)
        clock.advance(delay)
        expect((await message(db, id)).status).to.equal('queued')
      } else {
        expect(pending).to.have.length(0)
      }
    }
    expect(delays).to.deep.equal([30, 60, 120, 240])
    const failed = await message(db, id)
    expect(failed).to.deep.include({
      status: 'failed',
      attempts: 5,
      last_error_code: 'NETWORK_ERROR',
      last_error_message: 'Mock transient network issue.',
      source_channel: 'system',
      updated_by: null,
      provider_id: t.mockProviderId,
    })
    expect(await db.knex('failed_jobs').count({n: '*'}).first()).to.satisfy((r: {n: unknown}) => Number(r.n) === 0)
  })

  it('fails a permanent error at once, and a tenant without an active provider with PROVIDER_CONFIG_MISSING', async () => {
    const permanent = await insertMessage(db, t, clock, {metadata: {mock_failure: 'permanent'}})
    const badPhone = await insertMessage(db, t, clock, {toPhone: '0812'})
    for (const id of [permanent, badPhone]) {
      await pushJob(db.knex, {queue: 'messaging', payload: sendWaJobPayload({waMessageId: id, now: clock.now()}), now: clock.now()})
    }
    await runWorker(db, drain, {clock})
    expect(await message(db, permanent)).to.deep.include({
      status: 'failed',
      attempts: 1,
      last_error_code: 'PHONE_INVALID',
      last_error_message: 'Mock permanent phone error.',
    })
    expect(await message(db, badPhone)).to.deep.include({
      status: 'failed',
      attempts: 1,
      last_error_code: 'PHONE_INVALID',
      last_error_message: 'Destination phone number is invalid.',
    })

    await db.knex('wa_provider_configs').where({tenant_id: t.tenantId}).update({is_active: false})
    const orphan = await insertMessage(db, t, clock, {})
    await pushJob(db.knex, {queue: 'messaging', payload: sendWaJobPayload({waMessageId: orphan, now: clock.now()}), now: clock.now()})
    await runWorker(db, drain, {clock})
    expect(await message(db, orphan)).to.deep.include({
      status: 'failed',
      attempts: 1,
      last_error_code: 'PROVIDER_CONFIG_MISSING',
      last_error_message: 'No active WhatsApp provider configuration found.',
    })
    expect(await jobsOf(db)).to.deep.equal([])
    await db.knex('wa_provider_configs').where({tenant_id: t.tenantId}).update({is_active: true})
  })

  it('does not enqueue for a tenant whose plan has no WhatsApp', async () => {
    await db
      .knex('tenants')
      .where({id: t.tenantId})
      .update({current_plan_id: await planId(db, 'standard')})
    const orderId = await insertOrder(db, t, clock, {code: 'ORD-STD-001', pickup: true})
    const outcome = await enqueueOrderEvent(db, orderId, 'WA_PICKUP_CONFIRM', {}, {}, {clock, brandName: 'X'})
    expect(outcome).to.deep.equal({status: 'skipped', reason: 'plan_not_eligible', detail: 'standard'})
    expect(await jobsOf(db)).to.deep.equal([])
    await db
      .knex('tenants')
      .where({id: t.tenantId})
      .update({current_plan_id: await planId(db, 'premium')})
  })

  it('moves a malformed or unknown job to failed_jobs with the reason and goes on with the next', async () => {
    const good = await insertMessage(db, t, clock, {})
    await pushJob(db.knex, {queue: 'messaging', payload: 'this is not json', now: clock.now()})
    await pushJob(db.knex, {
      queue: 'messaging',
      payload: sendWaJobPayload({waMessageId: good, now: clock.now()})
        .replace(/SendWaMessageJob/g, 'OtherJob')
        .replace('"O:25:', '"O:17:'),
      now: clock.now(),
    })
    await pushJob(db.knex, {queue: 'messaging', payload: sendWaJobPayload({waMessageId: good, now: clock.now()}), now: clock.now()})
    const result = await runWorker(db, drain, {clock})
    expect(result).to.deep.include({processed: 1, failed: 2})
    const failed = await failedJobs(db)
    expect(failed.map((f) => f.exception.split('\n')[0])).to.deep.equal([
      'MalformedJobError: payload is not JSON (Unexpected token \'h\', "this is not json" is not valid JSON)',
      'UnknownJobError: laundry-ops cannot run App\\Jobs\\OtherJob (it runs: App\\Jobs\\SendWaMessageJob)',
    ])
    expect(failed.map((f) => [f.connection, f.queue])).to.deep.equal([
      ['database', 'messaging'],
      ['database', 'messaging'],
    ])
    expect((await message(db, good)).status).to.equal('sent')
  })

  it('works queues in strict priority and reclaims a reservation older than retry_after', async () => {
    const a = await insertMessage(db, t, clock, {})
    const b = await insertMessage(db, t, clock, {})
    const now = clock.now()
    await pushJob(db.knex, {queue: 'default', payload: sendWaJobPayload({waMessageId: a, now}), now})
    const stale = await pushJob(db.knex, {queue: 'messaging', payload: sendWaJobPayload({waMessageId: b, now}), now})
    // A worker that died 91 s ago holding the messaging job.
    await db
      .knex('jobs')
      .where({id: stale})
      .update({reserved_at: unixSeconds(now) - 91, attempts: 1})
    const seen: string[] = []
    await runWorker(db, {...drain, queues: ['messaging', 'default']}, {clock, onEvent: (e) => e.type === 'processed' && seen.push(e.job.queue)})
    expect(seen).to.deep.equal(['messaging', 'default'])
    expect((await message(db, a)).status).to.equal('sent')
    expect((await message(db, b)).status).to.equal('sent')
  })

  it('leaves a reservation younger than retry_after alone', async () => {
    const id = await insertMessage(db, t, clock, {})
    const job = await pushJob(db.knex, {queue: 'messaging', payload: sendWaJobPayload({waMessageId: id, now: clock.now()}), now: clock.now()})
    await db
      .knex('jobs')
      .where({id: job})
      .update({reserved_at: unixSeconds(clock.now()) - 89, attempts: 1})
    expect((await runWorker(db, drain, {clock})).processed).to.equal(0)
    expect((await message(db, id)).status).to.equal('queued')
    await db.knex('jobs').delete()
  })

  describe('the in-flight mark (the attempt committed before the provider is called)', () => {
    const inFlight = (jobId: number, reservedAt: number | null, attempt = 1) => ({
      laundry_ops_send: {
        in_flight: {attempt, token: 'other-worker', job_id: jobId, reserved_at: reservedAt, started_at: '2026-03-01T07:59:00.000Z', worker: 'h:1'},
      },
    })
    const recordingProvider = () => {
      const calls: Array<{metadata: Record<string, unknown>; key?: string}> = []
      const provider: WaProvider = {
        ...mockProvider,
        sendText(to, text, credentials, metadata, signal, key) {
          calls.push({metadata, key})
          return mockProvider.sendText(to, text, credentials, metadata, signal, key)
        },
      }
      return {calls, providers: new Map([['mock', provider]])}
    }

    it('is committed before the call and removed with the outcome; the provider gets the metadata without it and the key <id>:<attempt>', async () => {
      const id = await insertMessage(db, t, clock, {metadata: {source: 'test'}})
      await pushJob(db.knex, {queue: 'messaging', payload: sendWaJobPayload({waMessageId: id, now: clock.now()}), now: clock.now()})
      const seen: unknown[] = []
      const {calls, providers} = recordingProvider()
      const spying: WaProvider = {
        ...mockProvider,
        async sendText(...args) {
          // What another session reads while the provider has the message: the mark, committed.
          seen.push(metadataOf(await message(db, id)).laundry_ops_send)
          return providers.get('mock')!.sendText(...args)
        },
      }
      const result = await runWorker(db, drain, {clock, providers: new Map([['mock', spying]])})
      expect(result.messages).to.deep.include({sent: 1, possible_duplicates: 0})
      expect(seen).to.have.length(1)
      expect(seen[0]).to.have.nested.property('in_flight.attempt', 1)
      expect(calls).to.deep.equal([{metadata: {source: 'test'}, key: `${id}:1`}])
      const after = await message(db, id)
      expect(after.status).to.equal('sent')
      expect(metadataOf(after), 'a clean send leaves no trace').to.deep.equal({source: 'test'})
    })

    it('a clean send leaves metadata_json byte for byte as it was (spacing, key order, big numbers, null, odd values)', async () => {
      const texts: Array<string | null> = [
        '{"b": 1, "a": {"x": [1, 2.50]}, "big": 12345678901234567890}',
        '{"laundry_ops_send": {"foo": 1}, "k": "v"}',
        null,
        '{}',
        ...(ctx.dialect === 'sqlite' ? ['[1,2]', 'garbage{', '{"dup":1,"dup":2}'] : ['[1, 2]', '"text"']),
      ]
      const ids: string[] = []
      for (const text of texts) {
        const id = await insertMessage(db, t, clock, {})
        await db.knex('wa_messages').where({id}).update({metadata_json: text})
        await pushJob(db.knex, {queue: 'messaging', payload: sendWaJobPayload({waMessageId: id, now: clock.now()}), now: clock.now()})
        ids.push(id)
      }
      const result = await runWorker(db, drain, {clock})
      expect(result.messages).to.deep.include({sent: texts.length, possible_duplicates: 0})
      const raw = ctx.dialect === 'pg' ? db.knex.raw('"metadata_json"::text as "text"') : db.knex.raw('"metadata_json" as "text"')
      for (const [i, id] of ids.entries()) {
        const row = await db.knex('wa_messages').where({id}).first<{status: string; text: string | null}>('status', raw)
        expect(row, texts[i] ?? 'null').to.deep.equal({status: 'sent', text: texts[i]})
      }
    })

    it('a message whose attempt is in flight in a live worker (its job still held) is busy: the second job is put back, the provider not called', async () => {
      const id = await insertMessage(db, t, clock, {})
      const now = unixSeconds(clock.now())
      const holder = await pushJob(db.knex, {queue: 'default', payload: sendWaJobPayload({waMessageId: id, now: clock.now()}), now: clock.now()})
      await db
        .knex('jobs')
        .where({id: holder})
        .update({reserved_at: now - 10, attempts: 1})
      await db
        .knex('wa_messages')
        .where({id})
        .update({metadata_json: JSON.stringify(inFlight(holder, now - 10))})
      await pushJob(db.knex, {queue: 'messaging', payload: sendWaJobPayload({waMessageId: id, now: clock.now()}), now: clock.now()})
      const {calls, providers} = recordingProvider()
      const result = await runWorker(db, {...drain, queues: ['messaging']}, {clock, providers})
      expect(result).to.deep.include({processed: 0, released: 1})
      expect(calls).to.deep.equal([])
      expect((await message(db, id)).status).to.equal('queued')
      // The bounce did not use up one of the job's tries (a slow send must not fail the duplicate job).
      const bounced = (await jobsOf(db)).find((j) => j.id !== holder)
      expect(bounced?.attempts).to.equal(0)
      await db.knex('jobs').delete()
    })

    it('a mark left by a worker that died is sent again with the same attempt (same idempotency key) and marked as a possible duplicate', async () => {
      const id = await insertMessage(db, t, clock, {})
      const now = unixSeconds(clock.now())
      // The dead worker's job: reserved 91 s ago (past retry_after), claimed again by this worker.
      const job = await pushJob(db.knex, {queue: 'messaging', payload: sendWaJobPayload({waMessageId: id, now: clock.now()}), now: clock.now()})
      await db
        .knex('jobs')
        .where({id: job})
        .update({reserved_at: now - 91, attempts: 1})
      await db
        .knex('wa_messages')
        .where({id})
        .update({metadata_json: JSON.stringify(inFlight(job, now - 91))})
      const {calls, providers} = recordingProvider()
      const events: string[] = []
      const result = await runWorker(db, drain, {clock, providers, onEvent: (e) => e.type === 'processed' && events.push(e.detail)})
      expect(result.messages).to.deep.include({sent: 1, possible_duplicates: 1})
      expect(events[0]).to.match(/POSSIBLE DUPLICATE/)
      expect(calls.map((c) => c.key)).to.deep.equal([`${id}:1`])
      const after = await message(db, id)
      expect(after).to.deep.include({status: 'sent', attempts: 1})
      const state = metadataOf(after).laundry_ops_send as Record<string, unknown>
      expect(state).to.deep.include({possible_duplicates: 1, possible_duplicate_at: clock.now().toISOString()})
      expect(state).to.have.nested.property('possible_duplicate_of.token', 'other-worker')
      expect(state).to.not.have.property('in_flight')
    })

    it('a mark whose job is gone (failed, flushed) does not block a redriven message: it is sent, marked as a possible duplicate', async () => {
      const id = await insertMessage(db, t, clock, {})
      await db
        .knex('wa_messages')
        .where({id})
        .update({metadata_json: JSON.stringify(inFlight(999_999, unixSeconds(clock.now()) - 5))})
      await pushJob(db.knex, {queue: 'messaging', payload: sendWaJobPayload({waMessageId: id, now: clock.now()}), now: clock.now()})
      const result = await runWorker(db, drain, {clock})
      expect(result.messages).to.deep.include({sent: 1, possible_duplicates: 1})
    })

    it('a send job that goes to failed_jobs fails its message (UNKNOWN_ERROR, requeued by wa redrive): never queued without a job', async () => {
      const id = await insertMessage(db, t, clock, {})
      const job = await pushJob(db.knex, {queue: 'messaging', payload: sendWaJobPayload({waMessageId: id, now: clock.now()}), now: clock.now()})
      // Its workers kept dying: claimed 3 times already, reserved long ago.
      await db
        .knex('jobs')
        .where({id: job})
        .update({reserved_at: unixSeconds(clock.now()) - 91, attempts: 3})
      const result = await runWorker(db, {...drain, tries: 3}, {clock})
      expect(result).to.deep.include({failed: 1, processed: 0})
      expect(await failedJobs(db)).to.have.length(1)
      const after = await message(db, id)
      expect(after).to.deep.include({status: 'failed', last_error_code: 'UNKNOWN_ERROR'})
      expect(after.last_error_message).to.match(/^The send job failed in the queue worker: .*attempted too many times/)
      expect(await jobsOf(db)).to.deep.equal([])
    })
  })

  it('a queue:restart row written again with the same time is no restart (the worker goes on, as Laravel compares times)', async () => {
    const key = `${DEFAULT_WORKER_OPTIONS.cachePrefix}illuminate:queue:restart`
    await db.knex('cache').where({key}).delete()
    await db.knex('cache').insert({key, value: 'i:1772352000;', expiration: 2087712000})
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      const id = await insertMessage(db, t, clock, {})
      ids.push(id)
      await pushJob(db.knex, {queue: 'messaging', payload: sendWaJobPayload({waMessageId: id, now: clock.now()}), now: clock.now()})
    }
    // The same time, serialized as a float: another value in the row, the same restart time.
    const rewriting: WaProvider = {
      ...mockProvider,
      async sendText(...args) {
        await db.knex('cache').where({key}).update({value: 'd:1772352000;'})
        return mockProvider.sendText(...args)
      },
    }
    try {
      const result = await runWorker(db, drain, {clock, providers: new Map([['mock', rewriting]])})
      expect(result).to.deep.include({processed: 3, stop_reason: 'empty'})
      for (const id of ids) expect((await message(db, id)).status).to.equal('sent')
    } finally {
      await db.knex('cache').where({key}).delete()
    }
  })

  it('a message outside the one-statement path (odd metadata, an attempt in flight elsewhere, already sent, missing) gets the locked transaction', async () => {
    const push = async (id: string) => pushJob(db.knex, {queue: 'messaging', payload: sendWaJobPayload({waMessageId: id, now: clock.now()}), now: clock.now()})
    const oddState = await insertMessage(db, t, clock, {metadata: {laundry_ops_send: 'hand-edited', note: 'kept'}})
    const nullInFlight = await insertMessage(db, t, clock, {metadata: {laundry_ops_send: {in_flight: null, possible_duplicates: 2}}})
    // A NUL escape: PostgreSQL's json keeps it, jsonb refuses it.
    const nul = await insertMessage(db, t, clock, {metadata: {note: 'a\u0000b'}})
    const sent = await insertMessage(db, t, clock, {})
    await db.knex('wa_messages').where({id: sent}).update({status: 'sent', provider_message_id: 'earlier', attempts: 1})
    // Another worker's attempt in flight, its job reserved a second ago: busy, put back.
    const busy = await insertMessage(db, t, clock, {})
    const other = await push(busy)
    const reservedAt = unixSeconds(clock.now()) - 1
    await db.knex('jobs').where({id: other}).update({reserved_at: reservedAt, attempts: 1})
    const flight = {attempt: 1, token: 'other', job_id: other, reserved_at: reservedAt, started_at: clock.now().toISOString(), worker: 'elsewhere:1'}
    await db
      .knex('wa_messages')
      .where({id: busy})
      .update({metadata_json: JSON.stringify({laundry_ops_send: {in_flight: flight}})})
    for (const id of [oddState, nullInFlight, nul, sent, busy, '0195f3a0-0000-7000-8000-00000000dead']) await push(id)

    const result = await runWorker(db, drain, {clock})
    expect(result).to.deep.include({processed: 5, released: 1, failed: 0})
    expect(result.messages).to.deep.include({sent: 3, skipped: 2, possible_duplicates: 0})
    for (const id of [oddState, nullInFlight, nul]) {
      const m = await message(db, id)
      expect(m, id).to.deep.include({status: 'sent', attempts: 1, provider_id: t.mockProviderId})
    }
    // A clean send puts the metadata back as it was.
    expect(metadataOf(await message(db, oddState))).to.deep.equal({laundry_ops_send: 'hand-edited', note: 'kept'})
    expect(metadataOf(await message(db, nullInFlight))).to.deep.equal({laundry_ops_send: {in_flight: null, possible_duplicates: 2}})
    expect(metadataOf(await message(db, nul))).to.deep.include({note: 'a\u0000b'})
    expect(await message(db, sent)).to.deep.include({status: 'sent', provider_message_id: 'earlier', attempts: 1})
    const stillBusy = await message(db, busy)
    expect(stillBusy).to.deep.include({status: 'queued', attempts: 0})
    expect(metadataOf(stillBusy)).to.deep.equal({laundry_ops_send: {in_flight: flight}})
    // The other worker's job, and ours put back for later; the others' jobs are gone.
    const left = await jobsOf(db)
    expect(left.map((j) => j.id === other || j.available_at > unixSeconds(clock.now()))).to.deep.equal([true, true])
  })

  it('stops after the job in hand when queue:restart is signalled, or on --max-jobs', async () => {
    for (let i = 0; i < 3; i++) {
      const id = await insertMessage(db, t, clock, {})
      await pushJob(db.knex, {queue: 'messaging', payload: sendWaJobPayload({waMessageId: id, now: clock.now()}), now: clock.now()})
    }
    // `php artisan queue:restart` arrives while the first job is with the provider.
    const restarting: WaProvider = {
      ...mockProvider,
      async sendText(...args) {
        await signalQueueRestart(db.knex, DEFAULT_WORKER_OPTIONS.cachePrefix, new Date(Date.now() + 1000))
        return mockProvider.sendText(...args)
      },
    }
    const result = await runWorker(db, {...drain, stopWhenEmpty: false}, {clock, providers: new Map([['mock', restarting]])})
    expect(result).to.deep.include({processed: 1, stop_reason: 'restart', exit_code: 0})
    const limited = await runWorker(db, {...drain, stopWhenEmpty: false, maxJobs: 1}, {clock})
    expect(limited).to.deep.include({processed: 1, stop_reason: 'max_jobs'})
    expect(await jobsOf(db)).to.have.length(1)
  })
})
