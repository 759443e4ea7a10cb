import {type Clock, toDbTimestamp} from '../clock.js'
import type {QuotaUsageRow} from '../db/rows.js'
import type {Executor} from '../db/transactions.js'
import {uuid7} from '../domain/ids.js'

/** QuotaService's QuotaExceeded: the tenant has used its plan's orders for the period. */
export class QuotaExceeded extends Error {
  constructor(
    readonly planKey: string | null,
    readonly period: string,
    readonly ordersLimit: number,
    readonly ordersUsed: number,
  ) {
    super('Order quota for the current period has been reached.')
    this.name = 'QuotaExceeded'
  }
}

/** Is this executor on PostgreSQL (row locks exist there; SQLite's write transaction already holds the database)? */
export function onPostgres(conn: Executor): boolean {
  return (conn as unknown as {client: {dialect: string}}).client.dialect === 'postgresql'
}

/**
 * QuotaService::consumeOrderSlot (reference §4.7), inside the caller's write transaction: the limit is the
 * tenant's current plan's orders_limit (none: unlimited); the quota_usage row of (tenant, period) is
 * created at 0 if missing, then read under a row lock (PostgreSQL `FOR UPDATE`; SQLite's BEGIN IMMEDIATE
 * already serialises writers), refused with QuotaExceeded when used >= limit, else incremented. A rollback
 * of the caller's transaction takes the increment back.
 */
export async function consumeOrderSlot(
  trx: Executor,
  tenantId: string,
  period: string,
  clock: Clock,
): Promise<{ordersUsed: number; ordersLimit: number | null}> {
  const plan = await trx('tenants')
    .leftJoin('plans', 'plans.id', 'tenants.current_plan_id')
    .where('tenants.id', tenantId)
    .first<{plan_key: string | null; orders_limit: number | null} | undefined>('plans.key as plan_key', 'plans.orders_limit')
  const limit = plan?.orders_limit === null || plan?.orders_limit === undefined ? null : Number(plan.orders_limit)
  const now = toDbTimestamp(clock.now())
  await trx('quota_usage')
    .insert({id: uuid7(), tenant_id: tenantId, period, orders_used: 0, created_at: now, updated_at: now})
    .onConflict(['tenant_id', 'period'])
    .ignore()
  const query = trx<QuotaUsageRow>('quota_usage').where({tenant_id: tenantId, period})
  const usage = await (onPostgres(trx) ? query.forUpdate() : query).first('id', 'orders_used')
  if (!usage) throw new Error(`quota_usage row for ${tenantId} ${period} vanished`)
  const used = Number(usage.orders_used)
  if (limit !== null && used >= limit) throw new QuotaExceeded(plan?.plan_key ?? null, period, limit, used)
  await trx('quota_usage')
    .where({id: usage.id})
    .update({orders_used: used + 1, updated_at: now})
  return {ordersUsed: used + 1, ordersLimit: limit}
}
