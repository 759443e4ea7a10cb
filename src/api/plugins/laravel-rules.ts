import {z} from 'zod'

import {isLaravelUuid} from '../../core/domain/id-input.js'

/**
 * zod schemas for Laravel's rule semantics (reference §0.2), with Laravel's messages (`:attribute` is
 * replaced by validation.ts): `integer` takes integer-valued strings, `numeric` numeric strings, `boolean`
 * only true/false/1/0/"1"/"0", `array` a JSON object or a list, `uuid` only the 8-4-4-4-12 hex shape.
 * Fields arrive trimmed, with "" made null (input-normalisation.ts), so `.nullish()` is Laravel's `nullable`.
 */

const REQUIRED = 'The :attribute field is required.'

/** A custom check whose failure says `message`, and whose missing value says `required`. */
function custom<T>(check: (value: unknown) => boolean, message: string) {
  return z.custom<T>(check, {error: (issue) => (issue.input === undefined || issue.input === null ? REQUIRED : message)})
}

const INTEGER_TEXT = /^[+-]?\d+$/
const NUMERIC_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

/** The message of a type failure (missing: required); other issues (min, max) keep validation.ts's messages. */
const typeError = (message: string) => (issue: {code?: string; input?: unknown}) => {
  if (issue.code !== 'invalid_type') return undefined
  return issue.input === undefined || issue.input === null ? REQUIRED : message
}

/** Laravel's `min` / `max` on a numeric field. */
export interface NumericBounds {
  min?: number
  max?: number
}

/** `integer`, with `min` / `max`. */
export function laravelInteger(bounds: NumericBounds = {}) {
  let schema = z.int({error: typeError('The :attribute field must be an integer.')})
  if (bounds.min !== undefined) schema = schema.min(bounds.min)
  if (bounds.max !== undefined) schema = schema.max(bounds.max)
  return z.preprocess((value) => (typeof value === 'string' && INTEGER_TEXT.test(value) ? Number(value) : value), schema)
}

/** `numeric`, with `min` / `max`. */
export function laravelNumeric(bounds: NumericBounds = {}) {
  let schema = z.number({error: typeError('The :attribute field must be a number.')})
  if (bounds.min !== undefined) schema = schema.min(bounds.min)
  if (bounds.max !== undefined) schema = schema.max(bounds.max)
  return z.preprocess((value) => (typeof value === 'string' && NUMERIC_TEXT.test(value) ? Number(value) : value), schema)
}

const BOOLEANS = new Map<unknown, boolean>([
  [true, true],
  [false, false],
  [1, true],
  [0, false],
  ['1', true],
  ['0', false],
])

/** `boolean`: true, false, 1, 0, "1", "0" (not "true"/"false"). */
export const laravelBoolean = () => z.preprocess((value) => (BOOLEANS.has(value) ? BOOLEANS.get(value) : value), z.boolean())

/** `array`: a JSON object or a list. */
export const laravelArray = () =>
  custom<Record<string, unknown> | unknown[]>((value) => value !== null && typeof value === 'object', 'The :attribute field must be an array.').meta({
    type: ['object', 'array'],
  })

/** `uuid`, leniently: the hex shape only. */
export const laravelUuid = () =>
  custom<string>((value) => typeof value === 'string' && isLaravelUuid(value), 'The :attribute field must be a valid UUID.').meta({
    type: 'string',
    description: 'A UUID: 8-4-4-4-12 hex digits (version and variant bits are not checked)',
  })

/** `required` on an array or object field: an empty one counts as missing (Laravel's required fails, and stops the field's other rules). */
export const required = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value !== null && typeof value === 'object' && Object.keys(value).length === 0 ? undefined : value), schema)

/** `date`, as a client time the core can store (src/core/orders/times.ts). */
export const laravelDate = (accepts: (value: string) => boolean) =>
  custom<string>((value) => typeof value === 'string' && accepts(value), 'The :attribute field must be a valid date.').meta({
    type: 'string',
    description: 'A date, optionally with a time and an offset (ISO 8601)',
  })
