/**
 * What every route shares, through the whole app on both engines: USER_INACTIVE through the API, the
 * X-Request-Id of refusals (401, 403, 422, 429) and its echo into the audit row, NUL characters refused
 * before they reach the database, the client address (IPv4-mapped IPv6, --trust-proxy), and the answer
 * to a request that arrives while the server stops.
 */
import {expect} from 'chai'

import {type ApiInstance, buildApp} from '../../src/api/app.js'
import {fixedClock} from '../../src/core/clock.js'
import {type AppConfig, loadConfig} from '../../src/core/config.js'
import type {Database} from '../../src/core/db/connection.js'
import type {AuditEventRow} from '../../src/core/db/rows.js'
import {parseTrustProxy} from '../../src/core/lifecycle/trust-proxy.js'
import {asUser, type TenantFixture, tenantFixture} from '../helpers/api.js'
import {describeEachEngine} from '../helpers/engines.js'

const clock = fixedClock('2026-03-01T10:00:00Z')

describeEachEngine('api request edges (inject)', {from: 'seeded'}, (ctx) => {
  let db: Database
  let config: AppConfig
  let app: ApiInstance
  let fx: TenantFixture

  before(async () => {
    db = await ctx.scratch.open()
    config = loadConfig({cwd: ctx.scratch.dir, env: {}, databaseUrl: ctx.scratch.url})
    app = await buildApp({db, config, clock})
    fx = await tenantFixture(db, clock)
  })
  after(async () => {
    await app?.close()
  })

  const audits = (key: string) => db.knex<AuditEventRow>('audit_events').where({event_key: key}).orderBy('created_at').select()
  const login = (email: string, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1', extra: Record<string, unknown> = {}) =>
    app.inject({method: 'POST', url: '/api/auth/login', payload: {email, password: 'password', ...extra}, headers, remoteAddress})

  it('an inactive account: 403 USER_INACTIVE through the API, audited AUTH_LOGIN_INACTIVE with the request id it answered with', async () => {
    await db.knex('users').where({id: fx.users.cashier.id}).update({status: 'inactive'})
    try {
      const res = await login(fx.users.cashier.email, {'x-request-id': 'inactive-req-1'})
      expect(res.statusCode, res.body).to.equal(403)
      expect(res.json()).to.deep.equal({reason_code: 'USER_INACTIVE', message: 'Your account is inactive.'})
      expect(res.headers['x-request-id']).to.equal('inactive-req-1')
      const rows = (await audits('AUTH_LOGIN_INACTIVE')).filter((row) => row.user_id === fx.users.cashier.id)
      expect(rows).to.have.length(1)
      expect(rows[0].request_id).to.equal('inactive-req-1')
      expect(rows[0].tenant_id).to.equal(fx.tenant)
      // Upstream: no token is issued, but the account's existing tokens keep working.
      const me = await asUser(app, fx.users.cashier.token)('GET', '/api/me')
      expect(me.statusCode).to.equal(200)
    } finally {
      await db.knex('users').where({id: fx.users.cashier.id}).update({status: 'active'})
    }
  })

  it('X-Request-Id is on 401, 403, 422 and 429 answers, and the failed login row carries it', async () => {
    const unauth = await app.inject({method: 'GET', url: '/api/me', headers: {'x-request-id': 'r-401'}})
    expect([unauth.statusCode, unauth.headers['x-request-id']]).to.deep.equal([401, 'r-401'])
    const denied = await asUser(app, fx.users.worker.token)('GET', `/api/me?outlet_id=${fx.otherOutlet}`, undefined, {'x-request-id': 'r-403'})
    expect([denied.statusCode, denied.headers['x-request-id']]).to.deep.equal([403, 'r-403'])
    const wrong = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: {email: fx.users.admin.email, password: 'wrong'},
      headers: {'x-request-id': 'r-422'},
      remoteAddress: '10.44.0.1',
    })
    expect([wrong.statusCode, wrong.headers['x-request-id']]).to.deep.equal([422, 'r-422'])
    const failed = (await audits('AUTH_LOGIN_FAILED')).filter((row) => row.request_id === 'r-422')
    expect(failed, 'the AUTH_LOGIN_FAILED row of that request').to.have.length(1)
    expect(failed[0].ip_address).to.equal('10.44.0.1')
    let last = wrong
    // The 11th attempt inside the minute for one email and address.
    for (let i = 0; i < 11; i++) {
      last = await app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: {email: 'nobody-429@example.test', password: 'x'},
        headers: {'x-request-id': `r-429-${i}`},
        remoteAddress: '10.44.0.2',
      })
    }
    expect([last.statusCode, last.headers['x-request-id']]).to.deep.equal([429, 'r-429-10'])
  })

  it('a NUL character in any body or query field is a 422 on that field, and nothing is written (PostgreSQL cannot store one)', async () => {
    const rowsOf = async (table: string) => Number((await db.knex(table).count<Array<{n: number | string}>>({n: '*'}))[0].n)
    const count = () => rowsOf('audit_events')
    const tokens = await rowsOf('personal_access_tokens')
    const before = await count()
    const body = await login(fx.users.admin.email, {}, '10.45.0.1', {device_name: 'phone\u0000x'})
    expect(body.statusCode, body.body).to.equal(422)
    expect(body.json()).to.deep.equal({
      message: 'The device name field must not contain NUL characters.',
      errors: {device_name: ['The device name field must not contain NUL characters.']},
    })
    const query = await app.inject({
      method: 'POST',
      url: '/api/auth/login?device_name=a%00b',
      payload: {email: fx.users.admin.email, password: 'password'},
      remoteAddress: '10.45.0.1',
    })
    expect(query.statusCode, query.body).to.equal(422)
    expect(Object.keys(query.json<{errors: object}>().errors)).to.deep.equal(['device_name'])
    const nested = await asUser(app, fx.users.owner.token)('GET', '/api/me?x[y][]=%00')
    // /api/me takes no query schema: the NUL never reaches a statement, and the route answers as usual.
    expect(nested.statusCode).to.equal(200)
    expect(await count()).to.equal(before)
    expect(await rowsOf('personal_access_tokens')).to.equal(tokens)
  })

  it("a JSON body PHP's json_decode refuses (invalid UTF-8, a lone surrogate) is no input; a NUL in a key refuses its field", async () => {
    const owner = fx.users.owner.token
    const orderBody = (notes: string) =>
      `{"outlet_id":"${fx.outlet}","customer":{"name":"Utf","phone":"081299990000"},"items":[{"service_id":"${fx.services.pcs}","qty":1}],"notes":"${notes}"}`
    const post = (payload: string | Buffer) =>
      app.inject({
        method: 'POST',
        url: '/api/orders',
        payload,
        headers: {authorization: `Bearer ${owner}`, accept: 'application/json', 'content-type': 'application/json'},
      })
    const orders = async () => Number((await db.knex('orders').where({tenant_id: fx.tenant}).count<Array<{n: number | string}>>({n: '*'}))[0].n)
    const before = await orders()
    const invalidUtf8 = Buffer.concat([Buffer.from(orderBody('a').slice(0, -3)), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])
    for (const payload of [invalidUtf8, orderBody('\\ud800'), orderBody('x\\udc00y')]) {
      const res = await post(payload)
      expect(res.statusCode, res.body).to.equal(422)
      expect(Object.keys(res.json<{errors: object}>().errors)).to.include.members(['outlet_id', 'customer', 'items'])
    }
    expect(await orders()).to.equal(before)
    // A surrogate pair (an emoji) is well formed: created, stored and answered as sent.
    const emoji = await post(orderBody('\\ud83d\\ude00'))
    expect(emoji.statusCode, emoji.body).to.equal(201)
    expect(emoji.json<{data: {notes: string}}>().data.notes).to.equal('\u{1F600}')
    const nulKey = await asUser(app, owner)('POST', '/api/orders', {
      outlet_id: fx.outlet,
      pickup: {'a\u0000b': 1},
      customer: {name: 'Nul', phone: '081299990001'},
      items: [{service_id: fx.services.pcs, qty: 1}],
    })
    expect(nulKey.statusCode).to.equal(422)
    expect(nulKey.json()).to.deep.equal({
      message: 'The pickup field must not contain NUL characters.',
      errors: {pickup: ['The pickup field must not contain NUL characters.']},
    })
    expect(await orders()).to.equal(before + 1)
  })

  it('an IPv4 client of a dual-stack socket (::ffff:a.b.c.d) is a.b.c.d in the audit row', async () => {
    const res = await login(fx.users.admin.email, {'x-request-id': 'mapped-1'}, '::ffff:10.46.0.7', {password: 'nope'})
    expect(res.statusCode).to.equal(422)
    const [row] = (await audits('AUTH_LOGIN_FAILED')).filter((r) => r.request_id === 'mapped-1')
    expect(row.ip_address).to.equal('10.46.0.7')
  })

  it('X-Forwarded-For names the client only from a trusted proxy (--trust-proxy)', async () => {
    const trusting = await buildApp({db, config, clock, trustProxy: parseTrustProxy('127.0.0.1, 10.0.0.0/8')})
    try {
      const via = (appUnder: ApiInstance, id: string, remoteAddress: string) =>
        appUnder.inject({
          method: 'POST',
          url: '/api/auth/login',
          payload: {email: fx.users.admin.email, password: 'nope'},
          headers: {'x-request-id': id, 'x-forwarded-for': '203.0.113.9'},
          remoteAddress,
        })
      await via(trusting, 'xff-trusted', '10.47.0.1')
      await via(trusting, 'xff-untrusted', '192.0.2.50')
      await via(app, 'xff-default', '10.47.0.1')
      const ips: Record<string, string | null> = Object.fromEntries(
        (await audits('AUTH_LOGIN_FAILED'))
          .filter((r) => r.request_id?.startsWith('xff-'))
          .map((r): [string, string | null] => [String(r.request_id), r.ip_address]),
      )
      expect(ips).to.deep.equal({'xff-trusted': '203.0.113.9', 'xff-untrusted': '192.0.2.50', 'xff-default': '10.47.0.1'})
    } finally {
      await trusting.close()
    }
  })
})

describe('api client address options', () => {
  it('--trust-proxy takes addresses, CIDR ranges and the named ranges, and names a bad entry', () => {
    expect(parseTrustProxy('127.0.0.1,::1, 10.0.0.0/8,fd00::/8,loopback')).to.deep.equal(['127.0.0.1', '::1', '10.0.0.0/8', 'fd00::/8', 'loopback'])
    for (const bad of ['nginx', '10.0.0.0/33', '::1/129', '10.0.0.1/8/2', '', '10.0.0.0/x']) {
      expect(() => parseTrustProxy(bad), bad).to.throw(/--trust-proxy: '.*' is not an address/)
    }
  })
})
