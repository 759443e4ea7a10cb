import {expect} from 'chai'

import {toDbTimestamp} from '../../../src/core/clock.js'
import type {Database} from '../../../src/core/db/connection.js'
import {uuid7} from '../../../src/core/domain/ids.js'
import type {OpsError} from '../../../src/core/errors.js'
import {ageInDays, bucketFor, parseAsOf, sendAgingReminders} from '../../../src/core/messaging/aging-reminders.js'
import {redriveFailedMessages} from '../../../src/core/messaging/redrive.js'
import {decodePayload} from '../../../src/core/queue/payload.js'
import {DEFAULT_WORKER_OPTIONS, runWorker} from '../../../src/core/queue/worker.js'
import {describeEachEngine} from '../../helpers/engines.js'
import {insertOrder, manualClock, metadataOf, planId, premiumDemoTenant, queuedJobs, waMessage, type WaTenant} from '../../helpers/wa.js'

async function rejection(promise: Promise<unknown>): Promise<OpsError> {
  try {
    await promise
  } catch (error) {
    return error as OpsError
  }
  throw new Error('expected a refusal')
}

describe('aging buckets and as-of dates', () => {
  it('buckets ages as upstream', () => {
    expect([-3, 0, 7, 8, 14, 15, 30, 31, 400].map(bucketFor)).to.deep.equal([
      'd0_7',
      'd0_7',
      'd0_7',
      'd8_14',
      'd8_14',
      'd15_30',
      'd15_30',
      'd31_plus',
      'd31_plus',
    ])
    expect(ageInDays('2026-02-08 23:59:59', parseAsOf('2026-02-17'))).to.equal(9)
    expect(ageInDays('2026-02-18 00:00:00', parseAsOf('2026-02-17'))).to.equal(-1)
  })
  it('refuses an impossible --as-of (2026-02-30) instead of rolling it over', () => {
    for (const bad of ['2026-02-30', '2026-13-01', '2026-2-1', 'today']) {
      let error: OpsError | undefined
      try {
        parseAsOf(bad)
      } catch (err) {
        error = err as OpsError
      }
      expect(error?.exit, bad).to.equal(2)
      expect(error?.message).to.equal(`Invalid --as-of '${bad}'. Use a real date as YYYY-MM-DD.`)
    }
    expect(parseAsOf('2024-02-29').toISOString()).to.equal('2024-02-29T00:00:00.000Z')
  })
})

