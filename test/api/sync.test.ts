/**
 * POST /api/sync/push and POST /api/sync/pull through the whole app (inject), on both engines (reference
 * §3.6, §5.3): the push framework (unsupported types, the mutation log, replays, source channel), A-4's
 * 403s, pull's scopes and paging, the sync-push throttle, Laravel's 422s.
 */
import {expect} from 'chai'

import {type ApiInstance, buildApp} from '../../src/api/app.js'
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
