/**
 * Bad input over every write route (issue 10, "Must hold"), on both engines: invalid JSON, wrong content
 * types, missing fields, extra fields with a missing one, wrong types, 1 MB strings in bounded fields,
 * 10,000-element arrays, negative and huge money, unknown enum values, malformed UUIDs in body and path,
 * SQL- and script-looking strings, NUL characters. Every case is invalid for upstream too (a 1 MB value
 * goes only into a field with a max, or beside an invalid one). Every answer is a 4xx with a JSON body,
 * and no row of any table changes (a checksum of every table the database lists, before and after each
 * case; only the throttle counters in `cache` on the throttled routes and the tokens' last_used_at /
 * updated_at change by design). The write routes are read from the app: one without cases fails.
 */
import {expect} from 'chai'
import type {LightMyRequestResponse, RouteOptions} from 'fastify'

import {type ApiInstance, buildApp} from '../../src/api/app.js'
import {fixedClock} from '../../src/core/clock.js'
import {type AppConfig, loadConfig} from '../../src/core/config.js'
import type {Database} from '../../src/core/db/connection.js'
import type {RoleKey} from '../../src/core/access/roles.js'
import {tenantFixture, type TenantFixture} from '../helpers/api.js'
import {databaseChecksums} from '../helpers/db-checksum.js'
import {describeEachEngine} from '../helpers/engines.js'

const NOW = '2026-03-01T10:00:00Z'
const TODAY = '2026-03-01'
const DEVICE = 'dddddddd-0000-4000-8000-00000000000d'
const MB = 'x'.repeat(1024 * 1024)
const SQL = "' OR 1=1 --"
const SCRIPT = '<script>alert(1)</script>'
const NUL = 'nul\u0000byte'
const BAD_UUIDS = ['not-a-uuid', '12345678-1234-1234-1234-12345678901', `${SQL}`, '{00000000-0000-0000-0000-000000000000}']
const BAD_MONEY: unknown[] = [-1, 1e30, 2 ** 63, '12abc']
/** The JSON text of 2**63 as a client would send it (JSON.stringify gives 9223372036854776000). */
const TWO_POW_63 = '9223372036854775808'
/** Writes the routes declare that no JSON body can express (a raw number in the JSON text). */
const RAW = Symbol('raw')

type Json = Record<string, unknown>

interface World {
  fx: TenantFixture
  order: string
  pickupOrder: string
}

type Actor = RoleKey | 'none' | 'bad-token'

interface Case {
  name: string
  as?: Actor
  /** Path (default: the route's own, its parameters filled). */
  url?: string
  /** An object is sent as JSON; a string as it is, with `contentType`. */
  payload?: unknown
  contentType?: string
  headers?: Record<string, string>
  /** The expected status (default 422). */
  status?: number
  /** A token for `bad-token`. */
  token?: string
}

interface RouteCases {
  route: string
  /** The route's path with its parameters filled. */
  url: (w: World) => string
  /** A valid body, never sent as it is: each case breaks it. */
  valid: (w: World) => Json
  as: Actor
  cases: (w: World, valid: Json) => Case[]
}

/** A deep copy of `body` with `path` (dotted) set to `value`, or removed when `value` is undefined. */
function change(body: Json, path: string, value?: unknown): Json {
  const copy = structuredClone(body)
  const parts = path.split('.')
  let node: Record<string, unknown> = copy
  for (const part of parts.slice(0, -1)) node = node[part] as Record<string, unknown>
  const last = parts.at(-1) as string
  if (value === undefined) delete node[last]
  else node[last] = value
  return copy
}

/** Several changes at once. */
function changes(body: Json, entries: Array<[string, unknown?]>): Json {
  return entries.reduce((out, [path, value]) => change(out, path, value), body)
}

/** The cases every route with a body shares: a body that is not JSON, wrong content types, extra fields with a missing one. */
function transportCases(valid: Json, required: string): Case[] {
  return [
    {name: 'invalid JSON', payload: '{"outlet_id": "x", ', contentType: 'application/json'},
    {name: 'JSON that is a bare string', payload: '"just a string"', contentType: 'application/json'},
    {name: 'text/plain carrying the valid JSON', payload: JSON.stringify(valid), contentType: 'text/plain'},
    {
      name: 'multipart carrying the valid JSON in one part',
      payload: `--XBOUNDARY\r\nContent-Disposition: form-data; name="json"\r\n\r\n${JSON.stringify(valid)}\r\n--XBOUNDARY--\r\n`,
      contentType: 'multipart/form-data; boundary=XBOUNDARY',
    },
    {
      name: `extra fields with ${required} missing`,
      payload: {
        ...change(valid, required),
        id: 1,
        tenant_id: '00000000-0000-0000-0000-000000000000',
        is_admin: true,
        created_at: '2000-01-01',
        deleted_at: null,
      },
    },
    {name: `${required} holds a NUL character beside a missing field`, payload: change(change(valid, required, NUL), nextRequired(valid, required))},
    {name: `${required} holds a SQL-looking string beside a missing field`, payload: change(change(valid, required, SQL), nextRequired(valid, required))},
    {name: `${required} holds a script tag beside a missing field`, payload: change(change(valid, required, SCRIPT), nextRequired(valid, required))},
  ]
}

