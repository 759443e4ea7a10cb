/**
 * PHP's loose value semantics over JSON values: what a tenant's stored JSON means once PHP has decoded
 * it. JSON objects play the part of PHP associative arrays and JSON lists the part of PHP lists;
 * undefined (a missing key) behaves as null.
 */
import {phpNumberToString} from './string-conversion.js'

/** A JSON object, which json_decode(..., true) turns into an associative array. */
export type JsonObject = Record<string, unknown>

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A JSON list, which json_decode turns into a PHP list. */
export function isJsonList(value: unknown): value is unknown[] {
  return Array.isArray(value)
}

/** array_values() of a PHP array (a JSON list or object), or null when the value is not an array at all. */
export function phpArrayValues(value: unknown): unknown[] | null {
  if (isJsonList(value)) return value
  if (isJsonObject(value)) return Object.values(value)
  return null
}

/** PHP's `(bool)`: null, false, 0, '', '0' and the empty array are false; everything else is true. */
export function phpBoolCast(value: unknown): boolean {
  if (value === null || value === undefined) return false
  if (typeof value === 'boolean') return value
  if (typeof value === 'number') return value !== 0
  if (typeof value === 'string') return value !== '' && value !== '0'
  const values = phpArrayValues(value)
  return values === null || values.length > 0
}

// PHP 8 numeric strings: optional leading and trailing whitespace around a decimal or exponent number.
const NUMERIC_STRING = /^[ \t\n\r\v\f]*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?[ \t\n\r\v\f]*$/
const LEADING_NUMBER = /^[ \t\n\r\v\f]*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)/

/** PHP's is_numeric() for strings: `'1e1'`, `' 5'`, `'5 '` and `'.5'` are numeric; `'0x1A'` and `''` are not. */
export function isNumericString(text: string): boolean {
  return NUMERIC_STRING.test(text)
}

/** PHP's `(float)`: a string gives its leading number (`'12abc'` → 12) or 0; arrays give 0 or 1. */
export function phpFloatCast(value: unknown): number {
  if (value === null || value === undefined) return 0
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value === 'number') return value
  if (typeof value === 'string') {
    const match = LEADING_NUMBER.exec(value)
    return match ? Number(match[1]) : 0
  }

  return phpBoolCast(value) ? 1 : 0
}

/** PHP's `(int)`: truncates toward zero; out-of-range or non-finite gives 0 (PHP 8 on 64-bit). */
export function phpIntCast(value: unknown): number {
  const float = phpFloatCast(value)
  if (!Number.isFinite(float) || Math.abs(float) >= 2 ** 63) return 0
  return Math.trunc(float)
}

/**
 * PHP 8 loose equality (`==`) over JSON values:
 * - bool against anything, and null against a non-string: both sides as bool (`null == false`, `null == 0`);
 * - null against a string: equal only to '' (`null == '0'` is false);
 * - arrays: equal when they hold the same keys with loosely equal values; never equal to a scalar;
 * - number against string: numerically when the string is numeric (`'1' == 1`), otherwise as strings,
 *   so `'abc' == 0` is false (it was true before PHP 8);
 * - two strings: numerically when both are numeric (`'1e1' == '10'`), otherwise byte for byte.
 */
export function phpLooseEquals(left: unknown, right: unknown): boolean {
  const a = left ?? null
  const b = right ?? null
  if (a === null && b === null) return true
  if (typeof a === 'boolean' || typeof b === 'boolean') return phpBoolCast(a) === phpBoolCast(b)
  if (a === null) return typeof b === 'string' ? b === '' : !phpBoolCast(b)
  if (b === null) return typeof a === 'string' ? a === '' : !phpBoolCast(a)

  const aIsArray = phpArrayValues(a) !== null
  const bIsArray = phpArrayValues(b) !== null
  if (aIsArray || bIsArray) return aIsArray && bIsArray && arraysLooselyEqual(a, b)

  if (typeof a === 'number' && typeof b === 'number') return a === b
  if (typeof a === 'number' && typeof b === 'string') return numberEqualsString(a, b)
  if (typeof a === 'string' && typeof b === 'number') return numberEqualsString(b, a)
  if (typeof a === 'string' && typeof b === 'string') {
    return isNumericString(a) && isNumericString(b) ? Number(a) === Number(b) : a === b
  }

  return a === b
}

function numberEqualsString(number: number, text: string): boolean {
  return isNumericString(text) ? number === Number(text) : phpNumberToString(number) === text
}

/** PHP compares arrays by key, ignoring order: same count, and every key of one holds an equal value in the other. */
function arraysLooselyEqual(a: object, b: object): boolean {
  const aEntries = Object.entries(a)
  const bRecord = b as JsonObject
  if (aEntries.length !== Object.keys(b).length) return false
  return aEntries.every(([key, value]) => Object.hasOwn(b, key) && phpLooseEquals(value, bRecord[key]))
}
