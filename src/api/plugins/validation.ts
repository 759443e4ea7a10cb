import type {FastifySchemaCompiler} from 'fastify'
import {z} from 'zod'

/**
 * Route schemas are zod; their failures answer as Laravel's validator does (reference §0.4): 422
 * `{message, errors: {field: [messages]}}` with Laravel's English wording (lang/en/validation.php) for the
 * rules a zod schema expresses. A schema's own message wins (zod gives it precedence over this map) and may
 * use `:attribute`, as Laravel's custom messages do.
 */

/** What a failed zod parse leaves for the error handler: the field path and its Laravel message. */
export interface FieldError {
  field: string
  message: string
}

/** A validation failure, thrown by the validator compiler and rendered by the error handler. */
export class LaravelValidationError extends Error {
  readonly fields: FieldError[]

  constructor(fields: FieldError[]) {
    super(fields[0]?.message ?? 'The given data was invalid.')
    this.name = 'LaravelValidationError'
    this.fields = fields
  }
}

const ATTRIBUTE = ':attribute'

const TYPE_MESSAGES: Record<string, string> = {
  string: `The ${ATTRIBUTE} field must be a string.`,
  int: `The ${ATTRIBUTE} field must be an integer.`,
  number: `The ${ATTRIBUTE} field must be a number.`,
  bigint: `The ${ATTRIBUTE} field must be an integer.`,
  boolean: `The ${ATTRIBUTE} field must be true or false.`,
  array: `The ${ATTRIBUTE} field must be an array.`,
  // Laravel's `array` rule takes a JSON object as well as a list.
  object: `The ${ATTRIBUTE} field must be an array.`,
  record: `The ${ATTRIBUTE} field must be an array.`,
  date: `The ${ATTRIBUTE} field must be a valid date.`,
}

const FORMAT_MESSAGES: Record<string, string> = {
  uuid: `The ${ATTRIBUTE} field must be a valid UUID.`,
  guid: `The ${ATTRIBUTE} field must be a valid UUID.`,
  email: `The ${ATTRIBUTE} field must be a valid email address.`,
  url: `The ${ATTRIBUTE} field must be a valid URL.`,
  datetime: `The ${ATTRIBUTE} field must be a valid date.`,
  date: `The ${ATTRIBUTE} field must be a valid date.`,
  ipv4: `The ${ATTRIBUTE} field must be a valid IPv4 address.`,
  ipv6: `The ${ATTRIBUTE} field must be a valid IPv6 address.`,
}

function sizeKind(origin: unknown): 'string' | 'numeric' | 'array' | 'file' {
  if (origin === 'string') return 'string'
  if (origin === 'array' || origin === 'set') return 'array'
  if (origin === 'file') return 'file'
  return 'numeric'
}

const bound = (value: number | bigint) => value.toString()

/** Laravel's message for a zod issue, with `:attribute` left for the field name. */
export function laravelMessage(issue: z.core.$ZodRawIssue): string {
  // Nothing given (absent, null, or '' made null): `required` fails first, whatever the other rules.
  if ((issue.input === undefined || issue.input === null) && issue.code !== 'custom') return `The ${ATTRIBUTE} field is required.`
  switch (issue.code) {
    case 'invalid_type':
      return TYPE_MESSAGES[issue.expected] ?? `The ${ATTRIBUTE} field is invalid.`
    case 'too_big': {
      const max = bound(issue.maximum)
      if (issue.inclusive === false) return `The ${ATTRIBUTE} field must be less than ${sizeKind(issue.origin) === 'string' ? `${max} characters` : max}.`
      switch (sizeKind(issue.origin)) {
        case 'string':
          return `The ${ATTRIBUTE} field must not be greater than ${max} characters.`
        case 'array':
          return `The ${ATTRIBUTE} field must not have more than ${max} items.`
        case 'file':
          return `The ${ATTRIBUTE} field must not be greater than ${max} kilobytes.`
        default:
          return `The ${ATTRIBUTE} field must not be greater than ${max}.`
      }
    }
    case 'too_small': {
      const min = bound(issue.minimum)
      if (issue.inclusive === false) return `The ${ATTRIBUTE} field must be greater than ${sizeKind(issue.origin) === 'string' ? `${min} characters` : min}.`
      switch (sizeKind(issue.origin)) {
        case 'string':
          return `The ${ATTRIBUTE} field must be at least ${min} characters.`
        case 'array':
          return `The ${ATTRIBUTE} field must have at least ${min} items.`
        case 'file':
          return `The ${ATTRIBUTE} field must be at least ${min} kilobytes.`
        default:
          return `The ${ATTRIBUTE} field must be at least ${min}.`
      }
    }
    case 'invalid_format':
      return FORMAT_MESSAGES[issue.format] ?? `The ${ATTRIBUTE} field format is invalid.`
    case 'not_multiple_of':
      return `The ${ATTRIBUTE} field must be a multiple of ${bound(issue.divisor)}.`
    case 'invalid_value':
      return `The selected ${ATTRIBUTE} is invalid.`
    case 'invalid_union':
      return `The ${ATTRIBUTE} field format is invalid.`
    case 'unrecognized_keys':
      return `The ${ATTRIBUTE} field is prohibited.`
    default:
      return `The ${ATTRIBUTE} field is invalid.`
  }
}

