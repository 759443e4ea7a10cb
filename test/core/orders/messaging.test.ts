/**
 * The WA message an order event queues reads the order's customer, outlet and courier as Eloquent relations
 * do (reference §4.8): soft-deleted rows are not there. An archived customer gets no message; an archived
 * outlet or courier fills no template variable. On both engines.
 */
import {expect} from 'chai'

import {toDbTimestamp} from '../../../src/core/clock.js'
import type {Database} from '../../../src/core/db/connection.js'
import {uuid7} from '../../../src/core/domain/ids.js'
import {enqueueOrderEvent} from '../../../src/core/messaging/dispatch.js'
import {describeEachEngine} from '../../helpers/engines.js'
import {found, insertOrder, manualClock, premiumDemoTenant, type WaTenant} from '../../helpers/wa.js'

describeEachEngine('order events: archived customer, outlet and courier', {from: 'seeded', seed: {at: '2026-02-17T02:00:00Z'}}, (ctx) => {
  const clock = manualClock('2026-02-17T02:00:00Z')
  let db: Database
  let t: WaTenant
  let courierId: number

  before(async () => {
    db = await ctx.scratch.open()
    t = await premiumDemoTenant(db, clock)
    const now = toDbTimestamp(clock.now())
    await db.knex('wa_templates').insert({
      id: uuid7(),
      tenant_id: t.tenantId,
      outlet_id: null,
      template_id: 'WA_ORDER_DONE',
      version: 1,
      definition_json: JSON.stringify({
        required_vars_all: ['customer_name'],
        body_lines: [
          'Hi {{customer_name}}',
          {text: 'Outlet {{outlet_name}}', condition: {exists: 'outlet_name'}},
          {text: 'Kurir {{courier_name}} {{courier_phone}}', condition: {exists: 'courier_name'}},
        ],
      }),
      created_at: now,
      updated_at: now,
    })
    const email = `kurir-${uuid7()}@demo.local`
    await db
      .knex('users')
      .insert({name: 'Kurir Arsip', email, password: 'x', tenant_id: t.tenantId, phone: '6281211112222', status: 'active', created_at: now, updated_at: now})
    courierId = Number(found(await db.knex('users').where({email}).first<{id: number} | undefined>('id'), 'courier').id)
  })

  async function orderDone(code: string, phone: string): Promise<{status: string; reason?: string; body?: string}> {
    const orderId = await insertOrder(db, t, clock, {code, customer: 'Budi', phone})
    await db.knex('orders').where({id: orderId}).update({courier_user_id: courierId})
    const outcome = await enqueueOrderEvent(db, orderId, 'WA_ORDER_DONE', {}, {event: 'order_done'}, {clock, brandName: 'B'})
    const message = await db.knex('wa_messages').where({order_id: orderId}).first<{body_text: string} | undefined>('body_text')
    return {status: outcome.status, ...('reason' in outcome ? {reason: outcome.reason} : {}), ...(message ? {body: message.body_text} : {})}
  }

  it('live relations fill the variables; archived outlet and courier fill none; an archived customer gets no message', async () => {
    const outlet = found(await db.knex('outlets').where({id: t.outletId}).first<{name: string} | undefined>('name'), 'outlet')
    expect(await orderDone('ORD-ARC-1', '6281200000001')).to.deep.equal({
      status: 'enqueued',
      body: `Hi Budi\nOutlet ${outlet.name}\nKurir Kurir Arsip 6281211112222`,
    })

    const stamp = toDbTimestamp(clock.now())
    await db.knex('outlets').where({id: t.outletId}).update({deleted_at: stamp})
    await db.knex('users').where({id: courierId}).update({deleted_at: stamp})
    try {
      expect(await orderDone('ORD-ARC-2', '6281200000002')).to.deep.equal({status: 'enqueued', body: 'Hi Budi'})
    } finally {
      await db.knex('outlets').where({id: t.outletId}).update({deleted_at: null})
    }

    const orderId = await insertOrder(db, t, clock, {code: 'ORD-ARC-3', customer: 'Budi', phone: '6281200000003'})
    const order = found(await db.knex('orders').where({id: orderId}).first<{customer_id: string} | undefined>('customer_id'), 'order')
    await db.knex('customers').where({id: order.customer_id}).update({deleted_at: stamp})
    const outcome = await enqueueOrderEvent(db, orderId, 'WA_ORDER_DONE', {}, {event: 'order_done'}, {clock, brandName: 'B'})
    expect(outcome).to.deep.equal({status: 'skipped', reason: 'missing_phone'})
    expect(await db.knex('wa_messages').where({order_id: orderId}).first()).to.equal(undefined)
  })
})
