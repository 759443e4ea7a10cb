/**
 * The order core as sync push uses it (reference §3.6): the inner mutations on a caller's transaction with
 * the sync options (order time, quota period, invoice resolver, sync wording and codes, WA `source: sync`),
 * their effects left for after the commit, and parseClientTime; on both engines.
 */
import {expect} from 'chai'

import {fixedClock} from '../../../src/core/clock.js'
import type {Database} from '../../../src/core/db/connection.js'
import type {QuotaUsageRow, WaMessageRow} from '../../../src/core/db/rows.js'
import {writeTransaction} from '../../../src/core/db/transactions.js'
import {ReasonError} from '../../../src/core/errors.js'
import {
  addPaymentIn,
  assignCourierIn,
  createOrderIn,
  type NewOrderInput,
  type OrderActor,
  parseClientTime,
  runOrderEffects,
  TransitionError,
  updateCourierStatusIn,
  updateLaundryStatusIn,
} from '../../../src/core/orders/index.js'
import {type TenantFixture, tenantFixture} from '../../helpers/api.js'
import {describeEachEngine} from '../../helpers/engines.js'
import {found} from '../../helpers/wa.js'

const clock = fixedClock('2026-03-01T10:00:00Z')

describe('parseClientTime', () => {
  it('keeps the wall clock of the given offset (the stored text) and its month, and knows the instant', () => {
    expect(parseClientTime('2026-02-28T23:30:00+07:00')).to.deep.equal({
      stored: '2026-02-28 23:30:00',
      period: '2026-02',
      instant: new Date('2026-02-28T16:30:00Z'),
    })
    expect(parseClientTime('2026-03-01 08:05')).to.deep.include({stored: '2026-03-01 08:05:00', period: '2026-03'})
    expect(parseClientTime('2026-03-01')).to.deep.include({stored: '2026-03-01 00:00:00'})
    expect(parseClientTime('2026-03-01T10:00:00.123456Z')).to.deep.include({stored: '2026-03-01 10:00:00'})
    expect(parseClientTime('2026-03-01T10:00:00-0530')?.instant.toISOString()).to.equal('2026-03-01T15:30:00.000Z')
  })

  it('refuses what is not a real date and time', () => {
    for (const bad of ['2026-02-30', '2026-13-01', '2026-03-01T24:00', 'yesterday', '', '2026-03-01T10:00:00+25:00', '0000-01-01', '0000-12-31T10:00:00Z']) {
      expect(parseClientTime(bad), bad).to.equal(null)
    }
  })

  it('checks the day in its own year (years 1-99 are not read as 1900-1999): checkdate, year >= 1', () => {
    // 1900 is not a leap year but 0096 is, and 0099 is not.
    expect(parseClientTime('0096-02-29')).to.deep.include({stored: '0096-02-29 00:00:00', period: '0096-02'})
    expect(parseClientTime('0096-02-29')?.instant.getUTCFullYear()).to.equal(96)
    expect(parseClientTime('0099-02-29')).to.equal(null)
    expect(parseClientTime('0001-01-01T00:00:00Z')?.instant.toISOString()).to.equal('0001-01-01T00:00:00.000Z')
  })
})

