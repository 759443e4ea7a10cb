import {UatBlocked} from '../client.js'
import type {UatScenario} from '../scenario.js'
import {signIn} from '../scenario.js'
import {COURIER_FLOW_ROUTES, assignDemoCourier, cashierOrder, moveTo} from './orders.js'

/** The five order events of a pickup-delivery order's life, as the playbook's WA scenario lists them. */
const EVENTS = ['WA_DELIVERY_OTW', 'WA_LAUNDRY_READY', 'WA_ORDER_DONE', 'WA_PICKUP_CONFIRM', 'WA_PICKUP_OTW']

interface MessageEntry {
  order_id: string | null
  template_id: string
  status: string
  provider: {key: string} | null
}

/**
 * UAT-09 (Admin, "WA lifecycle message logs"; playbook WA scenario: with an active provider, a
 * pickup-delivery order moved to delivered logs WA_PICKUP_CONFIRM, WA_PICKUP_OTW, WA_LAUNDRY_READY,
 * WA_DELIVERY_OTW and WA_ORDER_DONE; upstream test_order_events_enqueue_wa_messages_for_premium_plan).
 * The mock provider is made active only when the tenant has no active provider (a deployment's real one is
 * left as it is). Locally the run's worker sends them, and they must be `sent` through the mock provider;
 * against a deployment they must be logged (its worker sends them in its own time).
 */
export const uat09: UatScenario = {
  id: 'UAT-09',
  role: 'Admin',
  notes: 'WA lifecycle message logs',
  routes: [...COURIER_FLOW_ROUTES, 'GET /api/wa/providers', 'POST /api/wa/provider-config', 'POST /api/orders/{id}/status/laundry', 'GET /api/wa/messages'],
  async run(ctx) {
    const {client} = ctx
    const admin = await signIn(ctx, 'admin')
    ctx.step('checking the WhatsApp provider')
    const providers = await client.call<{data?: Array<{key: string; configured: boolean; is_active: boolean}>; reason_code?: string}>(
      'GET',
      '/api/wa/providers',
      {
        token: admin,
      },
    )
    if (providers.status === 403 && providers.body?.reason_code === 'PLAN_FEATURE_DISABLED') {
      // The playbook's WA scenario needs a plan with WhatsApp ("upgrade the plan first"): a precondition.
      throw new UatBlocked(
        `${providers.label} answered 403 PLAN_FEATURE_DISABLED: the demo tenant's plan has no WhatsApp; put it on the premium or pro plan to run UAT-09`,
      )
    }
    client.expectStatus(providers, 200)
    const active = (providers.body?.data ?? []).find((p) => p.configured && p.is_active)
    if (!active) {
      client.expectStatus(
        await client.call('POST', '/api/wa/provider-config', {token: admin, body: {provider_key: 'mock', credentials: {token: 'uat-token'}, is_active: true}}),
        200,
      )
    }
    const provider = active?.key ?? 'mock'
    ctx.step('running a pickup-delivery order to delivered')
    const {order} = await cashierOrder(ctx, {suffix: 'UAT09', pcs: 2, pickup: true})
    const {courier} = await assignDemoCourier(ctx, order)
    for (const status of ['pickup_on_the_way', 'picked_up', 'at_outlet']) await moveTo(ctx, courier, order, 'courier', status)
    const worker = await signIn(ctx, 'worker')
    for (const status of ['washing', 'drying', 'ironing', 'ready']) await moveTo(ctx, worker, order, 'laundry', status)
    for (const status of ['delivery_pending', 'delivery_on_the_way', 'delivered']) await moveTo(ctx, courier, order, 'courier', status)
    if (ctx.messaging.expect === 'sent') {
      ctx.step('waiting for the worker to send the messages')
      await ctx.messaging.settle?.()
    }
    ctx.step('reading the message log')
    const log = client.expectStatus(await client.call<{data?: MessageEntry[]}>('GET', '/api/wa/messages?limit=100', {token: admin}), 200)
    const mine = (log.body?.data ?? []).filter((m) => m.order_id === order.id)
    client.expectEqual('the five order events are logged, once each', mine.map((m) => m.template_id).sort(), EVENTS)
    if (ctx.messaging.expect === 'sent') {
      client.expectEqual(
        `every message was sent through ${provider}`,
        mine.map((m) => [m.status, m.provider?.key ?? null]),
        mine.map(() => ['sent', provider]),
      )
    }
  },
}
