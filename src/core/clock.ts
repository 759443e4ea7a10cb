/** Time comes from a clock so that tests can pin "now" (cron slots, cutoffs, periods). */
export interface Clock {
  now(): Date
  /**
   * A test or rehearsal clock (`--at`): its reading is the time to act on everywhere. Unset, the clock is
   * this host's, which may be wrong or jump: leases and scheduler slots on PostgreSQL then follow the
   * database server's clock instead (core/db/lease-time.ts).
   */
  readonly simulated?: boolean
}

export const systemClock: Clock = {now: () => new Date()}

export function fixedClock(at: Date | string): Clock {
  const ms = typeof at === 'string' ? Date.parse(at) : at.getTime()
  if (Number.isNaN(ms)) throw new Error(`fixedClock: not a date: ${String(at)}`)
  return {now: () => new Date(ms), simulated: true}
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

/** Unix seconds, as Laravel stores queue times and lock expirations. */
export const unixSeconds = (d: Date): number => Math.floor(d.getTime() / 1000)

/** Laravel's storage format for timestamp columns: UTC `YYYY-MM-DD HH:MM:SS`. */
export function toDbTimestamp(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
}

/** `YYYY-MM` of the UTC month, the quota period format. */
export function toPeriod(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}`
}

/** First and last second of the UTC calendar month that contains `d`. */
export function utcMonthBounds(d: Date): {start: Date; end: Date} {
  const start = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1, 0, 0, 0))
  const end = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1, 0, 0, 0) - 1000)
  return {start, end}
}
