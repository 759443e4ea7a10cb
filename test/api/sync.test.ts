/**
 * POST /api/sync/push and POST /api/sync/pull through the whole app (inject), on both engines (reference
 * §3.6, §5.3): the push framework (unsupported types, the mutation log, replays, source channel), A-4's
 * 403s, pull's scopes and paging, the sync-push throttle, Laravel's 422s.
 */
import {expect} from 'chai'

import {type ApiInstance, buildApp} from '../../src/api/app.js'
import {raceApi} from '../helpers/api-race.js'
import {fixedClock} from '../../src/core/clock.js'
import {type AppConfig, loadConfig} from '../../src/core/config.js'
import type {Database} from '../../src/core/db/connection.js'
import {recordChange} from '../../src/core/sync/changes.js'
import {asUser, tenantFixture, type TenantFixture} from '../helpers/api.js'
import {describeEachEngine} from '../helpers/engines.js'

const NOW = '2026-03-01T10:00:00Z'
const DEVICE = '55555555-5555-5555-5555-555555555555'

interface Rejected {
  mutation_id: string
  status: string
  reason_code: string
  message: string
  current_server_state?: unknown
}

interface PushAnswer {
  server_time: string
  ack: Array<{mutation_id: string; status: string; server_cursor: number | null; entity_refs: unknown[]; effects: unknown}>
  rejected: Rejected[]
  quota: Record<string, unknown>
}

interface PullAnswer {
  server_time: string
  next_cursor: number
  has_more: boolean
  changes: Array<{change_id: string; entity_type: string; entity_id: string; op: string; updated_at: string; data: unknown}>
  quota: Record<string, unknown>
}

