import type {UatScenario} from '../scenario.js'
import {signIn} from '../scenario.js'
import {CASHIER_ORDER_ROUTES, cashierOrder} from './orders.js'

interface QuotaAnswer {
  data?: {
    quota?: {period: string; orders_limit: number | null; orders_used: number; orders_remaining: number | null}
    subscription?: {period: string} | null
  }
  reason_code?: string
}

/** The current period (`YYYY-MM`, UTC), as the server counts quota. */
function currentPeriod(): string {
  return new Date().toISOString().slice(0, 7)
}

/**
 * UAT-08 (Owner/Admin, "Billing quota endpoint"; playbook: period, used and remaining shown correctly;
 * upstream test_billing_quota_endpoint_returns_snapshot_and_restricts_role): the admin and the owner read
 * the snapshot, an order of this run counts in it, the cashier is refused.
 */
export const uat08: UatScenario = {
  id: 'UAT-08',
  role: 'Owner/Admin',
  notes: 'Billing quota endpoint',
  routes: [...CASHIER_ORDER_ROUTES, 'GET /api/billing/quota'],
  async run(ctx) {
    const {client} = ctx
    const period = currentPeriod()
    const admin = await signIn(ctx, 'admin')
    const read = async (token: string) =>
      client.expectStatus(await client.call<QuotaAnswer>('GET', `/api/billing/quota?period=${period}`, {token}), 200).body.data?.quota
    ctx.step('reading the quota')
    const before = await read(admin)
    client.expectEqual('the snapshot is of the asked period', before?.period, period)
    if (before && before.orders_limit !== null) {
      client.expectEqual('remaining = limit − used (never below 0)', before.orders_remaining, Math.max(before.orders_limit - before.orders_used, 0))
    }
    await cashierOrder(ctx, {suffix: 'UAT08', pcs: 1})
    const after = await read(await signIn(ctx, 'owner'))
    // Other activity on a shared deployment may add more; this run's order counts at least once.
    client.expectEqual('the new order counts in orders_used', (after?.orders_used ?? 0) >= (before?.orders_used ?? 0) + 1, true)
    ctx.step('the cashier asks')
    const cashier = await signIn(ctx, 'cashier')
    const refused = client.expectStatus(await client.call<QuotaAnswer>('GET', '/api/billing/quota', {token: cashier}), 403)
    client.expectEqual('the cashier is refused ROLE_ACCESS_DENIED', refused.body?.reason_code, 'ROLE_ACCESS_DENIED')
  },
}
