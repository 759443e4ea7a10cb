/**
 * The orders REST API through the whole app (inject), on both engines: upstream's OrderApiTest (reference
 * §5.2, ORD-1…8), decisions, the
 * role matrix rows of these routes (§3.3), the WA messages the order events queue (§4.8), audit rows
 * (§4.9), the exact keys of the create, list and show answers, GET /api/outlets/allowed, and two races with
 * real parallelism (separate processes, each with its own pool): 20 payments, 20 creations at the quota.
 */
import {expect} from 'chai'

import {type ApiInstance, buildApp} from '../../src/api/app.js'
import {fixedClock, toDbTimestamp} from '../../src/core/clock.js'
import {type AppConfig, loadConfig} from '../../src/core/config.js'
import type {Database} from '../../src/core/db/connection.js'
import type {AuditEventRow, JobRow, PlanRow, QuotaUsageRow, UserRow, WaMessageRow} from '../../src/core/db/rows.js'
import type {CustomerRecord, OrderItemRecord, OrderRecord, PaymentRecord} from '../../src/core/orders/index.js'
import {serializeCreatedOrder, serializeCustomerBrief, serializeOrderItem} from '../../src/core/orders/serialize.js'
import {uuid7} from '../../src/core/domain/ids.js'
import {raceApi} from '../helpers/api-race.js'
import {asUser, ROLE_KEYS, type TenantFixture, tenantFixture} from '../helpers/api.js'
import {describeEachEngine} from '../helpers/engines.js'
import {found} from '../helpers/wa.js'

const AT = '2026-03-01T10:00:00Z'
const clock = fixedClock(AT)
const PERIOD = '2026-03'
const EL_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000000Z$/

const CREATE_KEYS = [
  'tenant_id',
  'outlet_id',
  'customer_id',
  'invoice_no',
  'order_code',
  'is_pickup_delivery',
  'laundry_status',
  'courier_status',
  'shipping_fee_amount',
  'discount_amount',
  'total_amount',
  'paid_amount',
  'due_amount',
  'pickup',
  'delivery',
  'notes',
  'created_by',
  'updated_by',
  'source_channel',
  'id',
  'updated_at',
  'created_at',
  'customer',
  'items',
]
const ROW_KEYS = [
  'id',
  'tenant_id',
  'outlet_id',
  'customer_id',
  'invoice_no',
  'order_code',
  'is_pickup_delivery',
  'laundry_status',
  'courier_status',
  'courier_user_id',
  'shipping_fee_amount',
  'discount_amount',
  'total_amount',
  'paid_amount',
  'due_amount',
  'pickup',
  'delivery',
  'notes',
  'created_by',
  'updated_by',
  'source_channel',
  'collection_status',
  'collection_last_contacted_at',
  'collection_next_follow_up_at',
  'collection_note',
  'created_at',
  'updated_at',
]
const ITEM_KEYS = [
  'id',
  'order_id',
  'service_id',
  'service_name_snapshot',
  'unit_type_snapshot',
  'qty',
  'weight_kg',
  'unit_price_amount',
  'subtotal_amount',
  'created_at',
  'updated_at',
]
const PAYMENT_KEYS = ['id', 'order_id', 'amount', 'method', 'paid_at', 'notes', 'created_by', 'updated_by', 'source_channel', 'created_at', 'updated_at']
const CREATED_PAYMENT_KEYS = [
  'order_id',
  'amount',
  'method',
  'paid_at',
  'notes',
  'created_by',
  'updated_by',
  'source_channel',
  'id',
  'updated_at',
  'created_at',
]

/** The parts of an answer the tests read; everything else stays unknown. */
interface ItemJson {
  weight_kg: string | null
  created_at: string
  [key: string]: unknown
}
interface PaymentJson {
  id: string
  amount: number
  paid_at: string
  [key: string]: unknown
}
interface Json {
  id: string
  customer_id: string
  order_code: string
  total_amount: number
  paid_amount: number
  invoice_no: string | null
  customer: Record<string, unknown>
  courier: unknown
  items: ItemJson[]
  payments: PaymentJson[]
  [key: string]: unknown
}

/** A json column as read: text on SQLite, already decoded on PostgreSQL. */
const jsonColumn = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : value)

