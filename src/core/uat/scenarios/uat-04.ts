import type {UatScenario} from '../scenario.js'
import {signIn} from '../scenario.js'
import {CASHIER_ORDER_ROUTES, cashierOrder, type UatOrder, userId} from './orders.js'

/**
 * UAT-04 (Admin, "Assign courier role validation"; playbook: only users with the courier role can be
 * assigned; upstream test_assign_courier_requires_courier_role_and_status_rules, steps 1-2).
 */
export const uat04: UatScenario = {
  id: 'UAT-04',
  role: 'Admin',
  notes: 'Assign courier role validation',
  routes: [...CASHIER_ORDER_ROUTES, 'GET /api/me', 'POST /api/orders/{id}/assign-courier'],
  async run(ctx) {
    const {client} = ctx
    const {order, cashier} = await cashierOrder(ctx, {suffix: 'UAT04', pcs: 1, pickup: true})
    const admin = await signIn(ctx, 'admin')
    const courier = await signIn(ctx, 'courier')
    const assign = (courierUserId: number) =>
      client.call<{data?: UatOrder; reason_code?: string}>('POST', `/api/orders/${order.id}/assign-courier`, {
        token: admin,
        body: {courier_user_id: courierUserId},
      })
    ctx.step('assigning a cashier as the courier')
    const refused = client.expectStatus(await assign(await userId(ctx, cashier)), 422)
    client.expectEqual('a user without the courier role is refused VALIDATION_FAILED', refused.body?.reason_code, 'VALIDATION_FAILED')
    ctx.step('assigning the courier')
    const courierId = await userId(ctx, courier)
    const assigned = client.expectStatus(await assign(courierId), 200)
    client.expectEqual('the courier is assigned', assigned.body?.data?.courier_user_id, courierId)
  },
}
