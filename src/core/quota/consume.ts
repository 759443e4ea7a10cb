import {type Clock, toDbTimestamp} from '../clock.js'
import {selectRows} from '../db/raw.js'
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

/** A tenant's order quota for one period as it stands: the plan's key and orders_limit (null: unlimited) and the slots used. */
export interface OrderQuota {
  tenantId: string
  period: string
  planKey: string | null
  limit: number | null
  used: number
}

/** The tenant's current plan and its quota_usage row for the period (0 used when there is none yet), in one read. */
export async function readOrderQuota(conn: Executor, tenantId: string, period: string): Promise<OrderQuota> {
  const [row] = await selectRows<{plan_key: string | null; orders_limit: number | string | null; orders_used: number | string | null}>(
    conn,
    'select plans.key as plan_key, plans.orders_limit, quota_usage.orders_used from tenants ' +
      'left join plans on plans.id = tenants.current_plan_id ' +
      'left join quota_usage on quota_usage.tenant_id = tenants.id and quota_usage.period = ? ' +
      'where tenants.id = ? limit 1',
    [period, tenantId],
  )
  return {
    tenantId,
    period,
    planKey: row?.plan_key ?? null,
    limit: row?.orders_limit === null || row?.orders_limit === undefined ? null : Number(row.orders_limit),
    used: row?.orders_used === null || row?.orders_used === undefined ? 0 : Number(row.orders_used),
  }
}

/** QuotaService's check: QuotaExceeded when the plan has a limit and the period has used it up. */
export function assertQuotaLeft(quota: OrderQuota): void {
  if (quota.limit !== null && quota.used >= quota.limit) throw new QuotaExceeded(quota.planKey, quota.period, quota.limit, quota.used)
}

/**
 * Takes one slot of `quota` (as read by readOrderQuota) in one statement, inside the caller's write
 * transaction: the quota_usage row of (tenant, period) is inserted at 1, or its orders_used incremented
 * only while it is below the limit (`insert … on conflict do update … where … returning`). The statement
 * is atomic on both engines: on PostgreSQL the conflicting row is locked and the condition evaluated on its
 * latest version, so concurrent creations one below the limit let exactly one through; SQLite's
 * BEGIN IMMEDIATE already serialises writers. Called last in a transaction, the row lock (which every other
 * creation of the tenant waits on) is held only until the commit. Throws QuotaExceeded (with the slots used
 * as they are now) when no slot is left; a rollback of the caller's transaction takes the increment back.
 * Returns orders_used after the increment.
 */
export async function takeOrderSlot(trx: Executor, quota: OrderQuota, clock: Clock): Promise<number> {
  const {tenantId, period, limit} = quota
  if (limit !== null && limit <= 0) throw new QuotaExceeded(quota.planKey, period, limit, quota.used)
  const now = toDbTimestamp(clock.now())
  const [row] = await selectRows<{orders_used: number | string}>(
    trx,
    'insert into quota_usage (id, tenant_id, period, orders_used, created_at, updated_at) values (?, ?, ?, 1, ?, ?) ' +
      'on conflict (tenant_id, period) do update set orders_used = quota_usage.orders_used + 1, updated_at = excluded.updated_at' +
      (limit === null ? '' : ' where quota_usage.orders_used < ?') +
      ' returning orders_used',
    limit === null ? [uuid7(), tenantId, period, now, now] : [uuid7(), tenantId, period, now, now, limit],
  )
  if (row) return Number(row.orders_used)
  const [current] = await selectRows<{orders_used: number | string}>(trx, 'select orders_used from quota_usage where tenant_id = ? and period = ? limit 1', [
    tenantId,
    period,
  ])
  throw new QuotaExceeded(quota.planKey, period, limit ?? 0, Number(current?.orders_used ?? quota.used))
}

/**
 * QuotaService::consumeOrderSlot (reference §4.7), inside the caller's write transaction: the limit is the
 * tenant's current plan's orders_limit (none: unlimited); refused with QuotaExceeded when the period's
 * orders_used has reached it, else one slot is taken (takeOrderSlot). The order paths split the two: the
 * check first (so a tenant out of quota gets QUOTA_EXCEEDED before any other check, as upstream) and the
 * slot last (so the quota row is locked only for the commit).
 */
export async function consumeOrderSlot(
  trx: Executor,
  tenantId: string,
  period: string,
  clock: Clock,
): Promise<{ordersUsed: number; ordersLimit: number | null}> {
  const quota = await readOrderQuota(trx, tenantId, period)
  assertQuotaLeft(quota)
  return {ordersUsed: await takeOrderSlot(trx, quota, clock), ordersLimit: quota.limit}
}
