/**
 * The HTTP skeleton of issue 10 through `app.inject`: the health route, Laravel's error shapes under /api
 * (404, 405, 413, 422, 401, 500), X-Request-Id, input normalisation and the request log. Routes that only
 * exercise the plugins are registered by the test on the app buildApp returns (never production routes).
 */
import {expect} from 'chai'
import type {FastifyInstance} from 'fastify'
import type {ZodTypeProvider} from 'fastify-type-provider-zod'
import {z} from 'zod'

import {type ApiInstance, buildApp, type BuildAppOptions} from '../../src/api/app.js'
import {HttpError, modelNotFound, reasonError} from '../../src/api/plugins/errors.js'
import {MAX_INPUT_VARS, parsePhpQuery} from '../../src/api/plugins/input-normalisation.js'
import {type ApiLogger, type ErrorLogEntry, type RequestLogEntry, streamLogger} from '../../src/api/plugins/request-log.js'
import {validationBody} from '../../src/api/plugins/validation.js'
import {fixedClock} from '../../src/core/clock.js'
import {type AppConfig, loadConfig} from '../../src/core/config.js'
import type {Database} from '../../src/core/db/connection.js'
import {OpsError} from '../../src/core/errors.js'
import {createScratchDatabase, type ScratchDatabase} from '../helpers/engines.js'

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

interface Log extends ApiLogger {
  requests: RequestLogEntry[]
  errors: ErrorLogEntry[]
}

function collectingLogger(): Log {
  const log: Log = {
    requests: [],
    errors: [],
    request: (entry) => log.requests.push(entry),
    error: (entry) => log.errors.push(entry),
    note: () => {},
  }
  return log
}

