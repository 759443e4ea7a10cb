/**
 * PHP's json_encode without flags, as Eloquent's array and json casts write a column: `/` escaped as `\/`
 * and every non-ASCII UTF-16 unit as `\uXXXX` (lower-case hex), so a row we write reads byte for byte
 * like one the Laravel application wrote.
 */
export function phpJsonEncode(value: unknown): string {
  return JSON.stringify(value)
    .replace(/\//g, '\\/')
    .replace(/[\u0080-\uffff]/g, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/**
 * A value decoded from a client's JSON as PHP's `json_decode($body, true)` holds it: every object is a PHP
 * array, and an array whose keys are 0, 1, … n−1 in order (`{}`, `{"0": "a", "1": "b"}`) is a list, which
 * json_encode writes back as a JSON array (`[]`, `["a","b"]`). So a client's `pickup: {}` is stored as `[]`
 * by the Laravel application, and by us. Known difference: JavaScript's JSON.parse moves integer-like keys
 * first, in ascending order, so a client's `{"1": "a", "0": "b"}` (an object to PHP, keys in that order)
 * arrives here as `{"0": "b", "1": "a"}` and is stored as the list `["b","a"]`; no client of this API
 * sends such keys.
 */
export function phpArrayShape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(phpArrayShape)
  if (value === null || typeof value !== 'object') return value
  const entries = Object.entries(value as Record<string, unknown>)
  if (entries.every(([key], index) => key === String(index))) return entries.map(([, item]) => phpArrayShape(item))
  return Object.fromEntries(entries.map(([key, item]) => [key, phpArrayShape(item)]))
}
