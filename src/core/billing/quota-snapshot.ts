/**
 * QuotaService::snapshot and GET /api/billing/quota (reference §3.9, §4.7): the tenant's order quota for a
 * period, and its tenant_subscriptions row for that period (display only: quota never reads it).
 */
import type {AccessUser} from '../access/outlet-access.js'
import type {Clock} from '../clock.js'
import {toPeriod} from '../clock.js'
import type {Database} from '../db/connection.js'
import type {PlanRow, QuotaUsageRow, TenantRow} from '../db/rows.js'
import {carbonIso8601, eloquentInt} from '../php/eloquent-json.js'

export interface QuotaSnapshot {
  plan: string | null
  period: string
  orders_limit: number | null
  orders_used: number
  orders_remaining: number | null
  can_create_order: boolean
}

/** The quota of `tenantId` for `period` (`YYYY-MM`, default the current UTC month): limits from the tenant's current plan. */
export async function quotaSnapshot(db: Database, input: {tenantId: string; period?: string | null}, clock: Clock): Promise<QuotaSnapshot> {
  const period = input.period || toPeriod(clock.now())
  const plan = await db
    .knex<TenantRow>('tenants')
    .join<PlanRow>('plans', 'plans.id', 'tenants.current_plan_id')
    .where('tenants.id', input.tenantId)
    .first<Pick<PlanRow, 'key' | 'orders_limit'> | undefined>('plans.key', 'plans.orders_limit')
  const usage = await db.knex<QuotaUsageRow>('quota_usage').where({tenant_id: input.tenantId, period}).first('orders_used')
  const ordersLimit = eloquentInt(plan?.orders_limit)
  const ordersUsed = eloquentInt(usage?.orders_used) ?? 0
  const remaining = ordersLimit === null ? null : Math.max(ordersLimit - ordersUsed, 0)
  return {
    plan: plan?.key ?? null,
    period,
    orders_limit: ordersLimit,
    orders_used: ordersUsed,
    orders_remaining: remaining,
    can_create_order: remaining === null || remaining > 0,
  }
}

export interface BillingQuotaAnswer {
  data: {
    quota: QuotaSnapshot
    subscription: {
      id: string
      period: string
      status: string
      starts_at: string | null
      ends_at: string | null
      plan: {key: string; name: string; orders_limit: number | null} | null
    } | null
  }
}

interface SubscriptionRow {
  id: string
  plan_id: number
  period: string
  status: string
  starts_at: string | null
  ends_at: string | null
}

/** GET /api/billing/quota (owner, admin; the role check is the route's): `period` already validated as `Y-m`. */
export async function billingQuota(db: Database, input: {user: AccessUser; query: {period?: string | null}}, clock: Clock): Promise<BillingQuotaAnswer> {
  const tenantId = input.user.tenant_id ?? ''
  const period = input.query.period || toPeriod(clock.now())
  const quota = await quotaSnapshot(db, {tenantId, period}, clock)
  const row: SubscriptionRow | undefined = await db
    .knex('tenant_subscriptions')
    .where({tenant_id: tenantId, period})
    .orderBy('id')
    .first('id', 'plan_id', 'period', 'status', 'starts_at', 'ends_at')
  let subscription: BillingQuotaAnswer['data']['subscription'] = null
  if (row) {
    const plan = await db.knex<PlanRow>('plans').where({id: row.plan_id}).first('key', 'name', 'orders_limit')
    subscription = {
      id: row.id,
      period: row.period,
      status: row.status,
      starts_at: carbonIso8601(row.starts_at),
      ends_at: carbonIso8601(row.ends_at),
      plan: plan ? {key: plan.key, name: plan.name, orders_limit: eloquentInt(plan.orders_limit)} : null,
    }
  }
  return {data: {quota, subscription}}
}
