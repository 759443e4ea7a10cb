/**
 * A set of the upstream API cases (reference §5.1–5.6) over a real listening socket on both engines: the
 * app listens on 127.0.0.1 (port 0) and the client is fetch, so bodies, headers and status lines go through
 * Node's HTTP parser and serializer, not inject. The same cases run through inject in the route tests;
 * these prove the wire.
 */
import {expect} from 'chai'

import {type ApiInstance, buildApp} from '../../src/api/app.js'
import {fixedClock} from '../../src/core/clock.js'
import {loadConfig} from '../../src/core/config.js'
import type {Database} from '../../src/core/db/connection.js'
import {type TenantFixture, tenantFixture} from '../helpers/api.js'
import {describeEachEngine} from '../helpers/engines.js'

const NOW = new Date('2026-03-01T10:00:00Z')
const LOCAL_NOW = '2026-03-01T17:00:00+07:00'
const TODAY = '2026-03-01'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

type Json = Record<string, unknown>
interface OrderJson {
  id: string
  customer: Json
  items: Json[]
  payments: Array<{amount: number}>
  [key: string]: unknown
}

describeEachEngine('api over a real socket (upstream cases through fetch)', {from: 'seeded'}, (ctx) => {
  let db: Database
  let app: ApiInstance
  let base: string
  let fx: TenantFixture
  let other: TenantFixture
  const clock = fixedClock(NOW)

  before(async () => {
    db = await ctx.scratch.open()
    const config = loadConfig({cwd: ctx.scratch.dir, env: {}, databaseUrl: ctx.scratch.url})
    app = await buildApp({db, config, clock})
    await app.listen({host: '127.0.0.1', port: 0})
    const address = app.server.address()
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
    fx = await tenantFixture(db, clock)
    other = await tenantFixture(db, clock)
  })
  after(async () => {
    await app?.close()
  })

  async function call<T = Json>(token: string | null, method: string, path: string, body?: unknown): Promise<{status: number; json: T; headers: Headers}> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(token === null ? {} : {authorization: `Bearer ${token}`}),
        ...(body === undefined ? {} : {'content-type': 'application/json'}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    return {status: response.status, json: (text === '' ? {} : JSON.parse(text)) as T, headers: response.headers}
  }

  it('AUTH: login with the password gives a token that /api/me accepts; logout revokes it (401 after)', async () => {
    const login = await call(null, 'POST', '/api/auth/login', {email: fx.users.cashier.email.toUpperCase(), password: 'password', device_name: 'socket'})
    expect(login.status, JSON.stringify(login.json)).to.equal(200)
    expect(login.headers.get('content-type')).to.match(/^application\/json/)
    expect(login.headers.get('x-request-id')).to.match(UUID)
    const token = String(login.json.access_token)
    expect(token).to.match(/^\d+\|[A-Za-z0-9]{40}[0-9a-f]{8}$/)
    const me = await call<{data: {user: Json; roles: string[]}}>(token, 'GET', '/api/me')
    expect(me.status).to.equal(200)
    expect(me.json.data.user).to.include({id: fx.users.cashier.id, tenant_id: fx.tenant})
    expect(me.json.data.roles).to.deep.equal(['cashier'])
    expect((await call(token, 'POST', '/api/auth/logout')).status).to.equal(200)
    const after = await call(token, 'GET', '/api/me')
    expect(after.status).to.equal(401)
    expect(after.json).to.deep.equal({message: 'Unauthenticated.'})
  })

  it('ORD-1, ORD-4, ORD-5: create, pay twice, move the laundry status forward and refuse a jump', async () => {
    const created = await call<{data: OrderJson}>(fx.users.cashier.token, 'POST', '/api/orders', {
      outlet_id: fx.outlet,
      order_code: 'ORD-SOCK-1',
      customer: {name: ' Socket Customer ', phone: '0812-0000-1111'},
      items: [{service_id: fx.services.kg, weight_kg: '2.5'}],
      shipping_fee_amount: 5000,
    })
    expect(created.status, JSON.stringify(created.json)).to.equal(201)
    const order = created.json.data
    expect(order).to.include({order_code: 'ORD-SOCK-1', total_amount: 25000, due_amount: 25000, laundry_status: 'received'})
    expect(order.customer).to.include({name: 'Socket Customer', phone_normalized: '6281200001111'})
    expect(order.items[0]).to.include({weight_kg: '2.50', subtotal_amount: 20000})

    const first = await call(fx.users.cashier.token, 'POST', `/api/orders/${order.id}/payments`, {amount: 20000, method: 'cash'})
    expect(first.status).to.equal(201)
    const second = await call<{order: Json}>(fx.users.cashier.token, 'POST', `/api/orders/${order.id}/payments`, {amount: '5000', method: 'qris'})
    expect(second.status).to.equal(201)
    expect(second.json.order).to.include({paid_amount: 25000, due_amount: 0})

    const washing = await call<{data: Json}>(fx.users.worker.token, 'POST', `/api/orders/${order.id}/status/laundry`, {status: 'washing'})
    expect(washing.status).to.equal(200)
    expect(washing.json.data).to.include({laundry_status: 'washing', updated_by: fx.users.worker.id})
    const jump = await call(fx.users.worker.token, 'POST', `/api/orders/${order.id}/status/laundry`, {status: 'ready'})
    expect(jump.status).to.equal(422)
    expect(jump.json).to.deep.equal({reason_code: 'INVALID_TRANSITION', message: 'Cannot move laundry_status from washing to ready.'})

    const shown = await call<{data: OrderJson}>(fx.users.owner.token, 'GET', `/api/orders/${order.id}`)
    expect(shown.status).to.equal(200)
    expect(shown.json.data.payments.map((p) => p.amount)).to.deep.equal([20000, 5000])
    // Another tenant's user learns nothing of it.
    const foreign = await call(other.users.owner.token, 'GET', `/api/orders/${order.id}`)
    expect(foreign.status).to.be.oneOf([403, 404])
    expect(JSON.stringify(foreign.json)).not.to.include('ORD-SOCK-1')
  })

  it('ORD validation over the wire: a 422 with every failing rule, in Laravel wording', async () => {
    const res = await call<{errors: Json}>(fx.users.cashier.token, 'POST', `/api/orders`, {outlet_id: fx.outlet, items: [], shipping_fee_amount: 0.5})
    expect(res.status).to.equal(422)
    expect(res.json.errors).to.deep.include({
      'customer.name': ['The customer.name field is required.'],
      items: ['The items field is required.'],
      shipping_fee_amount: ['The shipping fee amount field must be an integer.'],
    })
  })

  it('SYNC-1..3: claim an invoice range, push ORDER_CREATE with it (applied; again: duplicate), pull the changes', async () => {
    const device = '55555555-5555-5555-5555-555555555555'
    const claim = await call<{ranges: Array<{prefix: string; from: number; to: number}>}>(fx.users.cashier.token, 'POST', '/api/invoices/range/claim', {
      device_id: device,
      outlet_id: fx.outlet,
      days: [{date: TODAY, count: 2}],
    })
    expect(claim.status, JSON.stringify(claim.json)).to.equal(200)
    const range = claim.json.ranges[0]
    expect(range).to.include({from: 1, to: 2})
    const mutation = {
      mutation_id: 'mut-socket-001',
      seq: 1,
      type: 'ORDER_CREATE',
      outlet_id: fx.outlet,
      client_time: LOCAL_NOW,
      payload: {
        outlet_id: fx.outlet,
        order_code: 'ORD-SOCK-SYNC',
        invoice_no: `${range.prefix}0001`,
        customer: {name: 'Sync Socket', phone: '081233334444'},
        items: [{service_id: fx.services.pcs, qty: 2}],
      },
    }
    const pushed = await call<{ack: Json[]}>(fx.users.cashier.token, 'POST', '/api/sync/push', {device_id: device, mutations: [mutation]})
    expect(pushed.status, JSON.stringify(pushed.json)).to.equal(200)
    expect(pushed.json.ack[0]).to.include({mutation_id: 'mut-socket-001', status: 'applied'})
    expect(pushed.headers.get('x-ratelimit-limit')).to.equal('180')
    const again = await call<{ack: Json[]}>(fx.users.cashier.token, 'POST', '/api/sync/push', {device_id: device, mutations: [mutation]})
    expect(again.json.ack[0]).to.include({mutation_id: 'mut-socket-001', status: 'duplicate'})
    expect(await db.knex('orders').where({tenant_id: fx.tenant, order_code: 'ORD-SOCK-SYNC'}).count({n: '*'}).first()).to.satisfy(
      (r: {n: unknown}) => Number(r.n) === 1,
    )

    const pulled = await call<{changes: Array<{entity_type: string; data: Json}>}>(fx.users.cashier.token, 'POST', '/api/sync/pull', {
      device_id: device,
      cursor: 0,
      scope: {mode: 'selected_outlet', outlet_id: fx.outlet},
      limit: 50,
    })
    expect(pulled.status, JSON.stringify(pulled.json)).to.equal(200)
    const types = pulled.json.changes.map((c) => c.entity_type)
    expect(types).to.include.members(['order', 'order_item', 'customer'])
    const orderChange = pulled.json.changes.find((c) => c.entity_type === 'order')
    expect(orderChange?.data).to.include({order_code: 'ORD-SOCK-SYNC', invoice_no: `${range.prefix}0001`})
  })
})