describeEachEngine('order core mutations (sync options)', {from: 'seeded'}, (ctx) => {
  let db: Database
  let fx: TenantFixture
  let actor: OrderActor

  before(async () => {
    db = await ctx.scratch.open()
  })
  beforeEach(async () => {
    fx = await tenantFixture(db, clock, {plan: 'premium'})
    actor = {id: fx.users.cashier.id, tenant_id: fx.tenant}
  })

  const input = (code: string | null, extra: Partial<NewOrderInput> = {}): NewOrderInput => ({
    outlet_id: fx.outlet,
    order_code: code,
    is_pickup_delivery: true,
    customer: {name: 'Sync Customer', phone: '081277778888'},
    items: [{service_id: fx.services.kg, weight_kg: 2}],
    ...extra,
  })

  async function refusal(work: () => Promise<unknown>): Promise<ReasonError> {
    try {
      await work()
    } catch (error) {
      if (error instanceof ReasonError) return error
      throw error
    }
    throw new Error('expected a refusal')
  }

  it('creates with the order time (created_at/updated_at, quota period), the resolved invoice, and leaves WA for after the commit', async () => {
    const orderTime = found(parseClientTime('2026-02-28T23:30:00+07:00'), 'time')
    const seen: Array<string | null> = []
    const created = await writeTransaction(db, (trx) =>
      createOrderIn(trx, actor, input('ORD-SYNC-1', {invoice_no: null}), clock, {
        path: 'sync',
        sourceChannel: 'mobile',
        orderTime,
        resolveInvoiceNo: (_trx, context) => {
          seen.push(context.requested)
          expect(context.customer.phone_normalized).to.equal('6281277778888')
          return Promise.resolve({invoiceNo: `${fx.outletCode}-260228-0001`, assigned: true})
        },
      }),
    )
    expect(seen).to.deep.equal([null])
    expect(created.invoiceAssigned).to.equal(true)
    expect(created.customerCreated).to.equal(true)
    expect(created.order).to.include({
      invoice_no: `${fx.outletCode}-260228-0001`,
      source_channel: 'mobile',
      created_at: '2026-02-28 23:30:00',
      updated_at: '2026-02-28 23:30:00',
    })
    expect(Number(created.order.total_amount)).to.equal(16000)
    expect(created.items).to.have.length(1)
    expect(created.quota.period).to.equal('2026-02')
    const usage = found(await db.knex<QuotaUsageRow>('quota_usage').where({tenant_id: fx.tenant, period: '2026-02'}).first(), 'February quota row')
    expect(Number(usage.orders_used)).to.equal(1)
    // The WA event is returned, not enqueued: nothing until the caller runs it after its commit.
    expect(created.effects.wa.map((e) => [e.templateId, e.metadata])).to.deep.equal([
      ['WA_PICKUP_CONFIRM', {event: 'order_created', source: 'sync', actor_user_id: actor.id, source_channel: 'mobile'}],
    ])
    expect(await db.knex<WaMessageRow>('wa_messages').where({order_id: created.order.id})).to.have.length(0)
    const outcomes = await runOrderEffects(db, created.effects, {clock, brandName: 'Laundry'})
    expect(outcomes.map((o) => o.status)).to.deep.equal(['enqueued'])
    const message = found(await db.knex<WaMessageRow>('wa_messages').where({order_id: created.order.id}).first(), 'message')
    expect(message).to.include({template_id: 'WA_PICKUP_CONFIRM', status: 'queued', source_channel: 'mobile'})
  })

  it("refuses with sync's reason codes and messages, and the rollback takes the quota slot back", async () => {
    const create = (order: NewOrderInput) => writeTransaction(db, (trx) => createOrderIn(trx, actor, order, clock, {path: 'sync', sourceChannel: 'mobile'}))
    await create(input('ORD-SYNC-DUP'))
    const cases: Array<[NewOrderInput, string, string]> = [
      [input('ORD-SYNC-DUP'), 'VALIDATION_FAILED', 'order_code already exists.'],
      [input('ORD-S2', {customer: {name: 'X', phone: 'abc'}}), 'PHONE_INVALID', 'Invalid phone number format.'],
      [
        input('ORD-S3', {items: [{service_id: '00000000-0000-0000-0000-000000000000', qty: 1}]}),
        'VALIDATION_FAILED',
        'Service 00000000-0000-0000-0000-000000000000 is invalid.',
      ],
      [input('ORD-S4', {items: [{service_id: fx.services.kg, qty: 1}]}), 'VALIDATION_FAILED', 'weight_kg is required for kg service.'],
      [input('ORD-S5', {items: [{service_id: fx.services.pcs}]}), 'VALIDATION_FAILED', 'qty is required for pcs service.'],
    ]
    for (const [order, code, message] of cases) {
      const error = await refusal(() => create(order))
      expect([error.code, error.message, error.extra], message).to.deep.equal([code, message, {}])
    }
    const usage = found(await db.knex<QuotaUsageRow>('quota_usage').where({tenant_id: fx.tenant, period: '2026-03'}).first(), 'quota row')
    expect(Number(usage.orders_used)).to.equal(1)
    const [{id: plan}]: Array<{id: number}> = await db
      .knex('plans')
      .insert({key: `one-${fx.tenant.slice(-6)}`, name: 'One', orders_limit: 1, created_at: '2026-03-01 00:00:00', updated_at: '2026-03-01 00:00:00'})
      .returning('id')
    await db.knex('tenants').where({id: fx.tenant}).update({current_plan_id: plan})
    const quota = await refusal(() => create(input('ORD-S6')))
    expect([quota.code, quota.message, quota.extra]).to.deep.equal(['QUOTA_EXCEEDED', 'Order quota for the current period has been reached.', {}])
  })

  it("status and courier mutations give sync's wording, the current state for the rejection, and sync WA metadata", async () => {
    const created = await writeTransaction(db, (trx) => createOrderIn(trx, actor, input('ORD-SYNC-ST'), clock, {path: 'sync', sourceChannel: 'mobile'}))
    const id = created.order.id
    const opts = {path: 'sync' as const, sourceChannel: 'mobile' as const}
    const worker = {id: fx.users.worker.id, tenant_id: fx.tenant}
    const skip = await refusal(() => writeTransaction(db, (trx) => updateLaundryStatusIn(trx, worker, id, 'ready', clock, opts)))
    expect(skip).to.be.instanceOf(TransitionError)
    expect(skip).to.include({
      code: 'INVALID_TRANSITION',
      message: 'Cannot move laundry_status from received to ready.',
      field: 'laundry_status',
      current: 'received',
    })
    const courierEarly = await refusal(() => writeTransaction(db, (trx) => updateCourierStatusIn(trx, worker, id, 'picked_up', clock, opts)))
    // A pickup order's courier_status starts as pickup_pending; the raw value is what sync reports.
    expect(courierEarly).to.include({code: 'INVALID_TRANSITION', field: 'courier_status', current: 'pickup_pending'})
    const moved = found(await writeTransaction(db, (trx) => updateCourierStatusIn(trx, worker, id, 'pickup_on_the_way', clock, opts)), 'change')
    expect([moved.from, moved.to]).to.deep.equal(['pickup_pending', 'pickup_on_the_way'])
    expect(moved.effects.wa.map((e) => [e.templateId, e.metadata.source, e.metadata.event])).to.deep.equal([['WA_PICKUP_OTW', 'sync', 'courier_pickup_otw']])
    const notCourier = await refusal(() => writeTransaction(db, (trx) => assignCourierIn(trx, worker, id, fx.users.cashier.id, clock, opts)))
    expect([notCourier.code, notCourier.message]).to.deep.equal(['VALIDATION_FAILED', 'Assigned user must have courier role.'])
    const plain = await writeTransaction(db, (trx) => createOrderIn(trx, actor, input('ORD-SYNC-NP', {is_pickup_delivery: false}), clock, opts))
    const np = await refusal(() => writeTransaction(db, (trx) => updateCourierStatusIn(trx, worker, plain.order.id, 'pickup_on_the_way', clock, opts)))
    expect([np.code, np.message]).to.deep.equal(['INVALID_TRANSITION', 'Courier status is only valid for pickup-delivery orders.'])
    const npAssign = await refusal(() => writeTransaction(db, (trx) => assignCourierIn(trx, worker, plain.order.id, fx.users.courier.id, clock, opts)))
    expect([npAssign.code, npAssign.message]).to.deep.equal(['VALIDATION_FAILED', 'Courier assignment is only for pickup-delivery orders.'])
    const paid = found(
      await writeTransaction(db, (trx) =>
        addPaymentIn(trx, actor, id, {amount: 5000, method: 'cash', paid_at: '2026-02-28 23:00:00'}, clock, {sourceChannel: 'mobile'}),
      ),
      'payment',
    )
    expect(paid.payment).to.include({paid_at: '2026-02-28 23:00:00', source_channel: 'mobile', amount: 5000})
    expect(Number(paid.order.paid_amount)).to.equal(5000)
    expect(Number(paid.order.due_amount)).to.equal(11000)
    expect(paid.effects.wa).to.deep.equal([])
    expect(
      await writeTransaction(db, (trx) =>
        addPaymentIn(trx, actor, '00000000-0000-7000-8000-000000000000', {amount: 1, method: 'cash'}, clock, {sourceChannel: 'mobile'}),
      ),
    ).to.equal(undefined)
  })
})
