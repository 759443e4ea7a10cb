import type {UatScenario} from '../scenario.js'
import {signIn} from '../scenario.js'
import {COURIER_FLOW_ROUTES, assignDemoCourier, cashierOrder, moveTo, type UatOrder} from './orders.js'

/**
 * UAT-07 (Kurir, "Delivery flow progression"; playbook: delivery_pending → delivery_on_the_way → delivered
 * after ready, every step accepted; upstream test_operational_pickup_delivery_flow_runs_end_to_end, steps
 * 5-9: the order ends ready and delivered, paid in full with two payments).
 */
export const uat07: UatScenario = {
  id: 'UAT-07',
  role: 'Kurir',
  notes: 'Delivery flow progression',
  routes: [...COURIER_FLOW_ROUTES, 'POST /api/orders/{id}/status/laundry', 'POST /api/orders/{id}/payments', 'GET /api/orders/{id}'],
  async run(ctx) {
    const {client} = ctx
    const {order, cashier} = await cashierOrder(ctx, {suffix: 'UAT07', pcs: 3, pickup: true})
    const {admin, courier} = await assignDemoCourier(ctx, order)
    for (const status of ['pickup_on_the_way', 'picked_up', 'at_outlet']) await moveTo(ctx, courier, order, 'courier', status)
    const worker = await signIn(ctx, 'worker')
    for (const status of ['washing', 'drying', 'ironing', 'ready']) await moveTo(ctx, worker, order, 'laundry', status)
    ctx.step('delivering')
    for (const status of ['delivery_pending', 'delivery_on_the_way', 'delivered']) await moveTo(ctx, courier, order, 'courier', status)
    ctx.step('paying in full')
    const first = Math.min(20000, order.total_amount - 1)
    for (const [amount, method] of [
      [first, 'cash'],
      [Math.max(order.total_amount - first, 1), 'qris'],
    ] as const) {
      client.expectStatus(await client.call('POST', `/api/orders/${order.id}/payments`, {token: cashier, body: {amount, method}}), 201)
    }
    const shown = client.expectStatus(await client.call<{data: UatOrder}>('GET', `/api/orders/${order.id}`, {token: admin}), 200).body.data
    client.expectEqual(
      'the order ends ready, delivered, paid in full',
      [shown.laundry_status, shown.courier_status, shown.paid_amount, shown.due_amount],
      ['ready', 'delivered', order.total_amount, 0],
    )
  },
}
