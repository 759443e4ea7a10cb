import type {FastifyRequest} from 'fastify'
import {z} from 'zod'

import {ROLE_KEYS_ALL} from '../../core/access/roles.js'
import {OpsError} from '../../core/errors.js'
import {
  addPayment,
  assertCourierAssignable,
  assertCourierStatusAvailable,
  assertScheduleEditable,
  assignCourier,
  createOrder,
  ensureOrderAccess,
  listOrders,
  loadOrder,
  type OrderActor,
  type OrderRecord,
  type OrderServiceContext,
  parseClientTime,
  showOrder,
  sourceChannelFrom,
  updateCourierStatus,
  updateLaundryStatus,
  updateSchedule,
} from '../../core/orders/index.js'
import type {ApiDeps, ApiRouteModule, ApiUser} from '../app.js'
import {type Binding, boundRow, guard, requestRoleKeys} from '../plugins/access.js'
import {
  laravelArray,
  laravelBoolean,
  laravelDate,
  laravelInteger,
  laravelNumeric,
  laravelRequiredList,
  laravelRequiredObject,
  laravelString,
  laravelUuid,
} from '../laravel-rules.js'

/** `{order}`: App\Models\Order by id (any tenant; outlet.access and ensureOrderAccess scope it). */
const orderBinding: Binding<OrderRecord> = {
  param: 'order',
  model: 'App\\Models\\Order',
  load: (deps, id) => loadOrder(deps.db.knex, id),
  outletOf: (order) => order.outlet_id,
}

const orderParams = z.object({order: z.string()})

const listQuery = z.object({
  outlet_id: laravelUuid(),
  limit: laravelInteger({min: 1, max: 100, nullable: true}),
})

export const createBody = z.object({
  outlet_id: laravelUuid(),
  order_code: laravelString(32).nullish(),
  invoice_no: laravelString(50).nullish(),
  is_pickup_delivery: laravelBoolean().nullish(),
  shipping_fee_amount: laravelInteger({min: 0, nullable: true}),
  discount_amount: laravelInteger({min: 0, nullable: true}),
  notes: laravelString().nullish(),
  pickup: laravelArray().nullish(),
  delivery: laravelArray().nullish(),
  customer: laravelRequiredObject({
    name: laravelString(150),
    phone: laravelString(30),
    notes: laravelString().nullish(),
  }),
  items: laravelRequiredList(
    z.object({
      service_id: laravelUuid(),
      qty: laravelNumeric({min: 0.01, nullable: true}),
      weight_kg: laravelNumeric({min: 0.01, nullable: true}),
    }),
  ),
})

export const paymentBody = z.object({
  amount: laravelInteger({min: 1}),
  method: laravelString(30),
  paid_at: laravelDate((value) => parseClientTime(value) !== null).nullish(),
  notes: laravelString().nullish(),
})

export const statusBody = z.object({status: laravelString(32)})

export const assignBody = z.object({courier_user_id: laravelInteger()})

export const scheduleBody = z.object({
  shipping_fee_amount: laravelInteger({min: 0, nullable: true}),
  pickup: laravelArray().nullish(),
  delivery: laravelArray().nullish(),
  notes: laravelString().nullish(),
})

/** The signed-in user as the order core's actor (outlet.access has already refused a user without a tenant). */
function actorOf(request: FastifyRequest): OrderActor {
  const user = request.user as ApiUser
  if (user.tenant_id === null) throw new OpsError('OUTLET_ACCESS_DENIED', 'You do not have access to the requested outlet.')
  return {id: user.id, tenant_id: user.tenant_id}
}

function serviceContext(deps: ApiDeps, request: FastifyRequest): OrderServiceContext {
  return {clock: deps.clock, brandName: deps.config.appName, request: {requestId: request.requestId, ip: request.clientIp}}
}

/** X-Source-Channel, lower-cased; absent or unknown: web (reference §0.5). */
const channelOf = (request: FastifyRequest) => sourceChannelFrom(request.headers['x-source-channel'], 'web')

/** ensureOrderAccess on the bound order (the controller's check after its role check, before validation). */
async function orderAccess(request: FastifyRequest, deps: ApiDeps): Promise<OrderRecord> {
  const order = boundRow<OrderRecord>(request)
  await ensureOrderAccess(deps.db, request.user as ApiUser, order, await requestRoleKeys(request, deps))
  return order
}

/** orderAccess as a pre-validation check. */
const checkOrderAccess = async (request: FastifyRequest, deps: ApiDeps): Promise<void> => {
  await orderAccess(request, deps)
}

