import type {Clock} from '../clock.js'
import {toDbTimestamp, toPeriod} from '../clock.js'
import type {Database} from '../db/connection.js'
import {requireTables} from '../db/faults.js'
import {writeTransaction} from '../db/transactions.js'
import {UsageError} from '../errors.js'
import {assertTenantId, uuid7} from '../domain/ids.js'
import {periodWindow} from './period.js'

export {periodWindow, type PeriodWindow} from './period.js'

export interface ReconcileOptions {
  period?: string
  tenant?: string
  dryRun?: boolean
  clock: Clock
  /**
   * Progress, for the command to render: `count` around the one aggregate query (tenants counted), then
   * `write` after each batch of quota_usage rows written (of the rows that change).
   */
  onProgress?: (done: number, total: number | null, phase: ReconcilePhase) => void
}

export type ReconcilePhase = 'count' | 'write'

export interface TenantUsage {
  id: string
  name: string
  orders: number
  previous: number | null
}

export interface ReconcileResult {
  period: string
  window: {start: string; end_exclusive: string}
  tenants: TenantUsage[]
  /** Existing quota_usage rows whose orders_used changed (a dry run: would change). */
  updated: number
  /** quota_usage rows created for tenants that had none for the period. */
  created: number
  /** Rows that already held the right count: not written. */
  unchanged: number
  dry_run: boolean
}

/**
 * ops:quota:reconcile: counts every tenant's orders created in the period with ONE aggregate query and
 * upserts `quota_usage.orders_used` (a row is created for tenants without one), in one transaction.
 */
export async function reconcileQuota(db: Database, options: ReconcileOptions): Promise<ReconcileResult> {
  const window = periodWindow(options.period ?? toPeriod(options.clock.now()))
  await requireTables(db, ['orders', 'tenants', 'quota_usage'])
  if (options.tenant !== undefined) {
    assertTenantId(options.tenant)
    if (!(await db.knex('tenants').where({id: options.tenant}).first('id'))) {
      throw new UsageError('UNKNOWN_TENANT', `--tenant ${options.tenant}: no such tenant; nothing was changed`)
    }
  }
  const knex = db.knex
  options.onProgress?.(0, null, 'count')
  // Count first, join after: the month's orders are grouped by tenant in a derived table (on SQLite a
  // single pass over the covering index (tenant_id, outlet_id, created_at); on PostgreSQL one scan and a
  // hash aggregate), and only then joined to the tenants. Joining tenants to orders before grouping made
  // SQLite walk every order of every tenant, all months, through the table (2.3-3.3 s for 1M orders).
  const counts = knex('orders')
    .select('tenant_id')
    .count({n: '*'})
    .where('created_at', '>=', window.start)
    .where('created_at', '<', window.end)
    .groupBy('tenant_id')
  if (options.tenant) counts.where('tenant_id', options.tenant)
  const query = knex('tenants as t')
    .leftJoin(counts.as('c'), 'c.tenant_id', 't.id')
    .leftJoin('quota_usage as q', (join) => {
      join.on('q.tenant_id', '=', 't.id').andOn('q.period', '=', knex.raw('?', [window.period]))
    })
    .select('t.id', 't.name', 'q.orders_used as previous', knex.raw('coalesce(c.n, 0) as orders'))
    .orderBy('t.name')
    .orderBy('t.id')
  if (options.tenant) query.where('t.id', options.tenant)
  const rows = (await query) as unknown as Array<Record<string, unknown>>
  const tenants: TenantUsage[] = rows.map((r) => ({
    id: String(r.id),
    name: String(r.name),
    orders: Number(r.orders),
    previous: r.previous === null || r.previous === undefined ? null : Number(r.previous),
  }))
  // Only rows that change are written: an unchanged count keeps its updated_at, and the summary tells
  // the operator how many tenants were really off.
  const changed = tenants.filter((t) => t.previous !== t.orders)
  const created = changed.filter((t) => t.previous === null).length
  options.onProgress?.(tenants.length, tenants.length, 'count')
  if (!options.dryRun && changed.length > 0) {
    const now = options.clock.now()
    const stamp = toDbTimestamp(now)
    options.onProgress?.(0, changed.length, 'write')
    await writeTransaction(db, async (trx) => {
      for (let i = 0; i < changed.length; i += 500) {
        const batch = changed.slice(i, i + 500).map((t) => ({
          id: uuid7(now.getTime()),
          tenant_id: t.id,
          period: window.period,
          orders_used: t.orders,
          created_at: stamp,
          updated_at: stamp,
        }))
        await trx('quota_usage').insert(batch).onConflict(['tenant_id', 'period']).merge(['orders_used', 'updated_at'])
        options.onProgress?.(i + batch.length, changed.length, 'write')
      }
    })
  }
  return {
    period: window.period,
    window: {start: window.start, end_exclusive: window.end},
    tenants,
    updated: changed.length - created,
    created,
    unchanged: tenants.length - changed.length,
    dry_run: options.dryRun === true,
  }
}
