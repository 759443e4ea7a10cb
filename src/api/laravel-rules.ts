/**
 * zod schemas for Laravel validation rules the route schemas use, failing with Laravel's messages
 * (`:attribute` is filled in by the validation plugin; a missing or null value fails `required` there).
 */
import {z} from 'zod'

import {isLaravelUuid} from '../core/domain/id-input.js'
import {isCalendarDate} from '../core/invoices/outlet-time.js'
import {laravelMessage} from './plugins/validation.js'

/**
 * The message of a wrong type for a present value; an absent one gets `required`'s, and the size checks
 * (min, max) keep their own (the plugin's map).
 */
const whenPresent = (message: string) => (issue: {input?: unknown; code?: string}) =>
  issue.input === undefined || issue.input === null || (issue.code !== undefined && issue.code !== 'invalid_type' && issue.code !== 'custom')
    ? undefined
    : message

/** `integer` (PHP's FILTER_VALIDATE_INT: an integer, or a string of one such as "10"), with optional `min:`/`max:`. */
export function laravelInteger(bounds: {min?: number; max?: number} = {}) {
  let inner = z.int({error: whenPresent('The :attribute field must be an integer.')})
  if (bounds.min !== undefined) inner = inner.min(bounds.min)
  if (bounds.max !== undefined) inner = inner.max(bounds.max)
  return z.preprocess((value) => (typeof value === 'string' && /^[+-]?\d+$/.test(value) ? Number(value) : value), inner)
}

/** `uuid`: the 8-4-4-4-12 hex shape only, any version (reference §0.1, A-26). */
export function laravelUuid() {
  return z
    .string({error: whenPresent('The :attribute field must be a valid UUID.')})
    .refine(isLaravelUuid, {error: 'The :attribute field must be a valid UUID.'})
}

/** `string|max:N` (characters). */
export function laravelString(max?: number) {
  const text = z.string({error: whenPresent('The :attribute field must be a string.')})
  return max === undefined ? text : text.max(max)
}

/**
 * `date`: a string strtotime reads (approximated by Date.parse), or, with `accepts`, one the caller can use
 * (payments' paid_at: a time src/core/orders/times.ts can store).
 */
export function laravelDate(accepts: (text: string) => boolean = (text) => !Number.isNaN(Date.parse(text))) {
  return z.string({error: whenPresent('The :attribute field must be a valid date.')}).refine(accepts, {error: 'The :attribute field must be a valid date.'})
}

/** `date_format:Y-m-d`: a real calendar date written exactly `YYYY-MM-DD`. */
export function laravelYmd() {
  return z
    .string({error: whenPresent('The :attribute field must match the format Y-m-d.')})
    .refine(isCalendarDate, {error: 'The :attribute field must match the format Y-m-d.'})
}

/** `array`: a JSON object or list, passed through as it is. */
export function laravelArray() {
  return z.custom<Record<string, unknown> | unknown[]>((value) => value !== null && typeof value === 'object', {
    error: whenPresent('The :attribute field must be an array.'),
  })
}

/**
 * `required|array|min:1` over a list: an empty list (or `{}`, which PHP decodes to the same empty array)
 * fails `required`, and Laravel stops at a failed `required`.
 */
export function laravelRequiredList<T extends z.ZodType>(item: T) {
  return z.preprocess((value) => (isEmptyArray(value) ? undefined : value), z.array(item).min(1))
}

function isEmptyArray(value: unknown): boolean {
  if (Array.isArray(value)) return value.length === 0
  return value !== null && typeof value === 'object' && Object.keys(value).length === 0
}

/** `numeric` (a number, or a string of one such as "5.2"), with optional `min:`/`max:`. */
export function laravelNumeric(bounds: {min?: number; max?: number} = {}) {
  let inner = z.number({error: whenPresent('The :attribute field must be a number.')})
  if (bounds.min !== undefined) inner = inner.min(bounds.min)
  if (bounds.max !== undefined) inner = inner.max(bounds.max)
  return z.preprocess((value) => (typeof value === 'string' && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value) ? Number(value) : value), inner)
}

const BOOLEANS = new Map<unknown, boolean>([
  [true, true],
  [false, false],
  [1, true],
  [0, false],
  ['1', true],
  ['0', false],
])

/** `boolean`: true, false, 1, 0, "1" and "0" only ("true" and "false" fail, reference §0.2). */
export function laravelBoolean() {
  return z.preprocess(
    (value) => (BOOLEANS.has(value) ? BOOLEANS.get(value) : value),
    z.boolean({error: whenPresent('The :attribute field must be true or false.')}),
  )
}

/**
 * `required|array` over an object with rules on its keys (`customer` with `customer.name` …): an empty one
 * (`{}` or `[]`) or a missing one fails `required` (a scalar: `array`), and, as Laravel validates the dotted
 * keys on their own, each required key then fails too (`customer.name`, `customer.phone`).
 */
export function laravelRequiredObject<T extends z.ZodRawShape>(shape: T) {
  const object = z.object(shape)
  return z
    .unknown()
    .transform((value, ctx) => {
      const isObject = value !== null && typeof value === 'object' && !isEmptyArray(value)
      if (!isObject) {
        const absent = value === undefined || value === null || isEmptyArray(value)
        ctx.addIssue({code: 'custom', message: absent ? 'The :attribute field is required.' : 'The :attribute field must be an array.', input: value})
      }
      const inner = z.safeParse(object, isObject ? value : {}, {error: (issue) => laravelMessage(issue)})
      if (inner.success) return inner.data
      for (const issue of inner.error.issues) ctx.addIssue({code: 'custom', message: issue.message, path: issue.path, input: undefined})
      return z.NEVER
    })
    .meta(objectJsonSchema(object))
}

/** An object schema as JSON Schema, for the OpenAPI document of a field whose zod type is a transform. */
function objectJsonSchema(object: z.ZodObject): Record<string, unknown> {
  const {$schema: _, ...json} = z.toJSONSchema(object, {unrepresentable: 'any', io: 'input'}) as Record<string, unknown>
  return json
}

/** `date_format:Y-m`: four digits, a dash and a month 01-12 (PHP re-formats the parsed month and compares). */
export function laravelYearMonth() {
  return z
    .string({error: whenPresent('The :attribute field must match the format Y-m.')})
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, {error: 'The :attribute field must match the format Y-m.'})
}