describeEachEngine('api orders (OrderApiTest, inject)', {from: 'seeded'}, (ctx) => {
  let db: Database
  let app: ApiInstance
  let config: AppConfig
  let fx: TenantFixture

  before(async () => {
    db = await ctx.scratch.open()
    config = loadConfig({cwd: ctx.scratch.dir, env: {}, databaseUrl: ctx.scratch.url})
    app = await buildApp({db, config, clock})
  })
  after(async () => {
    await app?.close()
  })

  /** OrderApiTest's fixture on a fresh tenant: the kg service at 8000 with an active override of 9000 on the outlet. */
  async function epic02(plan = 'standard'): Promise<TenantFixture> {
    const f = await tenantFixture(db, clock, {plan})
    await db.knex('outlet_services').where({outlet_id: f.outlet, service_id: f.services.kg}).update({price_override_amount: 9000})
    return f
  }
  beforeEach(async () => {
    fx = await epic02()
  })

  const as = (role: (typeof ROLE_KEYS)[number], f: TenantFixture = fx) => asUser(app, f.users[role].token)

  function orderPayload(code: string | null, pickup = false, f: TenantFixture = fx): Record<string, unknown> {
    return {
      outlet_id: f.outlet,
      ...(code === null ? {} : {order_code: code}),
      is_pickup_delivery: pickup,
      customer: {name: 'Customer Order', phone: '081299999999'},
      items: [{service_id: f.services.kg, weight_kg: 3}],
      shipping_fee_amount: 10000,
      discount_amount: 1000,
    }
  }

  /** OrderApiTest::createOrder: the cashier creates it, 201, total 36000. */
  async function createOrder(code: string, pickup = false, f: TenantFixture = fx): Promise<Json> {
    const res = await as('cashier', f)('POST', '/api/orders', orderPayload(code, pickup, f))
    expect(res.statusCode, res.body).to.equal(201)
    const data = res.json<{data: Json}>().data
    expect(data.total_amount).to.equal(36000)
    return data
  }

  const countRows = async (table: string, where: Record<string, unknown>) => Number((await db.knex(table).where(where).count({n: '*'}).first())?.n ?? 0)

  describe('OrderApiTest', () => {
    it('ORD-1: create calculates the total and normalises the customer phone', async () => {
      const res = await as('cashier')('POST', '/api/orders', {
        outlet_id: fx.outlet,
        order_code: 'ORD-CORE01',
        is_pickup_delivery: false,
        customer: {name: 'Budi', phone: '0812 3456 7890'},
        items: [{service_id: fx.services.kg, weight_kg: 5.2}],
        shipping_fee_amount: 10000,
        discount_amount: 2000,
      })
      expect(res.statusCode, res.body).to.equal(201)
      expect(res.headers['x-request-id']).to.be.a('string').and.not.equal('')
      const data = res.json<{data: Json}>().data
      expect(data.total_amount).to.equal(54800)
      expect(data.due_amount).to.equal(54800)
      expect(data.customer.phone_normalized).to.equal('6281234567890')
      expect(await countRows('customers', {tenant_id: fx.tenant})).to.equal(1)
      const row = found(await db.knex<OrderRecord>('orders').where({tenant_id: fx.tenant, order_code: 'ORD-CORE01'}).first(), 'order')
      expect(Number(row.created_by)).to.equal(fx.users.cashier.id)
      expect(Number(row.updated_by)).to.equal(fx.users.cashier.id)
      expect(row.source_channel).to.equal('web')
    })

    it('ORD-2: create upserts the customer by normalised phone per tenant', async () => {
      const body = (code: string, name: string, phone: string) => ({
        outlet_id: fx.outlet,
        order_code: code,
        customer: {name, phone},
        items: [{service_id: fx.services.kg, weight_kg: 2.0}],
      })
      expect((await as('cashier')('POST', '/api/orders', body('ORD-UPS1', 'Customer One', '08111111111'))).statusCode).to.equal(201)
      const res = await as('cashier')('POST', '/api/orders', body('ORD-UPS2', 'Customer Updated', '+62 8111111111'))
      expect(res.statusCode, res.body).to.equal(201)
      const customers = await db.knex('customers').where({tenant_id: fx.tenant})
      expect(customers).to.have.length(1)
      expect(customers[0]).to.include({phone_normalized: '628111111111', name: 'Customer Updated'})
    })

    it('ORD-3: create is refused with QUOTA_EXCEEDED once the plan limit is used, and the usage stays at the limit', async () => {
      const limited = await planWithLimit(1)
      await db.knex('tenants').where({id: fx.tenant}).update({current_plan_id: limited})
      const body = (code: string) => ({
        outlet_id: fx.outlet,
        order_code: code,
        customer: {name: 'Quota Customer', phone: '081288881111'},
        items: [{service_id: fx.services.kg, weight_kg: 2.4}],
      })
      expect((await as('cashier')('POST', '/api/orders', body('ORD-QT-01'))).statusCode).to.equal(201)
      const res = await as('cashier')('POST', '/api/orders', body('ORD-QT-02'))
      expect(res.statusCode).to.equal(422)
      expect(res.body).to.equal(
        JSON.stringify({
          reason_code: 'QUOTA_EXCEEDED',
          message: 'Order quota for the current period has been reached.',
          period: PERIOD,
          orders_limit: 1,
          orders_used: 1,
        }),
      )
      const usage = found(await db.knex<QuotaUsageRow>('quota_usage').where({tenant_id: fx.tenant, period: PERIOD}).first(), 'quota row')
      expect(Number(usage.orders_used)).to.equal(1)
      expect(await countRows('orders', {tenant_id: fx.tenant})).to.equal(1)
    })

    it('ORD-4: payments are append-only and update paid and due', async () => {
      const order = await createOrder('ORD-PAY01')
      const first = await as('cashier')('POST', `/api/orders/${order.id}/payments`, {amount: 20000, method: 'cash'})
      expect(first.statusCode, first.body).to.equal(201)
      const second = await as('cashier')('POST', `/api/orders/${order.id}/payments`, {amount: 10000, method: 'qris'})
      expect(second.statusCode, second.body).to.equal(201)
      const row = found(await db.knex<OrderRecord>('orders').where({id: order.id}).first(), 'order')
      expect(Number(row.paid_amount)).to.equal(30000)
      expect(Number(row.due_amount)).to.equal(6000)
      expect(await countRows('payments', {order_id: order.id})).to.equal(2)
      const cash = found(await db.knex<PaymentRecord>('payments').where({order_id: order.id, method: 'cash'}).first(), 'cash payment')
      expect(Number(cash.created_by)).to.equal(fx.users.cashier.id)
      expect(Number(cash.updated_by)).to.equal(fx.users.cashier.id)
      expect(cash.source_channel).to.equal('web')
      // The answer: the payment just created, and the order with both payments.
      const body = second.json<{data: Json; order: Json}>()
      expect(Object.keys(body)).to.deep.equal(['data', 'order'])
      expect(Object.keys(body.data)).to.deep.equal(CREATED_PAYMENT_KEYS)
      expect(body.data).to.include({amount: 10000, method: 'qris', notes: null, created_by: fx.users.cashier.id, source_channel: 'web'})
      expect(body.data.paid_at).to.equal('2026-03-01T10:00:00.000000Z')
      expect(Object.keys(body.order)).to.deep.equal([...ROW_KEYS, 'payments'])
      expect(body.order).to.include({paid_amount: 30000, due_amount: 6000})
      expect(body.order.payments.map((p) => p.amount)).to.deep.equal([20000, 10000])
      expect(Object.keys(body.order.payments[0])).to.deep.equal(PAYMENT_KEYS)
    })

    it('ORD-4 (overpayment): paid may exceed the total and due clamps at 0; paid_at with an offset is stored as its wall clock', async () => {
      const order = await createOrder('ORD-PAY02')
      const res = await as('cashier')('POST', `/api/orders/${order.id}/payments`, {
        amount: 50000,
        method: 'cash',
        paid_at: '2026-02-28T21:30:00+07:00',
        notes: 'lunas',
      })
      expect(res.statusCode, res.body).to.equal(201)
      const body = res.json<{data: Json; order: Json}>()
      expect(body.order).to.include({paid_amount: 50000, due_amount: 0})
      expect(body.data.paid_at).to.equal('2026-02-28T21:30:00.000000Z')
      const bad = await as('cashier')('POST', `/api/orders/${order.id}/payments`, {amount: 0, method: 'cash', paid_at: 'yesterday-ish'})
      expect(bad.statusCode).to.equal(422)
      expect(bad.json()).to.deep.equal({
        message: 'The amount field must be at least 1. (and 1 more error)',
        errors: {amount: ['The amount field must be at least 1.'], paid_at: ['The paid at field must be a valid date.']},
      })
    })

    it('paid_at in year 0 is a 422 "must be a valid date" (checkdate), never a 500, and nothing is written', async () => {
      const order = await createOrder('ORD-PAY03')
      for (const paidAt of ['0000-01-01', '0000-06-15T10:00:00+07:00']) {
        const res = await as('cashier')('POST', `/api/orders/${order.id}/payments`, {amount: 1000, method: 'cash', paid_at: paidAt})
        expect(res.statusCode, res.body).to.equal(422)
        expect(res.json()).to.deep.equal({
          message: 'The paid at field must be a valid date.',
          errors: {paid_at: ['The paid at field must be a valid date.']},
        })
      }
      expect(await countRows('payments', {order_id: order.id})).to.equal(0)
      const ok = await as('cashier')('POST', `/api/orders/${order.id}/payments`, {amount: 1000, method: 'cash', paid_at: '0001-01-01'})
      expect(ok.statusCode, ok.body).to.equal(201)
    })

    it('ORD-5: laundry status is forward only and rejects an invalid jump', async () => {
      const order = await createOrder('ORD-LAUN01')
      const laundry = (status: string) => as('worker')('POST', `/api/orders/${order.id}/status/laundry`, {status})
      const ok = await laundry('washing')
      expect(ok.statusCode, ok.body).to.equal(200)
      expect(Object.keys(ok.json<{data: Json}>().data)).to.deep.equal(ROW_KEYS)
      expect(ok.json<{data: Json}>().data).to.include({laundry_status: 'washing', updated_by: fx.users.worker.id})
      const back = await laundry('received')
      expect(back.statusCode).to.equal(422)
      expect(back.json()).to.deep.equal({reason_code: 'STATUS_NOT_FORWARD', message: 'Cannot move laundry_status backward from washing to received.'})
      const skip = await laundry('ready')
      expect(skip.statusCode).to.equal(422)
      expect(skip.json()).to.deep.equal({reason_code: 'INVALID_TRANSITION', message: 'Cannot move laundry_status from washing to ready.'})
      const unknown = await laundry('cancelled')
      expect(unknown.json()).to.deep.equal({reason_code: 'INVALID_TRANSITION', message: 'Unknown laundry_status transition.'})
      // Same status: accepted, saved and audited again.
      expect((await laundry('washing')).statusCode).to.equal(200)
      expect(await countRows('audit_events', {entity_id: order.id, event_key: 'ORDER_LAUNDRY_STATUS_UPDATED'})).to.equal(2)
      const missing = await as('worker')('POST', `/api/orders/${order.id}/status/laundry`, {})
      expect(missing.json()).to.deep.equal({message: 'The status field is required.', errors: {status: ['The status field is required.']}})
    })

    it('ORD-6: assign courier needs the courier role; the courier pipeline and the delivery_pending gate hold', async () => {
      const order = await createOrder('ORD-CRR01', true)
      const assign = await as('admin')('POST', `/api/orders/${order.id}/assign-courier`, {courier_user_id: fx.users.courier.id})
      expect(assign.statusCode, assign.body).to.equal(200)
      const assigned = assign.json<{data: Json}>().data
      expect(assigned.courier_user_id).to.equal(fx.users.courier.id)
      expect(Object.keys(assigned)).to.deep.equal([...ROW_KEYS, 'courier'])
      expect(assigned.courier).to.deep.equal({
        id: fx.users.courier.id,
        name: `courier ${fx.users.courier.email.slice(8, -'@example.test'.length)}`,
        phone: null,
      })
      const nonCourier = await as('admin')('POST', `/api/orders/${order.id}/assign-courier`, {courier_user_id: fx.users.cashier.id})
      expect(nonCourier.statusCode).to.equal(422)
      expect(nonCourier.json()).to.deep.equal({reason_code: 'VALIDATION_FAILED', message: 'Assigned user must be an active courier in the same tenant.'})
      const courier = (status: string) => as('courier')('POST', `/api/orders/${order.id}/status/courier`, {status})
      for (const status of ['pickup_on_the_way', 'picked_up', 'at_outlet']) expect((await courier(status)).statusCode, status).to.equal(200)
      const early = await courier('delivery_pending')
      expect(early.statusCode).to.equal(422)
      expect(early.json()).to.deep.equal({reason_code: 'INVALID_TRANSITION', message: 'laundry_status must be ready before setting delivery_pending.'})
      for (const status of ['washing', 'drying', 'ironing', 'ready']) {
        expect((await as('worker')('POST', `/api/orders/${order.id}/status/laundry`, {status})).statusCode, status).to.equal(200)
      }
      const ready = await courier('delivery_pending')
      expect(ready.statusCode, ready.body).to.equal(200)
      expect(ready.json<{data: Json}>().data).to.include({courier_status: 'delivery_pending', laundry_status: 'ready'})
      const backward = await courier('picked_up')
      expect(backward.json()).to.deep.equal({
        reason_code: 'STATUS_NOT_FORWARD',
        message: 'Cannot move courier_status backward from delivery_pending to picked_up.',
      })
    })

    it('ORD-7: the cashier can edit the schedule only before pickup_on_the_way', async () => {
      const order = await createOrder('ORD-SCH01', true)
      const schedule = (body: unknown) => as('cashier')('PATCH', `/api/orders/${order.id}/schedule`, body)
      const first = await schedule({shipping_fee_amount: 15000})
      expect(first.statusCode, first.body).to.equal(200)
      expect(first.json<{data: Json}>().data).to.include({shipping_fee_amount: 15000, total_amount: 41000, due_amount: 41000})
      const otw = await as('courier')('POST', `/api/orders/${order.id}/status/courier`, {status: 'pickup_on_the_way'})
      expect(otw.statusCode, otw.body).to.equal(200)
      const locked = await schedule({shipping_fee_amount: 17000})
      expect(locked.statusCode).to.equal(422)
      expect(locked.json()).to.deep.equal({reason_code: 'SCHEDULE_LOCKED', message: 'Cashier can only edit schedule before pickup_on_the_way.'})
      // The lock answers before validation, and the fee stays.
      expect((await schedule({shipping_fee_amount: -1})).json()).to.deep.include({reason_code: 'SCHEDULE_LOCKED'})
      const row = found(await db.knex<OrderRecord>('orders').where({id: order.id}).first(), 'order')
      expect([Number(row.shipping_fee_amount), Number(row.total_amount)]).to.deep.equal([15000, 41000])
      // The admin is not locked; nor is anyone without the cashier role.
      expect((await as('admin')('PATCH', `/api/orders/${order.id}/schedule`, {shipping_fee_amount: 17000})).statusCode).to.equal(200)
    })

    it('schedule: a null fee sets 0, totals come from the old total, pickup/delivery/notes only replaced when non-null, audited; validation', async () => {
      const order = await createOrder('ORD-SCH02', true)
      const schedule = (body: unknown, role: (typeof ROLE_KEYS)[number] = 'admin') => as(role)('PATCH', `/api/orders/${order.id}/schedule`, body)
      expect((await as('cashier')('POST', `/api/orders/${order.id}/payments`, {amount: 30000, method: 'cash'})).statusCode).to.equal(201)
      const set = await schedule({pickup: {slot: 'am'}, delivery: ['x'], notes: 'ring twice'})
      expect(set.statusCode, set.body).to.equal(200)
      const setData = set.json<{data: Json}>().data
      expect(Object.keys(setData)).to.deep.equal(ROW_KEYS)
      expect(setData).to.deep.include({shipping_fee_amount: 10000, total_amount: 36000, paid_amount: 30000, due_amount: 6000, notes: 'ring twice'})
      expect(setData.pickup).to.deep.equal({slot: 'am'})
      expect(setData.delivery).to.deep.equal(['x'])
      const zero = await schedule({shipping_fee_amount: null, pickup: null, delivery: null, notes: null})
      expect(zero.statusCode, zero.body).to.equal(200)
      const zeroData = zero.json<{data: Json}>().data
      expect(zeroData).to.deep.include({shipping_fee_amount: 0, total_amount: 26000, due_amount: 0, notes: 'ring twice'})
      expect([zeroData.pickup, zeroData.delivery]).to.deep.equal([{slot: 'am'}, ['x']])
      // Absent key: the fee stays.
      expect((await schedule({notes: 'n2'})).json<{data: Json}>().data).to.deep.include({shipping_fee_amount: 0, total_amount: 26000, notes: 'n2'})
      const audits = await db
        .knex<AuditEventRow>('audit_events')
        .where({entity_id: order.id, event_key: 'ORDER_SCHEDULE_UPDATED'})
        .orderBy('id')
        .select('metadata_json', 'user_id')
      expect(audits.map((a) => jsonColumn(a.metadata_json))).to.deep.equal([
        {shipping_fee_amount: 10000, total_amount: 36000, due_amount: 6000},
        {shipping_fee_amount: 0, total_amount: 26000, due_amount: 0},
        {shipping_fee_amount: 0, total_amount: 26000, due_amount: 0},
      ])
      expect(audits.map((a) => Number(a.user_id))).to.deep.equal([fx.users.admin.id, fx.users.admin.id, fx.users.admin.id])
      const bad = await schedule({shipping_fee_amount: -5, pickup: 'x', notes: 7})
      expect(bad.statusCode).to.equal(422)
      expect(bad.json()).to.deep.equal({
        message: 'The shipping fee amount field must be at least 0. (and 2 more errors)',
        errors: {
          shipping_fee_amount: ['The shipping fee amount field must be at least 0.'],
          pickup: ['The pickup field must be an array.'],
          notes: ['The notes field must be a string.'],
        },
      })
    })

    it('ORD-8: order mutations are audited (ORDER_CREATED, PAYMENT_ADDED, ORDER_LAUNDRY_STATUS_UPDATED) with the request id', async () => {
      const created = await as('cashier')('POST', '/api/orders', orderPayload('ORD-AUD01'), {'x-request-id': 'req-aud-01'})
      expect(created.statusCode).to.equal(201)
      const order = created.json<{data: Json}>().data
      const pay = await as('cashier')('POST', `/api/orders/${order.id}/payments`, {amount: 5000, method: 'cash'})
      expect(pay.statusCode).to.equal(201)
      expect((await as('worker')('POST', `/api/orders/${order.id}/status/laundry`, {status: 'washing'})).statusCode).to.equal(200)
      const audit = (event: string) => db.knex<AuditEventRow>('audit_events').where({tenant_id: fx.tenant, event_key: event}).first()
      const createdRow = found(await audit('ORDER_CREATED'), 'ORDER_CREATED')
      expect(createdRow).to.include({entity_type: 'order', entity_id: order.id, channel: 'api', outlet_id: fx.outlet, request_id: 'req-aud-01'})
      expect(Number(createdRow.user_id)).to.equal(fx.users.cashier.id)
      expect(jsonColumn(createdRow.metadata_json)).to.deep.equal({order_code: 'ORD-AUD01', invoice_no: null, total_amount: 36000, is_pickup_delivery: false})
      const paymentRow = found(await audit('PAYMENT_ADDED'), 'PAYMENT_ADDED')
      expect(paymentRow).to.include({channel: 'api', entity_type: 'payment', entity_id: pay.json<{data: Json}>().data.id})
      expect(jsonColumn(paymentRow.metadata_json)).to.deep.equal({order_id: order.id, amount: 5000, method: 'cash'})
      const laundryRow = found(await audit('ORDER_LAUNDRY_STATUS_UPDATED'), 'ORDER_LAUNDRY_STATUS_UPDATED')
      expect(laundryRow).to.include({entity_type: 'order', entity_id: order.id, channel: 'api'})
      expect(jsonColumn(laundryRow.metadata_json)).to.deep.equal({from: 'received', to: 'washing'})
    })
  })

  async function planWithLimit(limit: number): Promise<number> {
    const now = toDbTimestamp(clock.now())
    const [row]: Array<{id: number}> = await db
      .knex('plans')
      .insert({key: `limit-${limit}-${uuid7().slice(-8)}`, name: 'Limited', orders_limit: limit, created_at: now, updated_at: now})
      .returning('id')
    return Number(row.id)
  }

  describe('decisions', () => {
    it('A-10: a soft-deleted customer with the same phone is restored and reused, never a 500', async () => {
      const first = await createOrder('ORD-A10-1')
      await db.knex('customers').where({id: first.customer_id}).update({deleted_at: '2026-02-01 00:00:00'})
      const res = await as('cashier')('POST', '/api/orders', {
        ...orderPayload('ORD-A10-2'),
        customer: {name: 'Back Again', phone: '+62 812-9999-9999', notes: 'vip'},
      })
      expect(res.statusCode, res.body).to.equal(201)
      const data = res.json<{data: Json}>().data
      expect(data.customer_id).to.equal(first.customer_id)
      const customers = await db.knex('customers').where({tenant_id: fx.tenant})
      expect(customers).to.have.length(1)
      expect(customers[0]).to.include({id: first.customer_id, name: 'Back Again', notes: 'vip', deleted_at: null})
    })

    it('A-12: a duplicate REST invoice_no in the tenant is a 422 on invoice_no, never a 500, and nothing is written', async () => {
      const ok = await as('cashier')('POST', '/api/orders', {...orderPayload('ORD-A12-1'), invoice_no: 'A1-260301-0001'})
      expect(ok.statusCode, ok.body).to.equal(201)
      expect(ok.json<{data: Json}>().data.invoice_no).to.equal('A1-260301-0001')
      const dup = await as('cashier')('POST', '/api/orders', {...orderPayload('ORD-A12-2'), invoice_no: 'A1-260301-0001'})
      expect(dup.statusCode).to.equal(422)
      expect(dup.json()).to.deep.equal({
        message: 'The invoice_no has already been used in this tenant.',
        errors: {invoice_no: ['The invoice_no has already been used in this tenant.']},
      })
      expect(await countRows('orders', {tenant_id: fx.tenant})).to.equal(1)
      const usage = found(await db.knex<QuotaUsageRow>('quota_usage').where({tenant_id: fx.tenant, period: PERIOD}).first(), 'quota')
      expect(Number(usage.orders_used)).to.equal(1)
      // Another tenant may use the same number (the index is per tenant).
      const other = await epic02()
      expect(
        (await as('cashier', other)('POST', '/api/orders', {...orderPayload('ORD-A12-3', false, other), invoice_no: 'A1-260301-0001'})).statusCode,
      ).to.equal(201)
    })
  })

  describe('create: answers, validation and refusals', () => {
    it('answers 201 with the created model: its keys in upstream order, decimal strings, booleans, Eloquent dates', async () => {
      const res = await as('admin')(
        'POST',
        '/api/orders',
        {
          outlet_id: fx.outlet,
          is_pickup_delivery: '1',
          shipping_fee_amount: '5000',
          notes: '  fragile  ',
          pickup: {address: 'Jl. Mawar 1', slot: '09:00'},
          customer: {name: 'Sari', phone: '0812-1111-2222', notes: ''},
          items: [
            {service_id: fx.services.kg, weight_kg: '5.2'},
            {service_id: fx.services.pcs, qty: 3},
          ],
        },
        {'x-source-channel': 'MOBILE'},
      )
      expect(res.statusCode, res.body).to.equal(201)
      const data = res.json<{data: Json}>().data
      expect(Object.keys(data)).to.deep.equal(CREATE_KEYS)
      expect(data.order_code).to.match(/^ORD-[A-Z0-9]{8}$/)
      expect(data).to.include({
        tenant_id: fx.tenant,
        outlet_id: fx.outlet,
        invoice_no: null,
        is_pickup_delivery: true,
        laundry_status: 'received',
        courier_status: 'pickup_pending',
        shipping_fee_amount: 5000,
        discount_amount: 0,
        total_amount: 46800 + 15000 + 5000,
        paid_amount: 0,
        due_amount: 66800,
        notes: 'fragile',
        created_by: fx.users.admin.id,
        source_channel: 'mobile',
      })
      expect(data.pickup).to.deep.equal({address: 'Jl. Mawar 1', slot: '09:00'})
      expect(data.delivery).to.equal(null)
      expect(data.created_at).to.equal('2026-03-01T10:00:00.000000Z')
      expect(data.updated_at).to.match(EL_DATE)
      expect(data.customer).to.deep.equal({id: data.customer_id, name: 'Sari', phone_normalized: '6281211112222'})
      expect(data.items).to.have.length(2)
      for (const item of data.items) expect(Object.keys(item)).to.deep.equal(ITEM_KEYS)
      expect(data.items[0]).to.include({
        service_name_snapshot: 'Kiloan Reguler',
        unit_type_snapshot: 'kg',
        qty: null,
        weight_kg: '5.20',
        unit_price_amount: 9000,
        subtotal_amount: 46800,
      })
      expect(data.items[1]).to.include({unit_type_snapshot: 'pcs', qty: '3.00', weight_kg: null, unit_price_amount: 5000, subtotal_amount: 15000})
      expect(data.items[0].created_at).to.match(EL_DATE)
    })

    it('answers from the rows the inserts return: the body equals the order and items read back from the database', async () => {
      const res = await as('owner')('POST', '/api/orders', {
        outlet_id: fx.outlet,
        is_pickup_delivery: true,
        shipping_fee_amount: 2500,
        discount_amount: 100,
        pickup: {address: 'Jl. Kenanga 2', geo: [1.5, -2], note: null},
        delivery: ['a', 'b'],
        customer: {name: 'Readback', phone: '081277770000', notes: 'n'},
        items: [
          {service_id: fx.services.pcs, qty: '1.005'},
          {service_id: fx.services.kg, weight_kg: 0.125},
          {service_id: fx.services.kg, weight_kg: '250.5'},
          {service_id: fx.services.pcs, qty: 7},
        ],
      })
      expect(res.statusCode, res.body).to.equal(201)
      const data = res.json<{data: Json}>().data
      const order = found(await db.knex('orders').where({id: data.id}).first<OrderRecord | undefined>(), 'order')
      const items = await db.knex('order_items').where({order_id: data.id}).orderBy('id', 'asc').select<OrderItemRecord[]>()
      const customer = found(await db.knex('customers').where({id: data.customer_id}).first<CustomerRecord | undefined>(), 'customer')
      expect(data).to.deep.equal({
        ...serializeCreatedOrder(order),
        customer: serializeCustomerBrief(customer),
        items: items.map(serializeOrderItem),
      })
      expect(data.items.map((i) => i.qty ?? i.weight_kg)).to.deep.equal(['1.01', '0.13', '250.50', '7.00'])
    })

    it("pickup and delivery are stored as PHP's json_decode and json_encode leave them: {} as [], a 0..n-1 keyed object as a list (create and schedule)", async () => {
      const res = await as('owner')('POST', '/api/orders', {
        outlet_id: fx.outlet,
        is_pickup_delivery: true,
        pickup: {},
        delivery: {'0': 'gate', '1': {}, extra: {'0': 1, '2': 3}},
        customer: {name: 'Arrays', phone: '081277771111'},
        items: [{service_id: fx.services.pcs, qty: 1}],
      })
      expect(res.statusCode, res.body).to.equal(201)
      const data = res.json<{data: Json}>().data
      expect(data.pickup).to.deep.equal([])
      expect(data.delivery).to.deep.equal({'0': 'gate', '1': [], extra: {'0': 1, '2': 3}})
      const stored = found(await db.knex('orders').where({id: data.id}).first<{pickup: unknown; delivery: unknown} | undefined>('pickup', 'delivery'), 'order')
      const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v))
      expect(text(stored.pickup)).to.equal('[]')
      expect(JSON.parse(text(stored.delivery))).to.deep.equal({'0': 'gate', '1': [], extra: {'0': 1, '2': 3}})
      const patched = await as('owner')('PATCH', `/api/orders/${data.id}/schedule`, {pickup: {'0': 'a', '1': 'b'}, delivery: {}})
      expect(patched.statusCode, patched.body).to.equal(200)
      const after = found(await db.knex('orders').where({id: data.id}).first<{pickup: unknown; delivery: unknown} | undefined>('pickup', 'delivery'), 'order')
      expect(JSON.parse(text(after.pickup))).to.deep.equal(['a', 'b'])
      expect(text(after.delivery)).to.equal('[]')
    })

    it('creates an order of 3,001 items (no upstream limit): inserted in bounded batches on both engines, answered in order', async function () {
      this.timeout(60_000)
      const items = [...Array.from({length: 3000}, (_, i) => ({service_id: fx.services.pcs, qty: (i % 3) + 1})), {service_id: fx.services.kg, weight_kg: 1}]
      const res = await as('owner')('POST', '/api/orders', {outlet_id: fx.outlet, customer: {name: 'Bulk', phone: '081277772222'}, items})
      expect(res.statusCode, res.body.slice(0, 300)).to.equal(201)
      const data = res.json<{data: Json}>().data
      expect(data.items).to.have.length(3001)
      // 1000 × (1 + 2 + 3) × 5000 for the pcs lines, 9000 for the kg line (the outlet override).
      expect(data.total_amount).to.equal(30_000_000 + 9000)
      expect(await countRows('order_items', {order_id: data.id})).to.equal(3001)
      const stored = await db.knex('order_items').where({order_id: data.id}).orderBy('id', 'asc').select<OrderItemRecord[]>()
      expect(data.items.map((i) => i.id)).to.deep.equal(stored.map((i) => i.id))
    })

    it('keeps creating orders when a migration changes a column type under the running server (prepared statements renewed)', async function () {
      if (ctx.dialect !== 'pg') this.skip()
      const create = (i: number) =>
        as('cashier')('POST', '/api/orders', {
          outlet_id: fx.outlet,
          customer: {name: `Ddl ${i}`, phone: `08127777${String(3000 + i)}`},
          items: [{service_id: fx.services.pcs, qty: 1}],
        })
      // Warm: the creation's statements prepared on several pooled connections.
      for (const res of await Promise.all(Array.from({length: 6}, (_, i) => create(i)))) expect(res.statusCode, res.body).to.equal(201)
      await db.knex.raw('alter table order_items alter column subtotal_amount type bigint')
      try {
        const answers = await Promise.all(Array.from({length: 6}, (_, i) => create(10 + i)))
        expect(answers.map((r) => r.statusCode)).to.deep.equal(Array<number>(6).fill(201))
      } finally {
        await db.knex.raw('alter table order_items alter column subtotal_amount type integer')
      }
      expect((await create(20)).statusCode).to.equal(201)
    })

    it("validates with Laravel's rules and messages", async () => {
      const res = await as('cashier')('POST', '/api/orders', {
        outlet_id: fx.outlet,
        order_code: 'X'.repeat(33),
        is_pickup_delivery: 'true',
        shipping_fee_amount: -1,
        discount_amount: '1.5',
        customer: {name: 'A', phone: '0812'},
        items: [{service_id: fx.services.kg, weight_kg: 0}],
      })
      expect(res.statusCode).to.equal(422)
      expect(res.json<{errors: Json}>().errors).to.deep.equal({
        order_code: ['The order code field must not be greater than 32 characters.'],
        is_pickup_delivery: ['The is pickup delivery field must be true or false.'],
        shipping_fee_amount: ['The shipping fee amount field must be at least 0.'],
        discount_amount: ['The discount amount field must be an integer.'],
        'items.0.weight_kg': ['The items.0.weight kg field must be at least 0.01.'],
      })
      const empty = await as('cashier')('POST', '/api/orders', {outlet_id: fx.outlet, customer: {}, items: []})
      expect(empty.statusCode).to.equal(422)
      expect(empty.json<{errors: Json}>().errors).to.deep.equal({
        customer: ['The customer field is required.'],
        'customer.name': ['The customer.name field is required.'],
        'customer.phone': ['The customer.phone field is required.'],
        items: ['The items field is required.'],
      })
      // As Laravel validates the dotted keys on their own: a scalar customer fails `array` and its keys `required`.
      const scalar = await as('cashier')('POST', '/api/orders', {outlet_id: fx.outlet, customer: 'Budi', items: [{service_id: fx.services.kg, weight_kg: 1}]})
      expect(scalar.json()).to.deep.equal({
        message: 'The customer field must be an array. (and 2 more errors)',
        errors: {
          customer: ['The customer field must be an array.'],
          'customer.name': ['The customer.name field is required.'],
          'customer.phone': ['The customer.phone field is required.'],
        },
      })
      const partial = await as('cashier')('POST', '/api/orders', {
        outlet_id: fx.outlet,
        customer: {name: 'N'.repeat(151)},
        items: [{service_id: fx.services.kg, weight_kg: 1}],
      })
      expect(partial.json<{errors: Json}>().errors).to.deep.equal({
        'customer.name': ['The customer.name field must not be greater than 150 characters.'],
        'customer.phone': ['The customer.phone field is required.'],
      })
      expect(await countRows('orders', {tenant_id: fx.tenant})).to.equal(0)
    })

    it('refuses a duplicate order_code, a bad phone, a foreign or inactive service, a kg item without weight: 422, nothing written, quota unchanged', async () => {
      await createOrder('ORD-DUP')
      const post = (body: Record<string, unknown>) => as('cashier')('POST', '/api/orders', body)
      const other = await tenantFixture(db, clock)
      await db.knex('services').where({id: fx.services.pcs}).update({active: false})
      const cases: Array<[Record<string, unknown>, string, string]> = [
        [orderPayload('ORD-DUP'), 'order_code', 'The order_code has already been used in this tenant.'],
        [{...orderPayload('ORD-P1'), customer: {name: 'X', phone: '12345'}}, 'customer.phone', 'Invalid phone number format.'],
        [
          {...orderPayload('ORD-P2'), items: [{service_id: other.services.kg, weight_kg: 1}]},
          'items',
          `Service ${other.services.kg} is invalid for this tenant.`,
        ],
        [{...orderPayload('ORD-P3'), items: [{service_id: fx.services.pcs, qty: 1}]}, 'items', `Service ${fx.services.pcs} is invalid for this tenant.`],
        [{...orderPayload('ORD-P4'), items: [{service_id: fx.services.kg, qty: 2}]}, 'items', 'weight_kg is required for unit_type kg.'],
      ]
      for (const [body, field, message] of cases) {
        const res = await post(body)
        expect(res.statusCode, field).to.equal(422)
        expect(res.json(), field).to.deep.equal({message, errors: {[field]: [message]}})
      }
      await db.knex('services').where({id: fx.services.pcs}).update({active: true})
      const noQty = await post({...orderPayload('ORD-P5'), items: [{service_id: fx.services.pcs}]})
      expect(noQty.json()).to.deep.equal({message: 'qty is required for unit_type pcs.', errors: {items: ['qty is required for unit_type pcs.']}})
      expect(await countRows('orders', {tenant_id: fx.tenant})).to.equal(1)
      expect(await countRows('customers', {tenant_id: fx.tenant})).to.equal(1)
      const usage = found(await db.knex<QuotaUsageRow>('quota_usage').where({tenant_id: fx.tenant, period: PERIOD}).first(), 'quota')
      expect(Number(usage.orders_used)).to.equal(1)
    })
  })

  describe('amounts beyond the integer columns', () => {
    it('are a 422 on the field, never a 500, and nothing is written (upstream failed in the insert)', async () => {
      const post = (body: Record<string, unknown>) => as('cashier')('POST', '/api/orders', body)
      const cases: Array<[Record<string, unknown>, string, string]> = [
        [
          {...orderPayload('ORD-BIG1'), shipping_fee_amount: 2_147_483_648},
          'shipping_fee_amount',
          'The shipping fee amount field must not be greater than 2147483647.',
        ],
        [
          {...orderPayload('ORD-BIG2'), items: [{service_id: fx.services.kg, weight_kg: 100_000_000}]},
          'items',
          'qty and weight_kg must not be greater than 99999999.99.',
        ],
        [
          {...orderPayload('ORD-BIG3'), items: [{service_id: fx.services.kg, weight_kg: 500_000}]},
          'items',
          'An item subtotal must not be greater than 2147483647.',
        ],
        [
          {...orderPayload('ORD-BIG4'), items: Array.from({length: 3}, () => ({service_id: fx.services.kg, weight_kg: 200_000}))},
          'items',
          'The order total must not be greater than 2147483647.',
        ],
      ]
      for (const [body, field, message] of cases) {
        const res = await post(body)
        expect(res.statusCode, message).to.equal(422)
        expect(res.json(), message).to.deep.equal({message, errors: {[field]: [message]}})
      }
      expect(await countRows('orders', {tenant_id: fx.tenant})).to.equal(0)
      const order = await createOrder('ORD-BIG5')
      const pay = (amount: number) => as('cashier')('POST', `/api/orders/${order.id}/payments`, {amount, method: 'cash'})
      expect((await pay(2_147_483_647)).statusCode).to.equal(201)
      const over = await pay(1)
      expect(over.statusCode).to.equal(422)
      expect(over.json()).to.deep.equal({
        message: 'The amount field must not be greater than 2147483647.',
        errors: {amount: ['The amount field must not be greater than 2147483647.']},
      })
      expect(await countRows('payments', {order_id: order.id})).to.equal(1)
    })
  })

  describe('list and show', () => {
    it('GET /api/orders lists the outlet newest first with customer and courier, honours limit, and validates its query', async () => {
      const a = await createOrder('ORD-L1', true)
      const b = await createOrder('ORD-L2')
      await as('cashier')('POST', '/api/orders', {...orderPayload('ORD-L3'), outlet_id: fx.otherOutlet}) // cashier is not on A2
      await as('owner')('POST', '/api/orders', {...orderPayload('ORD-L4'), outlet_id: fx.otherOutlet})
      expect((await as('admin')('POST', `/api/orders/${a.id}/assign-courier`, {courier_user_id: fx.users.courier.id})).statusCode).to.equal(200)
      const res = await as('worker')('GET', `/api/orders?outlet_id=${fx.outlet}`)
      expect(res.statusCode, res.body).to.equal(200)
      const data = res.json<{data: Json[]}>().data
      expect(data.map((o) => o.order_code)).to.deep.equal(['ORD-L2', 'ORD-L1'])
      expect(Object.keys(data[0])).to.deep.equal([...ROW_KEYS, 'customer', 'courier'])
      expect(data[0].courier).to.equal(null)
      expect(data[1].courier).to.deep.equal({
        id: fx.users.courier.id,
        name: found(await db.knex<UserRow>('users').where({id: fx.users.courier.id}).first(), 'courier').name,
      })
      expect(data[1].customer).to.deep.equal({id: a.customer_id, name: 'Customer Order', phone_normalized: '6281299999999'})
      expect(data[0]).to.include({id: b.id, is_pickup_delivery: false, courier_user_id: null, collection_status: null})
      const limited = await as('courier')('GET', `/api/orders?outlet_id=${fx.outlet}&limit=1`)
      expect(limited.json<{data: Json[]}>().data.map((o) => o.order_code)).to.deep.equal(['ORD-L2'])
      const bad = await as('owner')('GET', '/api/orders?limit=0')
      expect(bad.statusCode).to.equal(422)
      expect(bad.json<{errors: Json}>().errors).to.deep.equal({outlet_id: ['The outlet id field is required.'], limit: ['The limit field must be at least 1.']})
      const owner = await as('owner')('GET', `/api/orders?outlet_id=${fx.otherOutlet}&limit=100`)
      expect(owner.json<{data: Json[]}>().data.map((o) => o.order_code)).to.deep.equal(['ORD-L4'])
    })

    it('GET /api/orders/{order} shows the order with customer, items, payments and courier; any role; 404 for a non-UUID or unknown id', async () => {
      const order = await createOrder('ORD-SHOW', true)
      await as('cashier')('POST', `/api/orders/${order.id}/payments`, {amount: 1000, method: 'cash'})
      for (const role of ROLE_KEYS) {
        const res = await as(role)('GET', `/api/orders/${order.id}`)
        expect(res.statusCode, role).to.equal(200)
        const data = res.json<{data: Json}>().data
        expect(Object.keys(data)).to.deep.equal([...ROW_KEYS, 'customer', 'items', 'payments', 'courier'])
        expect(data.customer).to.deep.equal({id: order.customer_id, name: 'Customer Order', phone_normalized: '6281299999999', notes: null})
        expect(data.items.map((i) => i.weight_kg)).to.deep.equal(['3.00'])
        expect(data.payments.map((p) => p.amount)).to.deep.equal([1000])
        expect(data.courier).to.equal(null)
        expect(data.pickup).to.equal(null)
      }
      const notUuid = await as('owner')('GET', '/api/orders/abc')
      expect(notUuid.statusCode).to.equal(404)
      expect(notUuid.json()).to.deep.equal({message: 'No query results for model [App\\Models\\Order] abc'})
      const unknown = uuid7()
      expect((await as('owner')('GET', `/api/orders/${unknown}`)).json()).to.deep.equal({message: `No query results for model [App\\Models\\Order] ${unknown}`})
      expect((await app.inject({method: 'GET', url: `/api/orders/${order.id}`})).statusCode).to.equal(401)
    })
  })

  describe('access (reference §3.3)', () => {
    it('role matrix: each order route admits exactly its roles (403 ROLE_ACCESS_DENIED otherwise)', async () => {
      const denied = {reason_code: 'ROLE_ACCESS_DENIED', message: 'You are not allowed to perform this action.'}
      const allowed: Record<string, readonly string[]> = {
        create: ['owner', 'admin', 'cashier'],
        payments: ['owner', 'admin', 'cashier'],
        laundry: ['owner', 'admin', 'worker'],
        courier: ['owner', 'admin', 'courier'],
        assign: ['owner', 'admin'],
        schedule: ['owner', 'admin', 'cashier'],
        list: ROLE_KEYS,
      }
      for (const role of ROLE_KEYS) {
        const order = await createOrder(`ORD-RM-${role}`, true)
        const requests: Record<string, () => ReturnType<ReturnType<typeof as>>> = {
          create: () => as(role)('POST', '/api/orders', orderPayload(`ORD-RM2-${role}`)),
          payments: () => as(role)('POST', `/api/orders/${order.id}/payments`, {amount: 1000, method: 'cash'}),
          laundry: () => as(role)('POST', `/api/orders/${order.id}/status/laundry`, {status: 'washing'}),
          courier: () => as(role)('POST', `/api/orders/${order.id}/status/courier`, {status: 'pickup_on_the_way'}),
          assign: () => as(role)('POST', `/api/orders/${order.id}/assign-courier`, {courier_user_id: fx.users.courier.id}),
          schedule: () => as(role)('PATCH', `/api/orders/${order.id}/schedule`, {shipping_fee_amount: 5000}),
          list: () => as(role)('GET', `/api/orders?outlet_id=${fx.outlet}`),
        }
        for (const [route, send] of Object.entries(requests)) {
          const res = await send()
          if (allowed[route].includes(role)) {
            expect(res.statusCode, `${role} ${route}: ${res.body}`).to.be.oneOf([200, 201])
          } else {
            expect(res.statusCode, `${role} ${route}`).to.equal(403)
            expect(res.json(), `${role} ${route}`).to.deep.equal(denied)
          }
        }
      }
      // A user with no role fails every role check, but may show an order (no role check there).
      const order = await createOrder('ORD-RM-NONE')
      await db.knex('user_roles').where({user_id: fx.users.cashier.id}).delete()
      expect((await as('cashier')('GET', `/api/orders?outlet_id=${fx.outlet}`)).json()).to.deep.equal(denied)
      expect((await as('cashier')('GET', `/api/orders/${order.id}`)).statusCode).to.equal(200)
    })

    it('outlet scope wins over the role check; another tenant gets 403 and learns nothing', async () => {
      const outletDenied = {reason_code: 'OUTLET_ACCESS_DENIED', message: 'You do not have access to the requested outlet.'}
      // A worker creating for an unassigned outlet: OUTLET_ACCESS_DENIED, not ROLE_ACCESS_DENIED.
      const worker = await as('worker')('POST', '/api/orders', {...orderPayload('ORD-SC1'), outlet_id: fx.otherOutlet})
      expect(worker.statusCode).to.equal(403)
      expect(worker.json()).to.deep.equal(outletDenied)
      const order = await createOrder('ORD-SC2', true)
      const b = await epic02()
      for (const [method, url, body] of [
        ['GET', `/api/orders/${order.id}`, undefined],
        ['POST', `/api/orders/${order.id}/payments`, {amount: 1, method: 'cash'}],
        ['POST', `/api/orders/${order.id}/status/laundry`, {status: 'washing'}],
        ['POST', `/api/orders/${order.id}/status/courier`, {status: 'pickup_on_the_way'}],
        ['POST', `/api/orders/${order.id}/assign-courier`, {courier_user_id: b.users.courier.id}],
        ['GET', `/api/orders?outlet_id=${fx.outlet}`, undefined],
        ['POST', '/api/orders', orderPayload('ORD-SC3')],
      ] as const) {
        const res = await as('owner', b)(method, url, body)
        expect(res.statusCode, url).to.equal(403)
        expect(res.json(), url).to.deep.equal(outletDenied)
      }
      const row = found(await db.knex<OrderRecord>('orders').where({id: order.id}).first(), 'order')
      expect(row).to.include({laundry_status: 'received', courier_status: 'pickup_pending', courier_user_id: null})
      expect(Number(row.paid_amount)).to.equal(0)
    })

    it('courier status and assignment on a non-pickup order are refused before the body is validated', async () => {
      const order = await createOrder('ORD-NP1')
      const courier = await as('courier')('POST', `/api/orders/${order.id}/status/courier`, {})
      expect(courier.statusCode).to.equal(422)
      expect(courier.json()).to.deep.equal({reason_code: 'INVALID_TRANSITION', message: 'Courier status is only available for pickup-delivery orders.'})
      const assign = await as('admin')('POST', `/api/orders/${order.id}/assign-courier`, {})
      expect(assign.statusCode).to.equal(422)
      expect(assign.json()).to.deep.equal({reason_code: 'VALIDATION_FAILED', message: 'Courier can only be assigned for pickup-delivery orders.'})
      // On a pickup order the body is validated.
      const pickup = await createOrder('ORD-NP2', true)
      const missing = await as('admin')('POST', `/api/orders/${pickup.id}/assign-courier`, {courier_user_id: 'x'})
      expect(missing.json()).to.deep.equal({
        message: 'The courier user id field must be an integer.',
        errors: {courier_user_id: ['The courier user id field must be an integer.']},
      })
      const foreign = await epic02()
      const other = await as('admin')('POST', `/api/orders/${pickup.id}/assign-courier`, {courier_user_id: foreign.users.courier.id})
      expect(other.json()).to.deep.equal({reason_code: 'VALIDATION_FAILED', message: 'Assigned user must be an active courier in the same tenant.'})
    })
  })

  describe('WhatsApp messages queued by order events (reference §4.8)', () => {
    const messages = async (orderId: string) =>
      (await db.knex<WaMessageRow>('wa_messages').where({order_id: orderId}).orderBy('created_at').orderBy('id')).map((m) => m.template_id)

    it('a premium pickup-delivery order runs end to end (UAT-1): five messages queued on the messaging queue, audits counted', async () => {
      const p = await epic02('premium')
      const order = await createOrder('ORD-UAT-001', true, p)
      const user = (role: (typeof ROLE_KEYS)[number]) => as(role, p)
      expect((await user('admin')('POST', `/api/orders/${order.id}/assign-courier`, {courier_user_id: p.users.courier.id})).statusCode).to.equal(200)
      for (const status of ['pickup_on_the_way', 'picked_up', 'at_outlet']) {
        expect((await user('courier')('POST', `/api/orders/${order.id}/status/courier`, {status})).statusCode).to.equal(200)
      }
      for (const status of ['washing', 'drying', 'ironing', 'ready']) {
        expect((await user('worker')('POST', `/api/orders/${order.id}/status/laundry`, {status})).statusCode).to.equal(200)
      }
      for (const status of ['delivery_pending', 'delivery_on_the_way', 'delivered']) {
        expect((await user('courier')('POST', `/api/orders/${order.id}/status/courier`, {status})).statusCode).to.equal(200)
      }
      // A repeated status re-attempts the enqueue; the idempotency key dedupes it.
      expect((await user('courier')('POST', `/api/orders/${order.id}/status/courier`, {status: 'delivered'})).statusCode).to.equal(200)
      expect((await user('cashier')('POST', `/api/orders/${order.id}/payments`, {amount: 20000, method: 'cash'})).statusCode).to.equal(201)
      expect((await user('cashier')('POST', `/api/orders/${order.id}/payments`, {amount: 16000, method: 'qris'})).statusCode).to.equal(201)
      const show = (await user('admin')('GET', `/api/orders/${order.id}`)).json<{data: Json}>().data
      expect(show).to.include({laundry_status: 'ready', courier_status: 'delivered', paid_amount: 36000, due_amount: 0})
      expect(show.courier).to.deep.include({id: p.users.courier.id})
      expect(await messages(order.id)).to.deep.equal(['WA_PICKUP_CONFIRM', 'WA_PICKUP_OTW', 'WA_LAUNDRY_READY', 'WA_DELIVERY_OTW', 'WA_ORDER_DONE'])
      const rows = await db.knex<WaMessageRow>('wa_messages').where({order_id: order.id})
      for (const m of rows) {
        expect(m).to.include({status: 'queued', tenant_id: p.tenant, outlet_id: p.outlet, to_phone: '6281299999999', source_channel: 'web'})
        expect(jsonColumn(m.metadata_json)).to.include({source: 'api'})
      }
      const first = rows.find((m) => m.template_id === 'WA_PICKUP_CONFIRM')
      expect(jsonColumn(first?.metadata_json)).to.include({event: 'order_created', actor_user_id: p.users.cashier.id})
      const jobs = await db.knex<JobRow>('jobs').where({queue: 'messaging'})
      for (const m of rows)
        expect(
          jobs.some((j) => j.payload.includes(m.id)),
          m.template_id,
        ).to.equal(true)
      const count = (event: string) => countRows('audit_events', {tenant_id: p.tenant, event_key: event})
      expect(await count('ORDER_CREATED')).to.equal(1)
      expect(await count('ORDER_COURIER_ASSIGNED')).to.equal(1)
      expect(await count('ORDER_COURIER_STATUS_UPDATED')).to.equal(7)
      expect(await count('ORDER_LAUNDRY_STATUS_UPDATED')).to.equal(4)
      expect(await count('PAYMENT_ADDED')).to.equal(2)
    })

    it('a non-pickup order completing queues WA_ORDER_DONE; a standard plan queues nothing', async () => {
      const p = await epic02('premium')
      const order = await createOrder('ORD-WA-2', false, p)
      for (const status of ['washing', 'drying', 'ironing', 'ready', 'completed']) {
        expect((await as('worker', p)('POST', `/api/orders/${order.id}/status/laundry`, {status})).statusCode).to.equal(200)
      }
      expect(await messages(order.id)).to.deep.equal(['WA_LAUNDRY_READY', 'WA_ORDER_DONE'])
      const standard = await createOrder('ORD-WA-3', true)
      expect((await as('courier')('POST', `/api/orders/${standard.id}/status/courier`, {status: 'pickup_on_the_way'})).statusCode).to.equal(200)
      expect(await messages(standard.id)).to.deep.equal([])
    })
  })

  it('GET /api/outlets/allowed: the owner gets every live outlet of the tenant, others their assignments, sorted by name', async () => {
    const owner = await as('owner')('GET', '/api/outlets/allowed')
    expect(owner.statusCode).to.equal(200)
    const names = owner.json<{data: Json[]}>().data
    expect(names.map((o) => o.id).sort()).to.deep.equal([fx.outlet, fx.otherOutlet].sort())
    expect(names.map((o) => o.name)).to.deep.equal([...names.map((o) => o.name)].sort())
    expect(Object.keys(names[0])).to.deep.equal(['id', 'tenant_id', 'name', 'code', 'timezone'])
    const cashier = await as('cashier')('GET', '/api/outlets/allowed')
    expect(cashier.json<{data: Json[]}>().data.map((o) => o.id)).to.deep.equal([fx.outlet])
    await db.knex('outlets').where({id: fx.otherOutlet}).update({deleted_at: '2026-02-01 00:00:00'})
    expect((await as('owner')('GET', '/api/outlets/allowed')).json<{data: Json[]}>().data.map((o) => o.id)).to.deep.equal([fx.outlet])
    expect((await as('cashier')('GET', `/api/outlets/allowed?outlet_id=${fx.otherOutlet}`)).statusCode).to.equal(403)
  })

  it('repeated X-Outlet-Id and X-Source-Channel headers (joined "a, b"): the first value counts', async () => {
    const allowed = await as('cashier')('GET', '/api/outlets/allowed', undefined, {'x-outlet-id': `${fx.outlet}, ${fx.otherOutlet}`})
    expect(allowed.statusCode, allowed.body).to.equal(200)
    const denied = await as('cashier')('GET', '/api/outlets/allowed', undefined, {'x-outlet-id': `${fx.otherOutlet}, ${fx.outlet}`})
    expect(denied.statusCode).to.equal(403)
    const order = await createOrder('ORD-HDR01')
    const paid = await as('cashier')('POST', `/api/orders/${order.id}/payments`, {amount: 1000, method: 'cash'}, {'x-source-channel': 'Mobile, web'})
    expect(paid.statusCode, paid.body).to.equal(201)
    expect(paid.json<{data: Json}>().data.source_channel).to.equal('mobile')
  })

  it('GET /api/outlets/allowed sorts names case-insensitively, as the MySQL collation upstream ran on does', async () => {
    await db.knex('outlets').where({id: fx.outlet}).update({name: 'apple outlet'})
    await db.knex('outlets').where({id: fx.otherOutlet}).update({name: 'Banana outlet'})
    const names = (await as('owner')('GET', '/api/outlets/allowed')).json<{data: Json[]}>().data.map((o) => o.name)
    expect(names).to.deep.equal(['apple outlet', 'Banana outlet'])
  })

  describe('concurrency (two processes, each with its own pool)', function () {
    this.timeout(120_000)
    const race = (groups: Parameters<typeof raceApi>[1]) => raceApi({databaseUrl: ctx.scratch.url, cwd: ctx.scratch.dir, at: AT}, groups)

    it('20 parallel payments keep paid_amount and due_amount exact', async () => {
      const order = await createOrder('ORD-RACE-PAY')
      const token = fx.users.cashier.token
      const pay = (i: number) => ({method: 'POST' as const, url: `/api/orders/${order.id}/payments`, token, payload: {amount: 1000 + i, method: 'cash'}})
      const answers = (await race([Array.from({length: 10}, (_, i) => pay(i)), Array.from({length: 10}, (_, i) => pay(10 + i))])).flat()
      expect(answers.map((a) => a.status)).to.deep.equal(Array<number>(20).fill(201))
      const expected = Array.from({length: 20}, (_, i) => 1000 + i).reduce((a, b) => a + b, 0)
      const row = found(await db.knex<OrderRecord>('orders').where({id: order.id}).first(), 'order')
      expect(Number(row.paid_amount)).to.equal(expected)
      expect(Number(row.due_amount)).to.equal(Math.max(36000 - expected, 0))
      expect(await countRows('payments', {order_id: order.id})).to.equal(20)
      // Each answer's order is read after the commit (fresh(['payments'])), then its payments: the order
      // counts its own payment, and the listed payments hold at least what the order counts.
      for (const a of answers) {
        const answered = a.body.order as Json
        expect(answered.payments.map((p) => p.id)).to.include((a.body.data as PaymentJson).id)
        expect(answered.paid_amount).to.be.at.most(answered.payments.reduce((sum, p) => sum + p.amount, 0))
      }
      expect(Math.max(...answers.map((a) => (a.body.order as Json).paid_amount))).to.equal(expected)
    })

    it('20 parallel creations one below the quota limit create exactly one; the rest are 422 QUOTA_EXCEEDED', async () => {
      const limited = await planWithLimit(5)
      await db.knex('tenants').where({id: fx.tenant}).update({current_plan_id: limited})
      await db.knex('quota_usage').where({tenant_id: fx.tenant, period: PERIOD}).update({orders_used: 4})
      const token = fx.users.cashier.token
      const create = (i: number) => ({
        method: 'POST' as const,
        url: '/api/orders',
        token,
        payload: {...orderPayload(`ORD-RACE-${i}`), customer: {name: `Racer ${i}`, phone: `08129999${String(i).padStart(4, '0')}`}},
      })
      const answers = (await race([Array.from({length: 10}, (_, i) => create(i)), Array.from({length: 10}, (_, i) => create(10 + i))])).flat()
      const statuses = answers.map((a) => a.status).sort()
      expect(statuses).to.deep.equal([201, ...Array<number>(19).fill(422)])
      for (const a of answers.filter((x) => x.status === 422)) {
        expect(a.body).to.deep.equal({
          reason_code: 'QUOTA_EXCEEDED',
          message: 'Order quota for the current period has been reached.',
          period: PERIOD,
          orders_limit: 5,
          orders_used: 5,
        })
      }
      expect(await countRows('orders', {tenant_id: fx.tenant})).to.equal(1)
      expect(await countRows('customers', {tenant_id: fx.tenant})).to.equal(1)
      const usage = found(await db.knex<QuotaUsageRow>('quota_usage').where({tenant_id: fx.tenant, period: PERIOD}).first(), 'quota')
      expect(Number(usage.orders_used)).to.equal(5)
    })
  })

  it('plans fixture sanity: the standard plan has a limit the tests stay under', async () => {
    const standard = found(await db.knex<PlanRow>('plans').where({key: 'standard'}).first(), 'standard plan')
    expect(standard.orders_limit === null || Number(standard.orders_limit) > 20).to.equal(true)
  })
})
