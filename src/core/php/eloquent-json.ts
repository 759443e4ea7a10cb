/**
 * How Laravel serialises what it reads back from the database (reference §0.3): Carbon's toIso8601String()
 * (a model's datetime cast is core/orders/serialize.ts's eloquentTimestamp), the `array` cast's JSON round trip and the boolean cast. Values come from
 * either engine as stored: timestamps as UTC `YYYY-MM-DD HH:MM:SS` text (the PostgreSQL driver is told to
 * hand them back as text), JSON as text on SQLite and parsed on PostgreSQL, booleans as 0/1 on SQLite.
 */

/** The `YYYY-MM-DD` and `HH:MM:SS` parts of a stored timestamp, or null. */
function parts(value: unknown): {date: string; time: string} | null {
  if (value === null || value === undefined) return null
  const text = value instanceof Date ? value.toISOString().replace('T', ' ') : typeof value === 'string' ? value : JSON.stringify(value)
  return {date: text.slice(0, 10), time: text.slice(11, 19)}
}

/** Carbon's toIso8601String() of a stored UTC timestamp: `2026-03-01T10:00:00+00:00`, or null. */
export function carbonIso8601(value: unknown): string | null {
  const p = parts(value)
  return p === null ? null : `${p.date}T${p.time}+00:00`
}

/** The boolean cast: 0/1 (SQLite), true/false (PostgreSQL); null stays null. */
export function eloquentBool(value: unknown): boolean | null {
  return value === null || value === undefined ? null : Boolean(Number(value))
}

/** An integer column (bigint ids come back as numbers already; counters may come back as text). */
export function eloquentInt(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value)
}

/**
 * A JSON value as PHP's json_decode($text, true) then json_encode() gives it back: an object becomes an
 * associative array, so `{}` comes back as `[]` and an object whose keys are exactly "0".."n-1" in order
 * comes back as a list; other objects keep their keys.
 */
export function phpArrayRoundTrip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(phpArrayRoundTrip)
  if (value === null || typeof value !== 'object') return value
  const entries = Object.entries(value as Record<string, unknown>)
  if (entries.every(([key], index) => key === String(index))) return entries.map(([, v]) => phpArrayRoundTrip(v))
  const out: Record<string, unknown> = {}
  for (const [key, v] of entries) Object.defineProperty(out, key, {value: phpArrayRoundTrip(v), enumerable: true, writable: true, configurable: true})
  return out
}

/** The `array` cast of a JSON column on read: the decoded value (null for null or unreadable text). */
export function eloquentArray(value: unknown): unknown {
  if (value === null || value === undefined) return null
  if (typeof value !== 'string') return phpArrayRoundTrip(value)
  try {
    return phpArrayRoundTrip(JSON.parse(value))
  } catch {
    return null
  }
}

/** PHP's empty() of a decoded array column: null, [] (and `{}`, which decodes to []) are empty. */
export function phpEmptyArray(value: unknown): boolean {
  if (value === null || value === undefined) return true
  if (Array.isArray(value)) return value.length === 0
  if (typeof value === 'object') return Object.keys(value).length === 0
  return value === '' || value === '0' || value === 0 || value === false
}
