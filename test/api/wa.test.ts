/**
 * The WhatsApp administration routes through the whole app (inject), on both engines: upstream's WaApiTest
 * (reference §5.4, WA-1…5), the role matrix and the plan gate of every route (role first), validation with
 * Laravel's messages, the templates catalogue merged with overrides, the message log's filters and limits,
 * answer key order, and tenant isolation.
 */
import {expect} from 'chai'

import {type ApiInstance, buildApp} from '../../src/api/app.js'
import {type AppConfig, loadConfig} from '../../src/core/config.js'
import {toDbTimestamp} from '../../src/core/clock.js'
import type {Database} from '../../src/core/db/connection.js'
import type {AuditEventRow, WaMessageRow, WaProviderConfigRow, WaTemplateRow} from '../../src/core/db/rows.js'
import {uuid7} from '../../src/core/domain/ids.js'
import {enqueueOrderEvent} from '../../src/core/messaging/dispatch.js'
import {DEFAULT_TEMPLATES, TEMPLATE_IDS} from '../../src/core/messaging/template-catalog.js'
import {pushJob} from '../../src/core/queue/database-queue.js'
import {sendWaJobPayload} from '../../src/core/queue/payload.js'
import {DEFAULT_WORKER_OPTIONS, runWorker, type WorkerOptions} from '../../src/core/queue/worker.js'
import {asUser, ROLE_KEYS, tenantFixture, type TenantFixture} from '../helpers/api.js'
import {describeEachEngine} from '../helpers/engines.js'
import {found, insertMessage, insertOrder, manualClock, planId, type WaTenant} from '../helpers/wa.js'

const START = '2026-03-01T10:00:00Z'
const drain: WorkerOptions = {...DEFAULT_WORKER_OPTIONS, stopWhenEmpty: true, sleep: 0, timeout: 30}
const PLAN_DISABLED = {reason_code: 'PLAN_FEATURE_DISABLED', message: 'WhatsApp feature is available for Premium and Pro plans only.'}
const ROLE_DENIED = {reason_code: 'ROLE_ACCESS_DENIED', message: 'You are not allowed to perform this action.'}
const OUTLET_DENIED = {reason_code: 'OUTLET_ACCESS_DENIED', message: 'You do not have access to the requested outlet.'}

const MESSAGE_KEYS = [
  'id',
  'tenant_id',
  'outlet_id',
  'order_id',
  'provider_id',
  'template_id',
  'idempotency_key',
  'to_phone',
  'body_text',
  'status',
  'attempts',
  'last_error_code',
  'last_error_message',
  'provider_message_id',
  'metadata_json',
  'created_at',
  'updated_at',
  'created_by',
  'updated_by',
  'source_channel',
  'provider',
]

/** WaApiTest WA-3's definition. */
const ORDER_DONE_DEFINITION = {
  required_vars_all: ['brand_name', 'customer_name', 'to_phone'],
  required_vars_any: [['invoice_no', 'order_code']],
  body_lines: [
    'Halo {{customer_name}}, order selesai di {{brand_name}}.',
    {text: 'Invoice {{invoice_no}}', condition: {exists: 'invoice_no'}},
    {text: 'Order {{order_code}}', condition: {notExists: 'invoice_no'}},
  ],
  max_length: 500,
}

/** One request per WA route, for the role and plan matrices. */
const ROUTES: Array<{method: 'GET' | 'POST' | 'PUT'; url: string; payload?: unknown; ok: number}> = [
  {method: 'GET', url: '/api/wa/providers', ok: 200},
  {method: 'POST', url: '/api/wa/provider-config', payload: {provider_key: 'mock', credentials: {token: 'matrix'}, is_active: true}, ok: 200},
  {method: 'GET', url: '/api/wa/templates', ok: 200},
  {method: 'PUT', url: '/api/wa/templates/WA_ORDER_DONE', payload: {definition: ORDER_DONE_DEFINITION}, ok: 201},
  {method: 'GET', url: '/api/wa/messages', ok: 200},
]