/** Another top-level key of the body than `key` (to break alongside it). */
function nextRequired(valid: Json, key: string): string {
  return Object.keys(valid).find((other) => other !== key && !key.startsWith(`${other}.`)) ?? key
}

/** Each listed field missing, one at a time. */
const missing = (valid: Json, fields: string[]): Case[] => fields.map((field) => ({name: `${field} missing`, payload: change(valid, field)}))

/** Each value at `field`, one case each. */
const values = (valid: Json, field: string, list: unknown[], what: string): Case[] =>
  list.map((value) => ({name: `${field} = ${what} ${describe(value)}`, payload: change(valid, field, value)}))

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 40 ? `string(${value.length})` : JSON.stringify(value)
  if (Array.isArray(value)) return `array(${value.length})`
  return JSON.stringify(value) ?? String(value)
}

const WRONG_FOR_STRING: unknown[] = [['a'], {a: 1}, true, 12345]
const WRONG_FOR_NUMBER: unknown[] = [['1'], {a: 1}, true, 'abc']
/**
 * Not integers to Laravel's `integer` rule (PHP's FILTER_VALIDATE_INT): `false` and leading zeros fail; `true`
 * is not here because PHP reads it as 1 and the rule passes it (laravel/framework#41884, "expected behaviour").
 */
const WRONG_FOR_INTEGER: unknown[] = [['1'], {a: 1}, false, 'abc', '007']

/** A JSON text for `body` with 2**63 written out exactly at `field` (top level). */
function withTwoPow63(body: Json, field: string): string {
  return JSON.stringify({...body, [field]: RAW}, (_key, value: unknown) => (value === RAW ? TWO_POW_63 : value)).replace(`"${TWO_POW_63}"`, TWO_POW_63)
}