describe('api app (buildApp, through inject)', () => {
  let scratch: ScratchDatabase
  let db: Database
  let config: AppConfig
  const apps: FastifyInstance[] = []

  before(async () => {
    scratch = await createScratchDatabase('sqlite', {from: 'migrated'})
    db = await scratch.open()
    config = loadConfig({cwd: scratch.dir, env: {APP_NAME: 'Laundry <Ops>'}, databaseUrl: scratch.url})
  })
  after(async () => {
    await scratch?.drop()
  })
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()))
  })

  /** buildApp plus the test's own routes (registered before ready, as a route module would be). */
  async function build(options: Partial<BuildAppOptions> = {}, routes?: (app: ApiInstance) => void) {
    const logger = collectingLogger()
    const app = await buildApp({db, config, clock: fixedClock('2026-03-01T10:00:00Z'), logger, ...options})
    apps.push(app)
    routes?.(app.withTypeProvider<ZodTypeProvider>())
    await app.ready()
    return {app, logger}
  }

  /** An echo of the input after normalisation, and a route with Laravel-like rules. */
  function testRoutes(typed: ApiInstance) {
    const app = typed
    typed.post('/api/test-echo', (request) => ({body: request.body, query: request.query}))
    typed.get('/api/test-echo', (request) => ({query: request.query}))
    typed.post(
      '/api/test-orders',
      {
        schema: {
          body: z.object({
            customer_name: z.string().max(10),
            outlet_id: z.string().regex(/^[0-9a-f-]{36}$/i, 'The :attribute field must be a valid UUID.'),
            status: z.enum(['received', 'washing']),
            qty: z.int().min(1).optional(),
            items: z.array(z.object({service_id: z.string(), weight: z.number().max(100)})).optional(),
          }),
        },
      },
      (request) => ({ok: true, body: request.body}),
    )
    typed.get('/api/test-items/:id', {schema: {params: z.object({id: z.uuid()})}, config: {laravelModel: 'App\\Models\\Order'}}, (request) => ({
      id: request.params.id,
    }))
    typed.post('/api/test-private', {preValidation: app.authenticate, schema: {body: z.object({name: z.string()})}}, (request) => ({
      user: request.user?.id,
    }))
    typed.get('/api/test-boom', () => {
      throw new Error('boom: secret internals at /srv/app.ts')
    })
    typed.get('/api/test-sql', async () => {
      await db.knex.raw('select * from no_such_table where token = ?', ['hunter2'])
      return {}
    })
    typed.get('/api/test-refused', () => {
      throw reasonError(403, 'ROLE_ACCESS_DENIED', 'Your role is not allowed to access this resource.')
    })
    typed.get('/api/test-ops-error', () => {
      throw new OpsError('UNKNOWN_TENANT', 'no such tenant')
    })
    typed.get('/api/test-http-error', () => {
      throw new HttpError(429, {reason_code: 'TOO_MANY_REQUESTS', message: 'Too many login attempts. Please try again later.'}, {'Retry-After': '60'})
    })
  }

  describe('GET /up (Laravel 11+ health route)', () => {
    it('answers 200 with the small HTML "Application up" page, titled APP_NAME (escaped), without a request id', async () => {
      const {app} = await build()
      const res = await app.inject({method: 'GET', url: '/up'})
      expect(res.statusCode).to.equal(200)
      expect(res.headers['content-type']).to.equal('text/html; charset=utf-8')
      expect(res.body).to.match(/^<!DOCTYPE html>/)
      expect(res.body).to.include('<title>Laundry &#60;Ops&#62;</title>')
      expect(res.body).to.include('Application up')
      expect(res.body).to.match(/Response successfully rendered in \d+ms\./)
      expect(res.headers['x-request-id']).to.equal(undefined)
      const head = await app.inject({method: 'HEAD', url: '/up'})
      expect(head.statusCode).to.equal(200)
    })
  })

  describe('routing errors: Laravel 404 and 405 JSON, no X-Request-Id (the /api group never ran)', () => {
    it('an unknown path is 404 "The route <path> could not be found."', async () => {
      const {app} = await build()
      for (const [url, path] of [
        ['/api/nope', 'api/nope'],
        ['/api/nope/?x=1', 'api/nope'],
        ['/elsewhere', 'elsewhere'],
      ]) {
        const res = await app.inject({method: 'POST', url, headers: {'x-request-id': 'abc'}})
        expect(res.statusCode, url).to.equal(404)
        expect(res.json(), url).to.deep.equal({message: `The route ${path} could not be found.`})
        expect(res.headers['content-type']).to.match(/^application\/json/)
        expect(res.headers['x-request-id'], url).to.equal(undefined)
      }
    })

    it('a known path with another method is 405 naming the supported methods in Laravel order, with Allow; OPTIONS answers 200 with Allow', async () => {
      const {app} = await build({}, (typed) => testRoutes(typed))
      const res = await app.inject({method: 'DELETE', url: '/api/test-items/5'})
      expect(res.statusCode).to.equal(405)
      expect(res.json()).to.deep.equal({message: 'The DELETE method is not supported for route api/test-items/5. Supported methods: GET, HEAD.'})
      expect(res.headers.allow).to.equal('GET, HEAD')
      expect(res.headers['x-request-id']).to.equal(undefined)
      const echo = await app.inject({method: 'PUT', url: '/api/test-echo'})
      expect(echo.json()).to.deep.equal({message: 'The PUT method is not supported for route api/test-echo. Supported methods: GET, HEAD, POST.'})
      const options = await app.inject({method: 'OPTIONS', url: '/api/test-echo'})
      expect(options.statusCode).to.equal(200)
      expect(options.headers.allow).to.equal('GET,HEAD,POST')
      expect(options.body).to.equal('')
    })
  })

  describe('X-Request-Id on every answer of a matched /api route', () => {
    it('is a new UUIDv4 without one, echoes a usable one, replaces an unusable one, and is there on errors too', async () => {
      const {app, logger} = await build({}, (typed) => testRoutes(typed))
      const fresh = await app.inject({method: 'GET', url: '/api/test-echo'})
      expect(fresh.headers['x-request-id']).to.match(UUID_V4)
      const echoed = await app.inject({method: 'GET', url: '/api/test-echo', headers: {'x-request-id': 'req-123.abc'}})
      expect(echoed.headers['x-request-id']).to.equal('req-123.abc')
      for (const bad of ['x'.repeat(81), 'two words', '']) {
        const res = await app.inject({method: 'GET', url: '/api/test-echo', headers: {'x-request-id': bad}})
        expect(res.headers['x-request-id'], JSON.stringify(bad)).to.match(UUID_V4)
      }
      const invalid = await app.inject({method: 'POST', url: '/api/test-orders', payload: {}, headers: {'x-request-id': 'r-422'}})
      expect(invalid.statusCode).to.equal(422)
      expect(invalid.headers['x-request-id']).to.equal('r-422')
      const boom = await app.inject({method: 'GET', url: '/api/test-boom', headers: {'x-request-id': 'r-500'}})
      expect(boom.statusCode).to.equal(500)
      expect(boom.headers['x-request-id']).to.equal('r-500')
      expect(logger.requests.map((r) => r.request_id)).to.include.members(['req-123.abc', 'r-422', 'r-500'])
    })
  })

  describe("input normalisation (TrimStrings, ConvertEmptyStringsToNull) and Laravel's body reading", () => {
    it('trims every string and turns empty ones into null, recursively, in the JSON body and the query; password fields are not trimmed', async () => {
      const {app} = await build({}, (typed) => testRoutes(typed))
      const res = await app.inject({
        method: 'POST',
        url: '/api/test-echo?q=%20hi%20&empty=&ids[]=%20a&ids[]=b&f[x][y]=1',
        payload: {
          name: '  Ana \u00a0',
          note: '',
          blank: ' \t ',
          count: 5,
          flag: false,
          nested: {a: ' x ', list: [' y ', '', 3, null], password: ' inner '},
          password: ' secret ',
          password_confirmation: ' secret ',
          current_password: '',
          zw: '\u200bzero\ufeff',
        },
      })
      expect(res.statusCode).to.equal(200)
      expect(res.json()).to.deep.equal({
        body: {
          name: 'Ana',
          note: null,
          blank: null,
          count: 5,
          flag: false,
          nested: {a: 'x', list: ['y', null, 3, null], password: 'inner'},
          password: ' secret ',
          password_confirmation: ' secret ',
          current_password: null,
          zw: 'zero',
        },
        query: {q: 'hi', empty: null, ids: ['a', 'b'], f: {x: {y: '1'}}},
      })
    })

    it('reads invalid JSON, an empty JSON body and a body of another content type as no input (422 field errors, never a 400 or 500)', async () => {
      const {app} = await build({}, (typed) => testRoutes(typed))
      const required = {
        message: 'The customer name field is required. (and 2 more errors)',
        errors: {
          customer_name: ['The customer name field is required.'],
          outlet_id: ['The outlet id field is required.'],
          status: ['The status field is required.'],
        },
      }
      const cases: Array<[string, string | undefined, string]> = [
        ['invalid JSON', 'application/json', '{"customer_name": "Ana",'],
        ['empty JSON body', 'application/json', ''],
        ['JSON null', 'application/json', 'null'],
        ['text/plain', 'text/plain', '{"customer_name":"Ana","outlet_id":"x","status":"received"}'],
        ['multipart', 'multipart/form-data; boundary=x', '--x--'],
        ['no body', undefined, ''],
      ]
      for (const [label, type, payload] of cases) {
        const res = await app.inject({method: 'POST', url: '/api/test-orders', payload, headers: type ? {'content-type': type} : {}})
        expect(res.statusCode, label).to.equal(422)
        expect(res.json(), label).to.deep.equal(required)
      }
      const echo = await app.inject({method: 'POST', url: '/api/test-echo', payload: '[" a ", 2]', headers: {'content-type': 'application/json'}})
      expect(echo.json<{body: unknown}>().body, 'a JSON list is input keyed 0..n').to.deep.equal({'0': 'a', '1': 2})
      const vendor = await app.inject({method: 'POST', url: '/api/test-echo', payload: '{"a":" b "}', headers: {'content-type': 'application/vnd.api+json'}})
      expect(vendor.json<{body: unknown}>().body).to.deep.equal({a: 'b'})
    })

    it('reads a form body as PHP does (brackets nest), normalised', async () => {
      const {app} = await build({}, (typed) => testRoutes(typed))
      const res = await app.inject({
        method: 'POST',
        url: '/api/test-echo',
        payload: 'name=+Ana+&items[0][qty]=2&items[1][qty]=&tags[]=a&tags[]=b',
        headers: {'content-type': 'application/x-www-form-urlencoded'},
      })
      expect(res.json<{body: unknown}>().body).to.deep.equal({name: 'Ana', items: [{qty: '2'}, {qty: null}], tags: ['a', 'b']})
      expect(parsePhpQuery('a=1&a=2&__proto__[x]=1&[]=z')).to.deep.equal({a: '2', ['__proto__']: {x: '1'}})
    })

    it('reads the fields of a multipart body as PHP does (brackets nest, files left out), normalised', async () => {
      const {app} = await build({}, (typed) => testRoutes(typed))
      const part = (disposition: string, value: string, extra = '') => `--B0UND\r\nContent-Disposition: form-data; ${disposition}\r\n${extra}\r\n${value}\r\n`
      const payload =
        'preamble ignored\r\n' +
        part('name="name"', ' Ana ') +
        part('name="items[0][qty]"', '2') +
        part('name="items[1][qty]"', '') +
        part('name="tags[]"', 'a') +
        part('name=tags[]', 'b') +
        part('name="notes"', 'line 1\r\nline 2 ', 'Content-Type: text/plain; charset=utf-8\r\n') +
        part('name="upload"; filename="a.txt"', 'file content', 'Content-Type: text/plain\r\n') +
        '--B0UND--\r\nepilogue ignored'
      const res = await app.inject({method: 'POST', url: '/api/test-echo', payload, headers: {'content-type': 'multipart/form-data; boundary="B0UND"'}})
      expect(res.statusCode, res.body).to.equal(200)
      expect(res.json<{body: unknown}>().body).to.deep.equal({name: 'Ana', items: [{qty: '2'}, {qty: null}], tags: ['a', 'b'], notes: 'line 1\r\nline 2'})
      for (const type of ['multipart/form-data', 'multipart/form-data; boundary=OTHER']) {
        const none = await app.inject({method: 'POST', url: '/api/test-echo', payload, headers: {'content-type': type}})
        expect(none.json<{body: unknown}>().body, type).to.deep.equal({})
      }
    })

    it('splits multipart parts only at a boundary line, as PHP: a boundary string inside a value stays, LF-only bodies read, hostile bodies in linear time', async () => {
      const {app} = await build({}, (typed) => testRoutes(typed))
      const echo = async (payload: string | Buffer, type = 'multipart/form-data; boundary=b') =>
        (await app.inject({method: 'POST', url: '/api/test-echo', payload, headers: {'content-type': type}})).json<{body: unknown}>().body
      expect(await echo('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nx--by\r\n--b--\r\n')).to.deep.equal({a: 'x--by'})
      expect(await echo('--b\nContent-Disposition: form-data; name="a"\n\nline\n--b\nContent-Disposition: form-data; name="c"\n\nz\n--b--\n')).to.deep.equal({
        a: 'line',
        c: 'z',
      })
      // About 6 MB of boundary lines without headers, and of parts with a field each (beyond max_input_vars):
      // a quadratic parser takes hours here (this test's timeout fails it); PHP registers the first 1000 fields.
      expect(await echo(Buffer.from('--b\r\n'.repeat(1_000_000)))).to.deep.equal({})
      const many = Array.from({length: 50_000}, (_, i) => `--b\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\n${i}\r\n`).join('') + '--b--'
      const fields = (await echo(many)) as Record<string, string>
      expect(Object.keys(fields)).to.have.length(1000)
      expect(fields.f999).to.equal('999')
    })

    it('answers a body over the limit with 413 {"message": "The POST data is too large."} (global middleware: no request id)', async () => {
      const {app} = await build({bodyLimit: 1024}, (typed) => testRoutes(typed))
      const big = JSON.stringify({customer_name: 'x'.repeat(2000)})
      for (const type of ['application/json', 'text/plain']) {
        const res = await app.inject({method: 'POST', url: '/api/test-orders', payload: big, headers: {'content-type': type}})
        expect(res.statusCode, type).to.equal(413)
        expect(res.json()).to.deep.equal({message: 'The POST data is too large.'})
        expect(res.headers['x-request-id']).to.equal(undefined)
      }
      const {app: standard} = await build({}, (typed) => testRoutes(typed))
      const justUnder = await standard.inject({method: 'POST', url: '/api/test-echo', payload: {s: 'y'.repeat(1_000_000)}})
      expect(justUnder.statusCode, 'a 1 MB string is within the default 8 MiB').to.equal(200)
      const over = await standard.inject({method: 'POST', url: '/api/test-echo', payload: {s: 'y'.repeat(8 * 1024 * 1024)}})
      expect(over.statusCode).to.equal(413)
    })
  })

  describe("validation failures as Laravel's 422", () => {
    it("uses Laravel's wording per rule, dotted paths for nested fields, and the '(and N more errors)' summary", async () => {
      const {app} = await build({}, (typed) => testRoutes(typed))
      const res = await app.inject({
        method: 'POST',
        url: '/api/test-orders',
        payload: {customer_name: 'x'.repeat(11), outlet_id: 'nope', status: 'lost', qty: 1.5, items: [{weight: 101}, 'x']},
      })
      expect(res.statusCode).to.equal(422)
      expect(res.json()).to.deep.equal({
        message: 'The customer name field must not be greater than 10 characters. (and 6 more errors)',
        errors: {
          customer_name: ['The customer name field must not be greater than 10 characters.'],
          outlet_id: ['The outlet id field must be a valid UUID.'],
          status: ['The selected status is invalid.'],
          qty: ['The qty field must be an integer.'],
          'items.0.service_id': ['The items.0.service id field is required.'],
          'items.0.weight': ['The items.0.weight field must not be greater than 100.'],
          'items.1': ['The items.1 field must be an array.'],
        },
      })
      const one = await app.inject({method: 'POST', url: '/api/test-orders', payload: {customer_name: 'Ana', outlet_id: 'a'.repeat(36), status: 'x'}})
      expect(one.json()).to.deep.equal({message: 'The selected status is invalid.', errors: {status: ['The selected status is invalid.']}})
      expect(
        validationBody([
          {field: 'a', message: 'A.'},
          {field: 'a', message: 'B.'},
        ]).message,
      ).to.equal('A. (and 1 more error)')
      const ok = await app.inject({
        method: 'POST',
        url: '/api/test-orders',
        payload: {customer_name: ' Ana ', outlet_id: 'a'.repeat(36), status: 'washing', qty: 2},
      })
      expect(ok.statusCode).to.equal(200)
      expect(ok.json<{body: {customer_name: string}}>().body.customer_name).to.equal('Ana')
    })

    it('a route parameter that fails its schema is the 404 of a binding miss', async () => {
      const {app} = await build({}, (typed) => testRoutes(typed))
      const res = await app.inject({method: 'GET', url: '/api/test-items/not-a-uuid'})
      expect(res.statusCode).to.equal(404)
      expect(res.json()).to.deep.equal({message: 'No query results for model [App\\Models\\Order] not-a-uuid'})
      expect(modelNotFound('App\\Models\\Order').body).to.deep.equal({message: 'No query results for model [App\\Models\\Order].'})
    })
  })

  describe('authentication slot (app.authenticate)', () => {
    it('answers 401 {"message": "Unauthenticated."} before validation without an authenticator or a user, and passes the user on', async () => {
      const {app} = await build({}, (typed) => testRoutes(typed))
      const denied = await app.inject({method: 'POST', url: '/api/test-private', payload: {}})
      expect(denied.statusCode).to.equal(401)
      expect(denied.json()).to.deep.equal({message: 'Unauthenticated.'})
      expect(denied.headers['x-request-id']).to.match(UUID_V4)

      const {app: withAuth, logger} = await build(
        {authenticator: (request) => Promise.resolve(request.headers.authorization === 'Bearer good' ? {id: 7, tenant_id: null} : null)},
        (typed) => testRoutes(typed),
      )
      const bad = await withAuth.inject({method: 'POST', url: '/api/test-private', payload: {}, headers: {authorization: 'Bearer bad'}})
      expect(bad.statusCode).to.equal(401)
      const invalid = await withAuth.inject({method: 'POST', url: '/api/test-private', payload: {}, headers: {authorization: 'Bearer good'}})
      expect(invalid.statusCode).to.equal(422)
      const ok = await withAuth.inject({method: 'POST', url: '/api/test-private', payload: {name: 'x'}, headers: {authorization: 'Bearer good'}})
      expect(ok.json()).to.deep.equal({user: 7})
      expect(logger.requests.map((r) => r.user_id)).to.deep.equal([null, 7, 7])
    })
  })

  describe('errors a route throws', () => {
    it('an unexpected error is 500 {"message": "Server Error"}: no stack, SQL or value in the answer; the log has the error without the SQL', async () => {
      const {app, logger} = await build({}, (typed) => testRoutes(typed))
      const boom = await app.inject({method: 'GET', url: '/api/test-boom'})
      expect(boom.statusCode).to.equal(500)
      expect(boom.json()).to.deep.equal({message: 'Server Error'})
      expect(logger.errors[0].error.message).to.equal('boom: secret internals at /srv/app.ts')
      expect(logger.errors[0].error.stack).to.equal(undefined)

      const sql = await app.inject({method: 'GET', url: '/api/test-sql'})
      expect(sql.statusCode, 'a missing table is NOT_MIGRATED: 503 in the catalogue').to.equal(503)
      expect(sql.json()).to.deep.equal({message: 'Service Unavailable'})
      const logged = JSON.stringify(logger.errors[1])
      expect(logged).to.include('NOT_MIGRATED')
      expect(logged).not.to.include('hunter2')
      expect(logged).not.to.match(/select \*/i)
    })

    it('reason-code refusals, HttpErrors (headers kept) and OpsErrors below 500 answer as thrown', async () => {
      const {app} = await build({}, (typed) => testRoutes(typed))
      const refused = await app.inject({method: 'GET', url: '/api/test-refused'})
      expect(refused.statusCode).to.equal(403)
      expect(refused.json()).to.deep.equal({reason_code: 'ROLE_ACCESS_DENIED', message: 'Your role is not allowed to access this resource.'})
      const throttled = await app.inject({method: 'GET', url: '/api/test-http-error'})
      expect(throttled.statusCode).to.equal(429)
      expect(throttled.headers['retry-after']).to.equal('60')
      expect(throttled.headers['x-request-id']).to.match(UUID_V4)
      const ops = await app.inject({method: 'GET', url: '/api/test-ops-error'})
      expect(ops.statusCode).to.equal(404)
      expect(ops.json()).to.deep.equal({message: 'no such tenant'})
    })
  })

  describe('request log', () => {
    it('one entry per request: method, path without query, status, ms, request id, user id; never the body or a token', async () => {
      const {app, logger} = await build({}, (typed) => testRoutes(typed))
      await app.inject({
        method: 'POST',
        url: '/api/test-echo?token=abc',
        payload: {password: 'hunter2'},
        headers: {authorization: 'Bearer 1|secret', 'x-request-id': 'r1'},
      })
      await app.inject({method: 'GET', url: '/up'})
      expect(logger.requests).to.have.length(2)
      const [first, second] = logger.requests
      expect(first).to.include({method: 'POST', path: '/api/test-echo', status: 200, request_id: 'r1', user_id: null})
      expect(first.ms).to.be.a('number').and.at.least(0)
      expect(second).to.include({method: 'GET', path: '/up', status: 200, request_id: null})
      const text = JSON.stringify(logger.requests)
      for (const secret of ['hunter2', 'secret', 'abc']) expect(text).not.to.include(secret)
    })

    it('writes JSON lines, or readable lines for a terminal', () => {
      const lines: string[] = []
      const entry: RequestLogEntry = {time: '2026-03-01T10:00:00.000Z', method: 'GET', path: '/api/me', status: 200, ms: 1.25, request_id: 'r1', user_id: 5}
      streamLogger({write: (line) => lines.push(line)}).request(entry)
      streamLogger({write: (line) => lines.push(line), human: true}).request(entry)
      expect(JSON.parse(lines[0])).to.deep.equal({level: 'info', ...entry})
      expect(lines[1]).to.equal('2026-03-01 10:00:00 GET /api/me 200 1.3 ms id=r1 user=5\n')
    })
  })
})

describe('input parsing as PHP bounds it (parsePhpQuery)', () => {
  it('keeps the first max_input_vars (1000) variables, appends a[] after the largest integer key, drops variables nested deeper than 64, and keeps __proto__ a plain key', () => {
    const many = Array.from({length: 5000}, (_, i) => `a[]=${i}`).join('&')
    const parsed = parsePhpQuery(many) as {a: string[]}
    expect(parsed.a).to.have.length(MAX_INPUT_VARS)
    expect(parsed.a[999]).to.equal('999')
    expect(parsePhpQuery('a[5]=x&a[]=y&a[2]=z&a[]=w')).to.deep.equal({a: {'5': 'x', '6': 'y', '2': 'z', '7': 'w'}})
    expect(parsePhpQuery(`b${'[x]'.repeat(64)}=kept&c${'[x]'.repeat(65)}=dropped`)).to.have.all.keys('b')
    const proto = parsePhpQuery('__proto__[email]=x')
    expect(Object.keys(proto)).to.deep.equal(['__proto__'])
    expect((proto as {email?: unknown}).email).to.equal(undefined)
  })
})
