/**
 * Outlet-local calendar dates: the invoice date and the lease day are the date on the outlet's clock
 * (reference §4.4, §4.5), whatever the offset of the instant they are derived from.
 */

/** The outlet timezone when the row has none (upstream's default, SYNC_API_CONTRACT §1). */
export const DEFAULT_OUTLET_TIMEZONE = 'Asia/Jakarta'

const formatters = new Map<string, Intl.DateTimeFormat>()

/** `YYYY-MM-DD` of `instant` on the clock of `timezone` (an IANA name). */
export function localDate(instant: Date, timezone: string | null | undefined): string {
  const zone = timezone || DEFAULT_OUTLET_TIMEZONE
  let format = formatters.get(zone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit'})
    formatters.set(zone, format)
  }
  const parts = Object.fromEntries(format.formatToParts(instant).map((part) => [part.type, part.value]))
  return `${parts.year}-${parts.month}-${parts.day}`
}

/** `YYYY-MM-DD` → `yymmdd`, the date part of an invoice number. */
export function invoiceDatePart(date: string): string {
  return `${date.slice(2, 4)}${date.slice(5, 7)}${date.slice(8, 10)}`
}

/** A real calendar date `YYYY-MM-DD` (PHP's `date_format:Y-m-d`: the parsed date formats back to the same text). */
export function isCalendarDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text)
  if (!match) return false
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
}

/** The calendar date `days` after `date` (`YYYY-MM-DD`). */
export function addDays(date: string, days: number): string {
  const [year, month, day] = date.split('-').map(Number)
  const next = new Date(0)
  next.setUTCFullYear(year, month - 1, day + days)
  return `${String(next.getUTCFullYear()).padStart(4, '0')}-${String(next.getUTCMonth() + 1).padStart(2, '0')}-${String(next.getUTCDate()).padStart(2, '0')}`
}