/**
 * The orders REST API (reference §3.5): list, create, show, payments, laundry and courier status, courier
 * assignment, schedule. Access runs in upstream's order through `guard` (auth, binding, outlet.access, role, the
 * controller's pre-validation checks), then the zod schemas validate with Laravel's messages; handlers call
 * src/core/orders.
 */
export const orderRoutes: ApiRouteModule = (app, deps) => {
  const {db} = deps

  app.get('/api/orders', {schema: {querystring: listQuery}, preValidation: guard(app, deps, {outletAccess: true, roles: ROLE_KEYS_ALL})}, async (request) =>
    listOrders(db, actorOf(request), request.query),
  )

  app.post(
    '/api/orders',
    {schema: {body: createBody}, preValidation: guard(app, deps, {outletAccess: true, roles: ['owner', 'admin', 'cashier']})},
    async (request, reply) => {
      const {body} = await createOrder(
        db,
        actorOf(request),
        {...request.body, outlet_id: request.body.outlet_id.toLowerCase()},
        serviceContext(deps, request),
        {
          sourceChannel: channelOf(request),
        },
      )
      return reply.code(201).send(body)
    },
  )

  app.get(
    '/api/orders/:order',
    {schema: {params: orderParams}, preValidation: guard(app, deps, {bind: orderBinding, outletAccess: true, beforeValidation: checkOrderAccess})},
    async (request) => showOrder(db, boundRow<OrderRecord>(request)),
  )

  app.post(
    '/api/orders/:order/payments',
    {
      schema: {params: orderParams, body: paymentBody},
      preValidation: guard(app, deps, {bind: orderBinding, outletAccess: true, roles: ['owner', 'admin', 'cashier'], beforeValidation: checkOrderAccess}),
    },
    async (request, reply) => {
      const {amount, method, notes, paid_at: paidAt} = request.body
      const input = {amount, method, notes, paid_at: paidAt === null || paidAt === undefined ? null : (parseClientTime(paidAt)?.stored ?? null)}
      const {body} = await addPayment(db, actorOf(request), boundRow<OrderRecord>(request).id, input, serviceContext(deps, request), {
        sourceChannel: channelOf(request),
      })
      return reply.code(201).send(body)
    },
  )

  app.post(
    '/api/orders/:order/status/laundry',
    {
      schema: {params: orderParams, body: statusBody},
      preValidation: guard(app, deps, {bind: orderBinding, outletAccess: true, roles: ['owner', 'admin', 'worker'], beforeValidation: checkOrderAccess}),
    },
    async (request) => {
      const {body} = await updateLaundryStatus(db, actorOf(request), boundRow<OrderRecord>(request).id, request.body.status, serviceContext(deps, request), {
        sourceChannel: channelOf(request),
      })
      return body
    },
  )

  app.post(
    '/api/orders/:order/status/courier',
    {
      schema: {params: orderParams, body: statusBody},
      preValidation: guard(app, deps, {
        bind: orderBinding,
        outletAccess: true,
        roles: ['owner', 'admin', 'courier'],
        // Upstream refuses a non-pickup order before it validates the body.
        beforeValidation: async (request, d) => assertCourierStatusAvailable(await orderAccess(request, d), 'rest'),
      }),
    },
    async (request) => {
      const {body} = await updateCourierStatus(db, actorOf(request), boundRow<OrderRecord>(request).id, request.body.status, serviceContext(deps, request), {
        sourceChannel: channelOf(request),
      })
      return body
    },
  )

  app.post(
    '/api/orders/:order/assign-courier',
    {
      schema: {params: orderParams, body: assignBody},
      preValidation: guard(app, deps, {
        bind: orderBinding,
        outletAccess: true,
        roles: ['owner', 'admin'],
        beforeValidation: async (request, d) => assertCourierAssignable(await orderAccess(request, d), 'rest'),
      }),
    },
    async (request) => {
      const {body} = await assignCourier(db, actorOf(request), boundRow<OrderRecord>(request).id, request.body.courier_user_id, serviceContext(deps, request), {
        sourceChannel: channelOf(request),
      })
      return body
    },
  )

  app.patch(
    '/api/orders/:order/schedule',
    {
      schema: {params: orderParams, body: scheduleBody},
      preValidation: guard(app, deps, {
        bind: orderBinding,
        outletAccess: true,
        roles: ['owner', 'admin', 'cashier'],
        // The cashier lock answers before the body is validated.
        beforeValidation: async (request, d) => assertScheduleEditable(await orderAccess(request, d), await requestRoleKeys(request, d)),
      }),
    },
    async (request) => {
      const {body} = await updateSchedule(db, actorOf(request), boundRow<OrderRecord>(request).id, request.body, serviceContext(deps, request), {
        sourceChannel: channelOf(request),
      })
      return body
    },
  )
}