describeEachEngine('wa redrive and wa remind', {from: 'seeded', seed: {at: '2026-02-17T02:00:00Z'}}, (ctx) => {
  const clock = manualClock('2026-02-17T02:00:00Z')
  let db: Database
  let t: WaTenant

  before(async () => {
    db = await ctx.scratch.open()
    t = await premiumDemoTenant(db, clock)
  })

  async function failedMessage(key: string, code: string, attempts: number, updatedAt: string, tenantId = t.tenantId): Promise<string> {
    const id = uuid7()
    await db.knex('wa_messages').insert({
      id,
      tenant_id: tenantId,
      provider_id: t.mockProviderId,
      template_id: 'WA_ORDER_DONE',
      idempotency_key: key,
      to_phone: '6281234567890',
      body_text: `test ${key}`,
      status: 'failed',
      attempts,
      last_error_code: code,
      last_error_message: code === 'NETWORK_ERROR' ? 'network timeout' : 'invalid',
      metadata_json: '[]',
      source_channel: 'system',
      created_at: updatedAt,
      updated_at: updatedAt,
    })
    return id
  }

  it('OpsCommandsTest T2: requeues the retryable failure with its job, leaves PHONE_INVALID alone', async () => {
    const m1 = await failedMessage(`${t.tenantId}:ops:1:WA_ORDER_DONE`, 'NETWORK_ERROR', 5, '2026-02-16 10:00:00')
    const m2 = await failedMessage(`${t.tenantId}:ops:2:WA_ORDER_DONE`, 'PHONE_INVALID', 2, '2026-02-16 09:00:00')
    const result = await redriveFailedMessages(db, {tenant: t.tenantId, limit: 50, reasons: [], allReasons: false, dryRun: false, clock})
    expect(result).to.deep.include({processed: 1, requeued: 1, dry_run: false})
    expect(result.candidates.map((c) => [c.id, c.last_error_code, c.attempts])).to.deep.equal([[m1, 'NETWORK_ERROR', 5]])
    const row = await waMessage(db, {id: m1})
    expect(row).to.deep.include({status: 'queued', attempts: 0, last_error_code: null, last_error_message: null, updated_at: '2026-02-17 02:00:00'})
    expect(metadataOf(row)).to.deep.equal({manual_redrive_at: '2026-02-17T02:00:00+00:00'})
    const jobs = await queuedJobs(db)
    expect(jobs).to.have.length(1)
    expect(jobs[0].queue).to.equal('messaging')
    expect(decodePayload(jobs[0].payload).envelope.data.command).to.contain(m1)
    expect((await waMessage(db, {id: m2})).status).to.equal('failed')
    // The worker sends it.
    await runWorker(db, {...DEFAULT_WORKER_OPTIONS, stopWhenEmpty: true, sleep: 0}, {clock})
    expect((await waMessage(db, {id: m1})).status).to.equal('sent')
  })

  it('--dry-run lists candidates and changes nothing; --reason, --all-reasons and --limit select as upstream', async () => {
    const before = await db.knex('wa_messages').select('*').orderBy('id')
    const dry = await redriveFailedMessages(db, {limit: 50, reasons: [], allReasons: true, dryRun: true, clock})
    expect(dry).to.deep.include({processed: 1, requeued: 1, dry_run: true})
    expect(await db.knex('wa_messages').select('*').orderBy('id')).to.deep.equal(before)
    expect(await db.knex('jobs').select('id')).to.deep.equal([])
    const none = await redriveFailedMessages(db, {limit: 50, reasons: [], allReasons: false, dryRun: false, clock})
    expect(none.processed).to.equal(0)
    const older = await failedMessage('k3', 'PHONE_INVALID', 1, '2026-02-01 00:00:00')
    const byReason = await redriveFailedMessages(db, {limit: 1, reasons: ['PHONE_INVALID'], allReasons: false, dryRun: false, clock})
    expect(byReason.candidates.map((c) => c.id)).to.deep.equal([older])
    await db.knex('jobs').delete()
  })

  it('refuses an unknown reason code or tenant before changing anything', async () => {
    const err = await rejection(redriveFailedMessages(db, {limit: 5, reasons: ['NETWORK_EROR'], allReasons: false, dryRun: false, clock}))
    expect(err.exit).to.equal(2)
    expect(err.message).to.match(/^unknown reason code\(s\): NETWORK_EROR; expected one of NETWORK_ERROR, /)
    expect((await rejection(redriveFailedMessages(db, {tenant: 'x', limit: 5, reasons: [], allReasons: false, dryRun: false, clock}))).code).to.equal(
      'INVALID_TENANT',
    )
    expect(await db.knex('jobs').select('id')).to.deep.equal([])
  })

  it('two concurrent redrives enqueue each message once', async () => {
    for (let i = 0; i < 20; i++) await failedMessage(`race-${i}`, 'RATE_LIMIT', 5, '2026-02-10 00:00:00')
    const [a, b] = await Promise.all([
      redriveFailedMessages(db, {limit: 100, reasons: ['RATE_LIMIT'], allReasons: false, dryRun: false, clock}),
      redriveFailedMessages(db, {limit: 100, reasons: ['RATE_LIMIT'], allReasons: false, dryRun: false, clock}),
    ])
    expect(a.requeued + b.requeued).to.equal(20)
    const [{n}] = await db.knex('jobs').count({n: '*'})
    expect(Number(n)).to.equal(20)
    await db.knex('jobs').delete()
  })

  it('OpsCommandsTest T3: a billing reminder for a 9-day-old pending order, once per day and bucket', async () => {
    clock.set('2026-02-08T05:00:00Z')
    const orderId = await insertOrder(db, t, clock, {
      code: 'ORD-OPS-AGING-001',
      invoice: 'INV-OPS-AGING-001',
      customer: 'Ops Customer Aging',
      phone: '6281000000009',
      total: 22000,
      due: 22000,
    })
    await db.knex('orders').where({id: orderId}).update({collection_status: 'pending', laundry_status: 'completed'})
    clock.set('2026-02-17T09:00:00Z')
    const options = {tenant: t.tenantId, buckets: ['d8_14'], asOf: '2026-02-17', limit: 50, dryRun: false, clock, brandName: 'Laundry Ops'}
    const result = await sendAgingReminders(db, options)
    expect(result).to.deep.include({processed: 1, enqueued: 1, already_sent: 0, skipped: 0, as_of: '2026-02-17'})
    expect(result.candidates[0]).to.deep.include({order_code: 'ORD-OPS-AGING-001', due_amount: 22000, bucket: 'd8_14', age_days: 9})
    const message = await waMessage(db, {order_id: orderId, template_id: 'WA_BILLING_REMINDER'})
    expect(message.idempotency_key).to.equal(`${t.tenantId}:${t.outletId}:INV-OPS-AGING-001:WA_BILLING_REMINDER:aging-reminder-20260217-d8_14`)
    expect(message.body_text).to.equal(
      'Halo Ops Customer Aging, kami mengingatkan sisa tagihan laundry Anda.\nNo invoice: INV-OPS-AGING-001.\nSisa tagihan: Rp22.000.\nUmur tagihan: 9 hari (8-14 hari).\nMohon konfirmasi jadwal pembayaran. Terima kasih, Laundry Ops.',
    )
    expect(message.created_by).to.equal(null)
    const again = await sendAgingReminders(db, options)
    expect(again).to.deep.include({processed: 1, enqueued: 0, already_sent: 1})
    const [{n}] = await db.knex('wa_messages').where({order_id: orderId}).count({n: '*'})
    expect(Number(n)).to.equal(1)
  })

  it('counts a null status as pending, excludes resolved unless asked, reports skipped reasons, honours --limit', async () => {
    clock.set('2026-01-01T05:00:00Z')
    const a = await insertOrder(db, t, clock, {code: 'ORD-NULL', phone: '6281000000010', due: 5000})
    const b = await insertOrder(db, t, clock, {code: 'ORD-RESOLVED', phone: '6281000000011', due: 5000})
    await db.knex('orders').where({id: b}).update({collection_status: 'resolved'})
    clock.set('2026-02-17T09:00:00Z')
    const base = {tenant: t.tenantId, buckets: ['d31_plus'], asOf: '2026-02-17', limit: 50, clock, brandName: 'X'}
    const dry = await sendAgingReminders(db, {...base, dryRun: true})
    expect(dry.candidates.map((c) => c.order_code)).to.deep.equal(['ORD-NULL'])
    const withResolved = await sendAgingReminders(db, {...base, collectionStatuses: ['resolved'], dryRun: true})
    expect(withResolved.candidates.map((c) => c.order_code)).to.deep.equal(['ORD-RESOLVED'])
    const limited = await sendAgingReminders(db, {...base, buckets: undefined, limit: 1, dryRun: true})
    expect(limited.processed).to.equal(1)
    await db
      .knex('tenants')
      .where({id: t.tenantId})
      .update({current_plan_id: await planId(db, 'standard')})
    const skipped = await sendAgingReminders(db, {...base, dryRun: false})
    expect(skipped).to.deep.include({processed: 1, enqueued: 0, skipped: 1, skipped_reasons: {plan_not_eligible: 1}})
    expect(a).to.be.a('string')
    await db
      .knex('tenants')
      .where({id: t.tenantId})
      .update({current_plan_id: await planId(db, 'premium')})
  })

  it('refuses invalid buckets, statuses and outlets before anything is sent', async () => {
    const base = {limit: 5, dryRun: false, clock, brandName: 'X'}
    expect((await rejection(sendAgingReminders(db, {...base, buckets: ['d99']}))).message).to.equal(
      'Invalid bucket option(s): d99 (expected d0_7, d8_14, d15_30, d31_plus)',
    )
    expect((await rejection(sendAgingReminders(db, {...base, collectionStatuses: ['paid']}))).code).to.equal('INVALID_COLLECTION_STATUS')
    expect((await rejection(sendAgingReminders(db, {...base, outlet: uuid7()}))).code).to.equal('UNKNOWN_OUTLET')
    expect(toDbTimestamp(clock.now())).to.be.a('string')
  })
})
