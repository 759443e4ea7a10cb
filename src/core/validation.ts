/**
 * Laravel's validation semantics for the rules the core validates itself (reference §0.2): the
 * global input normalisation, the rule checks, and the English messages of Laravel 12's lang/en.
 * A failure is thrown as ValidationError (errors.ts), rendered as the 422 `{message, errors}`.
 */
import {type FieldErrors, ValidationError} from './errors.js'
import {isLaravelEmail} from './php/email-validation.js'
import {phpTrim} from './php/trim.js'

/** Fields TrimStrings leaves alone. */
const UNTRIMMED = new Set(['password', 'password_confirmation', 'current_password'])

/**
 * TrimStrings then ConvertEmptyStringsToNull, recursively, as Laravel's global middleware does to every
 * request's input: strings trimmed (but not the password fields), then `""` becomes null.
 */
export function normaliseLaravelInput(value: unknown, key?: string): unknown {
  if (typeof value === 'string') {
    const text = key !== undefined && UNTRIMMED.has(key) ? value : phpTrim(value)
    return text === '' ? null : text
  }
  if (Array.isArray(value)) return value.map((item) => normaliseLaravelInput(item))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normaliseLaravelInput(v, k)]))
  }
  return value
}

/** `device_name` → `device name`, as Laravel names an attribute in its messages. */
export function attributeName(field: string): string {
  return field.replace(/_/g, ' ')
}

/** Laravel's `required`: not null, not a blank string, not an empty array or object. */
export function isPresent(value: unknown): boolean {
  if (value === null || value === undefined) return false
  if (typeof value === 'string') return phpTrim(value) !== ''
  if (Array.isArray(value)) return value.length > 0
  if (typeof value === 'object') return Object.keys(value).length > 0
  return true
}

/** The size `max` compares for a field without a numeric or array rule: characters of its string form, or an array's length. */
function stringSize(value: unknown): number {
  if (Array.isArray(value)) return value.length
  if (value !== null && typeof value === 'object') return Object.keys(value).length
  if (typeof value === 'boolean') return value ? 1 : 0
  return [...String(value)].length
}

export type Rule = 'required' | 'nullable' | 'string' | 'email' | {max: number}

/**
 * Checks `input` against `rules` as Laravel's validator does (no `bail`: every failing rule of a field is
 * reported; a missing or null field is only checked by `required`), and throws ValidationError listing
 * the failures in field order, or returns the validated fields.
 */
export function validateLaravel<F extends string>(input: unknown, rules: Record<F, readonly Rule[]>): Record<F, unknown> {
  const source = input !== null && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>) : {}
  const errors: FieldErrors = {}
  const validated = {} as Record<F, unknown>
  for (const field of Object.keys(rules) as F[]) {
    const value = Object.hasOwn(source, field) ? source[field] : undefined
    const messages: string[] = []
    const name = attributeName(field)
    const fieldRules = rules[field]
    if (fieldRules.includes('required') && !isPresent(value)) {
      messages.push(`The ${name} field is required.`)
    } else if (value !== undefined && !(value === null && fieldRules.includes('nullable'))) {
      for (const rule of fieldRules) {
        if (rule === 'string' && typeof value !== 'string') messages.push(`The ${name} field must be a string.`)
        if (rule === 'email' && !isLaravelEmail(value)) messages.push(`The ${name} field must be a valid email address.`)
        if (typeof rule === 'object' && value !== null && stringSize(value) > rule.max) {
          messages.push(`The ${name} field must not be greater than ${rule.max} characters.`)
        }
      }
    }
    if (messages.length > 0) errors[field] = messages
    else if (value !== undefined) validated[field] = value
  }
  if (Object.keys(errors).length > 0) throw new ValidationError(errors)
  return validated
}
