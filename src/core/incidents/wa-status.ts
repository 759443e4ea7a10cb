import type {Knex} from 'knex'

import {type Clock, unixSeconds} from '../clock.js'
import type {Database} from '../db/connection.js'
import {requireTables} from '../db/faults.js'
import {validateTenant} from '../messaging/redrive.js'
import {fromDbTimestamp, storedTimestamp, type TimeWindow, windowEndingNow} from './window.js'

/** `wa status --since` default: failed messages updated in the last day (older failures are history, not the incident). */
export const WA_STATUS_DEFAULT_SINCE = '24h'
export const MESSAGING_QUEUE = 'messaging'

export interface WaStatusOptions {
  /** Limits the failed messages (by updated_at). */
  since: string
  tenant?: string
}

export interface TenantWaStatus {
  tenant_id: string
  tenant_name: string | null
  /** The active provider config; else the most recently updated one (active false); null when none. */
  provider: {key: string; is_active: boolean; updated_at: string} | null
  queued: number
  oldest_queued_at: string | null
  /** Seconds from the oldest queued message's created_at to now (never negative). */
  oldest_queued_age_seconds: number | null
  failed: number
  failed_by_code: Array<{last_error_code: string | null; count: number}>
}

export interface WaStatusReport {
  /** The window of the failed messages. */
  window: TimeWindow
  tenant: string | null
  tenants: TenantWaStatus[]
  totals: {queued: number; failed: number}
  /**
   * Jobs of the messaging queue (all tenants: a job's tenant is inside its serialized payload, which is
   * not read here): waiting (available now), delayed (available later) and reserved (a worker holds it).
   */
  jobs: {queue: typeof MESSAGING_QUEUE; waiting: number; delayed: number; reserved: number}
}

const count = async (q: Knex.QueryBuilder): Promise<number> => {
  const [row]: Array<{n: number | string}> = await q.count({n: '*'})
  return Number(row?.n ?? 0)
}

/**
 * `wa status`: per tenant, the provider config, the queued backlog with the age of its oldest message,
 * and the failed messages of the window by last_error_code (the runbook's "many WA failures" checks);
 * the messaging queue's jobs as one summary. A tenant with nothing queued and nothing failed in the
 * window is left out, unless --tenant names it. Aggregates run in SQL on the (tenant_id, status,
 * created_at) index. Only reads.
 */
export async function waStatusReport(db: Database, options: WaStatusOptions, clock: Clock): Promise<WaStatusReport> {
  const window = windowEndingNow(options.since, clock)
  const now = clock.now()
  await requireTables(db, ['wa_messages', 'wa_provider_configs', 'wa_providers', 'tenants', 'jobs'])
  await validateTenant(db, options.tenant)
  const scoped = (q: Knex.QueryBuilder) => (options.tenant === undefined ? q : q.where('wa_messages.tenant_id', options.tenant))

  const queuedRows: Array<{tenant_id: string; n: number | string; oldest: unknown}> = await scoped(db.knex('wa_messages').where({status: 'queued'}))
    .select('tenant_id')
    .count({n: '*'})
    .min({oldest: 'created_at'})
    .groupBy('tenant_id')
  const failedRows: Array<{tenant_id: string; last_error_code: string | null; n: number | string}> = await scoped(
    db.knex('wa_messages').where({status: 'failed'}).where('updated_at', '>=', window.from).where('updated_at', '<=', window.to),
  )
    .select('tenant_id', 'last_error_code')
    .count({n: '*'})
    .groupBy('tenant_id', 'last_error_code')

  const ids = new Set<string>([...queuedRows.map((r) => String(r.tenant_id)), ...failedRows.map((r) => String(r.tenant_id))])
  if (options.tenant !== undefined) ids.add(options.tenant)
  const tenantIds = [...ids]

  const names = new Map<string, string>()
  const providers = new Map<string, TenantWaStatus['provider']>()
  // Chunks keep the IN lists far below the engines' bound-parameter limits.
  for (let i = 0; i < tenantIds.length; i += 500) {
    const chunk = tenantIds.slice(i, i + 500)
    const tenants = await db.knex<{id: string; name: string}>('tenants').whereIn('id', chunk).select('id', 'name')
    for (const t of tenants) names.set(String(t.id), String(t.name))
    const configs = (await db
      .knex('wa_provider_configs')
      .join('wa_providers', 'wa_providers.id', 'wa_provider_configs.provider_id')
      .whereIn('wa_provider_configs.tenant_id', chunk)
      .select('wa_provider_configs.tenant_id', 'wa_providers.key', 'wa_provider_configs.is_active', 'wa_provider_configs.updated_at')
      // Per tenant: the active one first, then the newest, then by key (deterministic).
      .orderBy([
        {column: 'wa_provider_configs.tenant_id', order: 'asc'},
        {column: 'wa_provider_configs.is_active', order: 'desc'},
        {column: 'wa_provider_configs.updated_at', order: 'desc'},
        {column: 'wa_providers.key', order: 'asc'},
      ])) as Array<{tenant_id: string; key: string; is_active: boolean | number; updated_at: unknown}>
    for (const c of configs) {
      const tenant = String(c.tenant_id)
      if (providers.has(tenant)) continue
      providers.set(tenant, {key: String(c.key), is_active: c.is_active === true || Number(c.is_active) === 1, updated_at: storedTimestamp(c.updated_at) ?? ''})
    }
  }

  const tenants: TenantWaStatus[] = tenantIds.map((id) => {
    const queued = queuedRows.find((r) => String(r.tenant_id) === id)
    const oldestAt = storedTimestamp(queued?.oldest ?? null)
    const oldest = fromDbTimestamp(oldestAt)
    const failedByCode = failedRows
      .filter((r) => String(r.tenant_id) === id)
      .map((r) => ({last_error_code: r.last_error_code === null ? null : String(r.last_error_code), count: Number(r.n)}))
      .sort((a, b) => b.count - a.count || compareNullsLast(a.last_error_code, b.last_error_code))
    return {
      tenant_id: id,
      tenant_name: names.get(id) ?? null,
      provider: providers.get(id) ?? null,
      queued: Number(queued?.n ?? 0),
      oldest_queued_at: oldestAt,
      oldest_queued_age_seconds: oldest ? Math.max(0, unixSeconds(now) - unixSeconds(oldest)) : null,
      failed: failedByCode.reduce((sum, f) => sum + f.count, 0),
      failed_by_code: failedByCode,
    }
  })
  // Busiest first: failures, then backlog, then by id.
  tenants.sort((a, b) => b.failed - a.failed || b.queued - a.queued || a.tenant_id.localeCompare(b.tenant_id))

  const nowSeconds = unixSeconds(now)
  const jobs = () => db.knex('jobs').where({queue: MESSAGING_QUEUE})
  return {
    window,
    tenant: options.tenant ?? null,
    tenants,
    totals: {queued: tenants.reduce((s, t) => s + t.queued, 0), failed: tenants.reduce((s, t) => s + t.failed, 0)},
    jobs: {
      queue: MESSAGING_QUEUE,
      waiting: await count(jobs().whereNull('reserved_at').where('available_at', '<=', nowSeconds)),
      delayed: await count(jobs().whereNull('reserved_at').where('available_at', '>', nowSeconds)),
      reserved: await count(jobs().whereNotNull('reserved_at')),
    },
  }
}

function compareNullsLast(a: string | null, b: string | null): number {
  if (a === b) return 0
  if (a === null) return 1
  if (b === null) return -1
  return a < b ? -1 : 1
}
