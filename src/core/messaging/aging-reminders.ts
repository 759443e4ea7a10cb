import type {Knex} from 'knex'

import type {Clock} from '../clock.js'
import type {Database} from '../db/connection.js'
import {interruptedBy, requireTables} from '../db/faults.js'
import {UsageError} from '../errors.js'
import {assertOutletId} from '../domain/ids.js'
import {enqueueOrderEvent, type EnqueueOutcome} from './dispatch.js'
import {validateTenant} from './redrive.js'
import type {OrderRow} from '../db/rows.js'
import {AGING_BUCKETS, type AgingBucket, assertBuckets, assertCollectionStatuses, DEFAULT_COLLECTION_STATUSES, parseAsOf} from './reminder-input.js'

export {
  AGING_BUCKETS,
  type AgingBucket,
  COLLECTION_STATUSES,
  DEFAULT_COLLECTION_STATUSES,
  parseAsOf,
  assertBuckets,
  assertCollectionStatuses,
} from './reminder-input.js'
export const BUCKET_LABELS: Record<AgingBucket, string> = {d0_7: '0-7 hari', d8_14: '8-14 hari', d15_30: '15-30 hari', d31_plus: '>30 hari'}

/** The ages (whole days, bounds included; null: unbounded) of each bucket, as bucketFor draws them. */
const BUCKET_AGES: Record<AgingBucket, [number | null, number | null]> = {d0_7: [null, 7], d8_14: [8, 14], d15_30: [15, 30], d31_plus: [31, null]}

export function bucketFor(ageDays: number): AgingBucket {
  if (ageDays <= 7) return 'd0_7'
  if (ageDays <= 14) return 'd8_14'
  if (ageDays <= 30) return 'd15_30'
  return 'd31_plus'
}

/** Whole days from the start of the order's (UTC) creation day to the as-of day; negative for later orders. */
export function ageInDays(createdAt: string, asOf: Date): number {
  const day = String(createdAt).slice(0, 10)
  const created = Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10)))
  return Math.round((asOf.getTime() - created) / 86_400_000)
}

export interface AgingReminderOptions {
  tenant?: string
  outlet?: string
  buckets?: string[]
  collectionStatuses?: string[]
  asOf?: string
  limit: number
  dryRun: boolean
  clock: Clock
  brandName: string
  /**
   * Progress, for the command to render: candidates handled of the candidates expected (the orders with
   * money due in the chosen statuses and buckets, up to --limit; counted first, only when this is given).
   */
  onProgress?: (done: number, total: number, phase: 'remind') => void
}

export interface AgingCandidate {
  order_id: string
  order_code: string
  due_amount: number
  bucket: AgingBucket
  age_days: number
  /** What the run did, or (a dry run) would do. */
  outcome: 'enqueued' | 'already_sent' | 'skipped'
  reason?: string
}

export interface AgingReminderResult {
  as_of: string
  buckets: AgingBucket[]
  collection_statuses: string[]
  candidates: AgingCandidate[]
  processed: number
  enqueued: number
  already_sent: number
  skipped: number
  skipped_reasons: Record<string, number>
  dry_run: boolean
}

/**
 * ops:wa:send-aging-reminders: orders with money due in the chosen collection statuses (a null status
 * counts as pending) get one WA_BILLING_REMINDER per order, as-of date and bucket; a second run on the
 * same day finds the messages and reports them as already_sent.
 */
