import type {UatScenario} from '../scenario.js'
import {signIn} from '../scenario.js'
import {CASHIER_ORDER_ROUTES, cashierOrder, moveTo, refusedMove} from './orders.js'

/**
 * UAT-03 (Pekerja, "Laundry forward-only transitions"; playbook: received → washing → drying → ironing →
 * ready, every valid step accepted, jumps and backward moves rejected; upstream
 * test_laundry_status_is_forward_only_and_rejects_invalid_jump).
 */
export const uat03: UatScenario = {
  id: 'UAT-03',
  role: 'Pekerja',
  notes: 'Laundry forward-only transitions',
  routes: [...CASHIER_ORDER_ROUTES, 'POST /api/orders/{id}/status/laundry'],
  async run(ctx) {
    const {order} = await cashierOrder(ctx, {suffix: 'UAT03', pcs: 1})
    ctx.step('signing in as the worker')
    const worker = await signIn(ctx, 'worker')
    ctx.step('moving the laundry status forward')
    await moveTo(ctx, worker, order, 'laundry', 'washing')
    await refusedMove(ctx, worker, order, 'laundry', 'ready', 'INVALID_TRANSITION')
    await refusedMove(ctx, worker, order, 'laundry', 'received', 'STATUS_NOT_FORWARD')
    for (const status of ['drying', 'ironing', 'ready']) await moveTo(ctx, worker, order, 'laundry', status)
  },
}
