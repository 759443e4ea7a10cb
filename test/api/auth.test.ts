/**
 * The auth routes through the whole app (inject), on both engines: upstream's AuthApiTest (reference §5.1,
 * AUTH-1…6) plus the throttle's Retry-After (issue 10) and logout.
 */
import {expect} from 'chai'

import {type ApiInstance, buildApp} from '../../src/api/app.js'
import {hashPassword} from '../../src/core/auth/password.js'
import {throttleCacheKey} from '../../src/core/auth/throttle.js'
import {fixedClock} from '../../src/core/clock.js'
import {type AppConfig, loadConfig} from '../../src/core/config.js'
import type {Database} from '../../src/core/db/connection.js'
import type {AuditEventRow, CacheRow, PlanRow, RoleRow} from '../../src/core/db/rows.js'
import {uuid7} from '../../src/core/domain/ids.js'
import {describeEachEngine} from '../helpers/engines.js'
import {found} from '../helpers/wa.js'

const NOW = '2026-03-01 10:00:00'

interface Fixture {
  tenant: string
  allowed: string
  blocked: string
  admin: number
}

/** AuthApiTest's fixture: tenant "Tenant Test" (standard), outlets ALW and BLK, admin@example.com (admin) assigned to ALW only. */
async function authFixture(db: Database): Promise<Fixture> {
  const plan = found(await db.knex<PlanRow>('plans').where({key: 'standard'}).first('id'), 'standard plan')
  const role = found(await db.knex<RoleRow>('roles').where({key: 'admin'}).first('id'), 'admin role')
  const tenant = uuid7()
  await db.knex('tenants').insert({id: tenant, name: 'Tenant Test', current_plan_id: plan.id, status: 'active', created_at: NOW, updated_at: NOW})
  const [allowed, blocked] = [uuid7(), uuid7()]
  for (const [id, name, code] of [
    [allowed, 'Outlet Allowed', 'ALW'],
    [blocked, 'Outlet Blocked', 'BLK'],
  ]) {
    await db.knex('outlets').insert({id, tenant_id: tenant, name, code, timezone: 'Asia/Jakarta', created_at: NOW, updated_at: NOW})
  }
  const [{id: admin}]: Array<{id: number}> = await db
    .knex('users')
    .insert({
      name: 'Admin User',
      email: 'admin@example.com',
      password: await hashPassword('password', 4),
      tenant_id: tenant,
      status: 'active',
      created_at: NOW,
      updated_at: NOW,
    })
    .returning('id')
  await db.knex('user_roles').insert({user_id: admin, role_id: role.id, created_at: NOW, updated_at: NOW})
  await db.knex('user_outlets').insert({user_id: admin, outlet_id: allowed, created_at: NOW, updated_at: NOW})
  return {tenant, allowed, blocked, admin: Number(admin)}
}

