/**
 * GET /api/billing/quota, GET /api/services and GET /api/outlet-services through the whole app (inject), on
 * both engines: upstream's MasterDataBillingApiTest cases for these routes (reference §5.5, MD-4's service
 * list, MD-5's include_deleted filter, MD-9), the role matrix, validation, answer key order and tenant
 * isolation. The routes take no plan gate: a standard tenant uses them.
 */
import {expect} from 'chai'

import {type ApiInstance, buildApp} from '../../src/api/app.js'
import {fixedClock, toDbTimestamp, toPeriod} from '../../src/core/clock.js'
import {loadConfig} from '../../src/core/config.js'
import type {Database} from '../../src/core/db/connection.js'
import {uuid7} from '../../src/core/domain/ids.js'
import {asUser, ROLE_KEYS, tenantFixture} from '../helpers/api.js'
import {describeEachEngine} from '../helpers/engines.js'
import {found, planId} from '../helpers/wa.js'

const clock = fixedClock('2026-03-14T09:30:00Z')
const NOW = toDbTimestamp(clock.now())
const ROLE_DENIED = {reason_code: 'ROLE_ACCESS_DENIED', message: 'You are not allowed to perform this action.'}
const OUTLET_DENIED = {reason_code: 'OUTLET_ACCESS_DENIED', message: 'You do not have access to the requested outlet.'}

