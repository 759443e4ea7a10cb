import type {UatScenario} from '../scenario.js'
import {demoOutlet, signIn} from '../scenario.js'
import {CASHIER_ORDER_ROUTES, cashierOrder} from './orders.js'

/**
 * UAT-10 (Semua role, "Role guard on master data"; playbook: features outside one's role are refused with
 * ROLE_ACCESS_DENIED or OUTLET_ACCESS_DENIED; upstream
 * test_services_and_outlet_services_endpoints_work_with_role_guards): every role reads what it may, and is
 * refused what it may not, with the reason code; an outlet that is not the user's is refused too.
 */
export const uat10: UatScenario = {
  id: 'UAT-10',
  role: 'Semua role',
  notes: 'Role guard on master data',
  routes: [
    ...CASHIER_ORDER_ROUTES,
    'GET /api/outlet-services',
    'GET /api/billing/quota',
    'POST /api/orders/{id}/status/laundry',
    'POST /api/orders/{id}/status/courier',
    'POST /api/orders/{id}/assign-courier',
  ],
  async run(ctx) {
    const {client} = ctx
    const refusal = async (token: string, method: string, path: string, reason: string, body?: unknown) => {
      const answer = client.expectStatus(await client.call<{reason_code?: string}>(method, path, {token, body}), 403)
      client.expectEqual(`${answer.label} refused ${reason}`, answer.body?.reason_code, reason)
    }
    const {order, outlet} = await cashierOrder(ctx, {suffix: 'UAT10', pcs: 1, pickup: true})
    ctx.step('the master data: owner, admin and cashier read it, worker and courier are refused')
    for (const role of ['owner', 'admin', 'cashier'] as const) {
      const token = await signIn(ctx, role)
      client.expectStatus(await client.call('GET', `/api/services?outlet_id=${outlet.id}`, {token}), 200)
      client.expectStatus(await client.call('GET', `/api/outlet-services?outlet_id=${outlet.id}`, {token}), 200)
    }
    const cashier = await signIn(ctx, 'cashier')
    const worker = await signIn(ctx, 'worker')
    const courier = await signIn(ctx, 'courier')
    for (const token of [worker, courier]) {
      await refusal(token, 'GET', `/api/services?outlet_id=${outlet.id}`, 'ROLE_ACCESS_DENIED')
      await refusal(token, 'GET', `/api/outlet-services?outlet_id=${outlet.id}`, 'ROLE_ACCESS_DENIED')
    }
    ctx.step('roles outside their features')
    await refusal(cashier, 'GET', '/api/billing/quota', 'ROLE_ACCESS_DENIED')
    await refusal(cashier, 'GET', '/api/services?include_deleted=1', 'ROLE_ACCESS_DENIED')
    await refusal(worker, 'POST', '/api/orders', 'ROLE_ACCESS_DENIED', {outlet_id: outlet.id})
    await refusal(courier, 'POST', `/api/orders/${order.id}/status/laundry`, 'ROLE_ACCESS_DENIED', {status: 'washing'})
    await refusal(worker, 'POST', `/api/orders/${order.id}/status/courier`, 'ROLE_ACCESS_DENIED', {status: 'pickup_on_the_way'})
    await refusal(cashier, 'POST', `/api/orders/${order.id}/assign-courier`, 'ROLE_ACCESS_DENIED', {courier_user_id: 1})
    ctx.step('an outlet that is not the user’s')
    // A well-formed id of no outlet of the tenant: the outlet scope refuses it.
    await refusal(cashier, 'GET', '/api/outlet-services?outlet_id=00000000-0000-4000-8000-000000000000', 'OUTLET_ACCESS_DENIED')
    await demoOutlet(ctx, cashier)
  },
}
