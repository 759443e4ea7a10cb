import {toDbTimestamp} from '../clock.js'
import {UsageError} from '../errors.js'
import {YEARS} from '../limits.js'

export interface PeriodWindow {
  period: string
  /** First second of the month, UTC, inclusive. */
  start: string
  /** First second of the next month, UTC, exclusive: an order at 23:59:59 on the last day counts. */
  end: string
}

/**
 * A strict `YYYY-MM` (month 01–12) and its exact UTC calendar month. Upstream only checked the shape
 * (2026-13 passed) and derived the month without resetting the day (the day-31 overflow); both fixed.
 * A pure input check, kept out of the database code: the `quota reconcile` period argument and the
 * `observe health --period` flag parse with it, so a schedule file is checked with it too.
 */
export function periodWindow(period: string): PeriodWindow {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(period)
  if (!match) throw new UsageError('INVALID_PERIOD', `Invalid period format. Use YYYY-MM (month 01-12); got '${period}'.`)
  const year = Number(match[1])
  // Date.UTC reads years 0-99 as 1900-1999: 0000-01 counted the orders of January 1900.
  if (year < YEARS.min || year > YEARS.max) {
    throw new UsageError('INVALID_PERIOD', `Invalid period '${period}': the year must be from ${YEARS.min} to ${YEARS.max}.`)
  }
  const month = Number(match[2])
  const start = new Date(Date.UTC(year, month - 1, 1))
  const end = new Date(Date.UTC(year, month, 1))
  return {period, start: toDbTimestamp(start), end: toDbTimestamp(end)}
}
