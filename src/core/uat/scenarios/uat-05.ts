import type {UatScenario} from '../scenario.js'
import {COURIER_FLOW_ROUTES, assignDemoCourier, cashierOrder, moveTo} from './orders.js'

/**
 * UAT-05 (Kurir, "Pickup flow progression"; playbook: pickup_pending → pickup_on_the_way → picked_up →
 * at_outlet, every step accepted; upstream test_operational_pickup_delivery_flow_runs_end_to_end, steps 2-4).
 */
export const uat05: UatScenario = {
  id: 'UAT-05',
  role: 'Kurir',
  notes: 'Pickup flow progression',
  routes: COURIER_FLOW_ROUTES,
  async run(ctx) {
    const {order} = await cashierOrder(ctx, {suffix: 'UAT05', pcs: 2, pickup: true})
    ctx.client.expectEqual('a pickup-delivery order starts pickup_pending', [order.laundry_status, order.courier_status], ['received', 'pickup_pending'])
    const {courier} = await assignDemoCourier(ctx, order)
    ctx.step('moving the pickup forward')
    for (const status of ['pickup_on_the_way', 'picked_up', 'at_outlet']) await moveTo(ctx, courier, order, 'courier', status)
  },
}
