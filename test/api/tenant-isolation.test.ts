/**
 * Tenant isolation over every API route (issue 10, "Must hold"), on both engines: tenant B owns real
 * resources made through the API as B's users (a pickup-delivery order with its customer, payment, courier
 * and queued WhatsApp messages, an order and a device from a sync push, an invoice lease, a template
 * override and a provider config), then tenant A's users ask for them on every route. Each row asserts
 * upstream's exact status (403/404, or what upstream answers by design: the invoice claim's 422s, sync
 * push's 200 with a rejected item, assign-courier's 422), that the body names nothing of B (except what the
 * request itself carried) and that no row of B changed. The routes are read from the app: a route without
 * a row fails the first test.
 */
import {expect} from 'chai'
import type {RouteOptions} from 'fastify'
import type {LightMyRequestResponse} from 'fastify'

import {type ApiInstance, buildApp} from '../../src/api/app.js'
import {fixedClock} from '../../src/core/clock.js'
import {type AppConfig, loadConfig} from '../../src/core/config.js'
import type {Database} from '../../src/core/db/connection.js'
import {issueToken} from '../../src/core/auth/tokens.js'
import type {RoleKey} from '../../src/core/access/roles.js'
import {tenantFixture, type TenantFixture} from '../helpers/api.js'
import {found} from '../helpers/wa.js'
import {tenantChecksums, tenantRows} from '../helpers/db-checksum.js'
import {describeEachEngine} from '../helpers/engines.js'

const NOW = '2026-03-01T10:00:00Z'
const TODAY = '2026-03-01'
const DEVICE_A = 'aaaaaaaa-0000-4000-8000-00000000000a'
const DEVICE_B = 'bbbbbbbb-0000-4000-8000-00000000000b'
const B_CUSTOMER = 'Zeta Secretname'
const B_PHONE = '081299887766'
const B_SYNC_CUSTOMER = 'Yotta Hiddenperson'
const B_SYNC_PHONE = '081377665544'
const B_TEMPLATE_TEXT = 'B-SECRET-TEMPLATE-LINE {{order_code}}'
const B_CREDENTIAL = 'b-secret-credential-value'

/** What the rows need of the setup. */
interface World {
  a: TenantFixture
  b: TenantFixture
  /** B's REST order (pickup-delivery, paid in part, courier assigned, messages queued). */
  bOrder: string
  /** B's order made by a sync push. */
  bSyncOrder: string
  /** A pickup-delivery order of A (for assign-courier with B's courier). */
  aPickupOrder: string
  /** A second token of A's owner, for the logout row. */
  aLogoutToken: string
}

type Actor = RoleKey | 'none' | 'logout'

interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  url: string
  payload?: unknown
  headers?: Record<string, string>
}

interface Row {
  /** `METHOD /path` as the app registers it. */
  route: string
  what: string
  as: Actor
  call: (w: World) => Call
  status: number
  /** Further checks of the answer (a reason code, a rejected item). */
  check?: (body: unknown, w: World) => void
}

const reason = (code: string, message?: string) => (body: unknown) => {
  expect(body).to.deep.include(message === undefined ? {reason_code: code} : {reason_code: code, message})
}
const outletDenied = reason('OUTLET_ACCESS_DENIED', 'You do not have access to the requested outlet.')

/** A sync push answer's single rejected item. */
const rejectedWith = (code: string, message: string) => (body: unknown) => {
  const answer = body as {ack: unknown[]; rejected: Array<Record<string, unknown>>}
  expect(answer.ack).to.deep.equal([])
  expect(answer.rejected).to.have.length(1)
  expect(answer.rejected[0]).to.deep.include({status: 'rejected', reason_code: code, message})
}

/** A list answer holds rows of A only. */
const onlyA = (body: unknown, w: World) => {
  for (const row of (body as {data: Array<{tenant_id: string}>}).data) expect(row.tenant_id).to.equal(w.a.tenant)
}

let mutationCounter = 0
const push = (mutation: Record<string, unknown>, device = DEVICE_A): Call => ({
  method: 'POST',
  url: '/api/sync/push',
  payload: {device_id: device, mutations: [{mutation_id: `a-iso-${++mutationCounter}`, client_time: `${TODAY}T09:00:00Z`, ...mutation}]},
})

