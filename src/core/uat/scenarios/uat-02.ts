import type {UatScenario} from '../scenario.js'
import {CASHIER_ORDER_ROUTES, cashierOrder, type UatOrder} from './orders.js'

/**
 * UAT-02 (Kasir, "Payment append-only"; playbook: add a payment twice; payments are append-only, paid and
 * due updated; upstream test_add_payment_is_append_only_and_updates_due_amount).
 */
export const uat02: UatScenario = {
  id: 'UAT-02',
  role: 'Kasir',
  notes: 'Payment append-only',
  routes: [...CASHIER_ORDER_ROUTES, 'POST /api/orders/{id}/payments', 'GET /api/orders/{id}'],
  async run(ctx) {
    const {client} = ctx
    ctx.step('creating an order to pay')
    const {order, cashier} = await cashierOrder(ctx, {suffix: 'UAT02', pcs: 4})
    const total = order.total_amount
    const first = Math.floor(total / 2)
    ctx.step('paying twice')
    const pay = async (amount: number, method: string) =>
      client.expectStatus(await client.call<{order: UatOrder}>('POST', `/api/orders/${order.id}/payments`, {token: cashier, body: {amount, method}}), 201).body
        .order
    const afterFirst = await pay(first, 'cash')
    client.expectEqual('after the first payment: paid and due', [afterFirst.paid_amount, afterFirst.due_amount], [first, total - first])
    const afterSecond = await pay(total - first, 'transfer')
    client.expectEqual('after the second payment: paid = total, due 0', [afterSecond.paid_amount, afterSecond.due_amount], [total, 0])
    const shown = client.expectStatus(await client.call<{data: UatOrder}>('GET', `/api/orders/${order.id}`, {token: cashier}), 200).body.data
    client.expectEqual(
      'both payments kept, in order (append-only)',
      (shown.payments ?? []).map((p) => [p.amount, p.method]),
      [
        [first, 'cash'],
        [total - first, 'transfer'],
      ],
    )
  },
}