const ROUTES: RouteCases[] = [
  {
    route: 'POST /api/auth/login',
    url: () => '/api/auth/login',
    as: 'none',
    valid: (w) => ({email: w.fx.users.cashier.email, password: 'password', device_name: 'phone'}),
    cases: (_w, v) => [
      ...transportCases(v, 'email'),
      ...missing(v, ['email', 'password']),
      ...values(v, 'email', ['not-an-email', SQL, SCRIPT, ...WRONG_FOR_STRING], 'invalid'),
      // The email rule has no max: a long address only beside another invalid field.
      {name: 'email 1 MB beside password missing', payload: changes(v, [['email', `${MB}@example.test`], ['password']])},
      ...values(v, 'password', [['password'], {p: 1}, 12345678], 'not a string'),
      {name: 'device_name 1 MB (max 100)', payload: change(v, 'device_name', MB)},
      {
        name: 'device_name an array of 10,000',
        payload: change(
          v,
          'device_name',
          Array.from({length: 10_000}, () => 'x'),
        ),
      },
      {name: 'email NUL', payload: change(v, 'email', `a${NUL}@example.test`)},
    ],
  },
  {
    route: 'POST /api/auth/logout',
    url: () => '/api/auth/logout',
    as: 'bad-token',
    // Logout reads no input: every body is valid for it, so the bad input is the credential.
    valid: () => ({}),
    cases: (w) => [
      {name: 'invalid JSON and no token', as: 'none', payload: '{"x": ', contentType: 'application/json', status: 401},
      {name: 'a SQL-looking token', token: SQL, status: 401},
      {name: 'a script token', token: SCRIPT, status: 401},
      {name: 'a token with a SQL-looking id', token: `1 OR 1=1|${'a'.repeat(40)}`, status: 401},
      {name: 'a 10,000-character token', token: `${w.fx.users.owner.token.split('|')[0]}|${'a'.repeat(10_000)}`, status: 401},
      {name: "a token's id with another secret", token: `${w.fx.users.owner.token.split('|')[0]}|${'b'.repeat(48)}`, status: 401},
      {
        name: 'a multipart body and a malformed token',
        token: '|',
        payload: '--B\r\n\r\n--B--\r\n',
        contentType: 'multipart/form-data; boundary=B',
        status: 401,
      },
    ],
  },
  {
    route: 'POST /api/orders',
    url: () => '/api/orders',
    as: 'owner',
    valid: (w) => ({
      outlet_id: w.fx.outlet,
      order_code: 'BAD-INPUT-1',
      invoice_no: 'INV-BAD-1',
      is_pickup_delivery: false,
      shipping_fee_amount: 1000,
      discount_amount: 0,
      notes: 'n',
      customer: {name: 'Bad Input', phone: '081234500000', notes: null},
      items: [{service_id: w.fx.services.kg, weight_kg: 2}],
    }),
    cases: (w, v) => [
      ...transportCases(v, 'customer'),
      ...missing(v, ['outlet_id', 'customer', 'customer.name', 'customer.phone', 'items']),
      {name: 'items empty', payload: change(v, 'items', [])},
      {name: 'items not a list', payload: change(v, 'items', 'abc')},
      ...values(v, 'customer.name', WRONG_FOR_STRING, 'wrong type'),
      ...values(v, 'customer.phone', WRONG_FOR_STRING.slice(0, 3), 'wrong type'),
      ...values(v, 'customer', ['a string', 12, true], 'not an object'),
      ...values(v, 'order_code', [['a'], {a: 1}], 'wrong type'),
      {name: 'customer.name 1 MB (max 150)', payload: change(v, 'customer.name', MB)},
      {name: 'customer.phone 1 MB (max 30)', payload: change(v, 'customer.phone', MB)},
      {name: 'order_code 1 MB (max 32)', payload: change(v, 'order_code', MB)},
      {name: 'invoice_no 1 MB (max 50)', payload: change(v, 'invoice_no', MB)},
      {
        name: 'notes 1 MB beside order_code 1 MB',
        payload: changes(v, [
          ['notes', MB],
          ['order_code', MB],
        ]),
      },
      {
        name: '10,000 items with malformed service ids',
        payload: change(
          v,
          'items',
          Array.from({length: 10_000}, () => ({service_id: 'nope', weight_kg: 1})),
        ),
      },
      {
        name: 'customer.name an array of 10,000',
        payload: change(
          v,
          'customer.name',
          Array.from({length: 10_000}, (_, i) => i),
        ),
      },
      ...values(v, 'shipping_fee_amount', BAD_MONEY, 'money'),
      ...values(v, 'discount_amount', BAD_MONEY, 'money'),
      {name: 'shipping_fee_amount = 2**63 written exactly', payload: withTwoPow63(v, 'shipping_fee_amount'), contentType: 'application/json'},
      ...values(v, 'shipping_fee_amount', [1.5, ...WRONG_FOR_INTEGER], 'not an integer'),
      ...values(v, 'is_pickup_delivery', ['true', 'yes', 2, ['1']], 'not a boolean'),
      ...values(v, 'pickup', ['a string', 12], 'not an array'),
      {name: 'items.0.weight_kg negative', payload: change(v, 'items', [{service_id: w.fx.services.kg, weight_kg: -1}])},
      {name: "items.0.weight_kg '12abc'", payload: change(v, 'items', [{service_id: w.fx.services.kg, weight_kg: '12abc'}])},
      {name: 'items.0.qty 0', payload: change(v, 'items', [{service_id: w.fx.services.pcs, qty: 0}])},
      ...WRONG_FOR_NUMBER.map((qty) => ({name: `items.0.qty ${JSON.stringify(qty)}`, payload: change(v, 'items', [{service_id: w.fx.services.pcs, qty}])})),
      {
        name: 'items.0.weight_kg 1e30 (a kg service, no weight limit upstream) beside a malformed item',
        payload: change(v, 'items', [{service_id: w.fx.services.kg, weight_kg: 1e30}, {service_id: 'x'}]),
      },
      ...BAD_UUIDS.map((bad): Case => ({name: `outlet_id malformed ${describe(bad)}`, payload: change(v, 'outlet_id', bad), status: 403})),
      ...BAD_UUIDS.map((bad): Case => ({
        name: `items.0.service_id malformed ${describe(bad)}`,
        payload: change(v, 'items', [{service_id: bad, weight_kg: 1}]),
      })),
      {name: 'outlet_id an array', payload: change(v, 'outlet_id', [w.fx.outlet])},
      {name: 'an unknown service id (well-formed)', payload: change(v, 'items', [{service_id: '01234567-89ab-cdef-0123-456789abcdef', weight_kg: 1}])},
      {name: 'customer.phone SQL-looking (invalid phone)', payload: change(v, 'customer.phone', SQL)},
      {name: 'customer.phone a script (invalid phone)', payload: change(v, 'customer.phone', SCRIPT)},
      {name: 'customer.name with a NUL character', payload: change(v, 'customer.name', NUL)},
      {name: 'a kg item without weight', payload: change(v, 'items', [{service_id: w.fx.services.kg}])},
    ],
  },
  {
    route: 'POST /api/orders/:order/payments',
    url: (w) => `/api/orders/${w.order}/payments`,
    as: 'cashier',
    valid: () => ({amount: 1000, method: 'cash', paid_at: '2026-03-01 09:00:00', notes: 'ok'}),
    cases: (w, v) => [
      ...transportCases(v, 'amount'),
      ...missing(v, ['amount', 'method']),
      ...values(v, 'amount', [...BAD_MONEY, 0, 1.5, ...WRONG_FOR_INTEGER], 'invalid'),
      {name: 'amount = 2**63 written exactly', payload: withTwoPow63(v, 'amount'), contentType: 'application/json'},
      ...values(v, 'method', WRONG_FOR_STRING, 'wrong type'),
      {name: 'method 1 MB (max 30)', payload: change(v, 'method', MB)},
      {
        name: 'notes 1 MB beside amount -1',
        payload: changes(v, [
          ['notes', MB],
          ['amount', -1],
        ]),
      },
      {
        name: 'method an array of 10,000',
        payload: change(
          v,
          'method',
          Array.from({length: 10_000}, () => 'cash'),
        ),
      },
      ...values(v, 'paid_at', ['not a date', SQL, '2026-13-45', ['2026-03-01']], 'not a date'),
      {
        name: 'method SQL-looking beside amount 0',
        payload: changes(v, [
          ['method', SQL],
          ['amount', 0],
        ]),
      },
      {name: 'notes a script beside amount missing', payload: changes(v, [['notes', SCRIPT], ['amount']])},
      {name: 'method NUL', payload: change(v, 'method', NUL)},
      ...BAD_UUIDS.map((bad): Case => ({
        name: `path order malformed ${describe(bad)}`,
        url: `/api/orders/${encodeURIComponent(bad)}/payments`,
        payload: v,
        status: 404,
      })),
      {name: 'path order unknown (well-formed)', url: '/api/orders/01234567-89ab-cdef-0123-456789abcdef/payments', payload: v, status: 404},
      {name: 'path order of 10,000 characters', url: `/api/orders/${'a'.repeat(10_000)}/payments`, payload: v, status: 404},
    ],
  },
  {
    route: 'POST /api/orders/:order/status/laundry',
    url: (w) => `/api/orders/${w.order}/status/laundry`,
    as: 'worker',
    valid: () => ({status: 'washing'}),
    cases: (_w, v) => [
      ...transportCases({...v, x: 1}, 'status').filter((c) => !c.name.includes('beside')),
      ...missing(v, ['status']),
      ...values(v, 'status', [...WRONG_FOR_STRING, Array.from({length: 10_000}, () => 'washing')], 'wrong type'),
      {name: 'status 1 MB (max 32)', payload: change(v, 'status', MB)},
      // The current status (received) is an accepted no-op upstream: not a bad case.
      ...values(v, 'status', ['exploded', 'WASHING_NOW', SQL, SCRIPT, 'completed'], 'unknown or skipping'),
      {name: 'status NUL', payload: change(v, 'status', NUL)},
      ...BAD_UUIDS.map((bad): Case => ({
        name: `path order malformed ${describe(bad)}`,
        url: `/api/orders/${encodeURIComponent(bad)}/status/laundry`,
        payload: v,
        status: 404,
      })),
    ],
  },
  {
    route: 'POST /api/orders/:order/status/courier',
    url: (w) => `/api/orders/${w.pickupOrder}/status/courier`,
    as: 'courier',
    valid: () => ({status: 'pickup_on_the_way'}),
    cases: (w, v) => [
      ...transportCases({...v, x: 1}, 'status').filter((c) => !c.name.includes('beside')),
      ...missing(v, ['status']),
      ...values(v, 'status', [...WRONG_FOR_STRING, Array.from({length: 10_000}, () => 'x')], 'wrong type'),
      {name: 'status 1 MB (max 32)', payload: change(v, 'status', MB)},
      ...values(v, 'status', ['teleported', SQL, SCRIPT, 'delivered', 'delivery_pending'], 'unknown or skipping'),
      {name: 'status NUL', payload: change(v, 'status', NUL)},
      {name: 'a walk-in order (no courier status upstream)', url: `/api/orders/${w.order}/status/courier`, payload: v},
      ...BAD_UUIDS.map((bad): Case => ({
        name: `path order malformed ${describe(bad)}`,
        url: `/api/orders/${encodeURIComponent(bad)}/status/courier`,
        payload: v,
        status: 404,
      })),
    ],
  },
  {
    route: 'POST /api/orders/:order/assign-courier',
    url: (w) => `/api/orders/${w.pickupOrder}/assign-courier`,
    as: 'admin',
    valid: (w) => ({courier_user_id: w.fx.users.courier.id}),
    cases: (w, v) => [
      ...transportCases({...v, x: 1}, 'courier_user_id').filter((c) => !c.name.includes('beside')),
      ...missing(v, ['courier_user_id']),
      ...values(v, 'courier_user_id', [...WRONG_FOR_INTEGER, 1.5, '12abc', 1e30, Array.from({length: 10_000}, () => 1)], 'not an integer'),
      {name: 'courier_user_id = 2**63 written exactly', payload: withTwoPow63(v, 'courier_user_id'), contentType: 'application/json'},
      ...values(v, 'courier_user_id', [-1, 0, w.fx.users.cashier.id, 999_999_999], 'not a courier'),
      ...values(v, 'courier_user_id', [SQL, SCRIPT, NUL, MB], 'string'),
      {name: 'a walk-in order (no courier upstream)', url: `/api/orders/${w.order}/assign-courier`, payload: v},
      ...BAD_UUIDS.map((bad): Case => ({
        name: `path order malformed ${describe(bad)}`,
        url: `/api/orders/${encodeURIComponent(bad)}/assign-courier`,
        payload: v,
        status: 404,
      })),
    ],
  },
  {
    route: 'PATCH /api/orders/:order/schedule',
    url: (w) => `/api/orders/${w.order}/schedule`,
    as: 'owner',
    // Every field is nullable: an empty or unreadable body is a valid (no-op) update upstream, so each case
    // carries an invalid field.
    valid: () => ({shipping_fee_amount: 2000, pickup: {address: 'Jl. Satu'}, delivery: {address: 'Jl. Dua'}, notes: 'ok'}),
    cases: (_w, v) => [
      ...values(v, 'shipping_fee_amount', [...BAD_MONEY, 1.5, ...WRONG_FOR_INTEGER], 'invalid'),
      {name: 'shipping_fee_amount = 2**63 written exactly', payload: withTwoPow63(v, 'shipping_fee_amount'), contentType: 'application/json'},
      ...values(v, 'pickup', ['a string', 12, true], 'not an array'),
      ...values(v, 'delivery', ['a string', 12], 'not an array'),
      ...values(v, 'notes', [['a'], {a: 1}, Array.from({length: 10_000}, () => 'n')], 'not a string'),
      {
        name: 'extra fields beside shipping_fee_amount -1',
        payload: {...change(v, 'shipping_fee_amount', -1), total_amount: 1, paid_amount: 999, tenant_id: 'x', id: 'y'},
      },
      {
        name: 'notes 1 MB beside shipping_fee_amount -1',
        payload: changes(v, [
          ['notes', MB],
          ['shipping_fee_amount', -1],
        ]),
      },
      {
        name: 'notes SQL-looking beside shipping_fee_amount abc',
        payload: changes(v, [
          ['notes', SQL],
          ['shipping_fee_amount', 'abc'],
        ]),
      },
      {
        name: 'notes a script beside pickup a string',
        payload: changes(v, [
          ['notes', SCRIPT],
          ['pickup', 'x'],
        ]),
      },
      {
        name: 'notes NUL beside shipping_fee_amount -1',
        payload: changes(v, [
          ['notes', NUL],
          ['shipping_fee_amount', -1],
        ]),
      },
      ...BAD_UUIDS.map((bad): Case => ({
        name: `path order malformed ${describe(bad)}`,
        url: `/api/orders/${encodeURIComponent(bad)}/schedule`,
        payload: v,
        status: 404,
      })),
    ],
  },
  {
    route: 'POST /api/sync/push',
    url: () => '/api/sync/push',
    as: 'cashier',
    valid: (w) => ({
      device_id: DEVICE,
      last_known_server_cursor: 0,
      mutations: [
        {
          mutation_id: 'bad-input-1',
          seq: 1,
          type: 'ORDER_CREATE',
          outlet_id: w.fx.outlet,
          entity: {entity_type: 'order', entity_id: 'c-1'},
          client_time: `${TODAY}T09:00:00Z`,
          payload: {customer: {name: 'Bad', phone: '081234500000'}, items: [{service_id: w.fx.services.pcs, qty: 1}]},
        },
      ],
    }),
    cases: (w, v) => {
      const m = (v.mutations as Json[])[0]
      const mutation = (field: string, value?: unknown) => change(v, 'mutations', [change(m, field, value)])
      return [
        ...transportCases(v, 'device_id'),
        ...missing(v, ['device_id', 'mutations']),
        {name: 'mutations empty', payload: change(v, 'mutations', [])},
        ...values(v, 'mutations', ['abc', 12, true], 'not a list'),
        ...['mutation_id', 'type'].map((field): Case => ({name: `mutations.0.${field} missing`, payload: mutation(field)})),
        ...BAD_UUIDS.map((bad): Case => ({name: `device_id malformed ${describe(bad)}`, payload: change(v, 'device_id', bad)})),
        ...BAD_UUIDS.map((bad): Case => ({name: `mutations.0.outlet_id malformed ${describe(bad)}`, payload: mutation('outlet_id', bad)})),
        ...values(v, 'device_id', WRONG_FOR_STRING, 'wrong type'),
        {name: 'mutations.0.mutation_id 1 MB (max 64)', payload: mutation('mutation_id', MB)},
        {name: 'mutations.0.type 1 MB (max 60)', payload: mutation('type', MB)},
        {name: 'mutations.0.entity.entity_id 1 MB (max 80)', payload: mutation('entity', {entity_type: 'order', entity_id: MB})},
        ...values(m, 'mutation_id', WRONG_FOR_STRING, 'wrong type').map((c) => ({
          ...c,
          name: `mutations.0.${c.name}`,
          payload: change(v, 'mutations', [c.payload]),
        })),
        {name: 'mutations.0.seq -1', payload: mutation('seq', -1)},
        {name: "mutations.0.seq '12abc'", payload: mutation('seq', '12abc')},
        ...values(v, 'last_known_server_cursor', [-1, '12abc', 1.5, ['1']], 'invalid'),
        {name: 'mutations.0.client_time not a date', payload: mutation('client_time', 'yesterday-ish')},
        {name: 'mutations.0.payload a string', payload: mutation('payload', 'abc')},
        {name: 'mutations.0.entity a string', payload: mutation('entity', 'abc')},
        {
          name: '10,000 mutations without mutation_id',
          payload: change(
            v,
            'mutations',
            Array.from({length: 10_000}, () => ({type: 'ORDER_CREATE'})),
          ),
        },
        {name: 'mutations.0.mutation_id SQL-looking beside device_id missing', payload: changes(mutation('mutation_id', SQL), [['device_id']])},
        {name: 'mutations.0.type a script beside device_id malformed', payload: changes(mutation('type', SCRIPT), [['device_id', 'x']])},
        {name: 'mutations.0.mutation_id NUL', payload: mutation('mutation_id', NUL)},
        {name: 'device_id NUL', payload: change(v, 'device_id', `${DEVICE}${NUL}`)},
        {name: 'the outlet in the payload names no outlet (malformed uuid) at request level', payload: mutation('outlet_id', w.fx.outlet.slice(1))},
      ]
    },
  },
  {
    route: 'POST /api/sync/pull',
    url: () => '/api/sync/pull',
    as: 'owner',
    valid: (w) => ({device_id: DEVICE, cursor: 0, scope: {mode: 'selected_outlet', outlet_id: w.fx.outlet}, limit: 10}),
    cases: (_w, v) => [
      ...transportCases(v, 'device_id'),
      ...missing(v, ['device_id', 'scope', 'scope.mode', 'scope.outlet_id']),
      ...values(v, 'scope.mode', ['everything', 'ALL_OUTLETS', SQL, SCRIPT, ['all_outlets'], 1], 'unknown'),
      ...values(v, 'scope', ['all_outlets', 1, true], 'not an object'),
      ...BAD_UUIDS.map((bad): Case => ({name: `device_id malformed ${describe(bad)}`, payload: change(v, 'device_id', bad)})),
      ...BAD_UUIDS.map((bad): Case => ({name: `scope.outlet_id malformed ${describe(bad)}`, payload: change(v, 'scope.outlet_id', bad)})),
      ...values(v, 'cursor', [-1, '12abc', 1.5, ['0'], 1e30], 'invalid'),
      {name: 'cursor = 2**63 written exactly', payload: withTwoPow63(v, 'cursor'), contentType: 'application/json'},
      ...values(v, 'limit', [0, 501, -1, '12abc', 1e30], 'out of range'),
      ...values(v, 'device_id', [...WRONG_FOR_STRING, MB, Array.from({length: 10_000}, () => DEVICE)], 'wrong type'),
      {name: 'device_id NUL', payload: change(v, 'device_id', NUL)},
    ],
  },
  {
    route: 'POST /api/invoices/range/claim',
    url: () => '/api/invoices/range/claim',
    as: 'cashier',
    valid: (w) => ({device_id: DEVICE, outlet_id: w.fx.outlet, days: [{date: TODAY, count: 5}]}),
    cases: (_w, v) => [
      ...transportCases(v, 'device_id'),
      ...missing(v, ['device_id', 'outlet_id', 'days']),
      {name: 'days empty', payload: change(v, 'days', [])},
      ...values(v, 'days', ['abc', 12, true], 'not a list'),
      ...[-1, 0, 2001, 1e30, '12abc', 1.5, ['1']].map((count): Case => ({
        name: `days.0.count ${describe(count)}`,
        payload: change(v, 'days', [{date: TODAY, count}]),
      })),
      {name: 'days.0.count = 2**63 written exactly', payload: JSON.stringify(v).replace('"count":5', `"count":${TWO_POW_63}`), contentType: 'application/json'},
      ...['2026-13-45', '01-03-2026', '2026-03-01T00:00:00Z', SQL, SCRIPT, NUL, MB].map((date): Case => ({
        name: `days.0.date ${describe(date)}`,
        payload: change(v, 'days', [{date, count: 1}]),
      })),
      {name: 'days.0 missing both fields', payload: change(v, 'days', [{}])},
      {
        name: '10,000 days with count 0',
        payload: change(
          v,
          'days',
          Array.from({length: 10_000}, () => ({date: TODAY, count: 0})),
        ),
      },
      ...BAD_UUIDS.map((bad): Case => ({name: `device_id malformed ${describe(bad)}`, payload: change(v, 'device_id', bad)})),
      ...BAD_UUIDS.map((bad): Case => ({name: `outlet_id malformed ${describe(bad)}`, payload: change(v, 'outlet_id', bad)})),
      ...values(v, 'outlet_id', [...WRONG_FOR_STRING, MB], 'wrong type'),
    ],
  },
  {
    route: 'POST /api/wa/provider-config',
    url: () => '/api/wa/provider-config',
    as: 'admin',
    valid: () => ({provider_key: 'mock', credentials: {token: 't'}, is_active: true}),
    cases: (_w, v) => [
      ...transportCases(v, 'provider_key'),
      ...missing(v, ['provider_key']),
      ...values(v, 'provider_key', [...WRONG_FOR_STRING, MB, Array.from({length: 10_000}, () => 'mock')], 'wrong type or too long (max 40)'),
      ...values(v, 'provider_key', ['nope', SQL, SCRIPT, 'mock-x'], 'unknown provider'),
      ...values(v, 'credentials', ['abc', 12, true], 'not an array'),
      ...values(v, 'is_active', ['true', 'yes', 2, ['1']], 'not a boolean'),
      {name: 'provider_key NUL', payload: change(v, 'provider_key', NUL)},
    ],
  },
  {
    route: 'PUT /api/wa/templates/:templateId',
    url: () => '/api/wa/templates/WA_PICKUP_CONFIRM',
    as: 'owner',
    valid: (w) => ({outlet_id: w.fx.outlet, definition: {body_lines: ['Halo {{customer_name}}'], max_length: 500}}),
    cases: (w, v) => [
      ...transportCases(v, 'definition'),
      ...missing(v, ['definition', 'definition.body_lines']),
      ...values(v, 'definition', ['abc', 12, true], 'not an array'),
      {name: 'definition.body_lines empty', payload: change(v, 'definition.body_lines', [])},
      ...values(v, 'definition.body_lines', ['abc', 12], 'not an array'),
      ...values(v, 'definition.max_length', [99, 5001, -1, 1e30, '12abc', 1.5], 'out of range'),
      ...['required_vars_all', 'required_vars_any', 'fallbacks'].map((key): Case => ({
        name: `definition.${key} a string`,
        payload: change(v, `definition.${key}`, 'abc'),
      })),
      {
        name: '10,000 body lines beside max_length 99',
        payload: changes(v, [
          ['definition.body_lines', Array.from({length: 10_000}, () => 'line')],
          ['definition.max_length', 99],
        ]),
      },
      {
        name: 'a 1 MB body line beside max_length 1e30',
        payload: changes(v, [
          ['definition.body_lines', [MB]],
          ['definition.max_length', 1e30],
        ]),
      },
      ...BAD_UUIDS.map((bad): Case => ({name: `outlet_id malformed ${describe(bad)}`, payload: change(v, 'outlet_id', bad)})),
      {
        name: 'body lines SQL and script beside max_length 0',
        payload: changes(v, [
          ['definition.body_lines', [SQL, SCRIPT]],
          ['definition.max_length', 0],
        ]),
      },
      {name: 'a body line with a NUL character', payload: change(v, 'definition.body_lines', [NUL])},
      ...['NOPE', SQL, SCRIPT, 'wa_pickup_confirm_x', 'x'.repeat(10_000)].map((id): Case => ({
        name: `template id unknown ${describe(id)}`,
        url: `/api/wa/templates/${encodeURIComponent(id)}`,
        payload: v,
      })),
      // Upstream lets an owner name any outlet here (A-21), and an unknown one was a foreign-key 500; the port answers 403.
      {name: 'outlet_id of no outlet (well-formed)', payload: change(v, 'outlet_id', w.fx.outlet.replace(/^.{8}/, '01234567')), status: 403},
      {
        name: 'outlet_id of no outlet (well-formed), as admin',
        as: 'admin',
        payload: change(v, 'outlet_id', w.fx.outlet.replace(/^.{8}/, '01234567')),
        status: 403,
      },
    ],
  },
]

