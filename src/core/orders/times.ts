/**
 * Client-supplied times (payments' `paid_at`, sync's `client_time`) as the Laravel application stores them
 * (reference §0.3's datetime storage quirk, kept: A-7 is not one of issue 10's fixes): the wall-clock text
 * in the value's own offset, read back later as UTC; the quota period of a sync order is that wall clock's
 * `Y-m`. Accepted: the ISO-8601 shapes clients send (`2026-02-15`, `2026-02-15 10:00`, `2026-02-15T10:00:00`,
 * optional fraction, optional `Z` or `±HH:MM` / `±HHMM` / `±HH`).
 */
export interface ClientTime {
  /** `YYYY-MM-DD HH:MM:SS`, the wall clock as given (the stored value). */
  stored: string
  /** `YYYY-MM` of that wall clock. */
  period: string
  /** The instant the value names (its offset applied). */
  instant: Date
}

const SHAPE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/

/** Parses a client time (see above); null when it is not a real date and time in an accepted shape. */
export function parseClientTime(raw: string): ClientTime | null {
  const m = SHAPE.exec(raw.trim())
  if (!m) return null
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)]
  // PHP's checkdate (Laravel's `date` rule) refuses year 0; PostgreSQL cannot store it either.
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  const d = new Date(0)
  d.setUTCFullYear(year, month - 1, day)
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return null
  d.setUTCHours(hour, minute, second, 0)
  const wall = d.getTime()
  let offsetMinutes = 0
  const zone = m[7]
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '')
    const hours = Number(digits.slice(0, 2))
    const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0
    if (hours > 23 || minutes > 59) return null
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes)
  }
  const pad = (n: number) => String(n).padStart(2, '0')
  return {
    stored: `${m[1]}-${m[2]}-${m[3]} ${pad(hour)}:${pad(minute)}:${pad(second)}`,
    period: `${m[1]}-${m[2]}`,
    instant: new Date(wall - offsetMinutes * 60_000),
  }
}
