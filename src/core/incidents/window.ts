import {type Clock, toDbTimestamp} from '../clock.js'
import {UsageError} from '../errors.js'

/** Seconds per unit of a `--since` duration. */
const UNIT_SECONDS = {s: 1, m: 60, h: 3600, d: 86_400, w: 604_800} as const

/** The longest window: 100 years, so `now - since` stays a date both engines store. */
const MAX_SECONDS = 36_500 * 86_400

/**
 * `--since 15m|1h|2d` (also `30s`, `1w`): a whole number of seconds, minutes, hours, days or weeks. A pure
 * input check, also run while parsing the flag; returns the seconds.
 */
export function parseSince(value: string): number {
  const m = /^(\d{1,12})([smhdw])$/.exec(value)
  const seconds = m ? Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS] : Number.NaN
  if (!m || !(seconds >= 1) || seconds > MAX_SECONDS) {
    throw new UsageError(
      'INVALID_DURATION',
      `--since '${value}' is not a duration: expected a whole number and a unit s, m, h, d or w (e.g. 15m, 1h, 2d), from 1s up to 36500d`,
    )
  }
  return seconds
}

/** The window an incident helper reads: `[from, to]`, both ends inclusive, in the stored format (UTC). */
export interface TimeWindow {
  /** The --since value as given. */
  since: string
  seconds: number
  from: string
  to: string
}

/** The window that ends at the clock's now and reaches `since` back. */
export function windowEndingNow(since: string, clock: Clock): TimeWindow {
  const seconds = parseSince(since)
  const now = clock.now()
  return {since, seconds, from: toDbTimestamp(new Date(now.getTime() - seconds * 1000)), to: toDbTimestamp(now)}
}

/** A stored UTC timestamp (`YYYY-MM-DD HH:MM:SS`) as a Date; null for anything else. */
export function fromDbTimestamp(value: unknown): Date | null {
  if (typeof value !== 'string') return null
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})/.exec(value)
  if (!m) return null
  const ms = Date.parse(`${m[1]}T${m[2]}Z`)
  return Number.isNaN(ms) ? null : new Date(ms)
}

/** A stored timestamp as text (both drivers give text; a Date is formatted the same way). */
export function storedTimestamp(value: unknown): string | null {
  if (value === null || value === undefined) return null
  if (value instanceof Date) return toDbTimestamp(value)
  return text(value)
}

/** A text column's value as a string (a number as its digits); null for null or anything else. */
export function text(value: unknown): string | null {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'bigint') return String(value)
  return null
}
