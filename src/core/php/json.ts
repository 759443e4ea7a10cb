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