describeEachEngine('api sync push and pull (SyncApiTest, inject)', {from: 'seeded'}, (ctx) => {
  let db: Database
  let app: ApiInstance
  let config: AppConfig
  let fx: TenantFixture
  let other: TenantFixture
  const clock = fixedClock(NOW)

  before(async () => {
    db = await ctx.scratch.open()
    config = loadConfig({cwd: ctx.scratch.dir, env: {}, databaseUrl: ctx.scratch.url})
    app = await buildApp({db, config, clock})
    fx = await tenantFixture(db, clock)
    other = await tenantFixture(db, clock)
  })
  after(async () => {
    await app?.close()
  })

  const push = (token: string, body: unknown, headers: Record<string, string> = {}) => asUser(app, token)('POST', '/api/sync/push', body, headers)
  const pull = (token: string, body: unknown) => asUser(app, token)('POST', '/api/sync/pull', body)
  const logRow = (tenant: string, mutationId: string): Promise<Record<string, unknown> | undefined> =>
    db.knex('sync_mutations').where({tenant_id: tenant, mutation_id: mutationId}).first()

  it('an unsupported type is rejected VALIDATION_FAILED "Unsupported mutation type: <TYPE>." and logged; a replay answers the stored rejection', async () => {
    const mutation = {
      mutation_id: 'mut-unsupported-1',
      seq: 7,
      type: 'customer_upsert',
      outlet_id: fx.outlet,
      entity: {entity_type: 'customer', entity_id: 'c-1'},
      client_time: '2026-03-01T17:00:00+07:00',
      payload: {name: 'X'},
    }
    const res = await push(fx.users.cashier.token, {device_id: DEVICE, last_known_server_cursor: 0, mutations: [mutation]})
    expect(res.statusCode, res.body).to.equal(200)
    const body = res.json<PushAnswer>()
    expect(Object.keys(body)).to.deep.equal(['server_time', 'ack', 'rejected', 'quota'])
    expect(body.server_time).to.equal('2026-03-01T10:00:00+00:00')
    expect(body.ack).to.deep.equal([])
    expect(body.rejected).to.deep.equal([
      {
        mutation_id: 'mut-unsupported-1',
        status: 'rejected',
        reason_code: 'VALIDATION_FAILED',
        message: 'Unsupported mutation type: CUSTOMER_UPSERT.',
        current_server_state: null,
      },
    ])
    expect(body.quota).to.deep.equal({plan: 'standard', period: '2026-03', orders_limit: 1000, orders_used: 0, orders_remaining: 1000, can_create_order: true})
    const row = (await logRow(fx.tenant, 'mut-unsupported-1')) as Record<string, unknown>
    expect(row).to.deep.include({
      device_id: DEVICE,
      seq: 7,
      type: 'customer_upsert',
      outlet_id: fx.outlet,
      entity_type: 'customer',
      entity_id: 'c-1',
      status: 'rejected',
      reason_code: 'VALIDATION_FAILED',
      message: 'Unsupported mutation type: CUSTOMER_UPSERT.',
      server_cursor: null,
      created_by: fx.users.cashier.id,
      updated_by: fx.users.cashier.id,
      source_channel: 'mobile',
    })
    // client_time is stored as its wall-clock text (Laravel's storage of an offset-carrying time, §0.3).
    expect(String(row.client_time).slice(0, 19)).to.equal('2026-03-01 17:00:00')
    const payload: unknown = typeof row.payload_json === 'string' ? (JSON.parse(row.payload_json) as unknown) : row.payload_json
    expect(payload).to.deep.equal({name: 'X'})

    // The replay answers from the log: no current_server_state key, nothing new written.
    const again = await push(fx.users.cashier.token, {device_id: DEVICE, mutations: [mutation]})
    expect(again.json<PushAnswer>().rejected).to.deep.equal([
      {mutation_id: 'mut-unsupported-1', status: 'rejected', reason_code: 'VALIDATION_FAILED', message: 'Unsupported mutation type: CUSTOMER_UPSERT.'},
    ])
    expect(await db.knex('sync_mutations').where({tenant_id: fx.tenant, mutation_id: 'mut-unsupported-1'})).to.have.length(1)
  })

  it('a replay of a rejected row without a stored code or message answers VALIDATION_FAILED "Mutation rejected previously."; mutation ids are per tenant', async () => {
    await db.knex('devices').insert({id: '12121212-1212-1212-1212-121212121212', tenant_id: fx.tenant, user_id: fx.users.cashier.id})
    await db.knex('sync_mutations').insert({
      tenant_id: fx.tenant,
      device_id: '12121212-1212-1212-1212-121212121212',
      mutation_id: 'mut-old-reject',
      type: 'ORDER_CREATE',
      status: 'rejected',
      payload_json: '[]',
    })
    const res = await push(fx.users.cashier.token, {device_id: DEVICE, mutations: [{mutation_id: 'mut-old-reject', type: 'ORDER_CREATE'}]})
    expect(res.json<PushAnswer>().rejected).to.deep.equal([
      {mutation_id: 'mut-old-reject', status: 'rejected', reason_code: 'VALIDATION_FAILED', message: 'Mutation rejected previously.'},
    ])
    // The same mutation id in another tenant is that tenant's own mutation.
    const theirs = await push(other.users.cashier.token, {
      device_id: '34343434-3434-3434-3434-343434343434',
      mutations: [{mutation_id: 'mut-old-reject', type: 'nope'}],
    })
    expect(theirs.json<PushAnswer>().rejected[0]).to.deep.include({reason_code: 'VALIDATION_FAILED', message: 'Unsupported mutation type: NOPE.'})
  })

  it('a duplicate of an applied mutation acks "duplicate" with the stored cursor and effects, and entity_refs from the client\'s entity (A-6 kept)', async () => {
    await db.knex('sync_mutations').insert({
      tenant_id: fx.tenant,
      device_id: '12121212-1212-1212-1212-121212121212',
      mutation_id: 'mut-applied-before',
      type: 'ORDER_CREATE',
      status: 'applied',
      server_cursor: 42,
      effects: JSON.stringify({invoice_no_assigned: 'A1-260301-0001'}),
      payload_json: '[]',
    })
    await db.knex('sync_mutations').insert({
      tenant_id: fx.tenant,
      device_id: '12121212-1212-1212-1212-121212121212',
      mutation_id: 'mut-applied-empty',
      type: 'ORDER_UPDATE_LAUNDRY_STATUS',
      status: 'applied',
      server_cursor: 43,
      effects: '[]',
      payload_json: '[]',
    })
    const res = await push(fx.users.cashier.token, {
      device_id: DEVICE,
      mutations: [
        {mutation_id: 'mut-applied-before', type: 'ORDER_CREATE', entity: {entity_type: 'order', entity_id: 'client-ref'}},
        {mutation_id: 'mut-applied-empty', type: 'ORDER_UPDATE_LAUNDRY_STATUS'},
      ],
    })
    expect(res.json<PushAnswer>().ack).to.deep.equal([
      {
        mutation_id: 'mut-applied-before',
        status: 'duplicate',
        server_cursor: 42,
        entity_refs: [{entity_type: 'order', entity_id: 'client-ref'}],
        effects: {invoice_no_assigned: 'A1-260301-0001'},
      },
      {mutation_id: 'mut-applied-empty', status: 'duplicate', server_cursor: 43, entity_refs: [], effects: []},
    ])
    expect(res.body).to.contain('"effects":[]')
  })

  it('X-Source-Channel sets the logged source_channel when it is mobile, web or system (any case), else mobile', async () => {
    const cases: Array<[string | undefined, string]> = [
      ['WEB', 'web'],
      ['System', 'system'],
      ['desktop', 'mobile'],
      [undefined, 'mobile'],
    ]
    for (const [i, [header, stored]] of cases.entries()) {
      const res = await push(
        fx.users.worker.token,
        {device_id: DEVICE, mutations: [{mutation_id: `mut-channel-${i}`, type: 'X'}]},
        header === undefined ? {} : {'x-source-channel': header},
      )
      expect(res.statusCode).to.equal(200)
      expect(await logRow(fx.tenant, `mut-channel-${i}`)).to.deep.include({source_channel: stored, created_by: fx.users.worker.id})
    }
  })

  it('A-4: push with a device bound to another tenant is 403 OUTLET_ACCESS_DENIED (upstream: 500), and nothing is logged', async () => {
    const res = await push(other.users.owner.token, {device_id: DEVICE, mutations: [{mutation_id: 'mut-foreign-device', type: 'X'}]})
    expect(res.statusCode).to.equal(403)
    expect(res.json()).to.deep.equal({reason_code: 'OUTLET_ACCESS_DENIED', message: 'Device is bound to another tenant.'})
    expect(await logRow(other.tenant, 'mut-foreign-device')).to.equal(undefined)
    expect(await db.knex('devices').where({id: DEVICE}).first('tenant_id')).to.deep.equal({tenant_id: fx.tenant})
  })

  it('A-4: pull refusals are 403, never 500: a device of another tenant, an outlet of another tenant or not assigned (OUTLET_ACCESS_DENIED), all_outlets by a non-owner (ROLE_ACCESS_DENIED)', async () => {
    const foreignDevice = await pull(other.users.owner.token, {device_id: DEVICE, scope: {mode: 'all_outlets'}})
    expect(foreignDevice.statusCode).to.equal(403)
    expect(foreignDevice.json()).to.deep.equal({reason_code: 'OUTLET_ACCESS_DENIED', message: 'Device is bound to another tenant.'})
    const foreignOutlet = await pull(fx.users.cashier.token, {device_id: DEVICE, scope: {mode: 'selected_outlet', outlet_id: other.outlet}})
    expect(foreignOutlet.statusCode).to.equal(403)
    expect(foreignOutlet.json()).to.deep.equal({reason_code: 'OUTLET_ACCESS_DENIED', message: 'Outlet not found in tenant scope.'})
    const unassigned = await pull(fx.users.cashier.token, {device_id: DEVICE, scope: {mode: 'selected_outlet', outlet_id: fx.otherOutlet}})
    expect(unassigned.statusCode).to.equal(403)
    expect(unassigned.json()).to.deep.equal({reason_code: 'OUTLET_ACCESS_DENIED', message: 'You do not have access to this outlet.'})
    for (const role of ['admin', 'cashier', 'worker', 'courier'] as const) {
      const all = await pull(fx.users[role].token, {device_id: DEVICE, scope: {mode: 'all_outlets'}})
      expect(all.statusCode, role).to.equal(403)
      expect(all.json()).to.deep.equal({reason_code: 'ROLE_ACCESS_DENIED', message: 'You are not allowed to perform this action.'})
    }
    const owner = await pull(fx.users.owner.token, {device_id: DEVICE, scope: {mode: 'all_outlets'}})
    expect(owner.statusCode, owner.body).to.equal(200)
  })

  it('pull: changes after the cursor in cursor order, the outlet scope (plus outlet-less customer changes), limit, has_more and next_cursor', async () => {
    const tenant = await tenantFixture(db, clock)
    const record = (outletId: string | null, entityType: 'order' | 'customer', entityId: string) =>
      recordChange(db.knex, {tenantId: tenant.tenant, outletId, entityType, entityId, data: {id: entityId, n: 1}}, clock)
    const c1 = await record(tenant.outlet, 'order', 'o-1')
    const c2 = await record(null, 'customer', 'c-1')
    await record(tenant.otherOutlet, 'order', 'o-other')
    await recordChange(db.knex, {tenantId: other.tenant, outletId: other.outlet, entityType: 'order', entityId: 'o-foreign', data: {}}, clock)
    const c4 = await record(tenant.outlet, 'order', 'o-2')
    const device = '88888888-8888-8888-8888-888888888888'

    const first = await pull(tenant.users.cashier.token, {device_id: device, cursor: 0, scope: {mode: 'selected_outlet', outlet_id: tenant.outlet}, limit: 2})
    expect(first.statusCode, first.body).to.equal(200)
    const page = first.json<PullAnswer>()
    expect(Object.keys(page)).to.deep.equal(['server_time', 'next_cursor', 'has_more', 'changes', 'quota'])
    expect(page.has_more).to.equal(true)
    expect(page.next_cursor).to.equal(c2)
    expect(page.changes.map((c) => [c.entity_type, c.entity_id])).to.deep.equal([
      ['order', 'o-1'],
      ['customer', 'c-1'],
    ])
    expect(page.changes[0]).to.deep.include({op: 'upsert', updated_at: '2026-03-01T10:00:00+00:00', data: {id: 'o-1', n: 1}})
    expect(Object.keys(page.changes[0])).to.deep.equal(['change_id', 'entity_type', 'entity_id', 'op', 'updated_at', 'data'])

    const second = await pull(tenant.users.cashier.token, {
      device_id: device,
      cursor: page.next_cursor,
      scope: {mode: 'selected_outlet', outlet_id: tenant.outlet},
      limit: 2,
    })
    const rest = second.json<PullAnswer>()
    expect(rest.has_more).to.equal(false)
    expect(rest.next_cursor).to.equal(c4)
    expect(rest.changes.map((c) => c.entity_id)).to.deep.equal(['o-2'])

    // Nothing after the cursor: next_cursor is the cursor sent.
    const empty = await pull(tenant.users.cashier.token, {device_id: device, cursor: c4 + 1000, scope: {mode: 'selected_outlet', outlet_id: tenant.outlet}})
    expect(empty.json<PullAnswer>()).to.deep.include({next_cursor: c4 + 1000, has_more: false, changes: []})

    // The owner's all_outlets sees every outlet of the tenant, never another tenant's; cursor defaults to 0.
    const all = await pull(tenant.users.owner.token, {device_id: device, scope: {mode: 'all_outlets'}})
    expect(all.json<PullAnswer>().changes.map((c) => c.entity_id)).to.deep.equal(['o-1', 'c-1', 'o-other', 'o-2'])
    expect(c1).to.be.lessThan(c2)
    // The device is bound to the tenant and records its last user.
    expect(await db.knex('devices').where({id: device}).first('tenant_id', 'user_id')).to.deep.equal({tenant_id: tenant.tenant, user_id: tenant.users.owner.id})
  })

  it("validation: push and pull answer Laravel's 422 for missing or malformed fields", async () => {
    const emptyPush = await push(fx.users.cashier.token, {})
    expect(emptyPush.statusCode).to.equal(422)
    expect(emptyPush.json()).to.deep.equal({
      message: 'The device id field is required. (and 1 more error)',
      errors: {device_id: ['The device id field is required.'], mutations: ['The mutations field is required.']},
    })
    const badPush = await push(fx.users.cashier.token, {
      device_id: DEVICE,
      last_known_server_cursor: -1,
      mutations: [
        {mutation_id: 'x'.repeat(65), seq: 'one', outlet_id: 'nope', client_time: 'not a date', payload: 'text', entity: {entity_type: 'e'.repeat(51)}},
      ],
    })
    expect(badPush.statusCode).to.equal(422)
    expect(badPush.json<{errors: unknown}>().errors).to.deep.equal({
      last_known_server_cursor: ['The last known server cursor field must be at least 0.'],
      'mutations.0.mutation_id': ['The mutations.0.mutation id field must not be greater than 64 characters.'],
      'mutations.0.seq': ['The mutations.0.seq field must be an integer.'],
      'mutations.0.type': ['The mutations.0.type field is required.'],
      'mutations.0.outlet_id': ['The mutations.0.outlet id field must be a valid UUID.'],
      'mutations.0.entity.entity_type': ['The mutations.0.entity.entity type field must not be greater than 50 characters.'],
      'mutations.0.client_time': ['The mutations.0.client time field must be a valid date.'],
      'mutations.0.payload': ['The mutations.0.payload field must be an array.'],
    })
    const badPull = await pull(fx.users.cashier.token, {device_id: DEVICE, cursor: '-3', scope: {mode: 'selected_outlet'}, limit: 501})
    expect(badPull.statusCode).to.equal(422)
    expect(badPull.json<{errors: unknown}>().errors).to.deep.equal({
      cursor: ['The cursor field must be at least 0.'],
      'scope.outlet_id': ['The scope.outlet id field is required when scope.mode is selected_outlet.'],
      limit: ['The limit field must not be greater than 500.'],
    })
    const badMode = await pull(fx.users.cashier.token, {device_id: DEVICE, scope: {mode: 'everything'}})
    expect(badMode.json<{errors: unknown}>().errors).to.deep.equal({'scope.mode': ['The selected scope.mode is invalid.']})
    const anonymous = await app.inject({method: 'POST', url: '/api/sync/pull', payload: {}, headers: {accept: 'application/json'}})
    expect(anonymous.statusCode).to.equal(401)
  })

  it('the sync-push throttle: 180 a minute per user|device_id|IP, the 181st is 429 TOO_MANY_REQUESTS with Retry-After and X-RateLimit-*; another device counts apart', async () => {
    const tenant = await tenantFixture(db, clock)
    const body = {device_id: '99999999-0000-0000-0000-000000000000', mutations: []}
    for (let i = 1; i <= 180; i++) {
      // Invalid bodies count too: the throttle runs before validation.
      const res = await push(tenant.users.cashier.token, body)
      expect(res.statusCode, `request ${i}`).to.equal(422)
      if (i === 1 || i === 180) {
        expect(res.headers['x-ratelimit-limit']).to.equal('180')
        expect(res.headers['x-ratelimit-remaining']).to.equal(String(180 - i))
      }
    }
    const refused = await push(tenant.users.cashier.token, body)
    expect(refused.statusCode).to.equal(429)
    expect(refused.json()).to.deep.equal({reason_code: 'TOO_MANY_REQUESTS', message: 'Too many sync requests. Please retry shortly.'})
    expect(refused.headers['retry-after']).to.equal('60')
    expect(refused.headers['x-ratelimit-limit']).to.equal('180')
    expect(refused.headers['x-ratelimit-remaining']).to.equal('0')
    expect(refused.headers['x-ratelimit-reset']).to.equal(String(Date.parse(NOW) / 1000 + 60))
    // Another device of the same user has its own counter; so does another user.
    const otherDevice = await push(tenant.users.cashier.token, {...body, device_id: '99999999-0000-0000-0000-000000000001'})
    expect(otherDevice.statusCode).to.equal(422)
    const otherUser = await push(tenant.users.admin.token, body)
    expect(otherUser.statusCode).to.equal(422)
    // Pull has no throttle.
    const pulled = await pull(tenant.users.cashier.token, {device_id: body.device_id, scope: {mode: 'selected_outlet', outlet_id: tenant.outlet}})
    expect(pulled.statusCode).to.equal(200)
  })
})