/** Laravel's displayable attribute: the dotted path with underscores as spaces (`items.0.service id`). */
export function displayableAttribute(field: string): string {
  return field.replace(/_/g, ' ')
}

/** The dotted field path Laravel keys `errors` by (`items.0.qty`). */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((key) => (typeof key === 'symbol' ? (key.description ?? '') : String(key))).join('.')
}

/** Runs `schema` on `data` with Laravel's messages; returns the value or the field errors. */
export function validateInput(schema: z.core.$ZodType, data: unknown): {value: unknown} | {error: LaravelValidationError} {
  const result = z.safeParse(schema, data, {error: (issue) => laravelMessage(issue)})
  if (result.success) return {value: result.data}
  const fields = result.error.issues.map((issue) => {
    const field = fieldPath(issue.path)
    // An issue on the whole input (never expected: the input is always an object) is keyed like Laravel's root.
    const name = field === '' ? 'input' : field
    return {field: name, message: issue.message.split(ATTRIBUTE).join(displayableAttribute(name))}
  })
  return {error: new LaravelValidationError(fields)}
}

/**
 * The fields whose text holds a NUL character (`\u0000`), by dotted path. PostgreSQL's text types cannot
 * store one (the Laravel application answers 500 there); no field of this API means to carry one.
 */
export function nulFields(value: unknown, path = '', found: string[] = []): string[] {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) found.push(path === '' ? 'input' : path)
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => nulFields(item, path === '' ? String(index) : `${path}.${index}`, found))
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      // A NUL in a key refuses the field that holds it (a json column on PostgreSQL keeps it, jsonb cannot).
      if (key.includes('\u0000')) {
        found.push(path === '' ? 'input' : path)
        continue
      }
      nulFields(item, path === '' ? key : `${path}.${key}`, found)
    }
  }
  return found
}

/**
 * fastify's validator compiler for zod route schemas (body, querystring, params, headers). A body or query
 * field holding a NUL character is refused first (422 on that field, on both engines alike).
 */
export const laravelValidatorCompiler: FastifySchemaCompiler<z.core.$ZodType> =
  ({schema, httpPart}) =>
  (data) => {
    if (httpPart === 'body' || httpPart === 'querystring') {
      const nul = nulFields(data)
      if (nul.length > 0) {
        return {
          error: new LaravelValidationError(
            nul.map((field) => ({field, message: `The ${displayableAttribute(field)} field must not contain NUL characters.`})),
          ),
        }
      }
    }
    const outcome = validateInput(schema, data)
    return 'value' in outcome ? {value: outcome.value} : {error: outcome.error}
  }

/**
 * Laravel's 422 body: `errors` keyed by field in the order the fields failed, each with its messages;
 * `message` is the first message, with "(and N more error[s])" counting every other message.
 */
export function validationBody(fields: readonly FieldError[]): {message: string; errors: Record<string, string[]>} {
  const errors: Record<string, string[]> = {}
  for (const {field, message} of fields) (errors[field] ??= []).push(message)
  const all = Object.values(errors).flat()
  if (all.length === 0) return {message: 'The given data was invalid.', errors}
  const more = all.length - 1
  return {message: more === 0 ? all[0] : `${all[0]} (and ${more} more ${more === 1 ? 'error' : 'errors'})`, errors}
}
