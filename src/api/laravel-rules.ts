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

/** Size rules of a numeric field (`min:`, `max:`), and whether the field is `nullable` (absent or null passes). */
export interface NumericRules {
  min?: number
  max?: number
  nullable?: boolean
}

const INT64_MAX = 9_223_372_036_854_775_807n

/**
 * PHP's `filter_var($value, FILTER_VALIDATE_INT)` on a JSON-decoded value: an integer (or a float with an
 * integral value, which PHP prints without a fraction) within 64 bits, a string of one without leading
 * zeros ("007" fails, "0" and "-0" pass), or `true` (which PHP reads as "1"). Undefined: not an integer.
 */
export function phpValidateInt(value: unknown): number | undefined {
  if (value === true) return 1
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < 2 ** 63 ? value + 0 : undefined
  // 64-bit integers have at most 19 digits and a sign: a longer text is out of range without parsing it.
  if (typeof value !== 'string' || value.length > 20 || !/^[+-]?(0|[1-9]\d*)$/.test(value)) return undefined
  const big = BigInt(value)
  return big > INT64_MAX || big < -INT64_MAX - 1n ? undefined : Number(value) + 0
}

/** PHP 8's is_numeric on a JSON-decoded value: a finite number, or a numeric string ("5.2", ".5", "1e3", " 7"). */
export function phpIsNumeric(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value)
  return typeof value === 'string' && /^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?[ \t\n\r\v\f]*$/.test(value)
}

/**
 * The size `min:`/`max:` compare for a field with a numeric rule (Validator::getSize): its numeric value
 * when it is numeric, else an array's count, else the length of its text (so "abc" has size 3, true 1).
 */
function phpSize(value: unknown): number {
  if (phpIsNumeric(value)) return Number(value)
  if (Array.isArray(value)) return value.length
  if (value !== null && typeof value === 'object') return Object.keys(value).length
  if (typeof value === 'string') return [...value].length
  return value === true ? 1 : 0
}

/**
 * A numeric rule with its size rules, validated as Laravel's Validator does: every rule runs and every
 * failure is reported (`amount: 0.5` with `integer|min:1` fails both), except that a failed `required`
 * stops the field. Absent, null (or '' made null) and an empty array fail `required` unless `nullable`
 * (where absent and null pass; an empty array does not, as in Laravel).
 */
function laravelNumberRule(kind: 'integer' | 'numeric', rules: NumericRules) {
  const {min, max, nullable = false} = rules
  const typeMessage = kind === 'integer' ? 'The :attribute field must be an integer.' : 'The :attribute field must be a number.'
  const issue = (ctx: z.RefinementCtx, message: string, input: unknown) => ctx.addIssue({code: 'custom', message, input})
  const schema = z.unknown().transform((value, ctx) => {
    if (value === undefined || value === null || (!nullable && isEmptyArray(value))) {
      if (nullable && (value === undefined || value === null)) return value
      issue(ctx, 'The :attribute field is required.', value)
      return z.NEVER
    }
    const number = kind === 'integer' ? phpValidateInt(value) : phpIsNumeric(value) ? Number(value) : undefined
    if (number === undefined) issue(ctx, typeMessage, value)
    const size = phpSize(value)
    if (min !== undefined && size < min) issue(ctx, `The :attribute field must be at least ${min}.`, value)
    if (max !== undefined && size > max) issue(ctx, `The :attribute field must not be greater than ${max}.`, value)
    return number ?? z.NEVER
  })
  const json = {type: kind === 'integer' ? 'integer' : 'number', ...(min === undefined ? {} : {minimum: min}), ...(max === undefined ? {} : {maximum: max})}
  // An absent nullable field stays absent (undefined), a null one null: callers tell the two apart (schedule).
  return nullable ? schema.optional().meta({anyOf: [json, {type: 'null'}]}) : schema.meta(json)
}

/**
 * `integer` (PHP's FILTER_VALIDATE_INT, phpValidateInt) with optional `min:`/`max:` and `nullable`; the
 * value arrives as a number (null when nullable and not given).
 */
export function laravelInteger<N extends boolean = false>(rules: NumericRules & {nullable?: N} = {}) {
  return laravelNumberRule('integer', rules) as unknown as z.ZodType<N extends true ? number | null | undefined : number, unknown>
}

/** `numeric` (PHP's is_numeric) with optional `min:`/`max:` and `nullable`; the value arrives as a number. */
export function laravelNumeric<N extends boolean = false>(rules: NumericRules & {nullable?: N} = {}) {
  return laravelNumberRule('numeric', rules) as unknown as z.ZodType<N extends true ? number | null | undefined : number, unknown>
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