describeEachEngine('api bad input on every write route (inject)', {from: 'seeded'}, (ctx) => {
  let db: Database
  let app: ApiInstance
  let config: AppConfig
  const clock = fixedClock(NOW)
  const routes = new Set<string>()
  const w = {} as World
  let ip = 0

  before(async function () {
    this.timeout(60_000)
    db = await ctx.scratch.open()
    config = loadConfig({cwd: ctx.scratch.dir, env: {}, databaseUrl: ctx.scratch.url})
    app = await buildApp({
      db,
      config,
      clock,
      onRoute: (route: RouteOptions) => {
        for (const method of Array.isArray(route.method) ? route.method : [route.method]) if (method !== 'HEAD') routes.add(`${method} ${route.url}`)
      },
    })
    await app.ready()
    w.fx = await tenantFixture(db, clock, {plan: 'premium'})
    const create = async (pickup: boolean) => {
      const res = await app.inject({
        method: 'POST',
        url: '/api/orders',
        headers: {authorization: `Bearer ${w.fx.users.cashier.token}`, accept: 'application/json'},
        payload: {
          outlet_id: w.fx.outlet,
          is_pickup_delivery: pickup,
          customer: {name: 'Valid Customer', phone: '081234599999'},
          items: [{service_id: w.fx.services.pcs, qty: 1}],
        },
      })
      expect(res.statusCode, res.body).to.equal(201)
      return res.json<{data: {id: string}}>().data.id
    }
    w.order = await create(false)
    w.pickupOrder = await create(true)
  })
  after(async () => {
    await app?.close()
  })

  const writes = () => [...routes].filter((route) => /^(POST|PUT|PATCH|DELETE) /.test(route))

  it('every write route of the app has cases', () => {
    const covered = new Set(ROUTES.map((route) => route.route))
    expect(
      writes()
        .filter((route) => !covered.has(route))
        .sort(),
      'write routes without bad-input cases',
    ).to.deep.equal([])
    expect(writes().length).to.be.greaterThan(8)
  })

  it('control: the checksum sees a valid write (so a case that wrote would fail)', async () => {
    const before = await databaseChecksums(db, {omitColumns: {personal_access_tokens: ['last_used_at', 'updated_at']}})
    const res = await app.inject({
      method: 'POST',
      url: `/api/orders/${w.order}/payments`,
      headers: {authorization: `Bearer ${w.fx.users.cashier.token}`, accept: 'application/json'},
      payload: {amount: 1, method: 'cash'},
    })
    expect(res.statusCode, res.body).to.equal(201)
    const after = await databaseChecksums(db, {omitColumns: {personal_access_tokens: ['last_used_at', 'updated_at']}})
    expect(Object.keys(before).filter((table) => before[table] !== after[table])).to.include.members(['payments', 'orders', 'audit_events'])
  })

  for (const spec of ROUTES) {
    it(`${spec.route}: every bad input is a 4xx JSON answer and changes no row`, async function () {
      if (!routes.has(spec.route)) this.skip()
      this.timeout(120_000)
      const [method, path] = spec.route.split(' ') as ['POST' | 'PUT' | 'PATCH' | 'DELETE', string]
      const throttled = path === '/api/auth/login' || path === '/api/sync/push'
      const checksumOptions = {
        skipTables: throttled ? ['cache'] : [],
        omitColumns: {personal_access_tokens: ['last_used_at', 'updated_at']},
      }
      const valid = spec.valid(w)
      const cases = spec.cases(w, valid)
      expect(cases.length).to.be.greaterThan(5)
      const failures: string[] = []
      for (const c of cases) {
        const as = c.as ?? spec.as
        const token = as === 'none' ? null : as === 'bad-token' ? (c.token ?? '') : w.fx.users[as].token
        const headers: Record<string, string> = {accept: 'application/json', ...c.headers}
        if (token !== null) headers.authorization = `Bearer ${token}`
        let payload: string | undefined
        if (typeof c.payload === 'string') {
          payload = c.payload
          headers['content-type'] = c.contentType ?? 'application/json'
        } else if (c.payload !== undefined) {
          payload = JSON.stringify(c.payload)
          headers['content-type'] = 'application/json'
        }
        const before = await databaseChecksums(db, checksumOptions)
        let res: LightMyRequestResponse
        try {
          // A fresh client address per case: the throttles never decide an answer here.
          res = await app.inject({method, url: c.url ?? spec.url(w), headers, payload, remoteAddress: `10.77.${Math.floor(++ip / 250)}.${ip % 250}`})
        } catch (error) {
          failures.push(`${c.name}: inject threw ${(error as Error).message}`)
          continue
        }
        const after = await databaseChecksums(db, checksumOptions)
        const expected = c.status ?? 422
        const changed = Object.keys(before).filter((table) => before[table] !== after[table])
        let json: boolean
        try {
          json = /^application\/json/.test(String(res.headers['content-type'])) && typeof res.json() === 'object'
        } catch {
          json = false
        }
        if (res.statusCode !== expected || !json || changed.length > 0) {
          failures.push(
            `${c.name}: ${res.statusCode} (expected ${expected})${json ? '' : ' not JSON'}${changed.length > 0 ? ` changed ${changed.join(', ')}` : ''}: ${res.body.slice(0, 300)}`,
          )
        }
        expect(res.statusCode, `${c.name}: never a 5xx`).to.be.below(500)
      }
      expect(failures, `${failures.length} of ${cases.length} cases`).to.deep.equal([])
    })
  }
})
