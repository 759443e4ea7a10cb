import type {Knex} from 'knex'

import type {Clock} from '../clock.js'
import type {Database} from '../db/connection.js'
import {requireTables} from '../db/faults.js'
import {validateTenant} from '../messaging/redrive.js'
import {storedTimestamp, text, type TimeWindow, windowEndingNow} from './window.js'

/** Devices listed per reason code (the count covers all of them). */
export const DEVICES_LISTED = 5

export interface SyncRejectOptions {
  since: string
  tenant?: string
}

/** The newest rejected mutation of a reason code. */
export interface RejectSample {
  id: number
  tenant_id: string
  mutation_id: string
  type: string
  entity_type: string | null
  entity_id: string | null
  message: string | null
  created_at: string
}

export interface RejectGroup {
  /** The mutation log's reason_code; null when none was recorded. */
  reason_code: string | null
  count: number
  first_seen: string
  last_seen: string
  devices: {count: number; ids: string[]}
  sample: RejectSample | null
}

export interface SyncRejectReport {
  window: TimeWindow
  tenant: string | null
  totals: {rejected: number; applied: number; devices: number}
  reasons: RejectGroup[]
}

/**
 * `sync rejects`: the rejected mutations of the sync mutation log (sync_mutations, status `rejected`,
 * logged in the window) grouped by reason code, most first, each with its count, first / last seen, the
 * devices involved and the newest mutation as a sample; totals include the applied mutations of the same
 * window (the runbook's applied vs rejected ratio). Grouping runs in SQL; the per-code sample and device
 * list are one small query each (reason codes are a short catalogue). Only reads.
 */
export async function syncRejectReport(db: Database, options: SyncRejectOptions, clock: Clock): Promise<SyncRejectReport> {
  const window = windowEndingNow(options.since, clock)
  await requireTables(db, ['sync_mutations', 'tenants'])
  await validateTenant(db, options.tenant)
  const logged = (status: 'rejected' | 'applied'): Knex.QueryBuilder => {
    const q = db.knex('sync_mutations').where({status}).where('created_at', '>=', window.from).where('created_at', '<=', window.to)
    if (options.tenant !== undefined) q.where({tenant_id: options.tenant})
    return q
  }
  const groups = (await logged('rejected')
    .select('reason_code')
    .count({n: '*'})
    .countDistinct({devices: 'device_id'})
    .min({first_seen: 'created_at'})
    .max({last_seen: 'created_at'})
    .groupBy('reason_code')
    .orderBy([
      {column: 'n', order: 'desc'},
      {column: 'reason_code', order: 'asc', nulls: 'last'},
    ])) as Array<{
    reason_code: string | null
    n: number | string
    devices: number | string
    first_seen: unknown
    last_seen: unknown
  }>
  const ofCode = (q: Knex.QueryBuilder, code: string | null) => (code === null ? q.whereNull('reason_code') : q.where({reason_code: code}))

  const reasons: RejectGroup[] = []
  for (const g of groups) {
    const code = g.reason_code === null ? null : String(g.reason_code)
    const newest = ofCode(logged('rejected'), code).orderBy([
      {column: 'created_at', order: 'desc'},
      {column: 'id', order: 'desc'},
    ])
    const sample: Record<string, unknown> | undefined = await newest.first(
      'id',
      'tenant_id',
      'mutation_id',
      'type',
      'entity_type',
      'entity_id',
      'message',
      'created_at',
    )
    const devices = (await ofCode(logged('rejected'), code).distinct('device_id').orderBy('device_id').limit(DEVICES_LISTED)) as Array<{device_id: string}>
    reasons.push({
      reason_code: code,
      count: Number(g.n),
      first_seen: storedTimestamp(g.first_seen) ?? '',
      last_seen: storedTimestamp(g.last_seen) ?? '',
      devices: {count: Number(g.devices), ids: devices.map((d) => String(d.device_id))},
      sample: sample
        ? {
            id: Number(sample.id),
            tenant_id: text(sample.tenant_id) ?? '',
            mutation_id: text(sample.mutation_id) ?? '',
            type: text(sample.type) ?? '',
            entity_type: text(sample.entity_type),
            entity_id: text(sample.entity_id),
            message: text(sample.message),
            created_at: storedTimestamp(sample.created_at) ?? '',
          }
        : null,
    })
  }
  const [rejectedDevices]: Array<{n: number | string}> = await logged('rejected').countDistinct({n: 'device_id'})
  const [applied]: Array<{n: number | string}> = await logged('applied').count({n: '*'})
  return {
    window,
    tenant: options.tenant ?? null,
    totals: {rejected: reasons.reduce((sum, r) => sum + r.count, 0), applied: Number(applied?.n ?? 0), devices: Number(rejectedDevices?.n ?? 0)},
    reasons,
  }
}