export async function sendAgingReminders(db: Database, options: AgingReminderOptions): Promise<AgingReminderResult> {
  const asOfText = options.asOf ?? options.clock.now().toISOString().slice(0, 10)
  const asOf = parseAsOf(asOfText)
  const buckets = [...new Set(options.buckets?.length ? options.buckets : AGING_BUCKETS)]
  assertBuckets(buckets)
  const statuses = [...new Set(options.collectionStatuses?.length ? options.collectionStatuses : DEFAULT_COLLECTION_STATUSES)]
  assertCollectionStatuses(statuses)
  await requireTables(db, ['orders', 'tenants', 'plans', 'customers', 'outlets', 'users', 'wa_messages', 'wa_templates', 'wa_provider_configs', 'jobs'])
  await validateTenant(db, options.tenant)
  if (options.outlet !== undefined) {
    assertOutletId(options.outlet)
    if (!(await db.knex('outlets').where({id: options.outlet}).first('id')))
      throw new UsageError('UNKNOWN_OUTLET', `--outlet ${options.outlet}: no such outlet; nothing was changed`)
  }

  const result: AgingReminderResult = {
    as_of: asOfText,
    buckets: buckets as AgingBucket[],
    collection_statuses: statuses,
    candidates: [],
    processed: 0,
    enqueued: 0,
    already_sent: 0,
    skipped: 0,
    skipped_reasons: {},
    dry_run: options.dryRun === true,
  }
  const ymd = asOfText.replace(/-/g, '')
  const dueOrders = () => {
    const q = db
      .knex<OrderRow>('orders')
      .where('due_amount', '>', 0)
      .where((w) => {
        const others = statuses.filter((s) => s !== 'pending')
        if (statuses.includes('pending')) w.whereNull('collection_status').orWhere('collection_status', 'pending')
        if (others.length > 0) w.orWhereIn('collection_status', others)
      })
    if (options.tenant) q.where('tenant_id', options.tenant)
    if (options.outlet) q.where('outlet_id', options.outlet)
    return q
  }
  let expected = 0
  if (options.onProgress) {
    expected = Math.min(options.limit, await countCandidates(dueOrders(), buckets as AgingBucket[], asOf))
    options.onProgress(0, expected, 'remind')
  }
  // Keyset pages over (created_at, id): bounded memory whatever the number of open invoices.
  let after: {created_at: string; id: string} | undefined
  for (;;) {
    const page = dueOrders().orderBy('created_at').orderBy('id').limit(500).select('id', 'order_code', 'due_amount', 'created_at')
    if (after) {
      const last = after
      // Block bodies: knex ignores what a grouping callback returns, and a builder is a thenable.
      page.where((q) => {
        q.where('created_at', '>', last.created_at).orWhere((q2) => {
          q2.where('created_at', '=', last.created_at).where('id', '>', last.id)
        })
      })
    }
    const rows = await page
    if (rows.length === 0) return result
    for (const order of rows) {
      if (result.processed >= options.limit) return result
      const age = ageInDays(order.created_at, asOf)
      const bucket = bucketFor(age)
      if (!buckets.includes(bucket)) continue
      result.processed++
      const candidate: AgingCandidate = {
        order_id: order.id,
        order_code: order.order_code,
        due_amount: Number(order.due_amount),
        bucket,
        age_days: age,
        outcome: 'enqueued',
      }
      result.candidates.push(candidate)
      // A dry run takes every decision the real run takes (plan, phone, an existing message, the
      // template), so it reports the same enqueued / already_sent / skipped counts; it only writes nothing.
      let outcome: EnqueueOutcome
      try {
        outcome = await enqueueOrderEvent(
          db,
          candidate.order_id,
          'WA_BILLING_REMINDER',
          {aging_days: age, aging_bucket_key: bucket, aging_bucket_label: BUCKET_LABELS[bucket]},
          {
            source: 'system',
            source_channel: 'system',
            automation: 'aging_reminder',
            as_of: asOfText,
            aging_bucket: bucket,
            idempotency_suffix: `aging-reminder-${ymd}-${bucket}`,
          },
          {clock: options.clock, brandName: options.brandName, dryRun: options.dryRun},
        )
      } catch (error) {
        result.candidates.pop()
        result.processed--
        throw interruptedBy(error, db.target, {
          done: `${result.enqueued} reminder(s) were enqueued and committed (${result.already_sent} already sent, ${result.skipped} skipped) before it`,
          notDone: `order ${candidate.order_code} and the candidates after it were not handled`,
          next: 'rerun `laundry-ops wa remind` with the same --as-of: reminders already enqueued are found and not sent twice',
        })
      }
      if (outcome.status === 'enqueued' || outcome.status === 'would_enqueue') {
        candidate.outcome = 'enqueued'
        result.enqueued++
      } else if (outcome.status === 'existing') {
        candidate.outcome = 'already_sent'
        result.already_sent++
      } else {
        candidate.outcome = 'skipped'
        candidate.reason = outcome.reason
        result.skipped++
        result.skipped_reasons[outcome.reason] = (result.skipped_reasons[outcome.reason] ?? 0) + 1
      }
      options.onProgress?.(result.processed, Math.max(expected, result.processed), 'remind')
    }
    const last = rows[rows.length - 1]
    after = {created_at: last.created_at, id: last.id}
  }
}

/**
 * How many of these orders fall in the chosen buckets on the as-of date: bucketFor's ages as ranges of
 * creation days (an order created on day D is asOf - D days old), so the count is one query.
 */
async function countCandidates(orders: Knex.QueryBuilder, buckets: AgingBucket[], asOf: Date): Promise<number> {
  if (!AGING_BUCKETS.every((b) => buckets.includes(b))) {
    const day = (ageDays: number) => new Date(asOf.getTime() - ageDays * 86_400_000).toISOString().slice(0, 10)
    orders.where((any) => {
      for (const bucket of buckets) {
        const [youngest, oldest] = BUCKET_AGES[bucket]
        any.orWhere((range) => {
          // Created on or after the day `oldest` days back, and before the day `youngest - 1` days back.
          if (oldest !== null) range.where('created_at', '>=', day(oldest))
          if (youngest !== null) range.where('created_at', '<', day(youngest - 1))
        })
      }
    })
  }
  const [{n}]: Array<{n: number | string}> = await orders.count({n: '*'})
  return Number(n)
}
