/**
 * POST /api/invoices/range/claim through the whole app (inject), on both engines: upstream's SYNC-1
 * (reference §5.3), the role check before validation, Laravel's 422s, the controller's 422
 * OUTLET_ACCESS_DENIED answers, the 9999 overflow, and A-2: 20 parallel claims for one outlet and day,
 * through two apps on two connection pools, get disjoint ranges.
 */
import {expect} from 'chai'

import {type ApiInstance, buildApp} from '../../src/api/app.js'
import {raceApi} from '../helpers/api-race.js'
import {fixedClock} from '../../src/core/clock.js'
import {type AppConfig, loadConfig} from '../../src/core/config.js'
import type {Database} from '../../src/core/db/connection.js'
import type {InvoiceLeaseRow} from '../../src/core/invoices/leases.js'
import {asUser, tenantFixture, type TenantFixture} from '../helpers/api.js'
import {describeEachEngine} from '../helpers/engines.js'

const NOW = '2026-03-01T10:00:00Z'
const TODAY = '2026-03-01'
const DEVICE_1 = '11111111-1111-1111-1111-111111111111'
const DEVICE_2 = '22222222-2222-2222-2222-222222222222'

interface ClaimAnswer {
  server_time: string
  ranges: Array<{lease_id: string; outlet_id: string; date: string; prefix: string; from: number; to: number; expires_at: string}>
}

