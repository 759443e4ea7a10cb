/**
 * GET /api/billing/quota (reference §3.9): the tenant's quota snapshot for a period (QuotaService::snapshot,
 * core/sync/quota-snapshot.ts) and its tenant_subscriptions row for that period (display only: quota never
 * reads it).
 */
import type {AccessUser} from '../access/outlet-access.js'
import type {Clock} from '../clock.js'
import {toPeriod} from '../clock.js'
import type {Database} from '../db/connection.js'
import type {PlanRow} from '../db/rows.js'
import {carbonIso8601, eloquentInt} from '../php/eloquent-json.js'
import {type QuotaSnapshot, quotaSnapshot} from '../sync/quota-snapshot.js'

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
  const quota = await quotaSnapshot(db, tenantId, clock, period)
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
