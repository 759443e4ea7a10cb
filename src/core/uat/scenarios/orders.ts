import {UatCheckFailed} from '../client.js'
import type {UatContext, UatOutlet, UatService} from '../scenario.js'
import {demoOutlet, demoServices, signIn, uatPhone} from '../scenario.js'

/** The routes cashierOrder calls: the cashier's sign-in, the demo outlet and services, the order. */
export const CASHIER_ORDER_ROUTES = ['POST /api/auth/login', 'GET /api/outlets/allowed', 'GET /api/services', 'POST /api/orders'] as const
/** The routes of a pickup-delivery order moved by the demo courier: assignDemoCourier and the courier status. */
export const COURIER_FLOW_ROUTES = [
  ...CASHIER_ORDER_ROUTES,
  'GET /api/me',
  'POST /api/orders/{id}/assign-courier',
  'POST /api/orders/{id}/status/courier',
] as const

/** The order fields the scenarios read. */
export interface UatOrder {
  id: string
  order_code: string
  laundry_status: string
  courier_status: string | null
  is_pickup_delivery: boolean
  total_amount: number
  paid_amount: number
  due_amount: number
  courier_user_id?: number | null
  customer?: {phone_normalized: string; name: string}
  items?: Array<{service_id: string; unit_price_amount: number; subtotal_amount: number}>
  payments?: Array<{amount: number; method: string}>
}

/** A fresh order of this run, created by the cashier: `pcs` items of Cuci Satuan (and pickup-delivery when asked). */
export async function cashierOrder(
  ctx: UatContext,
  options: {suffix: string; pcs: number; pickup?: boolean},
): Promise<{order: UatOrder; outlet: UatOutlet; services: Map<string, UatService>; cashier: string}> {
  const cashier = await signIn(ctx, 'cashier')
  const outlet = await demoOutlet(ctx, cashier)
  const services = await demoServices(ctx, cashier, outlet.id)
  const pcs = services.get('Cuci Satuan')!
  const answer = ctx.client.expectStatus(
    await ctx.client.call<{data: UatOrder}>('POST', '/api/orders', {
      token: cashier,
      body: {
        outlet_id: outlet.id,
        order_code: `${options.suffix}-${ctx.tag}`,
        is_pickup_delivery: options.pickup === true,
        ...(options.pickup ? {pickup: {address: 'Jl. UAT 1', slot: '09:00'}, delivery: {address: 'Jl. UAT 1'}} : {}),
        customer: {name: `UAT Pelanggan ${options.suffix}`, phone: uatPhone(ctx, Number(options.suffix.replace(/\D/g, '')) % 100)},
        items: [{service_id: pcs.id, qty: options.pcs}],
      },
    }),
    201,
  )
  const order = answer.body?.data
  if (!order?.id) throw new UatCheckFailed(`${answer.label} answered 201 without the order`)
  return {order, outlet, services, cashier}
}

/** A status change the scenario expects to pass (200, the status set). */
export async function moveTo(ctx: UatContext, token: string, order: UatOrder, pipeline: 'laundry' | 'courier', status: string): Promise<UatOrder> {
  const answer = ctx.client.expectStatus(
    await ctx.client.call<{data: UatOrder}>('POST', `/api/orders/${order.id}/status/${pipeline}`, {token, body: {status}}),
    200,
  )
  const field = pipeline === 'laundry' ? 'laundry_status' : 'courier_status'
  ctx.client.expectEqual(`${field} → ${status}`, answer.body?.data?.[field], status)
  return answer.body.data
}

/** A status change the scenario expects to be refused: 422 with `reasonCode`. */
export async function refusedMove(
  ctx: UatContext,
  token: string,
  order: UatOrder,
  pipeline: 'laundry' | 'courier',
  status: string,
  reasonCode: string,
): Promise<void> {
  const answer = ctx.client.expectStatus(
    await ctx.client.call<{reason_code?: string}>('POST', `/api/orders/${order.id}/status/${pipeline}`, {token, body: {status}}),
    422,
  )
  ctx.client.expectEqual(`${pipeline} → ${status} refused ${reasonCode}`, answer.body?.reason_code, reasonCode)
}

/** The signed-in user's id (GET /api/me). */
export async function userId(ctx: UatContext, token: string): Promise<number> {
  const answer = ctx.client.expectStatus(await ctx.client.call<{data?: {user?: {id?: number}}}>('GET', '/api/me', {token}), 200)
  const id = answer.body?.data?.user?.id
  if (typeof id !== 'number') throw new UatCheckFailed(`${answer.label} answered without data.user.id`)
  return id
}

/** The admin assigns the demo courier to a pickup-delivery order (200, courier_user_id set). */
export async function assignDemoCourier(ctx: UatContext, order: UatOrder): Promise<{admin: string; courier: string; courierId: number}> {
  const admin = await signIn(ctx, 'admin')
  const courier = await signIn(ctx, 'courier')
  const courierId = await userId(ctx, courier)
  const answer = ctx.client.expectStatus(
    await ctx.client.call<{data: UatOrder}>('POST', `/api/orders/${order.id}/assign-courier`, {token: admin, body: {courier_user_id: courierId}}),
    200,
  )
  ctx.client.expectEqual('the courier is assigned', answer.body?.data?.courier_user_id, courierId)
  return {admin, courier, courierId}
}