describeEachEngine('api billing quota and service catalogue (MasterDataBillingApiTest, inject)', {from: 'seeded'}, (ctx) => {
  let db: Database
  let app: ApiInstance

  before(async () => {
    db = await ctx.scratch.open()
    app = await buildApp({db, config: loadConfig({cwd: ctx.scratch.dir, env: {}, databaseUrl: ctx.scratch.url}), clock})
  })
  after(async () => {
    await app?.close()
  })

  describe('GET /api/billing/quota', () => {
    it('MD-9: the admin gets the snapshot and the subscription of the period, in upstream key order; a cashier is refused', async () => {
      const fx = await tenantFixture(db, clock)
      const period = toPeriod(clock.now())
      const standard = await planId(db, 'standard')
      const subscription = uuid7()
      await db.knex('tenant_subscriptions').insert({
        id: subscription,
        tenant_id: fx.tenant,
        plan_id: standard,
        period,
        starts_at: '2026-03-01 00:00:00',
        ends_at: '2026-03-31 23:59:59',
        status: 'active',
        created_at: NOW,
        updated_at: NOW,
      })
      await db.knex('quota_usage').where({tenant_id: fx.tenant, period}).update({orders_used: 10})
      const res = await asUser(app, fx.users.admin.token)('GET', `/api/billing/quota?period=${period}`)
      expect(res.statusCode, res.body).to.equal(200)
      const body = res.json<{data: {quota: object; subscription: object}}>()
      expect(Object.keys(body.data)).to.deep.equal(['quota', 'subscription'])
      expect(Object.keys(body.data.quota)).to.deep.equal(['plan', 'period', 'orders_limit', 'orders_used', 'orders_remaining', 'can_create_order'])
      expect(Object.keys(body.data.subscription)).to.deep.equal(['id', 'period', 'status', 'starts_at', 'ends_at', 'plan'])
      expect(body).to.deep.equal({
        data: {
          quota: {plan: 'standard', period, orders_limit: 1000, orders_used: 10, orders_remaining: 990, can_create_order: true},
          subscription: {
            id: subscription,
            period,
            status: 'active',
            starts_at: '2026-03-01T00:00:00+00:00',
            ends_at: '2026-03-31T23:59:59+00:00',
            plan: {key: 'standard', name: 'Standar', orders_limit: 1000},
          },
        },
      })
      const cashier = await asUser(app, fx.users.cashier.token)('GET', '/api/billing/quota')
      expect(cashier.statusCode).to.equal(403)
      expect(cashier.json()).to.deep.equal(ROLE_DENIED)
    })

    it('without a period: the current UTC month; another month without rows: nothing used and no subscription; a used-up quota cannot create', async () => {
      const fx = await tenantFixture(db, clock)
      const owner = asUser(app, fx.users.owner.token)
      const current = await owner('GET', '/api/billing/quota')
      expect(current.json()).to.deep.equal({
        data: {
          quota: {plan: 'standard', period: '2026-03', orders_limit: 1000, orders_used: 0, orders_remaining: 1000, can_create_order: true},
          subscription: null,
        },
      })
      await db.knex('quota_usage').insert({id: uuid7(), tenant_id: fx.tenant, period: '2025-12', orders_used: 1200, created_at: NOW, updated_at: NOW})
      const past = await owner('GET', '/api/billing/quota?period=2025-12')
      expect(past.json<{data: {quota: unknown}}>().data.quota).to.deep.equal({
        plan: 'standard',
        period: '2025-12',
        orders_limit: 1000,
        orders_used: 1200,
        orders_remaining: 0,
        can_create_order: false,
      })
      // A tenant without a plan: no limit (plan, limit and remaining null), creation allowed.
      await db.knex('tenants').where({id: fx.tenant}).update({current_plan_id: null})
      const open = await owner('GET', '/api/billing/quota?period=2025-12')
      expect(open.json<{data: {quota: unknown}}>().data.quota).to.deep.equal({
        plan: null,
        period: '2025-12',
        orders_limit: null,
        orders_used: 1200,
        orders_remaining: null,
        can_create_order: true,
      })
    })

    it('role matrix and validation: owner and admin only; period must be Y-m', async () => {
      const fx = await tenantFixture(db, clock)
      for (const role of ROLE_KEYS) {
        const res = await asUser(app, fx.users[role].token)('GET', '/api/billing/quota')
        if (role === 'owner' || role === 'admin') expect(res.statusCode, role).to.equal(200)
        else expect(res.json(), role).to.deep.equal(ROLE_DENIED)
      }
      expect((await app.inject({method: 'GET', url: '/api/billing/quota', headers: {accept: 'application/json'}})).statusCode).to.equal(401)
      for (const period of ['2026-13', '2026-3', '03-2026', '2026-03-01', 'march']) {
        const res = await asUser(app, fx.users.admin.token)('GET', `/api/billing/quota?period=${period}`)
        expect(res.statusCode, period).to.equal(422)
        expect(res.json(), period).to.deep.equal({
          message: 'The period field must match the format Y-m.',
          errors: {period: ['The period field must match the format Y-m.']},
        })
      }
      // The role check comes before validation.
      expect((await asUser(app, fx.users.cashier.token)('GET', '/api/billing/quota?period=bad')).json()).to.deep.equal(ROLE_DENIED)
    })

    it("tenant isolation: tenant A's quota and subscription never show tenant B's", async () => {
      const a = await tenantFixture(db, clock)
      const b = await tenantFixture(db, clock, {plan: 'premium'})
      const period = toPeriod(clock.now())
      await db.knex('quota_usage').where({tenant_id: b.tenant, period}).update({orders_used: 77})
      const bSub = uuid7()
      await db.knex('tenant_subscriptions').insert({
        id: bSub,
        tenant_id: b.tenant,
        plan_id: await planId(db, 'premium'),
        period,
        starts_at: '2026-03-01 00:00:00',
        ends_at: '2026-03-31 23:59:59',
        status: 'active',
        created_at: NOW,
        updated_at: NOW,
      })
      const res = await asUser(app, a.users.admin.token)('GET', `/api/billing/quota?period=${period}`)
      expect(res.json()).to.deep.equal({
        data: {quota: {plan: 'standard', period, orders_limit: 1000, orders_used: 0, orders_remaining: 1000, can_create_order: true}, subscription: null},
      })
      expect(res.body).to.not.include(bSub)
    })
  })

  describe('GET /api/services', () => {
    it('MD-4: a cashier lists the services by name with the outlet override as effective price, in upstream key order', async () => {
      const fx = await tenantFixture(db, clock)
      const override = found(
        await db.knex('outlet_services').where({outlet_id: fx.outlet, service_id: fx.services.kg}).first<{id: string} | undefined>('id'),
        'kg override',
      )
      await db.knex('outlet_services').where({id: override.id}).update({price_override_amount: 9000, sla_override: '24 jam'})
      const res = await asUser(app, fx.users.cashier.token)('GET', `/api/services?outlet_id=${fx.outlet}`)
      expect(res.statusCode, res.body).to.equal(200)
      const data = res.json<{data: Array<Record<string, unknown>>}>().data
      // Ordered by name: "Cuci Satuan" before "Kiloan Reguler".
      expect(data.map((s) => s.id)).to.deep.equal([fx.services.pcs, fx.services.kg])
      for (const entry of data) {
        expect(Object.keys(entry)).to.deep.equal([
          'id',
          'tenant_id',
          'name',
          'unit_type',
          'base_price_amount',
          'active',
          'effective_price_amount',
          'outlet_override',
        ])
      }
      expect(Object.keys(data[1].outlet_override as object)).to.deep.equal(['id', 'active', 'price_override_amount', 'sla_override'])
      expect(data[1]).to.deep.equal({
        id: fx.services.kg,
        tenant_id: fx.tenant,
        name: 'Kiloan Reguler',
        unit_type: 'kg',
        base_price_amount: 8000,
        active: true,
        effective_price_amount: 9000,
        outlet_override: {id: override.id, active: true, price_override_amount: 9000, sla_override: '24 jam'},
      })
      expect(data[0]).to.deep.include({effective_price_amount: 5000, outlet_override: data[0].outlet_override})
      expect(data[0].outlet_override).to.deep.include({price_override_amount: null})
      // Without an outlet: no override, the base price.
      const plain = (await asUser(app, fx.users.cashier.token)('GET', '/api/services')).json<{data: Array<Record<string, unknown>>}>().data
      expect(plain.map((s) => [s.effective_price_amount, s.outlet_override])).to.deep.equal([
        [5000, null],
        [8000, null],
      ])
      // Unlike order pricing, an inactive override's price still counts (reference §3.10).
      await db.knex('outlet_services').where({id: override.id}).update({active: false, price_override_amount: 7000})
      const inactive = (await asUser(app, fx.users.cashier.token)('GET', `/api/services?outlet_id=${fx.outlet}`)).json<{data: Array<Record<string, unknown>>}>()
        .data
      expect(inactive[1]).to.deep.include({
        effective_price_amount: 7000,
        outlet_override: {id: override.id, active: false, price_override_amount: 7000, sla_override: '24 jam'},
      })
    })

    it('MD-5: an archived service is listed only with include_deleted, which needs owner or admin', async () => {
      const fx = await tenantFixture(db, clock)
      await db.knex('services').where({id: fx.services.pcs}).delete()
      await db.knex('services').where({id: fx.services.kg}).update({deleted_at: NOW})
      const cashier = asUser(app, fx.users.cashier.token)
      expect((await cashier('GET', '/api/services')).json()).to.deep.equal({data: []})
      const admin = await asUser(app, fx.users.admin.token)('GET', '/api/services?include_deleted=1')
      expect(admin.statusCode).to.equal(200)
      expect(admin.json<{data: Array<{id: string}>}>().data.map((s) => s.id)).to.deep.equal([fx.services.kg])
      const refused = await cashier('GET', '/api/services?include_deleted=1')
      expect(refused.statusCode).to.equal(403)
      expect(refused.json()).to.deep.equal(ROLE_DENIED)
      // include_deleted=0 is no filter change, so the cashier may send it.
      expect((await cashier('GET', '/api/services?include_deleted=0')).json()).to.deep.equal({data: []})
    })

    it('filters on active (a present empty value filters on false, as upstream); boolean and uuid rules as Laravel', async () => {
      const fx = await tenantFixture(db, clock)
      await db.knex('services').where({id: fx.services.pcs}).update({active: false})
      const owner = asUser(app, fx.users.owner.token)
      const ids = async (query: string) => (await owner('GET', `/api/services${query}`)).json<{data: Array<{id: string}>}>().data.map((s) => s.id)
      expect(await ids('?active=1')).to.deep.equal([fx.services.kg])
      expect(await ids('?active=0')).to.deep.equal([fx.services.pcs])
      expect(await ids('?active=')).to.deep.equal([fx.services.pcs])
      expect(await ids('')).to.deep.equal([fx.services.pcs, fx.services.kg])
      const bad = await owner('GET', '/api/services?active=true')
      expect(bad.statusCode).to.equal(422)
      expect(bad.json()).to.deep.equal({message: 'The active field must be true or false.', errors: {active: ['The active field must be true or false.']}})
    })

    it('role matrix and outlet checks: owner, admin and cashier only; outlet.access first, then an archived outlet is refused by the controller', async () => {
      const fx = await tenantFixture(db, clock)
      for (const role of ROLE_KEYS) {
        const res = await asUser(app, fx.users[role].token)('GET', `/api/services?outlet_id=${fx.outlet}`)
        if (['owner', 'admin', 'cashier'].includes(role)) expect(res.statusCode, role).to.equal(200)
        else expect(res.json(), role).to.deep.equal(ROLE_DENIED)
      }
      // The second outlet is not assigned to the cashier: the middleware refuses before the role check.
      expect((await asUser(app, fx.users.worker.token)('GET', `/api/services?outlet_id=${fx.otherOutlet}`)).json()).to.deep.equal(OUTLET_DENIED)
      expect((await asUser(app, fx.users.cashier.token)('GET', `/api/services?outlet_id=${fx.otherOutlet}`)).json()).to.deep.equal(OUTLET_DENIED)
      // An archived outlet passes the middleware (withTrashed) but not the controller's check, even for the owner.
      await db.knex('outlets').where({id: fx.otherOutlet}).update({deleted_at: NOW})
      const archived = await asUser(app, fx.users.owner.token)('GET', `/api/services?outlet_id=${fx.otherOutlet}`)
      expect(archived.statusCode).to.equal(403)
      expect(archived.json()).to.deep.equal(OUTLET_DENIED)
    })
  })

  describe('GET /api/outlet-services', () => {
    it("lists the outlet's rows by created_at with their service, in upstream key order; outlet_id required; role matrix", async () => {
      const fx = await tenantFixture(db, clock)
      const rows: Array<{id: string; service_id: string}> = await db.knex('outlet_services').where({outlet_id: fx.outlet}).select('id', 'service_id')
      // Distinct creation times: pcs first.
      const pcsRow = found(
        rows.find((r) => r.service_id === fx.services.pcs),
        'pcs row',
      )
      const kgRow = found(
        rows.find((r) => r.service_id === fx.services.kg),
        'kg row',
      )
      await db.knex('outlet_services').where({id: pcsRow.id}).update({created_at: '2026-03-01 08:00:00', updated_at: '2026-03-02 08:00:00'})
      await db.knex('outlet_services').where({id: kgRow.id}).update({created_at: '2026-03-01 09:00:00', price_override_amount: 9500, sla_override: '2 hari'})
      // An archived service stays on its outlet row (the relation is withTrashed).
      await db.knex('services').where({id: fx.services.kg}).update({deleted_at: NOW})
      const res = await asUser(app, fx.users.cashier.token)('GET', `/api/outlet-services?outlet_id=${fx.outlet}`)
      expect(res.statusCode, res.body).to.equal(200)
      const data = res.json<{data: Array<Record<string, unknown>>}>().data
      expect(data.map((r) => r.id)).to.deep.equal([pcsRow.id, kgRow.id])
      expect(Object.keys(data[0])).to.deep.equal([
        'id',
        'outlet_id',
        'service_id',
        'active',
        'price_override_amount',
        'sla_override',
        'created_at',
        'updated_at',
        'service',
      ])
      expect(data[0]).to.deep.equal({
        id: pcsRow.id,
        outlet_id: fx.outlet,
        service_id: fx.services.pcs,
        active: true,
        price_override_amount: null,
        sla_override: null,
        created_at: '2026-03-01T08:00:00.000000Z',
        updated_at: '2026-03-02T08:00:00.000000Z',
        service: {id: fx.services.pcs, tenant_id: fx.tenant, name: 'Cuci Satuan', unit_type: 'pcs', base_price_amount: 5000, active: true},
      })
      expect(Object.keys(data[1].service as object)).to.deep.equal(['id', 'tenant_id', 'name', 'unit_type', 'base_price_amount', 'active'])
      expect(data[1]).to.deep.include({price_override_amount: 9500, sla_override: '2 hari'})
      expect((data[1].service as {id: string}).id).to.equal(fx.services.kg)

      await db.knex('outlet_services').where({id: kgRow.id}).update({active: false})
      const active = await asUser(app, fx.users.admin.token)('GET', `/api/outlet-services?outlet_id=${fx.outlet}&active=1`)
      expect(active.json<{data: Array<{id: string}>}>().data.map((r) => r.id)).to.deep.equal([pcsRow.id])
      const inactive = await asUser(app, fx.users.admin.token)('GET', `/api/outlet-services?outlet_id=${fx.outlet}&active=0`)
      expect(inactive.json<{data: Array<{id: string}>}>().data.map((r) => r.id)).to.deep.equal([kgRow.id])

      const missing = await asUser(app, fx.users.cashier.token)('GET', '/api/outlet-services')
      expect(missing.statusCode).to.equal(422)
      expect(missing.json()).to.deep.equal({message: 'The outlet id field is required.', errors: {outlet_id: ['The outlet id field is required.']}})

      for (const role of ROLE_KEYS) {
        const r = await asUser(app, fx.users[role].token)('GET', `/api/outlet-services?outlet_id=${fx.outlet}`)
        if (['owner', 'admin', 'cashier'].includes(role)) expect(r.statusCode, role).to.equal(200)
        else expect(r.json(), role).to.deep.equal(ROLE_DENIED)
      }
      expect((await asUser(app, fx.users.admin.token)('GET', `/api/outlet-services?outlet_id=${fx.otherOutlet}`)).json()).to.deep.equal(OUTLET_DENIED)
      expect((await asUser(app, fx.users.owner.token)('GET', `/api/outlet-services?outlet_id=${fx.otherOutlet}`)).statusCode).to.equal(200)
    })
  })

  it("tenant isolation: tenant A's users never see tenant B's services or outlet services and are refused B's outlets", async () => {
    const a = await tenantFixture(db, clock)
    const b = await tenantFixture(db, clock)
    await db.knex('services').where({id: b.services.kg}).update({name: 'B Secret Service'})
    for (const role of ['owner', 'admin', 'cashier'] as const) {
      const user = asUser(app, a.users[role].token)
      const services = await user('GET', '/api/services?include_deleted=' + (role === 'cashier' ? '0' : '1'))
      expect(services.json<{data: Array<{id: string; tenant_id: string}>}>().data.map((s) => s.tenant_id)).to.deep.equal([a.tenant, a.tenant])
      expect(services.body).to.not.include('B Secret Service')
      for (const url of [`/api/services?outlet_id=${b.outlet}`, `/api/outlet-services?outlet_id=${b.outlet}`]) {
        const res = await user('GET', url)
        expect(res.statusCode, `${role} ${url}`).to.equal(403)
        expect(res.json()).to.deep.equal(OUTLET_DENIED)
        expect(res.body).to.not.include(b.tenant)
      }
    }
  })
})
