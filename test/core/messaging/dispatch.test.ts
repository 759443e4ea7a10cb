import {expect} from 'chai'

import {toDbTimestamp} from '../../../src/core/clock.js'
import type {Database} from '../../../src/core/db/connection.js'
import {formatRupiah} from '../../../src/core/domain/money.js'
import {normalizePhone} from '../../../src/core/domain/phone.js'
import {uuid7} from '../../../src/core/domain/ids.js'
import {enqueueOrderEvent, idempotencyKeyFor} from '../../../src/core/messaging/dispatch.js'
import {resolveTemplate} from '../../../src/core/messaging/template-resolver.js'
import {describeEachEngine} from '../../helpers/engines.js'
import {insertOrder, manualClock, metadataOf, premiumDemoTenant, waMessage, type WaTenant} from '../../helpers/wa.js'

describe('phone normalisation and money format (upstream rules)', () => {
  it('normalises customer phones as upstream', () => {
    expect(normalizePhone('0812 3456 7890')).to.equal('6281234567890')
    expect(normalizePhone('+62 8111111111')).to.equal('628111111111')
    expect(normalizePhone('08111111111')).to.equal('628111111111')
    expect(normalizePhone('0062812345678')).to.equal('62812345678')
    expect(normalizePhone('812345678')).to.equal('62812345678')
    expect(normalizePhone('')).to.equal(null)
    expect(normalizePhone('+1 555 0100')).to.equal(null)
    expect(normalizePhone('0812')).to.equal(null)
    expect(normalizePhone('08123456789012345')).to.equal(null)
  })

  it('formats Rupiah Indonesian style', () => {
    expect([formatRupiah(22000), formatRupiah(54800), formatRupiah(0), formatRupiah(1234567)]).to.deep.equal(['22.000', '54.800', '0', '1.234.567'])
  })

  it('builds the idempotency key with an optional, colon-free suffix', () => {
    const order = {tenant_id: 'T', outlet_id: 'O'}
    expect(idempotencyKeyFor(order, 'INV-1', 'WA_BILLING_REMINDER', {})).to.equal('T:O:INV-1:WA_BILLING_REMINDER')
    expect(idempotencyKeyFor(order, 'INV-1', 'WA_BILLING_REMINDER', {idempotency_suffix: ' aging:20260217:d8_14 '})).to.equal(
      'T:O:INV-1:WA_BILLING_REMINDER:aging-20260217-d8_14',
    )
    expect(idempotencyKeyFor(order, 'INV-1', 'X', {idempotency_suffix: {nested: true}})).to.equal('T:O:INV-1:X')
  })

  it('casts a non-string suffix and trims it as PHP does', () => {
    const order = {tenant_id: 'T', outlet_id: 'O'}
    const key = (suffix: unknown) => idempotencyKeyFor(order, 'INV-1', 'X', {idempotency_suffix: suffix})
    // (string) true is "1" and (string) false is "", so false means no suffix at all.
    expect([key(true), key(false), key(7), key(0.1 + 0.2), key(null), key([1])]).to.deep.equal([
      'T:O:INV-1:X:1',
      'T:O:INV-1:X',
      'T:O:INV-1:X:7',
      'T:O:INV-1:X:0.3',
      'T:O:INV-1:X',
      'T:O:INV-1:X',
    ])
    // PHP's trim() strips ASCII whitespace and NUL only; a no-break space stays part of the key.
    expect(key('\0 d8_14\t')).to.equal('T:O:INV-1:X:d8_14')
    expect(key('\u00a0d8_14')).to.equal('T:O:INV-1:X:\u00a0d8_14')
  })
})

describeEachEngine('template resolution and dispatch', {from: 'seeded', seed: {at: '2026-02-17T02:00:00Z'}}, (ctx) => {
  const clock = manualClock('2026-02-17T02:00:00Z')
  let db: Database
  let t: WaTenant

  before(async () => {
    db = await ctx.scratch.open()
    t = await premiumDemoTenant(db, clock)
  })

  async function override(outletId: string | null, version: number, greeting: string) {
    const now = toDbTimestamp(clock.now())
    await db.knex('wa_templates').insert({
      id: uuid7(),
      tenant_id: t.tenantId,
      outlet_id: outletId,
      template_id: 'WA_ORDER_DONE',
      version,
      definition_json: JSON.stringify({
        required_vars_all: ['customer_name'],
        body_lines: [greeting, {text: 'Order {{order_code}}', condition: {exists: 'order_code'}}],
      }),
      created_at: now,
      updated_at: now,
    })
  }

  it('uses the newest outlet override, then the newest tenant override, then the catalog', async () => {
    expect(await resolveTemplate(db.knex, t.tenantId, t.outletId, 'WA_ORDER_DONE')).to.deep.include({source: 'default', version: 1})
    await override(null, 1, 'Tenant v1 {{customer_name}}')
    await override(null, 2, 'Tenant v2 {{customer_name}}')
    expect(await resolveTemplate(db.knex, t.tenantId, t.outletId, 'WA_ORDER_DONE')).to.deep.include({source: 'tenant', version: 2})
    await override(t.outletId, 1, 'Outlet v1 {{customer_name}}')
    const resolved = await resolveTemplate(db.knex, t.tenantId, t.outletId, 'WA_ORDER_DONE')
    expect(resolved).to.deep.include({source: 'outlet', version: 1})
    expect(await resolveTemplate(db.knex, t.tenantId, null, 'WA_ORDER_DONE')).to.deep.include({source: 'tenant', version: 2})
    let error: Error | undefined
    try {
      await resolveTemplate(db.knex, t.tenantId, null, 'WA_NOPE')
    } catch (err) {
      error = err as Error
    }
    expect(error?.message).to.equal("Template 'WA_NOPE' is not recognized.")
  })

  it('renders the resolved override, records its source and version, and maps the source channel', async () => {
    const orderId = await insertOrder(db, t, clock, {code: 'ORD-OV-1', customer: 'Budi', phone: '6281299999999'})
    const outcome = await enqueueOrderEvent(
      db,
      orderId,
      'WA_ORDER_DONE',
      {},
      {event: 'order_done', source: 'sync', actor_user_id: String(t.adminId)},
      {clock, brandName: 'B'},
    )
    expect(outcome.status).to.equal('enqueued')
    const row = await waMessage(db, {order_id: orderId})
    expect(row.body_text).to.equal('Outlet v1 Budi\nOrder ORD-OV-1')
    expect(row).to.deep.include({source_channel: 'mobile', to_phone: '6281299999999', status: 'queued', attempts: 0})
    expect(Number(row.created_by)).to.equal(t.adminId)
    expect(metadataOf(row)).to.deep.equal({
      event: 'order_done',
      source: 'sync',
      actor_user_id: String(t.adminId),
      template_source: 'outlet',
      template_version: 1,
    })
  })

  it('skips (no row, no job) when the template cannot be rendered or the customer has no phone', async () => {
    const before = Number((await db.knex('jobs').count({n: '*'}).first())?.n)
    const orderId = await insertOrder(db, t, clock, {code: 'ORD-NOINV', phone: '6281277777777'})
    const outcome = await enqueueOrderEvent(db, orderId, 'WA_PICKUP_CONFIRM', {}, {}, {clock, brandName: ''})
    expect(outcome).to.deep.equal({status: 'skipped', reason: 'render_failed', detail: 'Missing required variable: brand_name.'})
    expect(Number((await db.knex('jobs').count({n: '*'}).first())?.n)).to.equal(before)
    expect(await db.knex('wa_messages').where({order_id: orderId}).first()).to.equal(undefined)
  })
})
