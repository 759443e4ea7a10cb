import type {Clock} from '../clock.js'
import {toDbTimestamp} from '../clock.js'
import type {Database} from '../db/connection.js'
import {interruptedBy, requireTables} from '../db/faults.js'
import {writeTransaction} from '../db/transactions.js'
import {UsageError} from '../errors.js'
import {assertTenantId} from '../domain/ids.js'
import {pushJob} from '../queue/database-queue.js'
import {MESSAGING_QUEUE, sendWaJobPayload} from '../queue/payload.js'
import {readJsonObject} from './json-column.js'
import type {WaMessageRow} from '../db/rows.js'

/** Upstream's default: the transient codes a later attempt may cure. */
export const DEFAULT_REDRIVE_REASONS = ['NETWORK_ERROR', 'RATE_LIMIT', 'UNKNOWN_ERROR', 'PROVIDER_TIMEOUT'] as const

/** Every reason code the send job and our providers write. */
export const KNOWN_REASON_CODES = [
  ...DEFAULT_REDRIVE_REASONS,
  'PHONE_INVALID',
  'EMPTY_MESSAGE',
  'PROVIDER_NOT_SUPPORTED',
  'PROVIDER_CONFIG_MISSING',
  'PROVIDER_CONFIG_INVALID',
  'PROVIDER_REJECTED',
] as const

/** ISO-8601 with offset, as Carbon's toIso8601String() writes UTC: `2026-02-17T02:00:00+00:00`. */
export function iso8601(d: Date): string {
  return `${d.toISOString().slice(0, 19)}+00:00`
}

export interface RedriveOptions {
  tenant?: string
  limit: number
  reasons: string[]
  allReasons: boolean
  dryRun: boolean
  clock: Clock
  /** Progress, for the command to render: candidates handled of the candidates selected. */
  onProgress?: (done: number, total: number, phase: 'requeue') => void
}

export interface RedriveCandidate {
  id: string
  tenant_id: string
  last_error_code: string | null
  attempts: number
  updated_at: string
  /**
   * Reset to queued with a new send job; false when another process changed the message between
   * selection and reset. A dry run: true (what the run would do).
   */
  requeued: boolean
}

export interface RedriveResult {
  reasons: string[] | 'all'
  candidates: RedriveCandidate[]
  processed: number
  requeued: number
  dry_run: boolean
}

export async function validateTenant(db: Database, tenant: string | undefined): Promise<void> {
  if (tenant === undefined) return
  assertTenantId(tenant)
  if (!(await db.knex('tenants').where({id: tenant}).first('id')))
    throw new UsageError('UNKNOWN_TENANT', `--tenant ${tenant}: no such tenant; nothing was changed`)
}

/**
 * ops:wa:redrive-failed: failed messages with a retryable reason, oldest `updated_at` first, are reset
 * to `queued` and given a send job, both in one transaction per message, guarded on the row still being
 * `failed` so that two concurrent redrives never enqueue one message twice.
 */
export async function redriveFailedMessages(db: Database, options: RedriveOptions): Promise<RedriveResult> {
  await requireTables(db, ['wa_messages', 'tenants', 'jobs'])
  const reasons = [...new Set(options.reasons.map((r) => r.trim()).filter(Boolean))]
  if (reasons.length > 0) {
    const codes = await db.knex<WaMessageRow>('wa_messages').distinct('last_error_code').whereNotNull('last_error_code')
    const seen = new Set(codes.map((r) => String(r.last_error_code)))
    const unknown = reasons.filter((r) => !(KNOWN_REASON_CODES as readonly string[]).includes(r) && !seen.has(r))
    if (unknown.length > 0) {
      throw new UsageError('UNKNOWN_REASON', `unknown reason code(s): ${unknown.join(', ')}; expected one of ${KNOWN_REASON_CODES.join(', ')}`)
    }
  }
  await validateTenant(db, options.tenant)
  const filter: string[] | 'all' = reasons.length > 0 ? reasons : options.allReasons ? 'all' : [...DEFAULT_REDRIVE_REASONS]

  const query = db.knex<WaMessageRow>('wa_messages').where({status: 'failed'}).orderBy('updated_at').orderBy('id').limit(options.limit)
  if (options.tenant) query.where({tenant_id: options.tenant})
  if (filter !== 'all') query.whereIn('last_error_code', filter)
  const rows = await query.select('id', 'tenant_id', 'last_error_code', 'attempts', 'updated_at', 'metadata_json')

  const candidates: RedriveCandidate[] = []
  options.onProgress?.(0, rows.length, 'requeue')
  for (const row of rows) {
    const candidate: RedriveCandidate = {
      id: String(row.id),
      tenant_id: String(row.tenant_id),
      last_error_code: row.last_error_code === null ? null : String(row.last_error_code),
      attempts: Number(row.attempts),
      updated_at: String(row.updated_at),
      requeued: options.dryRun,
    }
    if (!options.dryRun) {
      const now = options.clock.now()
      try {
        candidate.requeued = await requeue(db, row, now)
      } catch (error) {
        const done = candidates.filter((c) => c.requeued).length
        throw interruptedBy(error, db.target, {
          done: `${done} of ${rows.length} candidate message(s) were requeued and committed`,
          notDone: `the other ${rows.length - done} were not changed`,
          next: 'rerun `laundry-ops wa redrive` to requeue them (a message is never requeued twice)',
        })
      }
    }
    candidates.push(candidate)
    options.onProgress?.(candidates.length, rows.length, 'requeue')
  }
  return {
    reasons: filter,
    candidates,
    processed: candidates.length,
    requeued: candidates.filter((c) => c.requeued).length,
    dry_run: options.dryRun === true,
  }
}

/** Resets one failed message to queued and pushes its send job, in one transaction; false if it changed meanwhile. */
async function requeue(db: Database, row: Record<string, unknown>, now: Date): Promise<boolean> {
  return writeTransaction(db, async (trx) => {
    const metadata = {...readJsonObject(row.metadata_json), manual_redrive_at: iso8601(now)}
    const changed = await trx('wa_messages')
      .where({id: row.id, status: 'failed'})
      .update({
        status: 'queued',
        attempts: 0,
        last_error_code: null,
        last_error_message: null,
        metadata_json: JSON.stringify(metadata),
        updated_at: toDbTimestamp(now),
      })
    if (changed !== 1) return false
    await pushJob(trx, {queue: MESSAGING_QUEUE, payload: sendWaJobPayload({waMessageId: String(row.id), now}), now})
    return true
  })
}
