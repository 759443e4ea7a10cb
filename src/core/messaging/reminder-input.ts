import {UsageError} from '../errors.js'
import {YEARS} from '../limits.js'

/**
 * The pure input checks of `wa remind` (no database): its flags parse with them, so a bad value is
 * refused at start-up and in a schedule file; sendAgingReminders checks again for other callers.
 */

export const AGING_BUCKETS = ['d0_7', 'd8_14', 'd15_30', 'd31_plus'] as const
export type AgingBucket = (typeof AGING_BUCKETS)[number]
export const COLLECTION_STATUSES = ['pending', 'contacted', 'promise_to_pay', 'escalated', 'resolved'] as const
export const DEFAULT_COLLECTION_STATUSES = ['pending', 'contacted', 'promise_to_pay', 'escalated'] as const

/** A real calendar date `YYYY-MM-DD` (2026-02-30 is refused, where upstream rolled it into March). */
export function parseAsOf(value: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value)
  const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : undefined
  const year = Number(match?.[1])
  if (!match || !date || date.getUTCFullYear() !== year || date.getUTCMonth() !== Number(match[2]) - 1 || date.getUTCDate() !== Number(match[3])) {
    throw new UsageError('INVALID_AS_OF', `Invalid --as-of '${value}'. Use a real date as YYYY-MM-DD.`)
  }
  if (year < YEARS.min || year > YEARS.max) {
    throw new UsageError('INVALID_AS_OF', `Invalid --as-of '${value}': the year must be from ${YEARS.min} to ${YEARS.max}.`)
  }
  return date
}

function invalid<T extends string>(values: readonly string[], allowed: readonly T[]): string[] {
  return values.filter((v) => !(allowed as readonly string[]).includes(v))
}

/** `--bucket` values: each one of AGING_BUCKETS. */
export function assertBuckets(values: readonly string[]): void {
  const bad = invalid(values, AGING_BUCKETS)
  if (bad.length > 0) throw new UsageError('INVALID_BUCKET', `Invalid bucket option(s): ${bad.join(', ')} (expected ${AGING_BUCKETS.join(', ')})`)
}

/** `--collection-status` values: each one of COLLECTION_STATUSES. */
export function assertCollectionStatuses(values: readonly string[]): void {
  const bad = invalid(values, COLLECTION_STATUSES)
  if (bad.length > 0) {
    throw new UsageError('INVALID_COLLECTION_STATUS', `Invalid collection status option(s): ${bad.join(', ')} (expected ${COLLECTION_STATUSES.join(', ')})`)
  }
}