describeEachEngine('api auth routes (AuthApiTest, inject)', {from: 'seeded'}, (ctx) => {
  let db: Database
  let app: ApiInstance
  let config: AppConfig
  let fx: Fixture

  before(async () => {
    db = await ctx.scratch.open()
    config = loadConfig({cwd: ctx.scratch.dir, env: {}, databaseUrl: ctx.scratch.url})
    app = await buildApp({db, config, clock: fixedClock('2026-03-01T10:00:00Z')})
    fx = await authFixture(db)
  })
  after(async () => {
    await app?.close()
  })

  const loginAs = (email: string, password: string, ip = '127.0.0.1') =>
    app.inject({method: 'POST', url: '/api/auth/login', payload: {email, password, device_name: 'test-device'}, remoteAddress: ip})

  async function token(): Promise<string> {
    const res = await loginAs('admin@example.com', 'password', '10.9.9.9')
    expect(res.statusCode, res.body).to.equal(200)
    return res.json<{access_token: string}>().access_token
  }

  it('AUTH-1: login returns a token and the user context, with X-Request-Id, and audits AUTH_LOGIN_SUCCESS', async () => {
    const res = await loginAs('admin@example.com', 'password', '10.0.0.1')
    expect(res.statusCode, res.body).to.equal(200)
    expect(res.headers['x-request-id']).to.be.a('string').and.not.equal('')
    const body = res.json<{token_type: string; access_token: string; data: {user: {email: string}; plan: {key: string}}}>()
    expect(Object.keys(body)).to.deep.equal(['token_type', 'access_token', 'data'])
    expect(body.token_type).to.equal('Bearer')
    expect(body.access_token).to.match(/^\d+\|[A-Za-z0-9]{40}[0-9a-f]{8}$/)
    expect(body.data.user.email).to.equal('admin@example.com')
    expect(body.data.plan.key).to.equal('standard')
    const audit = await db.knex<AuditEventRow>('audit_events').where({event_key: 'AUTH_LOGIN_SUCCESS', tenant_id: fx.tenant, user_id: fx.admin}).first()
    expect(audit?.channel).to.equal('api')
  })

  it('AUTH-2: GET /api/me without a token (or with a wrong one) is 401 Unauthenticated.', async () => {
    for (const headers of [{}, {authorization: 'Bearer 1|nope'}, {authorization: 'Basic abc'}]) {
      const res = await app.inject({method: 'GET', url: '/api/me', headers})
      expect(res.statusCode).to.equal(401)
      expect(res.json()).to.deep.equal({message: 'Unauthenticated.'})
    }
  })

  it('AUTH-3/4: the outlet scope refuses an unassigned outlet (query or X-Outlet-Id) and allows the assigned one', async () => {
    const authorization = `Bearer ${await token()}`
    for (const request of [
      {url: `/api/me?outlet_id=${fx.blocked}`},
      {url: '/api/me', headers: {'x-outlet-id': fx.blocked}},
      {url: '/api/me?outlet_id=not-a-uuid'},
    ]) {
      const res = await app.inject({method: 'GET', url: request.url, headers: {authorization, ...request.headers}})
      expect(res.statusCode, request.url).to.equal(403)
      expect(res.json()).to.deep.equal({reason_code: 'OUTLET_ACCESS_DENIED', message: 'You do not have access to the requested outlet.'})
    }
    const ok = await app.inject({method: 'GET', url: `/api/me?outlet_id=${fx.allowed.toUpperCase()}`, headers: {authorization}})
    expect(ok.statusCode, ok.body).to.equal(200)
    expect(ok.json<{data: {user: {email: string}}}>().data.user.email).to.equal('admin@example.com')
  })

  it('AUTH-5: the 11th login attempt for one email and IP inside the minute is 429 TOO_MANY_REQUESTS, with Retry-After', async () => {
    for (let i = 1; i <= 10; i++) {
      const res = await loginAs('throttle@example.com', 'wrong-password', '10.5.5.5')
      expect(res.statusCode, `attempt ${i}`).to.equal(422)
      expect(res.headers['x-ratelimit-remaining']).to.equal(String(10 - i))
    }
    const res = await loginAs('throttle@example.com', 'wrong-password', '10.5.5.5')
    expect(res.statusCode).to.equal(429)
    expect(res.json()).to.deep.equal({reason_code: 'TOO_MANY_REQUESTS', message: 'Too many login attempts. Please try again later.'})
    expect(Number(res.headers['retry-after'])).to.be.within(1, 60)
    // Another IP, or the same email in other letters from another IP, has its own budget; the key is lower(email)|IP.
    expect((await loginAs('THROTTLE@example.com', 'wrong-password', '10.5.5.6')).statusCode).to.equal(422)
    expect((await loginAs('THROTTLE@example.com', 'wrong-password', '10.5.5.5')).statusCode).to.equal(429)
  })

  it("AUTH-6: a failed login is 422 on email with upstream's message, and is audited with the user's tenant and id", async () => {
    const res = await loginAs('admin@example.com', 'wrong-password', '10.0.0.6')
    expect(res.statusCode).to.equal(422)
    expect(res.json()).to.deep.equal({message: 'The provided credentials are incorrect.', errors: {email: ['The provided credentials are incorrect.']}})
    const audit = found(
      await db.knex<AuditEventRow>('audit_events').where({event_key: 'AUTH_LOGIN_FAILED'}).orderBy('created_at', 'desc').orderBy('id', 'desc').first(),
      'AUTH_LOGIN_FAILED',
    )
    expect(audit).to.include({tenant_id: fx.tenant, channel: 'api'})
    expect(Number(audit.user_id)).to.equal(fx.admin)
  })

  it('validation: a body that is not JSON or misses fields gets Laravel 422 field errors, never a 5xx', async () => {
    const cases = [
      {payload: '{not json', headers: {'content-type': 'application/json'}},
      {payload: {}, headers: {}},
      {payload: {email: 'not-an-email', password: ['x']}, headers: {}},
      {payload: 'email=a', headers: {'content-type': 'text/plain'}},
    ]
    for (const c of cases) {
      const res = await app.inject({method: 'POST', url: '/api/auth/login', payload: c.payload, headers: c.headers, remoteAddress: '10.7.7.7'})
      expect(res.statusCode, res.body).to.equal(422)
      expect(res.json<{errors: Record<string, string[]>}>().errors).to.have.property('email')
    }
  })

  it("hostile bodies: deep JSON is no input (422, never a 500), a __proto__ key stays a plain key, query and body merge as Laravel's input()", async () => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000)
    for (const payload of [deep, `{"email":${'{"a":'.repeat(600)}1${'}'.repeat(600)}}`]) {
      const res = await app.inject({method: 'POST', url: '/api/auth/login', payload, headers: {'content-type': 'application/json'}, remoteAddress: '10.8.0.1'})
      expect(res.statusCode, res.body.slice(0, 200)).to.equal(422)
    }
    const proto = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: '{"__proto__":{"email":"admin@example.com","password":"password"}}',
      headers: {'content-type': 'application/json'},
      remoteAddress: '10.8.0.2',
    })
    expect(proto.statusCode).to.equal(422)
    expect(Object.keys(proto.json<{errors: Record<string, string[]>}>().errors)).to.include.members(['email', 'password'])
    const query = await app.inject({method: 'POST', url: '/api/auth/login?email=admin@example.com&password=password', remoteAddress: '10.8.0.3'})
    expect(query.statusCode, query.body).to.equal(200)
  })

  it("the throttle key is upstream's strtolower((string) input('email', 'unknown'))|IP, so both servers count on the same cache rows", async () => {
    const keyOf = (key: string) => throttleCacheKey(config.cachePrefix, {limiter: 'auth-login', key})
    const cases: Array<[unknown, string]> = [
      [{password: 'x'}, 'unknown|10.8.1.1'],
      [{email: '', password: 'x'}, '|10.8.1.1'],
      [{email: 123, password: 'x'}, '123|10.8.1.1'],
      [{email: true, password: 'x'}, '1|10.8.1.1'],
      [{email: 'MiXeD@Example.com', password: 'x'}, 'mixed@example.com|10.8.1.1'],
    ]
    for (const [payload, key] of cases) {
      await app.inject({method: 'POST', url: '/api/auth/login', payload: payload as Record<string, unknown>, remoteAddress: '10.8.1.1'})
      expect(
        await db
          .knex<CacheRow>('cache')
          .where({key: keyOf(key)})
          .first('key'),
        key,
      ).to.not.equal(undefined)
    }
  })

  it('an expired token is refused (401), and on SQLite (a text column) so is an expires_at that does not read as a time', async () => {
    const values = ctx.dialect === 'sqlite' ? ['2026-03-01 09:59:59', 'never'] : ['2026-03-01 09:59:59']
    for (const expires of values) {
      const plain = await token()
      const me = () => app.inject({method: 'GET', url: '/api/me', headers: {authorization: `Bearer ${plain}`}})
      expect((await me()).statusCode).to.equal(200)
      await db
        .knex('personal_access_tokens')
        .where({id: Number(plain.split('|')[0])})
        .update({expires_at: expires})
      expect((await me()).statusCode, expires).to.equal(401)
    }
  })

  it('logout revokes the token it came with: the next /api/me with it is 401, another token still works', async () => {
    const [first, second] = [await token(), await token()]
    const out = await app.inject({method: 'POST', url: '/api/auth/logout', headers: {authorization: `Bearer ${first}`}})
    expect(out.statusCode, out.body).to.equal(200)
    expect(out.json()).to.deep.equal({message: 'Logged out successfully.'})
    expect((await app.inject({method: 'GET', url: '/api/me', headers: {authorization: `Bearer ${first}`}})).statusCode).to.equal(401)
    expect((await app.inject({method: 'GET', url: '/api/me', headers: {authorization: `Bearer ${second}`}})).statusCode).to.equal(200)
  })
})