describeEachEngine('api invoice range claim (SyncApiTest SYNC-1, A-2, inject)', {from: 'seeded'}, (ctx) => {
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

  const claim = (token: string, body: unknown) => asUser(app, token)('POST', '/api/invoices/range/claim', body)
  const leases = (outlet: string) => db.knex<InvoiceLeaseRow>('invoice_leases').where({outlet_id: outlet}).orderBy('from_counter')

  it('SYNC-1: ranges of one outlet and date never overlap across devices (1-2, then 3-5), in upstream shape', async () => {
    const first = await claim(fx.users.cashier.token, {device_id: DEVICE_1, outlet_id: fx.outlet, days: [{date: TODAY, count: 2}]})
    expect(first.statusCode, first.body).to.equal(200)
    const body = first.json<ClaimAnswer>()
    expect(Object.keys(body)).to.deep.equal(['server_time', 'ranges'])
    expect(body.server_time).to.equal('2026-03-01T10:00:00+00:00')
    expect(Object.keys(body.ranges[0])).to.deep.equal(['lease_id', 'outlet_id', 'date', 'prefix', 'from', 'to', 'expires_at'])
    expect(body.ranges[0]).to.deep.include({
      outlet_id: fx.outlet,
      date: TODAY,
      prefix: `${fx.outletCode}-260301-`,
      from: 1,
      to: 2,
      expires_at: '2026-03-03T23:59:59+00:00',
    })
    // lease_id is a UUIDv4 (Str::uuid()).
    expect(body.ranges[0].lease_id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)

    const second = await claim(fx.users.cashier.token, {device_id: DEVICE_2, outlet_id: fx.outlet, days: [{date: TODAY, count: 3}]})
    expect(second.statusCode, second.body).to.equal(200)
    expect(second.json<ClaimAnswer>().ranges[0]).to.deep.include({from: 3, to: 5})

    const rows = await leases(fx.outlet)
    expect(rows.map((r) => [r.device_id, Number(r.from_counter), Number(r.to_counter), Number(r.next_counter)])).to.deep.equal([
      [DEVICE_1, 1, 2, 1],
      [DEVICE_2, 3, 5, 3],
    ])
    expect(String(rows[0].date).slice(0, 10)).to.equal(TODAY)
    expect(String(rows[0].expires_at).slice(0, 19)).to.equal('2026-03-03 23:59:59')
    // The devices are bound to the tenant and to the user who claimed.
    const device: Record<string, unknown> | undefined = await db.knex('devices').where({id: DEVICE_1}).first('tenant_id', 'user_id', 'last_seen_at')
    expect(device).to.deep.include({tenant_id: fx.tenant, user_id: fx.users.cashier.id})
  })

  it('several days in one claim: one range per day, in request order, each day counting on its own', async () => {
    const res = await claim(fx.users.admin.token, {
      device_id: DEVICE_1,
      outlet_id: fx.outlet,
      days: [
        {date: '2026-03-02', count: 4},
        {date: TODAY, count: '2'},
      ],
    })
    expect(res.statusCode, res.body).to.equal(200)
    expect(res.json<ClaimAnswer>().ranges.map((r) => [r.date, r.prefix, r.from, r.to])).to.deep.equal([
      ['2026-03-02', `${fx.outletCode}-260302-`, 1, 4],
      [TODAY, `${fx.outletCode}-260301-`, 6, 7],
    ])
  })

  it('the role check runs before validation: worker and courier get 403 ROLE_ACCESS_DENIED even for an empty body; no token is 401', async () => {
    for (const role of ['worker', 'courier'] as const) {
      const res = await claim(fx.users[role].token, {})
      expect(res.statusCode, role).to.equal(403)
      expect(res.json()).to.deep.equal({reason_code: 'ROLE_ACCESS_DENIED', message: 'You are not allowed to perform this action.'})
    }
    const anonymous = await app.inject({method: 'POST', url: '/api/invoices/range/claim', payload: {}, headers: {accept: 'application/json'}})
    expect(anonymous.statusCode).to.equal(401)
  })

  it("validation: Laravel's 422 messages for missing fields, bad UUIDs, a date not Y-m-d and counts outside 1..2000; lenient UUIDs pass (A-26)", async () => {
    const empty = await claim(fx.users.owner.token, {})
    expect(empty.statusCode).to.equal(422)
    expect(empty.json()).to.deep.equal({
      message: 'The device id field is required. (and 2 more errors)',
      errors: {
        device_id: ['The device id field is required.'],
        outlet_id: ['The outlet id field is required.'],
        days: ['The days field is required.'],
      },
    })
    const bad = await claim(fx.users.owner.token, {
      device_id: 'not-a-uuid',
      outlet_id: fx.outlet,
      days: [
        {date: '2026-02-30', count: 0},
        {date: '01-03-2026', count: 2001},
        {date: TODAY, count: 'x'},
      ],
    })
    expect(bad.statusCode).to.equal(422)
    expect(bad.json<{errors: Record<string, string[]>}>().errors).to.deep.equal({
      device_id: ['The device id field must be a valid UUID.'],
      'days.0.date': ['The days.0.date field must match the format Y-m-d.'],
      'days.0.count': ['The days.0.count field must be at least 1.'],
      'days.1.date': ['The days.1.date field must match the format Y-m-d.'],
      'days.1.count': ['The days.1.count field must not be greater than 2000.'],
      'days.2.count': ['The days.2.count field must be an integer.'],
    })
    const none = await claim(fx.users.owner.token, {device_id: DEVICE_1, outlet_id: fx.outlet, days: []})
    expect(none.json<{errors: Record<string, string[]>}>().errors).to.deep.equal({days: ['The days field is required.']})
    expect(await db.knex('invoice_leases').where({outlet_id: fx.outlet, device_id: '99999999-9999-9999-9999-999999999999'})).to.have.length(0)
    // An upper-case device id is the same device as its lower-case spelling.
    const upper = await claim(fx.users.owner.token, {
      device_id: 'AAAAAAAA-1111-1111-1111-111111111111',
      outlet_id: fx.outlet.toUpperCase(),
      days: [{date: '2026-04-01', count: 1}],
    })
    expect(upper.statusCode, upper.body).to.equal(200)
    expect(await db.knex('devices').where({id: 'aaaaaaaa-1111-1111-1111-111111111111'}).first('id')).to.not.equal(undefined)
  })

  it('outlet refusals are 422 OUTLET_ACCESS_DENIED (not 403): another tenant, archived, or not assigned; an owner may claim any outlet of the tenant', async () => {
    const foreign = await claim(fx.users.cashier.token, {device_id: DEVICE_1, outlet_id: other.outlet, days: [{date: TODAY, count: 1}]})
    expect(foreign.statusCode).to.equal(422)
    expect(foreign.json()).to.deep.equal({reason_code: 'OUTLET_ACCESS_DENIED', message: 'Outlet not found in tenant scope.'})
    const unassigned = await claim(fx.users.cashier.token, {device_id: DEVICE_1, outlet_id: fx.otherOutlet, days: [{date: TODAY, count: 1}]})
    expect(unassigned.statusCode).to.equal(422)
    expect(unassigned.json()).to.deep.equal({reason_code: 'OUTLET_ACCESS_DENIED', message: 'You do not have access to this outlet.'})
    const owner = await claim(fx.users.owner.token, {device_id: DEVICE_1, outlet_id: fx.otherOutlet, days: [{date: TODAY, count: 1}]})
    expect(owner.statusCode, owner.body).to.equal(200)
    expect(owner.json<ClaimAnswer>().ranges[0]).to.deep.include({from: 1, to: 1})

    const archived = await tenantFixture(db, clock)
    await db.knex('outlets').where({id: archived.outlet}).update({deleted_at: '2026-02-01 00:00:00'})
    const gone = await claim(archived.users.owner.token, {
      device_id: '77777777-7777-7777-7777-777777777777',
      outlet_id: archived.outlet,
      days: [{date: TODAY, count: 1}],
    })
    expect(gone.statusCode).to.equal(422)
    expect(gone.json()).to.deep.equal({reason_code: 'OUTLET_ACCESS_DENIED', message: 'Outlet not found in tenant scope.'})
    expect(await leases(archived.outlet)).to.have.length(0)
  })

  it('a device bound to another tenant is 422 OUTLET_ACCESS_DENIED "Device is bound to another tenant.", and stays bound to its tenant', async () => {
    const res = await claim(other.users.cashier.token, {device_id: DEVICE_1, outlet_id: other.outlet, days: [{date: TODAY, count: 1}]})
    expect(res.statusCode).to.equal(422)
    expect(res.json()).to.deep.equal({reason_code: 'OUTLET_ACCESS_DENIED', message: 'Device is bound to another tenant.'})
    expect(await db.knex('devices').where({id: DEVICE_1}).first('tenant_id')).to.deep.equal({tenant_id: fx.tenant})
    expect(await leases(other.outlet)).to.have.length(0)
  })

  it('counters stop at 9999: a claim past it is cut at 9999, the next is 422 INVOICE_COUNTER_OVERFLOW and a claim with an overflowing day stores no day', async () => {
    const date = '2026-05-05'
    for (let i = 0; i < 4; i++) {
      const res = await claim(fx.users.cashier.token, {device_id: DEVICE_1, outlet_id: fx.outlet, days: [{date, count: 2000}]})
      expect(res.statusCode).to.equal(200)
    }
    const cut = await claim(fx.users.cashier.token, {device_id: DEVICE_2, outlet_id: fx.outlet, days: [{date, count: 2000}]})
    expect(cut.json<ClaimAnswer>().ranges[0]).to.deep.include({from: 8001, to: 9999})
    const before = (await leases(fx.outlet)).length
    const over = await claim(fx.users.cashier.token, {
      device_id: DEVICE_1,
      outlet_id: fx.outlet,
      days: [
        {date: '2026-05-06', count: 1},
        {date, count: 1},
      ],
    })
    expect(over.statusCode).to.equal(422)
    expect(over.json()).to.deep.equal({reason_code: 'INVOICE_COUNTER_OVERFLOW', message: 'Invoice counter exceeded 9999 for this outlet and date.'})
    expect(await leases(fx.outlet)).to.have.length(before)
  })

  it('A-2: 20 parallel claims for one outlet and day, from two processes (each its own pool), get disjoint ranges covering 1..60', async function () {
    this.timeout(120_000)
    const date = '2026-06-01'
    const claim = (i: number) => ({
      method: 'POST' as const,
      url: '/api/invoices/range/claim',
      token: fx.users.cashier.token,
      payload: {device_id: `${String(i).padStart(8, '0')}-0000-0000-0000-000000000000`, outlet_id: fx.outlet, days: [{date, count: 3}]},
    })
    const groups = [Array.from({length: 10}, (_, i) => claim(i)), Array.from({length: 10}, (_, i) => claim(10 + i))]
    const answers = (await raceApi({databaseUrl: ctx.scratch.url, cwd: ctx.scratch.dir, at: clock.now().toISOString()}, groups)).flat()
    for (const res of answers) expect(res.status, JSON.stringify(res.body)).to.equal(200)
    const ranges = answers.map((res) => (res.body as unknown as ClaimAnswer).ranges[0]).sort((a, b) => a.from - b.from)
    expect(ranges.map((r) => [r.from, r.to])).to.deep.equal(Array.from({length: 20}, (_, i) => [3 * i + 1, 3 * i + 3]))
  })
})
