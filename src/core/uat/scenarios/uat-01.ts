import type {UatScenario} from '../scenario.js'
import {demoOutlet, demoServices, signIn, uatPhone} from '../scenario.js'
import {CASHIER_ORDER_ROUTES, type UatOrder} from './orders.js'

/** The create answer: the order with its customer and items. */
type CreatedOrder = UatOrder & Required<Pick<UatOrder, 'customer' | 'items'>>

/**
 * UAT-01 (Kasir, "Create order non pickup"; playbook: log in and create a non-pickup order; the order is
 * `received`, total and due correct; upstream test_create_order_calculates_total_and_normalizes_customer_phone).
 */
export const uat01: UatScenario = {
  id: 'UAT-01',
  role: 'Kasir',
  notes: 'Create order non pickup',
  routes: CASHIER_ORDER_ROUTES,
  async run(ctx) {
    const {client} = ctx
    ctx.step('signing in as the cashier')
    const token = await signIn(ctx, 'cashier')
    const outlet = await demoOutlet(ctx, token)
    const services = await demoServices(ctx, token, outlet.id)
    const kg = services.get('Kiloan Reguler')!
    const pcs = services.get('Cuci Satuan')!
    ctx.step('creating a non-pickup order')
    const phone = uatPhone(ctx, 1)
    const answer = client.expectStatus(
      await client.call<{data: CreatedOrder}>('POST', '/api/orders', {
        token,
        body: {
          outlet_id: outlet.id,
          order_code: `UAT01-${ctx.tag}`,
          is_pickup_delivery: false,
          customer: {name: 'UAT Pelanggan 01', phone: `${phone.slice(0, 4)}-${phone.slice(4, 8)}-${phone.slice(8)}`},
          items: [
            {service_id: kg.id, weight_kg: 2.5},
            {service_id: pcs.id, qty: 3},
          ],
          shipping_fee_amount: 0,
          discount_amount: 1000,
        },
      }),
      201,
    )
    const order = answer.body.data
    const kgLine = Math.round(2.5 * kg.price)
    const pcsLine = 3 * pcs.price
    const total = Math.max(kgLine + pcsLine - 1000, 0)
    client.expectEqual(
      'the order is received and not pickup-delivery',
      [order.laundry_status, order.courier_status, order.is_pickup_delivery],
      ['received', null, false],
    )
    client.expectEqual(
      'the item lines are priced from the catalogue',
      order.items.map((i) => i.subtotal_amount),
      [kgLine, pcsLine],
    )
    client.expectEqual('total = lines − discount; paid 0; due = total', [order.total_amount, order.paid_amount, order.due_amount], [total, 0, total])
    client.expectEqual('the customer phone is normalised to 62…', order.customer.phone_normalized, `62${phone.slice(1)}`)
  },
}
