import type {UatScenario} from '../scenario.js'
import {signIn} from '../scenario.js'
import {COURIER_FLOW_ROUTES, assignDemoCourier, cashierOrder, moveTo, refusedMove} from './orders.js'

/**
 * UAT-06 (Kurir + Pekerja, "delivery_pending blocked before ready"; playbook: the courier sets
 * delivery_pending before the laundry is ready → INVALID_TRANSITION; upstream
 * test_assign_courier_requires_courier_role_and_status_rules, steps 3-8).
 */
export const uat06: UatScenario = {
  id: 'UAT-06',
  role: 'Kurir + Pekerja',
  notes: 'delivery_pending blocked before ready',
  routes: [...COURIER_FLOW_ROUTES, 'POST /api/orders/{id}/status/laundry'],
  async run(ctx) {
    const {order} = await cashierOrder(ctx, {suffix: 'UAT06', pcs: 1, pickup: true})
    const {courier} = await assignDemoCourier(ctx, order)
    for (const status of ['pickup_on_the_way', 'picked_up', 'at_outlet']) await moveTo(ctx, courier, order, 'courier', status)
    ctx.step('delivery_pending before the laundry is ready')
    await refusedMove(ctx, courier, order, 'courier', 'delivery_pending', 'INVALID_TRANSITION')
    const worker = await signIn(ctx, 'worker')
    for (const status of ['washing', 'drying', 'ironing', 'ready']) await moveTo(ctx, worker, order, 'laundry', status)
    ctx.step('delivery_pending once ready')
    await moveTo(ctx, courier, order, 'courier', 'delivery_pending')
  },
}