const ROWS: Row[] = [
  // GET /up names no tenant at all.
  {
    route: 'GET /up',
    what: 'health page with B outlet header',
    as: 'none',
    call: (w) => ({method: 'GET', url: '/up', headers: {'x-outlet-id': w.b.outlet}}),
    status: 200,
  },

  // Auth: login names only the signed-in user's tenant, whatever outlet or device the body names.
  {
    route: 'POST /api/auth/login',
    what: "A owner's login naming B's outlet and device",
    as: 'none',
    call: (w) => ({
      method: 'POST',
      url: '/api/auth/login',
      payload: {email: w.a.users.owner.email, password: 'password', device_name: DEVICE_B, outlet_id: w.b.outlet},
    }),
    status: 200,
    check: (body, w) => expect((body as {data: {user: {tenant_id: string}}}).data.user.tenant_id).to.equal(w.a.tenant),
  },
  {
    route: 'POST /api/auth/logout',
    what: "logout naming B's outlet (header and body) deletes only the caller's token",
    as: 'logout',
    call: (w) => ({method: 'POST', url: '/api/auth/logout', payload: {outlet_id: w.b.outlet}, headers: {'x-outlet-id': w.b.outlet}}),
    status: 200,
  },
  {
    route: 'GET /api/me',
    what: "owner, B's outlet in the query",
    as: 'owner',
    call: (w) => ({method: 'GET', url: `/api/me?outlet_id=${w.b.outlet}`}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'GET /api/me',
    what: "admin, B's outlet in X-Outlet-Id",
    as: 'admin',
    call: (w) => ({method: 'GET', url: '/api/me', headers: {'x-outlet-id': w.b.otherOutlet}}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'GET /api/outlets/allowed',
    what: "owner, B's outlet",
    as: 'owner',
    call: (w) => ({method: 'GET', url: `/api/outlets/allowed?outlet_id=${w.b.outlet}`}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'GET /api/outlets/allowed',
    what: 'owner, no outlet: only A outlets listed',
    as: 'owner',
    call: () => ({method: 'GET', url: '/api/outlets/allowed'}),
    status: 200,
    check: (body, w) => expect((body as {data: Array<{id: string}>}).data.map((o) => o.id).sort()).to.deep.equal([w.a.outlet, w.a.otherOutlet].sort()),
  },

  // Orders.
  {
    route: 'GET /api/orders',
    what: "owner lists B's outlet",
    as: 'owner',
    call: (w) => ({method: 'GET', url: `/api/orders?outlet_id=${w.b.outlet}`}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'GET /api/orders',
    what: "owner lists A's outlet: none of B's orders",
    as: 'owner',
    call: (w) => ({method: 'GET', url: `/api/orders?outlet_id=${w.a.outlet}&limit=100`}),
    status: 200,
    check: (body, w) => expect((body as {data: Array<{tenant_id: string}>}).data.every((order) => order.tenant_id === w.a.tenant)).to.equal(true),
  },
  {
    route: 'GET /api/orders',
    what: "cashier lists B's outlet",
    as: 'cashier',
    call: (w) => ({method: 'GET', url: `/api/orders?outlet_id=${w.b.outlet}`}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'POST /api/orders',
    what: "owner creates an order at B's outlet",
    as: 'owner',
    call: (w) => ({
      method: 'POST',
      url: '/api/orders',
      payload: {outlet_id: w.b.outlet, customer: {name: 'Alpha Buyer', phone: '081211110000'}, items: [{service_id: w.a.services.pcs, qty: 1}]},
    }),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'POST /api/orders',
    what: "cashier creates an order with B's service at A's outlet (upstream: 422 on items)",
    as: 'cashier',
    call: (w) => ({
      method: 'POST',
      url: '/api/orders',
      payload: {outlet_id: w.a.outlet, customer: {name: 'Alpha Buyer', phone: '081211110000'}, items: [{service_id: w.b.services.pcs, qty: 1}]},
    }),
    status: 422,
    check: (body, w) => expect(body).to.deep.include({errors: {items: [`Service ${w.b.services.pcs} is invalid for this tenant.`]}}),
  },
  {
    route: 'GET /api/orders/:order',
    what: "owner shows B's order",
    as: 'owner',
    call: (w) => ({method: 'GET', url: `/api/orders/${w.bOrder}`}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'GET /api/orders/:order',
    what: "courier shows B's sync order",
    as: 'courier',
    call: (w) => ({method: 'GET', url: `/api/orders/${w.bSyncOrder}`}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'GET /api/orders/:order',
    what: "admin shows B's sync order",
    as: 'admin',
    call: (w) => ({method: 'GET', url: `/api/orders/${w.bSyncOrder}`}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'POST /api/orders/:order/payments',
    what: "owner pays B's order",
    as: 'owner',
    call: (w) => ({method: 'POST', url: `/api/orders/${w.bOrder}/payments`, payload: {amount: 1000, method: 'cash'}}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'POST /api/orders/:order/payments',
    what: "cashier pays B's order",
    as: 'cashier',
    call: (w) => ({method: 'POST', url: `/api/orders/${w.bSyncOrder}/payments`, payload: {amount: 1000, method: 'cash'}}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'PATCH /api/orders/:order/schedule',
    what: "owner reschedules B's order",
    as: 'owner',
    call: (w) => ({method: 'PATCH', url: `/api/orders/${w.bOrder}/schedule`, payload: {shipping_fee_amount: 0, notes: 'moved'}}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'PATCH /api/orders/:order/schedule',
    what: "cashier reschedules B's sync order",
    as: 'cashier',
    call: (w) => ({method: 'PATCH', url: `/api/orders/${w.bSyncOrder}/schedule`, payload: {pickup: {address: 'x'}}}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'POST /api/orders/:order/status/laundry',
    what: "owner moves B's order",
    as: 'owner',
    call: (w) => ({method: 'POST', url: `/api/orders/${w.bOrder}/status/laundry`, payload: {status: 'washing'}}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'POST /api/orders/:order/status/laundry',
    what: "worker moves B's order",
    as: 'worker',
    call: (w) => ({method: 'POST', url: `/api/orders/${w.bOrder}/status/laundry`, payload: {status: 'washing'}}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'POST /api/orders/:order/status/courier',
    what: "owner moves B's courier status",
    as: 'owner',
    call: (w) => ({method: 'POST', url: `/api/orders/${w.bOrder}/status/courier`, payload: {status: 'picked_up'}}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'POST /api/orders/:order/status/courier',
    what: "courier moves B's courier status",
    as: 'courier',
    call: (w) => ({method: 'POST', url: `/api/orders/${w.bOrder}/status/courier`, payload: {status: 'picked_up'}}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'POST /api/orders/:order/assign-courier',
    what: "owner assigns A's courier to B's order",
    as: 'owner',
    call: (w) => ({method: 'POST', url: `/api/orders/${w.bOrder}/assign-courier`, payload: {courier_user_id: w.a.users.courier.id}}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'POST /api/orders/:order/assign-courier',
    what: "admin assigns B's courier to A's order (upstream: 422)",
    as: 'admin',
    call: (w) => ({method: 'POST', url: `/api/orders/${w.aPickupOrder}/assign-courier`, payload: {courier_user_id: w.b.users.courier.id}}),
    status: 422,
    check: reason('VALIDATION_FAILED', 'Assigned user must be an active courier in the same tenant.'),
  },

  // Sync push: the request is refused only for B's device; B's resources inside a mutation are rejected items.
  {
    route: 'POST /api/sync/push',
    what: "owner pushes with B's device (A-4: 403)",
    as: 'owner',
    call: (w) => push({type: 'ORDER_UPDATE_LAUNDRY_STATUS', payload: {order_id: w.bOrder, status: 'washing'}}, DEVICE_B),
    status: 403,
    check: reason('OUTLET_ACCESS_DENIED', 'Device is bound to another tenant.'),
  },
  {
    route: 'POST /api/sync/push',
    what: "cashier ORDER_ADD_PAYMENT on B's order",
    as: 'cashier',
    call: (w) => push({type: 'ORDER_ADD_PAYMENT', entity: {entity_type: 'order', entity_id: w.bOrder}, payload: {amount: 1000, method: 'cash'}}),
    status: 200,
    check: rejectedWith('VALIDATION_FAILED', 'Order not found.'),
  },
  {
    route: 'POST /api/sync/push',
    what: "owner ORDER_UPDATE_LAUNDRY_STATUS on B's sync order",
    as: 'owner',
    call: (w) => push({type: 'ORDER_UPDATE_LAUNDRY_STATUS', payload: {order_id: w.bSyncOrder, status: 'washing'}}),
    status: 200,
    check: rejectedWith('VALIDATION_FAILED', 'Order not found.'),
  },
  {
    route: 'POST /api/sync/push',
    what: "owner ORDER_UPDATE_COURIER_STATUS on B's order",
    as: 'owner',
    call: (w) => push({type: 'ORDER_UPDATE_COURIER_STATUS', payload: {order_id: w.bOrder, status: 'picked_up'}}),
    status: 200,
    check: rejectedWith('VALIDATION_FAILED', 'Order not found.'),
  },
  {
    route: 'POST /api/sync/push',
    what: "admin ORDER_ASSIGN_COURIER of B's courier to A's order",
    as: 'admin',
    call: (w) => push({type: 'ORDER_ASSIGN_COURIER', payload: {order_id: w.aPickupOrder, courier_user_id: w.b.users.courier.id}}),
    status: 200,
    check: rejectedWith('VALIDATION_FAILED', 'Assigned user must have courier role.'),
  },
  {
    route: 'POST /api/sync/push',
    what: "owner ORDER_CREATE at B's outlet, reusing B's mutation id",
    as: 'owner',
    call: (w) => ({
      method: 'POST',
      url: '/api/sync/push',
      payload: {
        device_id: DEVICE_A,
        mutations: [
          {
            mutation_id: 'b-mut-create-1',
            type: 'ORDER_CREATE',
            outlet_id: w.b.outlet,
            payload: {customer: {name: 'Alpha Buyer', phone: '081211110000'}, items: [{service_id: w.b.services.pcs, qty: 1}]},
          },
        ],
      },
    }),
    status: 200,
    check: rejectedWith('OUTLET_ACCESS_DENIED', 'Outlet not found in tenant scope.'),
  },
  {
    route: 'POST /api/sync/pull',
    what: "owner pulls with B's device (A-4: 403)",
    as: 'owner',
    call: () => ({method: 'POST', url: '/api/sync/pull', payload: {device_id: DEVICE_B, scope: {mode: 'all_outlets'}}}),
    status: 403,
    check: reason('OUTLET_ACCESS_DENIED', 'Device is bound to another tenant.'),
  },
  {
    route: 'POST /api/sync/pull',
    what: "owner pulls B's outlet (A-4: 403)",
    as: 'owner',
    call: (w) => ({method: 'POST', url: '/api/sync/pull', payload: {device_id: DEVICE_A, scope: {mode: 'selected_outlet', outlet_id: w.b.outlet}}}),
    status: 403,
    check: reason('OUTLET_ACCESS_DENIED'),
  },
  {
    route: 'POST /api/sync/pull',
    what: "cashier pulls B's outlet (A-4: 403)",
    as: 'cashier',
    call: (w) => ({method: 'POST', url: '/api/sync/pull', payload: {device_id: DEVICE_A, scope: {mode: 'selected_outlet', outlet_id: w.b.outlet}}}),
    status: 403,
    check: reason('OUTLET_ACCESS_DENIED'),
  },
  {
    route: 'POST /api/sync/pull',
    what: "owner pulls all outlets from cursor 0: none of B's changes",
    as: 'owner',
    call: () => ({method: 'POST', url: '/api/sync/pull', payload: {device_id: DEVICE_A, cursor: 0, scope: {mode: 'all_outlets'}}}),
    status: 200,
    check: (body) => expect((body as {changes: unknown[]}).changes).to.deep.equal([]),
  },

  // Invoice claim: upstream answers its device and outlet refusals with 422 (§3.7).
  {
    route: 'POST /api/invoices/range/claim',
    what: "owner claims with B's device",
    as: 'owner',
    call: (w) => ({method: 'POST', url: '/api/invoices/range/claim', payload: {device_id: DEVICE_B, outlet_id: w.a.outlet, days: [{date: TODAY, count: 1}]}}),
    status: 422,
    check: reason('OUTLET_ACCESS_DENIED', 'Device is bound to another tenant.'),
  },
  {
    route: 'POST /api/invoices/range/claim',
    what: "owner claims for B's outlet",
    as: 'owner',
    call: (w) => ({method: 'POST', url: '/api/invoices/range/claim', payload: {device_id: DEVICE_A, outlet_id: w.b.outlet, days: [{date: TODAY, count: 1}]}}),
    status: 422,
    check: reason('OUTLET_ACCESS_DENIED', 'Outlet not found in tenant scope.'),
  },
  {
    route: 'POST /api/invoices/range/claim',
    what: "cashier claims for B's outlet",
    as: 'cashier',
    call: (w) => ({
      method: 'POST',
      url: '/api/invoices/range/claim',
      payload: {device_id: DEVICE_A, outlet_id: w.b.otherOutlet, days: [{date: TODAY, count: 1}]},
    }),
    status: 422,
    check: reason('OUTLET_ACCESS_DENIED', 'Outlet not found in tenant scope.'),
  },

  // WhatsApp (reference §3.8): no outlet.access; the owner's outlet check passes any outlet without a tenant check.
  {
    route: 'GET /api/wa/providers',
    what: "owner: B's provider config is not A's",
    as: 'owner',
    call: () => ({method: 'GET', url: '/api/wa/providers'}),
    status: 200,
    check: (body) => {
      for (const provider of (body as {data: Array<Record<string, unknown>>}).data)
        expect(provider).to.deep.include({configured: false, credentials_set: false})
    },
  },
  {
    route: 'POST /api/wa/provider-config',
    what: "admin configures the provider B uses: A's own row, B's untouched",
    as: 'admin',
    call: () => ({method: 'POST', url: '/api/wa/provider-config', payload: {provider_key: 'mock', is_active: true}}),
    status: 200,
    check: (body) => expect((body as {data: Record<string, unknown>}).data).to.deep.include({provider_key: 'mock', is_active: true, credentials_set: false}),
  },
  // Upstream's owner passes any outlet id here; the port requires the owner's own tenant (issue 10).
  {
    route: 'GET /api/wa/templates',
    what: "owner, B's outlet (A-21 closed: 403)",
    as: 'owner',
    call: (w) => ({method: 'GET', url: `/api/wa/templates?outlet_id=${w.b.outlet}`}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'GET /api/wa/templates',
    what: "owner, no outlet: A's definitions, not B's override",
    as: 'owner',
    call: () => ({method: 'GET', url: '/api/wa/templates'}),
    status: 200,
    check: (body) => {
      for (const template of (body as {data: Array<{source: string}>}).data) expect(template.source).to.equal('default')
    },
  },
  {
    route: 'GET /api/wa/templates',
    what: "admin, B's outlet",
    as: 'admin',
    call: (w) => ({method: 'GET', url: `/api/wa/templates?outlet_id=${w.b.outlet}`}),
    status: 403,
    check: reason('OUTLET_ACCESS_DENIED'),
  },
  {
    route: 'PUT /api/wa/templates/:templateId',
    what: "admin writes a template for B's outlet",
    as: 'admin',
    call: (w) => ({method: 'PUT', url: '/api/wa/templates/WA_PICKUP_CONFIRM', payload: {outlet_id: w.b.outlet, definition: {body_lines: ['A text']}}}),
    status: 403,
    check: reason('OUTLET_ACCESS_DENIED'),
  },
  {
    route: 'PUT /api/wa/templates/:templateId',
    what: "owner writes a template for B's outlet (A-21 closed: 403)",
    as: 'owner',
    call: (w) => ({method: 'PUT', url: '/api/wa/templates/WA_PICKUP_CONFIRM', payload: {outlet_id: w.b.otherOutlet, definition: {body_lines: ['A text']}}}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'GET /api/wa/messages',
    what: "owner lists messages: none of B's",
    as: 'owner',
    call: () => ({method: 'GET', url: '/api/wa/messages'}),
    status: 200,
    check: onlyA,
  },
  {
    route: 'GET /api/wa/messages',
    what: "owner filters on B's outlet (A-21 closed: 403)",
    as: 'owner',
    call: (w) => ({method: 'GET', url: `/api/wa/messages?outlet_id=${w.b.outlet}`}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'GET /api/wa/messages',
    what: "admin filters on B's outlet",
    as: 'admin',
    call: (w) => ({method: 'GET', url: `/api/wa/messages?outlet_id=${w.b.outlet}`}),
    status: 403,
    check: reason('OUTLET_ACCESS_DENIED'),
  },

  // Billing and catalogue.
  {
    route: 'GET /api/billing/quota',
    what: "owner naming B's outlet: A's own quota",
    as: 'owner',
    call: (w) => ({method: 'GET', url: `/api/billing/quota?outlet_id=${w.b.outlet}`}),
    status: 200,
  },
  {
    route: 'GET /api/services',
    what: "owner, B's outlet",
    as: 'owner',
    call: (w) => ({method: 'GET', url: `/api/services?outlet_id=${w.b.outlet}`}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'GET /api/services',
    what: "owner, no outlet: only A's services",
    as: 'owner',
    call: () => ({method: 'GET', url: '/api/services'}),
    status: 200,
    check: (body, w) => expect((body as {data: Array<{id: string}>}).data.map((s) => s.id).sort()).to.deep.equal([w.a.services.kg, w.a.services.pcs].sort()),
  },
  {
    route: 'GET /api/services',
    what: "admin, B's outlet in X-Outlet-Id",
    as: 'admin',
    call: (w) => ({method: 'GET', url: '/api/services', headers: {'x-outlet-id': w.b.outlet}}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'GET /api/outlet-services',
    what: "owner, B's second outlet",
    as: 'owner',
    call: (w) => ({method: 'GET', url: `/api/outlet-services?outlet_id=${w.b.otherOutlet}`}),
    status: 403,
    check: outletDenied,
  },
  {
    route: 'GET /api/outlet-services',
    what: "cashier, B's outlet",
    as: 'cashier',
    call: (w) => ({method: 'GET', url: `/api/outlet-services?outlet_id=${w.b.outlet}`}),
    status: 403,
    check: outletDenied,
  },
]

/** Columns whose values identify a row or a person: ids, codes, names, phones, emails, numbers, notes, token hashes. */
const IDENTIFYING = /(^id$|_id$|name$|code$|phone|email|invoice_no|notes$|^token$|prefix|address|^entity_id$|body)/
/** Columns matching IDENTIFYING that hold catalogue values shared by every tenant. */
const GENERIC = ['reason_code', 'template_id', 'event_key', 'provider_key', 'tokenable_type']

/** Every string of B's rows that no other tenant's row holds (ids, codes, names, phones, emails, token hashes, texts). */
async function secretsOf(db: Database, b: string, a: string): Promise<string[]> {
  const strings = (rows: Record<string, Array<Record<string, unknown>>>) => {
    const out = new Set<string>()
    for (const list of Object.values(rows)) {
      for (const row of list) {
        for (const [column, value] of Object.entries(row)) {
          if (typeof value === 'string' && value.length >= 6 && IDENTIFYING.test(column) && !GENERIC.includes(column)) out.add(value)
        }
      }
    }
    return out
  }
  const theirs = strings(await tenantRows(db, b))
  const ours = strings(await tenantRows(db, a))
  // The demo tenant's rows, and global ones (plans, providers), share generic values (statuses, timestamps, names).
  const demo = await db.knex('tenants').whereNotIn('id', [a, b]).pluck('id')
  for (const id of demo as string[]) for (const value of strings(await tenantRows(db, id))) ours.add(value)
  const secrets = [...theirs].filter((value) => !ours.has(value))
  return [...secrets, B_CUSTOMER, B_PHONE, B_SYNC_CUSTOMER, B_SYNC_PHONE, B_TEMPLATE_TEXT.slice(0, 17), B_CREDENTIAL]
}

/** Values under id-like keys (`id`, `*_id`, `*_by`) anywhere in a JSON answer. */
function idValues(value: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(value)) for (const item of value) idValues(item, out)
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (/^id$|_id$|_by$/.test(key) && (typeof item === 'number' || typeof item === 'string')) out.push(item)
      idValues(item, out)
    }
  }
  return out
}

describeEachEngine('api tenant isolation (every route, inject)', {from: 'seeded'}, (ctx) => {
  let db: Database
  let app: ApiInstance
  let config: AppConfig
  const clock = fixedClock(NOW)
  const routes = new Set<string>()
  const w = {} as World
  let secrets: string[] = []
  let bUserIds: number[] = []

  const send = (token: string | null, call: Call): Promise<LightMyRequestResponse> =>
    app.inject({
      method: call.method,
      url: call.url,
      headers: {accept: 'application/json', ...(token === null ? {} : {authorization: `Bearer ${token}`}), ...call.headers},
      ...(call.payload === undefined ? {} : {payload: call.payload as object}),
    })

  const created = async (pending: Promise<LightMyRequestResponse>, what: string): Promise<Record<string, unknown>> => {
    const res = await pending
    expect(res.statusCode, `${what}: ${res.body}`).to.be.oneOf([200, 201])
    return res.json<Record<string, unknown>>()
  }

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
    w.a = await tenantFixture(db, clock, {plan: 'premium', name: 'Alpha Isolation Laundry'})
    w.b = await tenantFixture(db, clock, {plan: 'premium', name: 'Bravo Hidden Laundry'})
    // Distinctive outlet codes for B (the fixture's short codes could occur inside other text by chance).
    await db.knex('outlets').where({id: w.b.outlet}).update({code: 'BQZX01'})
    await db.knex('outlets').where({id: w.b.otherOutlet}).update({code: 'BQZX02'})
    const b = w.b.users

    // B's WhatsApp configuration first, so its order events queue messages.
    if (routes.has('POST /api/wa/provider-config')) {
      await created(
        send(b.owner.token, {
          method: 'POST',
          url: '/api/wa/provider-config',
          payload: {provider_key: 'mock', credentials: {api_key: B_CREDENTIAL}, is_active: true},
        }),
        'B provider config',
      )
      await created(
        send(b.admin.token, {
          method: 'PUT',
          url: '/api/wa/templates/WA_PICKUP_CONFIRM',
          payload: {outlet_id: w.b.outlet, definition: {body_lines: [B_TEMPLATE_TEXT]}},
        }),
        'B template override',
      )
    } else {
      const provider = found(await db.knex<{id: number; key: string}>('wa_providers').where({key: 'mock'}).first('id'), 'mock provider')
      await db.knex('wa_provider_configs').insert({
        id: 'bbbbbbbb-1111-4111-8111-000000000001',
        tenant_id: w.b.tenant,
        provider_id: provider.id,
        credentials_json: JSON.stringify({api_key: B_CREDENTIAL}),
        is_active: true,
        created_at: '2026-03-01 10:00:00',
        updated_at: '2026-03-01 10:00:00',
      })
    }

    const order = await created(
      send(b.cashier.token, {
        method: 'POST',
        url: '/api/orders',
        payload: {
          outlet_id: w.b.outlet,
          order_code: 'BSECRET-ORD-1',
          invoice_no: 'BSECRET-INV-1',
          is_pickup_delivery: true,
          notes: 'b secret order notes',
          pickup: {address: 'Jl. Rahasia B 1'},
          customer: {name: B_CUSTOMER, phone: B_PHONE, notes: 'b secret customer notes'},
          items: [{service_id: w.b.services.kg, weight_kg: 2.5}],
        },
      }),
      'B order',
    )
    w.bOrder = (order.data as {id: string}).id
    await created(
      send(b.cashier.token, {method: 'POST', url: `/api/orders/${w.bOrder}/payments`, payload: {amount: 5000, method: 'cash', notes: 'b pay'}}),
      'B payment',
    )
    await created(send(b.admin.token, {method: 'POST', url: `/api/orders/${w.bOrder}/assign-courier`, payload: {courier_user_id: b.courier.id}}), 'B courier')
    await created(
      send(b.courier.token, {method: 'POST', url: `/api/orders/${w.bOrder}/status/courier`, payload: {status: 'pickup_on_the_way'}}),
      'B courier status',
    )
    const pushed = await created(
      send(b.cashier.token, {
        method: 'POST',
        url: '/api/sync/push',
        payload: {
          device_id: DEVICE_B,
          mutations: [
            {
              mutation_id: 'b-mut-create-1',
              type: 'ORDER_CREATE',
              outlet_id: w.b.outlet,
              client_time: `${TODAY}T08:00:00Z`,
              entity: {entity_type: 'order', entity_id: 'b-client-order-1'},
              payload: {
                is_pickup_delivery: true,
                customer: {name: B_SYNC_CUSTOMER, phone: B_SYNC_PHONE, client_id: 'b-client-customer-1'},
                items: [{service_id: w.b.services.pcs, qty: 3}],
              },
            },
          ],
        },
      }),
      'B sync push',
    )
    const ack = (pushed as {ack: Array<{entity_refs: Array<{entity_type: string; entity_id: string}>}>}).ack
    expect(ack, JSON.stringify(pushed)).to.have.length(1)
    w.bSyncOrder = ack[0].entity_refs.find((ref) => ref.entity_type === 'order')!.entity_id
    await created(
      send(b.cashier.token, {
        method: 'POST',
        url: '/api/invoices/range/claim',
        payload: {device_id: DEVICE_B, outlet_id: w.b.outlet, days: [{date: TODAY, count: 5}]},
      }),
      'B lease',
    )
    await created(send(b.owner.token, {method: 'POST', url: '/api/sync/pull', payload: {device_id: DEVICE_B, scope: {mode: 'all_outlets'}}}), 'B pull')

    // A's own pickup order and device.
    const aOrder = await created(
      send(w.a.users.cashier.token, {
        method: 'POST',
        url: '/api/orders',
        payload: {
          outlet_id: w.a.outlet,
          is_pickup_delivery: true,
          customer: {name: 'Alpha Customer', phone: '081200001111'},
          items: [{service_id: w.a.services.pcs, qty: 2}],
        },
      }),
      'A order',
    )
    w.aPickupOrder = (aOrder.data as {id: string}).id
    w.aLogoutToken = (await issueToken(db.knex, w.a.users.owner.id, 'logout-device', clock)).plainTextToken

    // What B holds, as the rows will see it.
    const bRows = await tenantRows(db, w.b.tenant)
    expect(bRows.wa_messages?.length ?? 0, 'B has queued WhatsApp messages').to.be.greaterThan(0)
    expect(bRows.devices, 'B has its sync device').to.have.length(1)
    expect(bRows.payments, 'B has a payment').to.have.length(1)
    secrets = await secretsOf(db, w.b.tenant, w.a.tenant)
    for (const value of [w.b.tenant, w.b.outlet, w.b.otherOutlet, w.bOrder, w.bSyncOrder, DEVICE_B, b.owner.email, 'BQZX01', 'BSECRET-ORD-1']) {
      expect(secrets, `secrets include ${value}`).to.include(value)
    }
    for (const message of bRows.wa_messages ?? []) expect(secrets).to.include(message.id)
    bUserIds = Object.values(b).map((user) => user.id)
  })
  after(async () => {
    await app?.close()
  })

  it('every route of the app has at least one row, and every row names a route of the app or one still to land', () => {
    const covered = new Set(ROWS.map((row) => row.route))
    const missing = [...routes].filter((route) => !covered.has(route)).sort()
    expect(missing, 'routes without an isolation row').to.deep.equal([])
    expect(routes.size).to.be.greaterThan(10)
  })

  it("control: B's checksum sees a write of B's own (so a row that wrote to B would fail)", async () => {
    const before = await tenantChecksums(db, w.b.tenant)
    const res = await send(w.b.users.worker.token, {method: 'POST', url: `/api/orders/${w.bOrder}/status/laundry`, payload: {status: 'received'}})
    expect(res.statusCode, res.body).to.equal(200)
    const after = await tenantChecksums(db, w.b.tenant)
    expect(Object.keys(before).filter((table) => before[table] !== after[table])).to.include('audit_events')
  })

  for (const row of ROWS) {
    it(`${row.route}: ${row.what} → ${row.status}`, async function () {
      if (!routes.has(row.route)) this.skip()
      const call = row.call(w)
      const token = row.as === 'none' ? null : row.as === 'logout' ? w.aLogoutToken : w.a.users[row.as].token
      const before = await tenantChecksums(db, w.b.tenant)
      const res = await send(token, call)
      expect(res.statusCode, res.body).to.equal(row.status)
      const after = await tenantChecksums(db, w.b.tenant)
      expect(after, "B's rows").to.deep.equal(before)

      // The body names nothing of B, except what the request itself carried.
      const carried = `${call.url} ${JSON.stringify(call.payload ?? null)} ${JSON.stringify(call.headers ?? {})}`
      const leaked = secrets.filter((secret) => res.body.includes(secret) && !carried.includes(secret))
      expect(leaked, `B's values in the answer: ${res.body.slice(0, 500)}`).to.deep.equal([])
      if (row.route !== 'GET /up') {
        expect(res.headers['content-type']).to.match(/^application\/json/)
        const body = res.json<unknown>()
        const ids = idValues(body).filter((value) => bUserIds.includes(Number(value)) && !carried.includes(String(value)))
        expect(ids, "B's user ids in the answer").to.deep.equal([])
        row.check?.(body, w)
      }
    })
  }
})
