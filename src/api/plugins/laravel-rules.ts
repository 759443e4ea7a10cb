import {z} from 'zod'

import {isLaravelUuid} from '../../core/domain/id-input.js'

/**
 * zod schemas for Laravel validation rules the zod built-ins do not express as Laravel does (reference
 * §0.1, §0.2): the lenient `uuid`, `boolean` (true, false, 1, 0, "1", "0"), `integer` (integer-valued strings
 * too) with numeric `min`/`max`, `array` (a JSON object or a list) and `date_format`. They validate without
 * transforming: handlers get the value as sent and core casts it as the controller does. Nothing given
 * (absent or null) is left to `required` (validation.ts); wrap a rule in `.nullable().optional()` for
 * `nullable`.
 */

/** A schema-level message for any input that is present; absent or null input keeps `required`'s message. */
const whenPresent = (message: string) => (issue: {input?: unknown}) => (issue.input === undefined || issue.input === null ? undefined : message)

/** `uuid`: the 8-4-4-4-12 hex shape only, any case, no version or variant check. */
export function uuidRule() {
  const message = 'The :attribute field must be a valid UUID.'
  return z.string({error: whenPresent(message)}).refine((value) => isLaravelUuid(value), {message})
}

/** `boolean`: true, false, 1, 0, "1" or "0" ("true" and "false" are refused). */
export function booleanRule() {
  return z.union([z.boolean(), z.literal(0), z.literal(1), z.literal('0'), z.literal('1')], {
    error: whenPresent('The :attribute field must be true or false.'),
  })
}

/** PHP's filter_var(FILTER_VALIDATE_INT) over what a request can carry: an integer number, or its decimal text. */
function isLaravelInteger(value: unknown): boolean {
  if (typeof value === 'number') return Number.isInteger(value)
  if (typeof value === 'string') return /^[+-]?(0|[1-9]\d*)$/.test(value) && Math.abs(Number(value)) < 2 ** 63
  return false
}

/** `integer` with optional numeric `min` and `max` (Laravel checks the bounds only on numeric input). */
export function integerRule(bounds: {min?: number; max?: number} = {}) {
  const integer = 'The :attribute field must be an integer.'
  return z.union([z.number(), z.string()], {error: whenPresent(integer)}).superRefine((value, ctx) => {
    if (!isLaravelInteger(value)) {
      ctx.addIssue({code: 'custom', message: integer, input: value})
      return
    }
    const n = Number(value)
    if (bounds.min !== undefined && n < bounds.min)
      ctx.addIssue({code: 'custom', message: `The :attribute field must be at least ${bounds.min}.`, input: value})
    if (bounds.max !== undefined && n > bounds.max) {
      ctx.addIssue({code: 'custom', message: `The :attribute field must not be greater than ${bounds.max}.`, input: value})
    }
  })
}

/** `array`: a JSON object or a list. */
export function arrayRule() {
  return z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())], {error: whenPresent('The :attribute field must be an array.')})
}

/** `date_format:Y-m`: four digits, a dash, a month 01-12 (PHP re-formats the parsed date and compares). */
export function yearMonthRule() {
  const message = 'The :attribute field must match the format Y-m.'
  return z.string({error: whenPresent(message)}).regex(/^\d{4}-(0[1-9]|1[0-2])$/, {message})
}