describeEachEngine('api WhatsApp routes (WaApiTest, inject)', {from: 'seeded'}, (ctx) => {
  const clock = manualClock(START)
  let db: Database
  let app: ApiInstance
  let config: AppConfig
  let mockId: number

  before(async () => {
    db = await ctx.scratch.open()
    config = loadConfig({cwd: ctx.scratch.dir, env: {}, databaseUrl: ctx.scratch.url})
    app = await buildApp({db, config, clock})
    mockId = Number(found(await db.knex('wa_providers').where({key: 'mock'}).first<{id: number} | undefined>('id'), 'mock provider').id)
  })
  after(async () => {
    await app?.close()
  })
  beforeEach(() => clock.set(START))

  /** A tenant fixture as WaTenant, for the messaging helpers. */
  const waTenant = (fx: TenantFixture): WaTenant => ({tenantId: fx.tenant, outletId: fx.outlet, adminId: fx.users.admin.id, mockProviderId: mockId})

  it('WA-1: on the standard plan every WA route is 403 PLAN_FEATURE_DISABLED for owner and admin, after the role check', async () => {
    const fx = await tenantFixture(db, clock)
    for (const route of ROUTES) {
      for (const role of ['owner', 'admin'] as const) {
        const res = await asUser(app, fx.users[role].token)(route.method, route.url, route.payload)
        expect(res.statusCode, `${role} ${route.method} ${route.url}`).to.equal(403)
        expect(res.json(), `${role} ${route.method} ${route.url}`).to.deep.equal(PLAN_DISABLED)
      }
      // The role check runs first: a cashier hears about its role, not the plan.
      const cashier = await asUser(app, fx.users.cashier.token)(route.method, route.url, route.payload)
      expect(cashier.statusCode).to.equal(403)
      expect(cashier.json()).to.deep.equal(ROLE_DENIED)
    }
    // The gate refuses before validation: an invalid body is not looked at.
    const invalid = await asUser(app, fx.users.admin.token)('POST', '/api/wa/provider-config', {})
    expect(invalid.json()).to.deep.equal(PLAN_DISABLED)
    expect(await db.knex('wa_provider_configs').where({tenant_id: fx.tenant}).count({n: '*'}).first()).to.satisfy((r: {n: unknown}) => Number(r.n) === 0)
    // Plan keys compare case-insensitively: moving the tenant to pro opens the routes.
    await db
      .knex('tenants')
      .where({id: fx.tenant})
      .update({current_plan_id: await planId(db, 'pro')})
    expect((await asUser(app, fx.users.admin.token)('GET', '/api/wa/providers')).statusCode).to.equal(200)
  })

  it('role matrix: owner and admin pass every WA route; cashier, worker and courier get 403 ROLE_ACCESS_DENIED; no token is 401', async () => {
    const fx = await tenantFixture(db, clock, {plan: 'premium'})
    for (const route of ROUTES) {
      for (const role of ROLE_KEYS) {
        const res = await asUser(app, fx.users[role].token)(route.method, route.url, route.payload)
        const label = `${role} ${route.method} ${route.url}`
        if (role === 'owner' || role === 'admin') {
          expect(res.statusCode, `${label}: ${res.body}`).to.equal(route.ok)
        } else {
          expect(res.statusCode, label).to.equal(403)
          expect(res.json(), label).to.deep.equal(ROLE_DENIED)
        }
      }
      const anonymous = await app.inject({method: route.method, url: route.url, headers: {accept: 'application/json'}, payload: route.payload as object})
      expect(anonymous.statusCode).to.equal(401)
      expect(anonymous.json()).to.deep.equal({message: 'Unauthenticated.'})
    }
  })

  it('WA-2: premium admin configures mock (200, audited, credentials never echoed), then providers and templates list it', async () => {
    const fx = await tenantFixture(db, clock, {plan: 'premium'})
    const admin = asUser(app, fx.users.admin.token)
    const res = await admin(
      'POST',
      '/api/wa/provider-config',
      {provider_key: 'mock', credentials: {token: 'demo-token'}, is_active: true},
      {'x-request-id': 'req-wa-2'},
    )
    expect(res.statusCode, res.body).to.equal(200)
    expect(res.body).to.not.include('demo-token')
    const data = res.json<{data: {id: string}}>().data
    expect(Object.keys(data)).to.deep.equal(['id', 'provider_id', 'provider_key', 'is_active', 'credentials_set', 'health'])
    expect(data).to.deep.equal({
      id: data.id,
      provider_id: mockId,
      provider_key: 'mock',
      is_active: true,
      credentials_set: true,
      health: {ok: true, message: 'mock provider ready'},
    })
    const row = found(await db.knex<WaProviderConfigRow>('wa_provider_configs').where({id: data.id}).first(), 'config row')
    expect(row.tenant_id).to.equal(fx.tenant)
    expect(JSON.parse(String(typeof row.credentials_json === 'string' ? row.credentials_json : JSON.stringify(row.credentials_json)))).to.deep.equal({
      token: 'demo-token',
    })
    const audit = await db.knex<AuditEventRow>('audit_events').where({tenant_id: fx.tenant, event_key: 'WA_PROVIDER_CONFIG_UPDATED'})
    expect(audit).to.have.length(1)
    expect(audit[0]).to.deep.include({
      user_id: fx.users.admin.id,
      channel: 'api',
      entity_type: 'wa_provider_config',
      entity_id: data.id,
      request_id: 'req-wa-2',
      outlet_id: null,
    })
    const metadata: unknown = typeof audit[0].metadata_json === 'string' ? JSON.parse(audit[0].metadata_json) : audit[0].metadata_json
    expect(metadata).to.deep.equal({provider_key: 'mock', is_active: true})

    const providers = await admin('GET', '/api/wa/providers')
    expect(providers.statusCode).to.equal(200)
    expect(providers.body).to.not.include('demo-token')
    const mock = providers.json<{data: Array<Record<string, unknown>>}>().data.find((p) => p.key === 'mock')
    expect(mock && Object.keys(mock)).to.deep.equal(['id', 'key', 'name', 'configured', 'is_active', 'credentials_set', 'updated_at'])
    expect(mock).to.deep.equal({
      id: mockId,
      key: 'mock',
      name: 'Mock Provider',
      configured: true,
      is_active: true,
      credentials_set: true,
      updated_at: '2026-03-01T10:00:00+00:00',
    })

    const templates = await admin('GET', '/api/wa/templates')
    expect(templates.statusCode).to.equal(200)
    const list = templates.json<{data: Array<Record<string, unknown>>}>().data
    expect(list.map((t) => t.template_id)).to.deep.equal([...TEMPLATE_IDS])
    expect(list.find((t) => t.template_id === 'WA_PICKUP_CONFIRM')).to.deep.equal({
      template_id: 'WA_PICKUP_CONFIRM',
      source: 'default',
      version: 1,
      definition: JSON.parse(JSON.stringify(DEFAULT_TEMPLATES.WA_PICKUP_CONFIRM)) as unknown,
    })
    for (const entry of list) expect(Object.keys(entry)).to.deep.equal(['template_id', 'source', 'version', 'definition'])
  })

  it('provider config: an unconfigured tenant lists mock as not configured; empty credentials are not set; activating one provider deactivates the others', async () => {
    const fx = await tenantFixture(db, clock, {plan: 'premium'})
    const owner = asUser(app, fx.users.owner.token)
    const before = (await owner('GET', '/api/wa/providers')).json<{data: Array<Record<string, unknown>>}>().data.find((p) => p.key === 'mock')
    expect(before).to.deep.equal({
      id: mockId,
      key: 'mock',
      name: 'Mock Provider',
      configured: false,
      is_active: false,
      credentials_set: false,
      updated_at: null,
    })

    clock.set('2026-03-01T11:00:00Z')
    const empty = await owner('POST', '/api/wa/provider-config', {provider_key: 'mock', credentials: {}, is_active: 0})
    expect(empty.statusCode, empty.body).to.equal(200)
    expect(empty.json()).to.deep.include({data: {...empty.json<{data: object}>().data, is_active: false, credentials_set: false}})
    const stored = found(await db.knex<WaProviderConfigRow>('wa_provider_configs').where({tenant_id: fx.tenant}).first(), 'config')
    // The array cast stores PHP's encoding of an empty array.
    expect(typeof stored.credentials_json === 'string' ? stored.credentials_json : JSON.stringify(stored.credentials_json)).to.equal('[]')
    // is_active absent means true.
    const activated = await owner('POST', '/api/wa/provider-config', {provider_key: 'mock', credentials: {token: 'x'}})
    expect(activated.json<{data: {is_active: boolean; id: string}}>().data).to.deep.include({is_active: true, id: stored.id})
    expect(await db.knex('wa_provider_configs').where({tenant_id: fx.tenant}).count({n: '*'}).first()).to.satisfy((r: {n: unknown}) => Number(r.n) === 1)

    // A second provider (the HTTP gateway driver): activating it deactivates mock's configuration.
    const now = toDbTimestamp(clock.now())
    if (!(await db.knex('wa_providers').where({key: 'http'}).first('id'))) {
      await db.knex('wa_providers').insert({key: 'http', name: 'HTTP Gateway', active: true, created_at: now, updated_at: now})
    }
    const gateway = await owner('POST', '/api/wa/provider-config', {provider_key: 'http', credentials: {url: 'https://gateway.example/send'}, is_active: '1'})
    expect(gateway.statusCode, gateway.body).to.equal(200)
    expect(gateway.json<{data: {health: unknown}}>().data.health).to.deep.equal({ok: true, message: 'gateway https://gateway.example configured'})
    const listed = (await owner('GET', '/api/wa/providers')).json<{data: Array<{key: string; is_active: boolean; configured: boolean}>}>().data
    expect(listed.filter((p) => ['mock', 'http'].includes(p.key)).map((p) => [p.key, p.configured, p.is_active])).to.deep.equal([
      ['mock', true, false],
      ['http', true, true],
    ])
  })

  it('provider config refusals: unknown or inactive provider is 422 VALIDATION_FAILED; bad fields get Laravel messages', async () => {
    const fx = await tenantFixture(db, clock, {plan: 'premium'})
    const admin = asUser(app, fx.users.admin.token)
    const unknown = await admin('POST', '/api/wa/provider-config', {provider_key: 'nope'})
    expect(unknown.statusCode).to.equal(422)
    expect(unknown.json()).to.deep.equal({reason_code: 'VALIDATION_FAILED', message: 'Provider is not available.'})
    const now = toDbTimestamp(clock.now())
    if (!(await db.knex('wa_providers').where({key: 'retired'}).first('id'))) {
      await db.knex('wa_providers').insert({key: 'retired', name: 'Retired', active: false, created_at: now, updated_at: now})
    }
    const inactive = await admin('POST', '/api/wa/provider-config', {provider_key: 'retired'})
    expect(inactive.json()).to.deep.equal({reason_code: 'VALIDATION_FAILED', message: 'Provider is not available.'})
    // An inactive provider is not listed.
    const listed = (await admin('GET', '/api/wa/providers')).json<{data: Array<{key: string}>}>().data
    expect(listed.map((p) => p.key)).to.not.include('retired')

    const cases: Array<[unknown, Record<string, string[]>]> = [
      [{}, {provider_key: ['The provider key field is required.']}],
      [{provider_key: ''}, {provider_key: ['The provider key field is required.']}],
      [{provider_key: 'x'.repeat(41)}, {provider_key: ['The provider key field must not be greater than 40 characters.']}],
      [{provider_key: 5}, {provider_key: ['The provider key field must be a string.']}],
      [{provider_key: 'mock', credentials: 'token'}, {credentials: ['The credentials field must be an array.']}],
      [{provider_key: 'mock', is_active: 'true'}, {is_active: ['The is active field must be true or false.']}],
    ]
    for (const [body, errors] of cases) {
      const res = await admin('POST', '/api/wa/provider-config', body)
      expect(res.statusCode, JSON.stringify(body)).to.equal(422)
      const all = Object.values(errors).flat()
      const message = all.length === 1 ? all[0] : `${all[0]} (and ${all.length - 1} more error${all.length === 2 ? '' : 's'})`
      expect(res.json(), JSON.stringify(body)).to.deep.equal({message, errors})
    }
    expect(await db.knex('wa_provider_configs').where({tenant_id: fx.tenant}).count({n: '*'}).first()).to.satisfy((r: {n: unknown}) => Number(r.n) === 0)
  })

  it('WA-3: a template upsert is 201 and audited; versions count up per scope; templates list the newest override', async () => {
    const fx = await tenantFixture(db, clock, {plan: 'premium'})
    const admin = asUser(app, fx.users.admin.token)
    const res = await admin('PUT', '/api/wa/templates/WA_ORDER_DONE', {definition: ORDER_DONE_DEFINITION}, {'x-request-id': 'req-wa-3'})
    expect(res.statusCode, res.body).to.equal(201)
    const data = res.json<{data: {id: string}}>().data
    expect(Object.keys(data)).to.deep.equal(['id', 'template_id', 'version', 'outlet_id', 'definition'])
    expect(data).to.deep.equal({id: data.id, template_id: 'WA_ORDER_DONE', version: 1, outlet_id: null, definition: ORDER_DONE_DEFINITION})
    const audit = await db.knex<AuditEventRow>('audit_events').where({tenant_id: fx.tenant, event_key: 'WA_TEMPLATE_UPDATED'})
    expect(audit).to.have.length(1)
    expect(audit[0]).to.deep.include({user_id: fx.users.admin.id, channel: 'api', entity_type: 'wa_template', entity_id: data.id, request_id: 'req-wa-3'})
    const metadata: unknown = typeof audit[0].metadata_json === 'string' ? JSON.parse(audit[0].metadata_json) : audit[0].metadata_json
    expect(metadata).to.deep.equal({template_id: 'WA_ORDER_DONE', version: 1})

    // The id is upper-cased; a second tenant-level upsert is version 2, kept whole (unvalidated keys too).
    const second = {...ORDER_DONE_DEFINITION, max_length: 600, note: 'kept', fallbacks: {}}
    const again = await admin('PUT', '/api/wa/templates/wa_order_done', {definition: second})
    expect(again.statusCode, again.body).to.equal(201)
    // PHP decodes {} to an empty array and encodes it back as [].
    expect(again.json<{data: unknown}>().data).to.deep.include({template_id: 'WA_ORDER_DONE', version: 2, definition: {...second, fallbacks: []}})

    // An outlet-level override starts its own count at 1.
    const outletLevel = await admin('PUT', '/api/wa/templates/WA_ORDER_DONE', {outlet_id: fx.outlet, definition: ORDER_DONE_DEFINITION})
    expect(outletLevel.statusCode, outletLevel.body).to.equal(201)
    expect(outletLevel.json<{data: unknown}>().data).to.deep.include({version: 1, outlet_id: fx.outlet})
    const outletAudit = await db.knex<AuditEventRow>('audit_events').where({entity_id: outletLevel.json<{data: {id: string}}>().data.id}).first()
    expect(outletAudit?.outlet_id).to.equal(fx.outlet)

    const tenantList = (await admin('GET', '/api/wa/templates')).json<{data: Array<{template_id: string; source: string; version: number}>}>().data
    expect(tenantList.map((t) => [t.template_id, t.source, t.version])).to.deep.equal(
      TEMPLATE_IDS.map((id) => (id === 'WA_ORDER_DONE' ? [id, 'tenant', 2] : [id, 'default', 1])),
    )
    const outletList = (await admin('GET', `/api/wa/templates?outlet_id=${fx.outlet}`)).json<{
      data: Array<{template_id: string; source: string; version: number}>
    }>().data
    expect(outletList.find((t) => t.template_id === 'WA_ORDER_DONE')).to.deep.equal({
      template_id: 'WA_ORDER_DONE',
      source: 'outlet',
      version: 1,
      definition: ORDER_DONE_DEFINITION,
    })
    const rows = await db.knex<WaTemplateRow>('wa_templates').where({tenant_id: fx.tenant}).orderBy('created_at')
    expect(rows).to.have.length(3)
  })

  it('template upsert refusals: unknown id before validation, Laravel field messages, and the WA outlet check', async () => {
    const fx = await tenantFixture(db, clock, {plan: 'premium'})
    const admin = asUser(app, fx.users.admin.token)
    const owner = asUser(app, fx.users.owner.token)
    const unknown = await admin('PUT', '/api/wa/templates/WA_NOPE', {})
    expect(unknown.statusCode).to.equal(422)
    expect(unknown.json()).to.deep.equal({reason_code: 'VALIDATION_FAILED', message: 'Unknown template_id.'})
    // The role check and the plan gate come before the id check.
    expect((await asUser(app, fx.users.cashier.token)('PUT', '/api/wa/templates/WA_NOPE', {})).json()).to.deep.equal(ROLE_DENIED)

    const cases: Array<[unknown, Record<string, string[]>]> = [
      [{}, {definition: ['The definition field is required.']}],
      [{definition: 'text'}, {definition: ['The definition field must be an array.']}],
      [{definition: {body_lines: []}}, {'definition.body_lines': ['The definition.body lines field is required.']}],
      [{definition: {body_lines: 'Halo'}}, {'definition.body_lines': ['The definition.body lines field must be an array.']}],
      [{definition: {body_lines: ['Halo'], max_length: 50}}, {'definition.max_length': ['The definition.max length field must be at least 100.']}],
      [{definition: {body_lines: ['Halo'], max_length: 5001}}, {'definition.max_length': ['The definition.max length field must not be greater than 5000.']}],
      // Every failing rule, as Laravel's validator: "long" is no integer, and its size (4 characters) is below 100.
      [
        {definition: {body_lines: ['Halo'], max_length: 'long'}},
        {'definition.max_length': ['The definition.max length field must be an integer.', 'The definition.max length field must be at least 100.']},
      ],
      [{definition: {body_lines: ['Halo'], fallbacks: 'x'}}, {'definition.fallbacks': ['The definition.fallbacks field must be an array.']}],
      [{outlet_id: 'not-a-uuid', definition: {body_lines: ['Halo']}}, {outlet_id: ['The outlet id field must be a valid UUID.']}],
    ]
    for (const [body, errors] of cases) {
      const res = await admin('PUT', '/api/wa/templates/WA_ORDER_DONE', body)
      expect(res.statusCode, JSON.stringify(body)).to.equal(422)
      const all = Object.values(errors).flat()
      const message = all.length === 1 ? all[0] : `${all[0]} (and ${all.length - 1} more error${all.length === 2 ? '' : 's'})`
      expect(res.json(), JSON.stringify(body)).to.deep.equal({message, errors})
    }

    const definition = {body_lines: ['Halo {{customer_name}}']}
    // The admin is not assigned to the second outlet; the owner passes for any outlet of the tenant.
    const unassigned = await admin('PUT', '/api/wa/templates/WA_ORDER_DONE', {outlet_id: fx.otherOutlet, definition})
    expect(unassigned.statusCode).to.equal(403)
    expect(unassigned.json()).to.deep.equal(OUTLET_DENIED)
    expect((await owner('PUT', '/api/wa/templates/WA_ORDER_DONE', {outlet_id: fx.otherOutlet, definition})).statusCode).to.equal(201)
    // Upstream compares the id as text for a non-owner: an upper-case spelling of an assigned outlet is denied.
    expect((await admin('PUT', '/api/wa/templates/WA_ORDER_DONE', {outlet_id: fx.outlet.toUpperCase(), definition})).json()).to.deep.equal(OUTLET_DENIED)
    // A non-owner is denied an archived outlet; the owner is not (upstream's owner check looks nothing up).
    await db
      .knex('outlets')
      .where({id: fx.otherOutlet})
      .update({deleted_at: toDbTimestamp(clock.now())})
    await db
      .knex('user_outlets')
      .insert({user_id: fx.users.admin.id, outlet_id: fx.otherOutlet, created_at: toDbTimestamp(clock.now()), updated_at: toDbTimestamp(clock.now())})
    expect((await admin('PUT', '/api/wa/templates/WA_ORDER_DONE', {outlet_id: fx.otherOutlet, definition})).json()).to.deep.equal(OUTLET_DENIED)
    expect((await owner('PUT', '/api/wa/templates/WA_ORDER_DONE', {outlet_id: fx.otherOutlet, definition})).statusCode).to.equal(201)
    // An id that names no outlet: 403, not the foreign-key 500.
    expect((await owner('PUT', '/api/wa/templates/WA_ORDER_DONE', {outlet_id: uuid7(), definition})).json()).to.deep.equal(OUTLET_DENIED)
    expect(await db.knex('wa_templates').where({tenant_id: fx.tenant}).count({n: '*'}).first()).to.satisfy((r: {n: unknown}) => Number(r.n) === 2)
  })

  it('WA-4: order events enqueue messages the worker sends; the message log lists them newest first with their provider, in upstream key order', async () => {
    const fx = await tenantFixture(db, clock, {plan: 'premium'})
    const admin = asUser(app, fx.users.admin.token)
    expect((await admin('POST', '/api/wa/provider-config', {provider_key: 'mock', credentials: {token: 't'}, is_active: true})).statusCode).to.equal(200)
    const t = waTenant(fx)
    const orderId = await insertOrder(db, t, clock, {code: 'ORD-WA-001', phone: '6281233331111', pickup: true, total: 19000})
    const meta = {event: 'order_created', source: 'api', actor_user_id: fx.users.admin.id, source_channel: 'web'}
    expect((await enqueueOrderEvent(db, orderId, 'WA_PICKUP_CONFIRM', {}, meta, {clock, brandName: 'Laravel'})).status).to.equal('enqueued')
    clock.set('2026-03-01T10:05:00Z')
    await db.knex('orders').where({id: orderId}).update({courier_status: 'pickup_on_the_way'})
    await enqueueOrderEvent(db, orderId, 'WA_PICKUP_OTW', {}, {...meta, event: 'courier_pickup_otw'}, {clock, brandName: 'Laravel'})
    await runWorker(db, drain, {clock})

    const res = await admin('GET', '/api/wa/messages')
    expect(res.statusCode, res.body).to.equal(200)
    const data = res.json<{data: Array<Record<string, unknown>>}>().data
    expect(data.map((m) => [m.template_id, m.status, m.created_by, m.source_channel])).to.deep.equal([
      ['WA_PICKUP_OTW', 'sent', fx.users.admin.id, 'system'],
      ['WA_PICKUP_CONFIRM', 'sent', fx.users.admin.id, 'system'],
    ])
    const row = found(await db.knex<WaMessageRow>('wa_messages').where({order_id: orderId, template_id: 'WA_PICKUP_CONFIRM'}).first(), 'message')
    const entry = data[1]
    expect(Object.keys(entry)).to.deep.equal(MESSAGE_KEYS)
    expect(entry).to.deep.equal({
      id: row.id,
      tenant_id: fx.tenant,
      outlet_id: fx.outlet,
      order_id: orderId,
      provider_id: mockId,
      template_id: 'WA_PICKUP_CONFIRM',
      idempotency_key: `${fx.tenant}:${fx.outlet}:ORD-WA-001:WA_PICKUP_CONFIRM`,
      to_phone: '6281233331111',
      body_text: row.body_text,
      status: 'sent',
      attempts: 1,
      last_error_code: null,
      last_error_message: null,
      provider_message_id: row.provider_message_id,
      metadata_json: {...meta, template_source: 'default', template_version: 1},
      created_at: '2026-03-01T10:00:00.000000Z',
      updated_at: '2026-03-01T10:05:00.000000Z',
      created_by: fx.users.admin.id,
      updated_by: null,
      source_channel: 'system',
      provider: {id: mockId, key: 'mock', name: 'Mock Provider'},
    })
    expect(String(row.provider_message_id)).to.match(/^mock-[a-z0-9]{16}$/)
  })

  it('WA-4 over HTTP: POST /api/orders and the courier status queue messages; after the worker runs the log shows both sent', async () => {
    const fx = await tenantFixture(db, clock, {plan: 'premium'})
    const admin = asUser(app, fx.users.admin.token)
    expect((await admin('POST', '/api/wa/provider-config', {provider_key: 'mock', credentials: {token: 't'}, is_active: true})).statusCode).to.equal(200)
    const created = await admin('POST', '/api/orders', {
      outlet_id: fx.outlet,
      order_code: 'ORD-WA-001',
      is_pickup_delivery: true,
      customer: {name: 'Pelanggan WA', phone: '081233331111'},
      items: [{service_id: fx.services.kg, weight_kg: 2}],
    })
    expect(created.statusCode, created.body).to.equal(201)
    const orderId = created.json<{data: {id: string}}>().data.id
    const courier = await admin('POST', `/api/orders/${orderId}/status/courier`, {status: 'pickup_on_the_way'})
    expect(courier.statusCode, courier.body).to.equal(200)
    // Production semantics: queued until a worker runs the messaging queue.
    const queued = (await admin('GET', '/api/wa/messages?status=queued')).json<{data: Array<{order_id: string}>}>().data
    expect(queued.filter((m) => m.order_id === orderId)).to.have.length(2)
    await runWorker(db, drain, {clock})
    const sent = (await admin('GET', '/api/wa/messages?status=sent')).json<{data: Array<Record<string, unknown>>}>().data
    expect(
      sent
        .filter((m) => m.order_id === orderId)
        .map((m) => [m.template_id, m.created_by, m.source_channel, m.provider])
        .sort(),
    ).to.deep.equal([
      ['WA_PICKUP_CONFIRM', fx.users.admin.id, 'system', {id: mockId, key: 'mock', name: 'Mock Provider'}],
      ['WA_PICKUP_OTW', fx.users.admin.id, 'system', {id: mockId, key: 'mock', name: 'Mock Provider'}],
    ])
  })

  it('WA-5: a transient failure is retried until failed after 5 attempts; the log filters by status', async () => {
    const fx = await tenantFixture(db, clock, {plan: 'premium'})
    const admin = asUser(app, fx.users.admin.token)
    expect((await admin('POST', '/api/wa/provider-config', {provider_key: 'mock', credentials: {token: 't'}, is_active: true})).statusCode).to.equal(200)
    const t = waTenant(fx)
    const id = await insertMessage(db, t, clock, {key: `${fx.tenant}:${fx.outlet}:MANUAL:WA_PICKUP_CONFIRM`, metadata: {mock_failure: 'transient'}})
    await pushJob(db.knex, {queue: 'messaging', payload: sendWaJobPayload({waMessageId: id, now: clock.now()}), now: clock.now()})
    for (let attempt = 1; attempt <= 5; attempt++) {
      await runWorker(db, drain, {clock})
      clock.advance(300)
    }
    const failed = await admin('GET', '/api/wa/messages?status=failed')
    const data = failed.json<{data: Array<Record<string, unknown>>}>().data
    expect(data).to.have.length(1)
    expect(data[0]).to.deep.include({id, status: 'failed', attempts: 5, last_error_code: 'NETWORK_ERROR', source_channel: 'system', updated_by: null})
    expect(data[0].provider).to.deep.equal({id: mockId, key: 'mock', name: 'Mock Provider'})
    expect((await admin('GET', '/api/wa/messages?status=queued')).json<{data: unknown[]}>().data).to.deep.equal([])
  })

  it('message log: default limit 30, limit and status validated, outlet filter checked, non-owners see only their outlets', async () => {
    const fx = await tenantFixture(db, clock, {plan: 'premium'})
    const t = waTenant(fx)
    const ids: string[] = []
    for (let i = 0; i < 32; i++) {
      clock.set(new Date(Date.parse(START) + i * 1000).toISOString())
      ids.push(await insertMessage(db, {...t, outletId: i % 2 === 0 ? fx.outlet : fx.otherOutlet}, clock, {}))
    }
    // A message without an outlet: only owners see it, and only without an outlet filter.
    clock.set('2026-03-01T11:00:00Z')
    const orphan = await insertMessage(db, t, clock, {})
    await db.knex('wa_messages').where({id: orphan}).update({outlet_id: null})
    const owner = asUser(app, fx.users.owner.token)
    const admin = asUser(app, fx.users.admin.token)

    const all = (await owner('GET', '/api/wa/messages')).json<{data: Array<{id: string; provider: unknown}>}>().data
    expect(all.map((m) => m.id)).to.deep.equal([orphan, ...ids.slice().reverse()].slice(0, 30))
    expect(all[0].provider).to.equal(null)
    expect((await owner('GET', '/api/wa/messages?limit=100')).json<{data: unknown[]}>().data).to.have.length(33)
    expect((await owner('GET', '/api/wa/messages?limit=5')).json<{data: unknown[]}>().data).to.have.length(5)

    // The admin is assigned to the first outlet only: without a filter, its 16 messages and not the orphan.
    const mine = (await admin('GET', '/api/wa/messages?limit=100')).json<{data: Array<{id: string; outlet_id: string}>}>().data
    expect(mine.map((m) => m.id)).to.deep.equal(ids.filter((_, i) => i % 2 === 0).reverse())
    const filtered = (await admin('GET', `/api/wa/messages?outlet_id=${fx.outlet}&limit=3`)).json<{data: Array<{outlet_id: string}>}>().data
    expect(filtered.map((m) => m.outlet_id)).to.deep.equal([fx.outlet, fx.outlet, fx.outlet])
    expect((await admin('GET', `/api/wa/messages?outlet_id=${fx.otherOutlet}`)).json()).to.deep.equal(OUTLET_DENIED)
    expect((await owner('GET', `/api/wa/messages?outlet_id=${fx.otherOutlet}&limit=100`)).json<{data: unknown[]}>().data).to.have.length(16)

    const cases: Array<[string, Record<string, string[]>]> = [
      ['limit=0', {limit: ['The limit field must be at least 1.']}],
      ['limit=101', {limit: ['The limit field must not be greater than 100.']}],
      ['limit=abc', {limit: ['The limit field must be an integer.']}],
      ['status=read', {status: ['The selected status is invalid.']}],
      ['outlet_id=123', {outlet_id: ['The outlet id field must be a valid UUID.']}],
    ]
    for (const [query, errors] of cases) {
      const res = await owner('GET', `/api/wa/messages?${query}`)
      expect(res.statusCode, query).to.equal(422)
      expect(res.json(), query).to.deep.equal({message: Object.values(errors)[0][0], errors})
    }
    // Empty values are null (ConvertEmptyStringsToNull): no filter, the default limit.
    expect((await owner('GET', '/api/wa/messages?status=&limit=')).json<{data: unknown[]}>().data).to.have.length(30)
  })

  it("tenant isolation: a user of tenant A never sees tenant B's configuration, templates or messages, and is refused B's outlets", async () => {
    const a = await tenantFixture(db, clock, {plan: 'premium'})
    const b = await tenantFixture(db, clock, {plan: 'premium'})
    const bOwner = asUser(app, b.users.owner.token)
    expect((await bOwner('POST', '/api/wa/provider-config', {provider_key: 'mock', credentials: {token: 'b-secret'}, is_active: true})).statusCode).to.equal(
      200,
    )
    expect((await bOwner('PUT', '/api/wa/templates/WA_LAUNDRY_READY', {definition: {body_lines: ['B only']}})).statusCode).to.equal(201)
    expect((await bOwner('PUT', '/api/wa/templates/WA_LAUNDRY_READY', {outlet_id: b.outlet, definition: {body_lines: ['B outlet']}})).statusCode).to.equal(201)
    const bMessage = await insertMessage(db, waTenant(b), clock, {})

    for (const role of ['owner', 'admin'] as const) {
      const user = asUser(app, a.users[role].token)
      const providers = await user('GET', '/api/wa/providers')
      expect(providers.json<{data: Array<{key: string; configured: boolean}>}>().data.find((p) => p.key === 'mock')).to.deep.include({configured: false})
      const templates = await user('GET', '/api/wa/templates')
      expect(templates.json<{data: Array<{source: string}>}>().data.map((t) => t.source)).to.deep.equal(TEMPLATE_IDS.map(() => 'default'))
      const messages = await user('GET', '/api/wa/messages?limit=100')
      expect(messages.body).to.not.include(bMessage)
      for (const url of [`/api/wa/templates?outlet_id=${b.outlet}`, `/api/wa/messages?outlet_id=${b.outlet}`]) {
        const res = await user('GET', url)
        expect(res.statusCode, `${role} ${url}`).to.equal(403)
        expect(res.json()).to.deep.equal(OUTLET_DENIED)
      }
      const put = await user('PUT', '/api/wa/templates/WA_ORDER_DONE', {outlet_id: b.outlet, definition: {body_lines: ['x']}})
      expect(put.statusCode).to.equal(403)
      expect(put.json()).to.deep.equal(OUTLET_DENIED)
      for (const res of [providers, templates, messages]) {
        expect(res.body).to.not.include(b.tenant)
        expect(res.body).to.not.include(b.outlet)
        expect(res.body).to.not.include('B only')
      }
    }
    expect(await db.knex('wa_templates').where({outlet_id: b.outlet}).count({n: '*'}).first()).to.satisfy((r: {n: unknown}) => Number(r.n) === 1)
    // Configuring A's provider leaves B's configuration alone.
    expect((await asUser(app, a.users.admin.token)('POST', '/api/wa/provider-config', {provider_key: 'mock', is_active: true})).statusCode).to.equal(200)
    const bConfig = found(await db.knex<WaProviderConfigRow>('wa_provider_configs').where({tenant_id: b.tenant}).first(), 'B config')
    expect(Boolean(Number(bConfig.is_active))).to.equal(true)
  })
})
