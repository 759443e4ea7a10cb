/**
 * QuotaService::snapshot (reference §4.7): the tenant's order quota for a period (default the current UTC
 * month), as push and pull report it and GET /api/billing/quota answers it.
 */
import type {Clock} from '../clock.js'
import {toPeriod} from '../clock.js'
import type {Database} from '../db/connection.js'
import type {PlanRow, QuotaUsageRow} from '../db/rows.js'

export interface QuotaSnapshot {
  plan: string | null
  period: string
  orders_limit: number | null
  orders_used: number
  orders_remaining: number | null
  can_create_order: boolean
}

export async function quotaSnapshot(db: Database, tenantId: string, clock: Clock, period: string = toPeriod(clock.now())): Promise<QuotaSnapshot> {
  const plan = await db
    .knex('tenants')
    .join<PlanRow>('plans', 'plans.id', 'tenants.current_plan_id')
    .where('tenants.id', tenantId)
    .first<Pick<PlanRow, 'key' | 'orders_limit'> | undefined>('plans.key', 'plans.orders_limit')
  const usage = await db.knex<QuotaUsageRow>('quota_usage').where({tenant_id: tenantId, period}).first('orders_used')
  const limit = plan?.orders_limit === null || plan?.orders_limit === undefined ? null : Number(plan.orders_limit)
  const used = usage ? Number(usage.orders_used) : 0
  const remaining = limit === null ? null : Math.max(limit - used, 0)
  return {
    plan: plan?.key ?? null,
    period,
    orders_limit: limit,
    orders_used: used,
    orders_remaining: remaining,
    can_create_order: remaining === null || remaining > 0,
  }
}