describeEachEngine('api sync order mutations (SyncApiTest SYNC-2..5, A-3, A-8, inject)', {from: 'seeded'}, (ctx) => {
  let db: Database
  let app: ApiInstance
  let config: AppConfig
  let fx: TenantFixture
  let other: TenantFixture
  const clock = fixedClock(NOW)
  // NOW in Asia/Jakarta: the outlet's business date and the client's local time.
  const LOCAL_NOW = '2026-03-01T17:00:00+07:00'
  const TODAY = '2026-03-01'

  before(async () => {
    db = await ctx.scratch.open()
    config = loadConfig({cwd: ctx.scratch.dir, env: {}, databaseUrl: ctx.scratch.url})
    app = await buildApp({db, config, clock})
    // Premium: its plan sends WhatsApp, so the after-commit enqueues show.
    fx = await tenantFixture(db, clock, {plan: 'premium'})
    other = await tenantFixture(db, clock)
    // SyncApiTest's "Kiloan Sync": base 8000, outlet override 8500.
    await db.knex('outlet_services').where({outlet_id: fx.outlet, service_id: fx.services.kg}).update({price_override_amount: 8500})
  })
  after(async () => {
    await app?.close()
  })

  const push = (token: string, body: unknown, headers: Record<string, string> = {}) => asUser(app, token)('POST', '/api/sync/push', body, headers)
  const pushOne = async (token: string, device: string, mutation: Record<string, unknown>): Promise<PushAnswer> => {
    const res = await push(token, {device_id: device, mutations: [mutation]})
    expect(res.statusCode, res.body).to.equal(200)
    return res.json<PushAnswer>()
  }
  const claim = async (token: string, device: string, count: number, outlet = fx.outlet) => {
    const res = await asUser(app, token)('POST', '/api/invoices/range/claim', {device_id: device, outlet_id: outlet, days: [{date: TODAY, count}]})
    expect(res.statusCode, res.body).to.equal(200)
    return res.json<{ranges: Array<{prefix: string; from: number; to: number}>}>().ranges[0]
  }
  const orderCreate = (mutationId: string, payload: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    mutation_id: mutationId,
    seq: 1,
    type: 'ORDER_CREATE',
    outlet_id: fx.outlet,
    client_time: LOCAL_NOW,
    payload: {outlet_id: fx.outlet, items: [{service_id: fx.services.kg, weight_kg: 3.5}], ...payload},
    ...extra,
  })
  const orderByCode = (code: string): Promise<Record<string, unknown> | undefined> => db.knex('orders').where({tenant_id: fx.tenant, order_code: code}).first()
  const changesOf = (entityId: string): Promise<Array<{cursor: number; entity_type: string; outlet_id: string | null}>> =>
    db.knex('sync_changes').where({entity_id: entityId}).orderBy('cursor').select('cursor', 'entity_type', 'outlet_id')

  async function syncOrder(code: string, payload: Record<string, unknown> = {}): Promise<{id: string; total: number}> {
    const device = '10101010-1010-1010-1010-101010101010'
    const answer = await pushOne(
      fx.users.cashier.token,
      device,
      orderCreate(`mut-${code}`, {order_code: code, customer: {name: `Cust ${code}`, phone: '081233334444'}, ...payload}),
    )
    expect(answer.ack[0]?.status, JSON.stringify(answer)).to.equal('applied')
    const row = await orderByCode(code)
    return {id: String(row?.id), total: Number(row?.total_amount)}
  }

  it('SYNC-2: ORDER_CREATE with a claimed invoice_no applies (source_channel mobile, created_by the cashier); the identical push again is a duplicate and no second order', async () => {
    const device = '33333333-3333-3333-3333-333333333333'
    const range = await claim(fx.users.cashier.token, device, 1)
    const invoiceNo = `${range.prefix}${String(range.from).padStart(4, '0')}`
    const body = {
      device_id: device,
      mutations: [orderCreate('mut-sync-001', {order_code: 'ORD-SYNC-001', invoice_no: invoiceNo, customer: {name: 'Budi Sync', phone: '081234567890'}})],
    }
    const res = await push(fx.users.cashier.token, body)
    expect(res.statusCode, res.body).to.equal(200)
    const answer = res.json<PushAnswer>()
    expect(answer.rejected).to.deep.equal([])
    const order = await orderByCode('ORD-SYNC-001')
    expect(order).to.deep.include({
      tenant_id: fx.tenant,
      invoice_no: invoiceNo,
      created_by: fx.users.cashier.id,
      updated_by: fx.users.cashier.id,
      source_channel: 'mobile',
      total_amount: 29750,
      due_amount: 29750,
    })
    // created_at is client_time's wall clock (upstream's storage of an offset time, §0.3; A-7 not changed).
    expect(String(order?.created_at).slice(0, 19)).to.equal('2026-03-01 17:00:00')
    const customer: {id: string} = await db.knex('customers').where({tenant_id: fx.tenant, phone_normalized: '6281234567890'}).first('id')
    const orderChange = (await changesOf(String(order?.id))).at(-1)
    expect(answer.ack).to.deep.equal([
      {
        mutation_id: 'mut-sync-001',
        status: 'applied',
        server_cursor: Number(orderChange?.cursor),
        entity_refs: [
          {entity_type: 'order', entity_id: order?.id},
          {entity_type: 'customer', entity_id: customer.id},
        ],
        effects: [],
      },
    ])
    expect(answer.quota).to.deep.include({plan: 'premium', period: '2026-03', orders_used: 1})
    const logged = (await db.knex('sync_mutations').where({tenant_id: fx.tenant, mutation_id: 'mut-sync-001'}).first()) as Record<string, unknown>
    expect(logged).to.deep.include({status: 'applied', created_by: fx.users.cashier.id, updated_by: fx.users.cashier.id, source_channel: 'mobile'})
    expect(Number(logged.server_cursor)).to.equal(Number(orderChange?.cursor))

    const again = await push(fx.users.cashier.token, body)
    expect(again.statusCode).to.equal(200)
    expect(again.json<PushAnswer>().ack).to.deep.equal([
      {mutation_id: 'mut-sync-001', status: 'duplicate', server_cursor: Number(orderChange?.cursor), entity_refs: [], effects: []},
    ])
    expect(await db.knex('orders').where({tenant_id: fx.tenant, order_code: 'ORD-SYNC-001'})).to.have.length(1)
  })

  it("SYNC-3: pull returns the push's changes by cursor: order_item, customer (no outlet), order, with their rows", async () => {
    const device = '44444444-4444-4444-4444-444444444444'
    const tenant = await tenantFixture(db, clock)
    const range = await asUser(app, tenant.users.cashier.token)('POST', '/api/invoices/range/claim', {
      device_id: device,
      outlet_id: tenant.outlet,
      days: [{date: TODAY, count: 1}],
    })
    const {prefix} = range.json<{ranges: Array<{prefix: string}>}>().ranges[0]
    const pushed = await asUser(app, tenant.users.cashier.token)('POST', '/api/sync/push', {
      device_id: device,
      mutations: [
        {
          mutation_id: 'mut-sync-002',
          seq: 1,
          type: 'ORDER_CREATE',
          outlet_id: tenant.outlet,
          client_time: LOCAL_NOW,
          payload: {
            outlet_id: tenant.outlet,
            order_code: 'ORD-SYNC-002',
            invoice_no: `${prefix}0001`,
            customer: {name: 'Cici Sync', phone: '081211110000'},
            items: [{service_id: tenant.services.kg, weight_kg: 2.2}],
          },
        },
      ],
    })
    expect(pushed.json<PushAnswer>().ack[0]?.status, pushed.body).to.equal('applied')
    const res = await asUser(app, tenant.users.cashier.token)('POST', '/api/sync/pull', {
      device_id: device,
      cursor: 0,
      scope: {mode: 'selected_outlet', outlet_id: tenant.outlet},
      limit: 50,
    })
    expect(res.statusCode, res.body).to.equal(200)
    const page = res.json<PullAnswer>()
    expect(page.has_more).to.equal(false)
    expect(page.next_cursor).to.be.greaterThan(0)
    expect(page.changes.map((c) => c.entity_type)).to.deep.equal(['order_item', 'customer', 'order'])
    const [item, customer, order] = page.changes
    expect(item.data).to.deep.include({service_id: tenant.services.kg, weight_kg: '2.20', qty: null, unit_price_amount: 8000, subtotal_amount: 17600})
    expect(customer.data).to.deep.include({name: 'Cici Sync', phone_normalized: '6281211110000', tenant_id: tenant.tenant})
    expect(order.data).to.deep.include({order_code: 'ORD-SYNC-002', invoice_no: `${prefix}0001`, total_amount: 17600, source_channel: 'mobile'})
    expect(page.next_cursor).to.equal(Math.max(...(await changesOf(order.entity_id)).map((c) => Number(c.cursor))))
    expect((await changesOf(customer.entity_id))[0].outlet_id).to.equal(null)
  })

  it("ORDER_CREATE without invoice_no takes the next number of the device's lease (effects.invoice_no_assigned) and maps customer.client_id (effects.id_map); without a lease the invoice stays pending", async () => {
    const device = '77777777-0000-0000-0000-000000000001'
    const range = await claim(fx.users.cashier.token, device, 2)
    const answer = await pushOne(
      fx.users.cashier.token,
      device,
      orderCreate('mut-assign-1', {order_code: 'ORD-ASSIGN-1', customer: {name: 'Ani', phone: '0812 5555 0001', client_id: 'local-cust-1'}}),
    )
    const order = await orderByCode('ORD-ASSIGN-1')
    const customer: {id: string} = await db.knex('customers').where({tenant_id: fx.tenant, phone_normalized: '6281255550001'}).first('id')
    expect(order?.invoice_no).to.equal(`${range.prefix}${String(range.from).padStart(4, '0')}`)
    expect(answer.ack[0].effects).to.deep.equal({
      invoice_no_assigned: order?.invoice_no,
      id_map: {customer_client_id: 'local-cust-1', customer_server_id: customer.id},
    })
    // No lease for this device: invoice_no null, no effect.
    const pending = await pushOne(
      fx.users.cashier.token,
      '77777777-0000-0000-0000-000000000002',
      orderCreate('mut-assign-2', {order_code: 'ORD-ASSIGN-2', customer: {name: 'Ani', phone: '081255550001'}}),
    )
    expect(pending.ack[0].effects).to.deep.equal([])
    expect((await orderByCode('ORD-ASSIGN-2'))?.invoice_no).to.equal(null)
  })

  it('SYNC-4: ORDER_CREATE past the quota is rejected QUOTA_EXCEEDED (no extra fields), logged, and creates nothing', async () => {
    const tenant = await tenantFixture(db, clock)
    // The standard plan's 1000 orders of the period are used up (upstream sets the plan limit to 1 and creates one order).
    await db.knex('quota_usage').where({tenant_id: tenant.tenant, period: '2026-03'}).update({orders_used: 1000})
    const res = await asUser(app, tenant.users.cashier.token)('POST', '/api/sync/push', {
      device_id: '66666666-6666-6666-6666-666666666666',
      mutations: [
        {
          mutation_id: 'mut-sync-qt-001',
          seq: 1,
          type: 'ORDER_CREATE',
          outlet_id: tenant.outlet,
          payload: {
            order_code: 'ORD-SYNC-QT-02',
            customer: {name: 'Quota Blocked', phone: '081200002222'},
            items: [{service_id: tenant.services.kg, weight_kg: 2.0}],
          },
        },
      ],
    })
    expect(res.statusCode).to.equal(200)
    const answer = res.json<PushAnswer>()
    expect(answer.rejected).to.deep.equal([
      {
        mutation_id: 'mut-sync-qt-001',
        status: 'rejected',
        reason_code: 'QUOTA_EXCEEDED',
        message: 'Order quota for the current period has been reached.',
        current_server_state: null,
      },
    ])
    expect(answer.quota).to.deep.include({orders_used: 1000, orders_remaining: 0, can_create_order: false})
    expect(await db.knex('orders').where({tenant_id: tenant.tenant})).to.have.length(0)
    expect(await db.knex('customers').where({tenant_id: tenant.tenant})).to.have.length(0)
    expect(await db.knex('sync_mutations').where({tenant_id: tenant.tenant, mutation_id: 'mut-sync-qt-001'}).first('status', 'reason_code')).to.deep.equal({
      status: 'rejected',
      reason_code: 'QUOTA_EXCEEDED',
    })
  })

  it('SYNC-5: the worker moves a REST order to washing (applied), then back to received (STATUS_NOT_FORWARD with current_server_state), logged as the worker', async () => {
    const rest = await asUser(app, fx.users.cashier.token)('POST', '/api/orders', {
      outlet_id: fx.outlet,
      order_code: 'ORD-SYNC-003',
      customer: {name: 'Dodi Sync', phone: '081266660000'},
      items: [{service_id: fx.services.kg, weight_kg: 3.0}],
    })
    expect(rest.statusCode, rest.body).to.equal(201)
    const orderId = rest.json<{data: {id: string}}>().data.id
    // REST writes do not feed the change feed (upstream).
    expect(await changesOf(orderId)).to.have.length(0)
    const res = await push(fx.users.worker.token, {
      device_id: DEVICE,
      mutations: [
        {
          mutation_id: 'mut-sync-003a',
          seq: 1,
          type: 'ORDER_UPDATE_LAUNDRY_STATUS',
          entity: {entity_type: 'order', entity_id: orderId},
          payload: {status: 'washing'},
        },
        {
          mutation_id: 'mut-sync-003b',
          seq: 2,
          type: 'ORDER_UPDATE_LAUNDRY_STATUS',
          entity: {entity_type: 'order', entity_id: orderId},
          payload: {status: 'received'},
        },
      ],
    })
    expect(res.statusCode).to.equal(200)
    const answer = res.json<PushAnswer>()
    expect(answer.ack[0]).to.deep.include({
      mutation_id: 'mut-sync-003a',
      status: 'applied',
      entity_refs: [{entity_type: 'order', entity_id: orderId}],
      effects: [],
    })
    const order: {updated_at: string; laundry_status: string} = await db.knex('orders').where({id: orderId}).first('updated_at', 'laundry_status')
    expect(order.laundry_status).to.equal('washing')
    expect(answer.rejected).to.deep.equal([
      {
        mutation_id: 'mut-sync-003b',
        status: 'rejected',
        reason_code: 'STATUS_NOT_FORWARD',
        message: 'Cannot move laundry_status backward from washing to received.',
        current_server_state: {
          entity_type: 'order',
          entity_id: orderId,
          laundry_status: 'washing',
          updated_at: `${String(order.updated_at).slice(0, 19).replace(' ', 'T')}+00:00`,
        },
      },
    ])
    expect(
      await db
        .knex('sync_mutations')
        .where({tenant_id: fx.tenant, mutation_id: 'mut-sync-003b'})
        .first('status', 'reason_code', 'created_by', 'updated_by', 'source_channel'),
    ).to.deep.equal({
      status: 'rejected',
      reason_code: 'STATUS_NOT_FORWARD',
      created_by: fx.users.worker.id,
      updated_by: fx.users.worker.id,
      source_channel: 'mobile',
    })
    expect((await changesOf(orderId)).map((c) => c.entity_type)).to.deep.equal(['order'])
  })

  it('A-3: ORDER_ADD_PAYMENT applies: the payment, paid and due recalculated, a payment then an order change; refs [payment, order]', async () => {
    const {id, total} = await syncOrder('ORD-PAY-1')
    const first = await pushOne(fx.users.cashier.token, DEVICE, {
      mutation_id: 'mut-pay-1',
      type: 'ORDER_ADD_PAYMENT',
      entity: {entity_type: 'order', entity_id: id},
      payload: {amount: 20000, method: 'cash'},
    })
    const payment: {id: string; amount: number; source_channel: string; created_by: number} = await db
      .knex('payments')
      .where({order_id: id})
      .first('id', 'amount', 'source_channel', 'created_by')
    expect(payment).to.deep.include({amount: 20000, source_channel: 'mobile', created_by: fx.users.cashier.id})
    const changes = await changesOf(id)
    expect(first.ack).to.deep.equal([
      {
        mutation_id: 'mut-pay-1',
        status: 'applied',
        server_cursor: Number(changes.at(-1)?.cursor),
        entity_refs: [
          {entity_type: 'payment', entity_id: payment.id},
          {entity_type: 'order', entity_id: id},
        ],
        effects: [],
      },
    ])
    expect((await changesOf(payment.id)).map((c) => c.entity_type)).to.deep.equal(['payment'])
    expect(Number((await changesOf(payment.id))[0].cursor)).to.be.lessThan(Number(changes.at(-1)?.cursor))
    expect(await db.knex('orders').where({id}).first('paid_amount', 'due_amount')).to.deep.equal({paid_amount: 20000, due_amount: total - 20000})
    // The order from payload.order_id; the rest paid: due 0.
    const second = await pushOne(fx.users.admin.token, DEVICE, {
      mutation_id: 'mut-pay-2',
      type: 'order_add_payment',
      payload: {order_id: id, amount: total - 20000, method: 'qris', paid_at: '2026-03-01T18:00:00+07:00'},
    })
    expect(second.ack[0]?.status).to.equal('applied')
    expect(await db.knex('orders').where({id}).first('paid_amount', 'due_amount')).to.deep.equal({paid_amount: total, due_amount: 0})
    // Refusals: no order id, an unknown one, another tenant's, a role without payments, a bad amount.
    const refused = await push(fx.users.cashier.token, {
      device_id: DEVICE,
      mutations: [
        {mutation_id: 'mut-pay-x1', type: 'ORDER_ADD_PAYMENT', payload: {amount: 1, method: 'cash'}},
        {mutation_id: 'mut-pay-x2', type: 'ORDER_ADD_PAYMENT', entity: {entity_type: 'order', entity_id: 'local-17'}, payload: {amount: 1, method: 'cash'}},
        {mutation_id: 'mut-pay-x3', type: 'ORDER_ADD_PAYMENT', payload: {order_id: id, amount: 0, method: 'cash'}},
      ],
    })
    expect(refused.json<PushAnswer>().rejected).to.deep.equal([
      {mutation_id: 'mut-pay-x1', status: 'rejected', reason_code: 'VALIDATION_FAILED', message: 'order_id is required.', current_server_state: null},
      {mutation_id: 'mut-pay-x2', status: 'rejected', reason_code: 'VALIDATION_FAILED', message: 'Order not found.', current_server_state: null},
      {mutation_id: 'mut-pay-x3', status: 'rejected', reason_code: 'VALIDATION_FAILED', message: 'The amount field must be at least 1.'},
    ])
    const foreign = await asUser(app, other.users.owner.token)('POST', '/api/sync/push', {
      device_id: '45454545-4545-4545-4545-454545454545',
      mutations: [{mutation_id: 'mut-pay-foreign', type: 'ORDER_ADD_PAYMENT', payload: {order_id: id, amount: 5, method: 'cash'}}],
    })
    expect(foreign.json<PushAnswer>().rejected[0]).to.deep.include({reason_code: 'VALIDATION_FAILED', message: 'Order not found.'})
    const worker = await pushOne(fx.users.worker.token, DEVICE, {
      mutation_id: 'mut-pay-worker',
      type: 'ORDER_ADD_PAYMENT',
      payload: {order_id: id, amount: 5, method: 'cash'},
    })
    expect(worker.rejected[0]).to.deep.include({reason_code: 'ROLE_ACCESS_DENIED', message: 'You are not allowed to perform this action.'})
    expect(await db.knex('payments').where({order_id: id})).to.have.length(2)
  })

  it('the role matrix per mutation: refused roles are rejected ROLE_ACCESS_DENIED before the payload is validated', async () => {
    const cases: Array<[keyof TenantFixture['users'], string]> = [
      ['worker', 'ORDER_CREATE'],
      ['courier', 'ORDER_CREATE'],
      ['cashier', 'ORDER_UPDATE_LAUNDRY_STATUS'],
      ['courier', 'ORDER_UPDATE_LAUNDRY_STATUS'],
      ['cashier', 'ORDER_UPDATE_COURIER_STATUS'],
      ['worker', 'ORDER_UPDATE_COURIER_STATUS'],
      ['cashier', 'ORDER_ASSIGN_COURIER'],
      ['courier', 'ORDER_ASSIGN_COURIER'],
      ['courier', 'ORDER_ADD_PAYMENT'],
    ]
    for (const [i, [role, type]] of cases.entries()) {
      const answer = await pushOne(fx.users[role].token, DEVICE, {mutation_id: `mut-role-${i}`, type, payload: {}})
      expect(answer.rejected, `${role} ${type}`).to.deep.equal([
        {
          mutation_id: `mut-role-${i}`,
          status: 'rejected',
          reason_code: 'ROLE_ACCESS_DENIED',
          message: 'You are not allowed to perform this action.',
          current_server_state: null,
        },
      ])
    }
  })

  it('ORDER_CREATE refusals: payload rules (first message), outlet_id missing, outlet scope, a foreign outlet, the phone, the invoice range, a used order_code', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [orderCreate('mut-c-1', {customer: null}), 'VALIDATION_FAILED', 'The customer field is required.'],
      [
        orderCreate(
          'mut-c-2',
          {customer: {name: 'X', phone: '0812'}},
          {outlet_id: null, payload: {customer: {name: 'X', phone: '081200000001'}, items: [{service_id: fx.services.kg, weight_kg: 1}]}},
        ),
        'VALIDATION_FAILED',
        'outlet_id is required.',
      ],
      [
        orderCreate('mut-c-3', {customer: {name: 'X', phone: '081200000001'}}, {outlet_id: fx.otherOutlet}),
        'OUTLET_ACCESS_DENIED',
        'You do not have access to this outlet.',
      ],
      [
        orderCreate('mut-c-4', {customer: {name: 'X', phone: '081200000001'}}, {outlet_id: other.outlet}),
        'OUTLET_ACCESS_DENIED',
        'Outlet not found in tenant scope.',
      ],
      [orderCreate('mut-c-5', {customer: {name: 'X', phone: '12345'}}), 'PHONE_INVALID', 'Invalid phone number format.'],
      [
        orderCreate('mut-c-6', {customer: {name: 'X', phone: '081200000001'}, invoice_no: `${fx.outletCode}-260301-9000`}),
        'INVOICE_RANGE_INVALID',
        'Invoice number is outside the claimed lease range.',
      ],
      [orderCreate('mut-c-7', {customer: {name: 'X', phone: '081200000001'}, order_code: 'ORD-SYNC-001'}), 'VALIDATION_FAILED', 'order_code already exists.'],
      [
        orderCreate('mut-c-8', {customer: {name: 'X', phone: '081200000001'}, items: [{service_id: other.services.kg, weight_kg: 1}]}),
        'VALIDATION_FAILED',
        `Service ${other.services.kg} is invalid.`,
      ],
      [
        orderCreate('mut-c-9', {customer: {name: 'X', phone: '081200000001'}, items: [{service_id: fx.services.kg, qty: 1}]}),
        'VALIDATION_FAILED',
        'weight_kg is required for kg service.',
      ],
    ]
    const before = await db.knex('orders').where({tenant_id: fx.tenant}).count<Array<{n: number | string}>>('id as n')
    for (const [mutation, code, message] of cases) {
      const answer = await pushOne(fx.users.cashier.token, DEVICE, mutation)
      expect(answer.rejected[0], String(mutation.mutation_id)).to.deep.include({reason_code: code, message})
    }
    expect(await db.knex('orders').where({tenant_id: fx.tenant}).count<Array<{n: number | string}>>('id as n')).to.deep.equal(before)
  })

  it('courier mutations: assign (owner, admin; a courier of the tenant), courier status through the pipeline with WA, and their refusals', async () => {
    const pickup = await syncOrder('ORD-COURIER-1', {is_pickup_delivery: true, shipping_fee_amount: 10000})
    const plain = await syncOrder('ORD-COURIER-2')
    const on = (orderId: string) => ({entity: {entity_type: 'order', entity_id: orderId}})
    const res = await push(fx.users.admin.token, {
      device_id: DEVICE,
      mutations: [
        {mutation_id: 'mut-as-1', type: 'ORDER_ASSIGN_COURIER', ...on(pickup.id), payload: {courier_user_id: fx.users.courier.id}},
        {mutation_id: 'mut-as-2', type: 'ORDER_ASSIGN_COURIER', ...on(pickup.id), payload: {courier_user_id: fx.users.worker.id}},
        {mutation_id: 'mut-as-3', type: 'ORDER_ASSIGN_COURIER', ...on(plain.id), payload: {courier_user_id: fx.users.courier.id}},
      ],
    })
    const assigned = res.json<PushAnswer>()
    expect(assigned.ack.map((a) => [a.mutation_id, a.status])).to.deep.equal([['mut-as-1', 'applied']])
    expect(assigned.rejected.map((r) => [r.mutation_id, r.reason_code, r.message])).to.deep.equal([
      ['mut-as-2', 'VALIDATION_FAILED', 'Assigned user must have courier role.'],
      ['mut-as-3', 'VALIDATION_FAILED', 'Courier assignment is only for pickup-delivery orders.'],
    ])
    expect(await db.knex('orders').where({id: pickup.id}).first('courier_user_id')).to.deep.equal({courier_user_id: fx.users.courier.id})

    const moves = await push(fx.users.courier.token, {
      device_id: DEVICE,
      mutations: [
        {mutation_id: 'mut-cs-1', type: 'ORDER_UPDATE_COURIER_STATUS', ...on(pickup.id), payload: {status: 'pickup_on_the_way'}},
        {mutation_id: 'mut-cs-2', type: 'ORDER_UPDATE_COURIER_STATUS', ...on(pickup.id), payload: {status: 'pickup_pending'}},
        {mutation_id: 'mut-cs-3', type: 'ORDER_UPDATE_COURIER_STATUS', ...on(pickup.id), payload: {status: 'at_outlet'}},
        {mutation_id: 'mut-cs-4', type: 'ORDER_UPDATE_COURIER_STATUS', ...on(plain.id), payload: {status: 'pickup_on_the_way'}},
      ],
    })
    const answer = moves.json<PushAnswer>()
    expect(answer.ack.map((a) => [a.mutation_id, a.status])).to.deep.equal([['mut-cs-1', 'applied']])
    const updatedAt = `${String((await db.knex('orders').where({id: pickup.id}).first<{updated_at: string} | undefined>('updated_at'))?.updated_at)
      .slice(0, 19)
      .replace(' ', 'T')}+00:00`
    expect(answer.rejected).to.deep.equal([
      {
        mutation_id: 'mut-cs-2',
        status: 'rejected',
        reason_code: 'STATUS_NOT_FORWARD',
        message: 'Cannot move courier_status backward from pickup_on_the_way to pickup_pending.',
        current_server_state: {entity_type: 'order', entity_id: pickup.id, courier_status: 'pickup_on_the_way', updated_at: updatedAt},
      },
      {
        mutation_id: 'mut-cs-3',
        status: 'rejected',
        reason_code: 'INVALID_TRANSITION',
        message: 'Cannot move courier_status from pickup_on_the_way to at_outlet.',
        current_server_state: {entity_type: 'order', entity_id: pickup.id, courier_status: 'pickup_on_the_way', updated_at: updatedAt},
      },
      {
        mutation_id: 'mut-cs-4',
        status: 'rejected',
        reason_code: 'INVALID_TRANSITION',
        message: 'Courier status is only valid for pickup-delivery orders.',
        current_server_state: null,
      },
    ])
    // WA_PICKUP_CONFIRM on creation, WA_PICKUP_OTW on pickup_on_the_way: enqueued after the commit with source sync.
    const messages: Array<{template_id: string; metadata_json: unknown}> = await db
      .knex('wa_messages')
      .where({order_id: pickup.id})
      .select('template_id', 'metadata_json')
    expect(messages.map((m) => m.template_id)).to.have.members(['WA_PICKUP_CONFIRM', 'WA_PICKUP_OTW'])
    for (const m of messages) {
      const metadata = (typeof m.metadata_json === 'string' ? JSON.parse(m.metadata_json) : m.metadata_json) as Record<string, unknown>
      expect(metadata).to.deep.include({source: 'sync', source_channel: 'mobile'})
    }
    // delivery_pending needs laundry ready.
    await pushOne(fx.users.courier.token, DEVICE, {
      mutation_id: 'mut-cs-5',
      type: 'ORDER_UPDATE_COURIER_STATUS',
      ...on(pickup.id),
      payload: {status: 'picked_up'},
    })
    await pushOne(fx.users.courier.token, DEVICE, {
      mutation_id: 'mut-cs-6',
      type: 'ORDER_UPDATE_COURIER_STATUS',
      ...on(pickup.id),
      payload: {status: 'at_outlet'},
    })
    const early = await pushOne(fx.users.courier.token, DEVICE, {
      mutation_id: 'mut-cs-7',
      type: 'ORDER_UPDATE_COURIER_STATUS',
      ...on(pickup.id),
      payload: {status: 'delivery_pending'},
    })
    expect(early.rejected[0]).to.deep.include({reason_code: 'INVALID_TRANSITION', message: 'laundry_status must be ready before delivery_pending.'})
    expect((await changesOf(pickup.id)).map((c) => c.entity_type)).to.deep.equal(['order', 'order', 'order', 'order', 'order'])
  })

  it('A-8: 20 parallel replays of one ORDER_CREATE from two processes (each its own pool) apply it once: one applied, 19 duplicate, one order, one change of each', async function () {
    this.timeout(120_000)
    const device = '20202020-2020-2020-2020-202020202020'
    const body = {device_id: device, mutations: [orderCreate('mut-race-1', {order_code: 'ORD-RACE-1', customer: {name: 'Race', phone: '081277778888'}})]}
    const push = {method: 'POST' as const, url: '/api/sync/push', token: fx.users.cashier.token, payload: body}
    const groups = [Array.from({length: 10}, () => push), Array.from({length: 10}, () => push)]
    const answers = (await raceApi({databaseUrl: ctx.scratch.url, cwd: ctx.scratch.dir, at: clock.now().toISOString()}, groups)).flat()
    for (const res of answers) expect(res.status, JSON.stringify(res.body)).to.equal(200)
    const acks = answers.map((res) => (res.body as unknown as PushAnswer).ack[0])
    expect(acks.filter((a) => a?.status === 'applied')).to.have.length(1)
    expect(acks.filter((a) => a?.status === 'duplicate')).to.have.length(19)
    const orders: Array<{id: string}> = await db.knex('orders').where({tenant_id: fx.tenant, order_code: 'ORD-RACE-1'}).select('id')
    expect(orders).to.have.length(1)
    expect((await changesOf(orders[0].id)).map((c) => c.entity_type)).to.deep.equal(['order'])
    expect(await db.knex('sync_mutations').where({tenant_id: fx.tenant, mutation_id: 'mut-race-1'})).to.have.length(1)
    expect(new Set(acks.map((a) => a?.server_cursor)).size).to.equal(1)
  })
})
