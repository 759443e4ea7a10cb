/**
 * WhatsApp template renderer: our port of upstream's `WaTemplateRenderer` (upstream-ops §2.4,
 * upstream-schema-api §4.8), written from the specification.
 *
 * Definitions are JSON stored per tenant, so every input is `unknown` and every shape gets the meaning
 * upstream's PHP gives it. Where PHP semantics leak into the result (loose `==`, float casts,
 * truthiness, `trim`, `strlen` counting bytes, FILTER_VALIDATE_URL) they are reproduced on purpose:
 * the same stored template must produce the same message body in both systems. JSON objects play the
 * part of PHP associative arrays and JSON arrays the part of PHP lists.
 *
 * The one deliberate deviation: the final hard cut to max_length never splits a multi-byte UTF-8
 * character (see truncateUtf8).
 */
import {isIPv6} from 'node:net'

export class TemplateRenderError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TemplateRenderError'
  }
}

export interface RenderedTemplate {
  body_text: string
  /** The variables after trimming and fallbacks, i.e. what the body was rendered from. */
  variables: Record<string, unknown>
}

/** Variables by name. A Map, so that names such as `constructor` or `__proto__` are plain keys. */
type Variables = Map<string, unknown>

interface BodyLine {
  text: string
  condition: unknown
  optional: boolean
}

interface RenderedLine {
  text: string
  optional: boolean
}

const DEFAULT_MAX_LENGTH = 1200

/**
 * Renders a template definition: a TemplateDefinition from the catalogue, or any JSON value read from
 * storage. Throws TemplateRenderError with upstream's exact messages.
 */
export function renderTemplate(definition: unknown, variables: Record<string, unknown>): RenderedTemplate {
  const field = (key: string): unknown => (isMap(definition) ? ownValue(definition, key) : undefined)

  const bodyLines = parseBodyLines(field('body_lines'))
  const vars = normaliseVariables(variables)
  applyFallbacks(vars, field('fallbacks'))
  checkRequiredAll(vars, field('required_vars_all'))
  checkRequiredAny(vars, field('required_vars_any'))

  const rendered = renderLines(bodyLines, vars)
  if (rendered.length === 0) throw new TemplateRenderError('Template rendering resulted in empty body.')

  return {
    body_text: fitToMaxLength(rendered, maxLengthOf(field('max_length'))),
    variables: Object.fromEntries(vars),
  }
}

// ---------------------------------------------------------------------------------------------------
// Definition parts

/** Step 1. A JSON object is accepted as well as a list (PHP sees both as arrays); its values are the lines. */
function parseBodyLines(raw: unknown): BodyLine[] {
  const entries = arrayValues(raw)
  if (entries === null || entries.length === 0) {
    throw new TemplateRenderError('Template definition requires non-empty body_lines.')
  }

  const lines: BodyLine[] = []
  for (const entry of entries) {
    if (typeof entry === 'string') {
      lines.push({text: entry, condition: null, optional: false})
      continue
    }

    // Objects without a usable text, and entries of any other type, are ignored rather than rejected.
    if (!isMap(entry)) continue
    const text = ownValue(entry, 'text')
    if (typeof text !== 'string' && typeof text !== 'number') continue
    lines.push({
      text: typeof text === 'string' ? text : phpNumberToString(text),
      condition: ownValue(entry, 'condition') ?? null,
      optional: isTruthy(ownValue(entry, 'optional')),
    })
  }

  return lines
}

/** Step 2: every top-level string variable is trimmed (PHP trim); other values are kept as they are. */
function normaliseVariables(variables: Record<string, unknown>): Variables {
  const vars: Variables = new Map()
  if (typeof variables !== 'object' || variables === null) return vars
  for (const [name, value] of Object.entries(variables)) {
    vars.set(name, typeof value === 'string' ? phpTrim(value) : value)
  }

  return vars
}

/** Step 3: `target → source` or `target → [sources]`; the first source with a value fills an empty target. */
function applyFallbacks(vars: Variables, fallbacks: unknown): void {
  if (!isMap(fallbacks) && !Array.isArray(fallbacks)) return
  for (const [target, sources] of Object.entries(fallbacks)) {
    if (hasValue(vars.get(target))) continue
    for (const source of nameList(sources)) {
      const value = vars.get(source)
      if (hasValue(value)) {
        vars.set(target, value)
        break
      }
    }
  }
}

/** Step 4a. */
function checkRequiredAll(vars: Variables, required: unknown): void {
  for (const name of nameList(required)) {
    if (!hasValue(vars.get(name))) throw new TemplateRenderError(`Missing required variable: ${name}.`)
  }
}

/**
 * Step 4b. A list of groups; when the first element is not itself a list, the whole value is one group
 * (so `[a, b]` means "a or b", and a lone name is a group of one, as in nameList). An empty group asks
 * for nothing, so it is skipped.
 */
function checkRequiredAny(vars: Variables, required: unknown): void {
  if (required === null || required === undefined) return
  const elements = arrayValues(required) ?? [required]
  if (elements.length === 0) return
  const groups = arrayValues(elements[0]) === null ? [elements] : elements

  for (const group of groups) {
    const names = nameList(group)
    if (names.length === 0) continue
    if (!names.some((name) => hasValue(vars.get(name)))) {
      throw new TemplateRenderError('Missing one of required alternative variables.')
    }
  }
}

/**
 * A list of variable names. A single scalar counts as a one-name list (like PHP's `(array)` cast), so a
 * mistyped `"required_vars_all": "to_phone"` still enforces the requirement instead of silently
 * dropping it. A non-scalar name can never be satisfied: it becomes '' (PHP's key for null).
 */
function nameList(value: unknown): string[] {
  if (value === null || value === undefined) return []
  const names = arrayValues(value) ?? [value]
  return names.map((name) => (typeof name === 'string' ? name : typeof name === 'number' ? phpNumberToString(name) : ''))
}

/** `(int) max_length`, 1200 when absent or null, never below 1. */
function maxLengthOf(raw: unknown): number {
  if (raw === null || raw === undefined) return DEFAULT_MAX_LENGTH
  return Math.max(1, phpIntCast(raw))
}

// ---------------------------------------------------------------------------------------------------
// Lines

/** Step 5: condition, interpolation, trim, and drop lines that end up empty. */
function renderLines(lines: BodyLine[], vars: Variables): RenderedLine[] {
  const rendered: RenderedLine[] = []
  for (const line of lines) {
    if (!evaluateCondition(line.condition, vars)) continue
    const text = phpTrim(interpolate(line.text, vars))
    if (text !== '') rendered.push({text, optional: line.optional})
  }

  return rendered
}

// `\s` in PCRE (no /u) is ASCII whitespace only; JS `\s` would also accept Unicode spaces.
const PLACEHOLDER = /\{\{[ \t\n\v\f\r]*([A-Za-z0-9_.]+)[ \t\n\v\f\r]*\}\}/g

/** `{{ name }}`: the name is looked up literally (a dot does not mean nesting); one pass, no re-scan. */
function interpolate(text: string, vars: Variables): string {
  return text.replace(PLACEHOLDER, (_placeholder, name: string) => placeholderText(vars.get(name)))
}

function placeholderText(value: unknown): string {
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (typeof value === 'string') return phpTrim(value)
  if (typeof value === 'number') return phpTrim(phpNumberToString(value))
  // Missing, null, lists and objects render as nothing.
  return ''
}

// ---------------------------------------------------------------------------------------------------
// Length

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

/**
 * Step 8. max_length counts UTF-8 bytes, as PHP's strlen does. Optional lines are dropped from the last
 * to the first until the body fits; required lines are never dropped. If that is not enough, the body
 * is cut to max_length bytes and right-trimmed.
 */
function fitToMaxLength(lines: RenderedLine[], maxBytes: number): string {
  const kept = [...lines]
  let body = joinLines(kept)

  for (let i = kept.length - 1; i >= 0 && byteLength(body) > maxBytes; i--) {
    if (!kept[i].optional) continue
    kept.splice(i, 1)
    body = joinLines(kept)
  }

  if (byteLength(body) <= maxBytes) return body
  return phpRtrim(truncateUtf8(body, maxBytes))
}

function joinLines(lines: RenderedLine[]): string {
  return lines.map((line) => line.text).join('\n')
}

/**
 * The first `maxBytes` bytes of `text`, cut back to the last whole character.
 *
 * DEVIATION from upstream: PHP's byte substr can split a multi-byte character and so store invalid
 * UTF-8, which PostgreSQL `text` refuses (and which Buffer decoding would turn into U+FFFD, a 3-byte
 * sequence that could push the body past max_length again). We cut at the last character boundary at
 * or below max_length instead. Whenever upstream's cut falls on a character boundary (always, for ASCII
 * bodies) the result is identical to upstream's.
 */
function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8')
  if (bytes.length <= maxBytes) return text
  let cut = maxBytes
  // 0b10xxxxxx is a continuation byte: the character starting before it would be split.
  while (cut > 0 && (bytes[cut] & 0xc0) === 0x80) cut--
  return bytes.subarray(0, cut).toString('utf8')
}

// ---------------------------------------------------------------------------------------------------
// Condition DSL

/**
 * absent/null → true; boolean → itself; other scalar → PHP truthiness; list → AND of its elements;
 * object → AND of its `operator: operand` entries (an unknown operator is false).
 */
function evaluateCondition(condition: unknown, vars: Variables): boolean {
  if (condition === null || condition === undefined) return true
  if (typeof condition === 'boolean') return condition
  if (Array.isArray(condition)) return condition.every((element) => evaluateCondition(element, vars))
  if (isMap(condition)) {
    return Object.entries(condition).every(([operator, operand]) => evaluateOperator(operator, operand, vars))
  }

  return isTruthy(condition)
}

function evaluateOperator(operator: string, operand: unknown, vars: Variables): boolean {
  switch (operator) {
    case 'exists': {
      return operandExists(operand, vars)
    }

    case 'notExists': {
      return !operandExists(operand, vars)
    }

    case 'eq': {
      return looseEquals(...resolvePair(operand, vars))
    }

    case 'ne': {
      return !looseEquals(...resolvePair(operand, vars))
    }

    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      return compareAsFloats(operator, resolvePair(operand, vars))
    }

    case 'and': {
      const conditions = arrayValues(operand)
      return conditions !== null && conditions.every((condition) => evaluateCondition(condition, vars))
    }

    case 'or': {
      const conditions = arrayValues(operand)
      return conditions !== null && conditions.some((condition) => evaluateCondition(condition, vars))
    }

    case 'not': {
      return !evaluateCondition(operand, vars)
    }

    case 'isValidUrl': {
      const value = resolveOperand(operand, vars)
      return typeof value === 'string' && phpTrim(value) !== '' && isValidPhpUrl(value)
    }

    case 'isTrue': {
      return isTrueValue(resolveOperand(operand, vars))
    }

    default: {
      return false
    }
  }
}

/** A string operand always names a variable here (never a literal); anything else is resolved first. */
function operandExists(operand: unknown, vars: Variables): boolean {
  if (typeof operand === 'string') return hasValue(vars.get(operand))
  return hasValue(resolveOperand(operand, vars))
}

/**
 * `{var: name}` → that variable or null; a string that is the name of a variable that is present (even
 * with a null value) → its value; anything else is a literal. So a string naming a missing variable is
 * the literal string.
 */
function resolveOperand(operand: unknown, vars: Variables): unknown {
  if (isMap(operand) && Object.hasOwn(operand, 'var')) {
    const name = operand.var
    if (typeof name === 'string') return vars.get(name) ?? null
    if (typeof name === 'number') return vars.get(phpNumberToString(name)) ?? null
    return null
  }

  if (typeof operand === 'string' && vars.has(operand)) return vars.get(operand)
  return operand
}

/** `{left, right}` or a list of at least 2 elements; any other shape compares (null, null). */
function resolvePair(operand: unknown, vars: Variables): [unknown, unknown] {
  if (isMap(operand) && Object.hasOwn(operand, 'left') && Object.hasOwn(operand, 'right')) {
    return [resolveOperand(operand.left, vars), resolveOperand(operand.right, vars)]
  }

  if (Array.isArray(operand) && operand.length >= 2) {
    return [resolveOperand(operand[0], vars), resolveOperand(operand[1], vars)]
  }

  return [null, null]
}

function compareAsFloats(operator: 'gt' | 'gte' | 'lt' | 'lte', [left, right]: [unknown, unknown]): boolean {
  const a = phpFloatCast(left)
  const b = phpFloatCast(right)
  switch (operator) {
    case 'gt': {
      return a > b
    }

    case 'gte': {
      return a >= b
    }

    case 'lt': {
      return a < b
    }

    case 'lte': {
      return a <= b
    }
  }
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on', 'y'])

/** Bool → itself; numeric (numbers and numeric strings) → > 0; other strings → a "yes" word; else truthiness. */
function isTrueValue(value: unknown): boolean {
  if (typeof value === 'boolean') return value
  if (typeof value === 'number') return value > 0
  if (typeof value === 'string') {
    if (isNumericString(value)) return Number(value) > 0
    return TRUE_WORDS.has(phpTrim(value).toLowerCase())
  }

  return isTruthy(value)
}

// ---------------------------------------------------------------------------------------------------
// PHP value semantics

type PlainObject = Record<string, unknown>

/** A JSON object (a PHP associative array). */
function isMap(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The values of a PHP array (a JSON list or object), or null when the value is not an array at all. */
function arrayValues(value: unknown): unknown[] | null {
  if (Array.isArray(value)) return value
  if (isMap(value)) return Object.values(value)
  return null
}

function ownValue(object: PlainObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined
}

/** "Has a value": null → no; a string → non-empty after trim; anything else (false, 0, []) → yes. */
function hasValue(value: unknown): boolean {
  if (value === null || value === undefined) return false
  if (typeof value === 'string') return phpTrim(value) !== ''
  return true
}

/** PHP's `(bool)`. */
function isTruthy(value: unknown): boolean {
  if (value === null || value === undefined) return false
  if (typeof value === 'boolean') return value
  if (typeof value === 'number') return value !== 0
  if (typeof value === 'string') return value !== '' && value !== '0'
  const values = arrayValues(value)
  return values === null || values.length > 0
}

// PHP's trim() strips exactly these; String.prototype.trim would also strip NBSP and other Unicode spaces.
const PHP_TRIM_CHARS = ' \t\n\r\0\v'

function phpTrim(text: string): string {
  return phpRtrim(phpLtrim(text))
}

function phpLtrim(text: string): string {
  let start = 0
  while (start < text.length && PHP_TRIM_CHARS.includes(text[start])) start++
  return text.slice(start)
}

function phpRtrim(text: string): string {
  let end = text.length
  while (end > 0 && PHP_TRIM_CHARS.includes(text[end - 1])) end--
  return text.slice(0, end)
}

// PHP 8 numeric strings: optional leading and trailing whitespace around a decimal or exponent number.
const NUMERIC_STRING = /^[ \t\n\r\v\f]*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?[ \t\n\r\v\f]*$/
const LEADING_NUMBER = /^[ \t\n\r\v\f]*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)/

/** PHP's is_numeric() for strings: `'1e1'`, `' 5'`, `'5 '` and `'.5'` are numeric; `'0x1A'` and `''` are not. */
function isNumericString(text: string): boolean {
  return NUMERIC_STRING.test(text)
}

/** PHP's `(float)`: a string gives its leading number (`'12abc'` → 12) or 0; arrays give 0 or 1. */
function phpFloatCast(value: unknown): number {
  if (value === null || value === undefined) return 0
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value === 'number') return value
  if (typeof value === 'string') {
    const match = LEADING_NUMBER.exec(value)
    return match ? Number(match[1]) : 0
  }

  return isTruthy(value) ? 1 : 0
}

/** PHP's `(int)`: truncates toward zero; out-of-range or non-finite gives 0 (PHP 8 on 64-bit). */
function phpIntCast(value: unknown): number {
  const float = phpFloatCast(value)
  if (!Number.isFinite(float) || Math.abs(float) >= 2 ** 63) return 0
  return Math.trunc(float)
}

/**
 * PHP's string form of a number. Integers print in full; other floats use PHP's `precision` of 14
 * significant digits, and a whole float prints without a decimal point (20.0 → "20"), e.g.
 * 0.1 + 0.2 → "0.3" and 1.5e20 → "1.5E+20".
 */
function phpNumberToString(value: number): string {
  if (Number.isNaN(value)) return 'NAN'
  if (!Number.isFinite(value)) return value > 0 ? 'INF' : '-INF'
  if (Number.isInteger(value) && Math.abs(value) < 2 ** 63) return BigInt(value).toString()

  const [mantissa, exponentText] = value.toExponential(13).split('e')
  const exponent = Number(exponentText)
  const negative = mantissa.startsWith('-')
  const digits = mantissa.replace(/^-/, '').replace('.', '').replace(/0+$/, '') || '0'
  const sign = negative ? '-' : ''

  if (exponent < -4 || exponent >= 14) {
    const fraction = digits.length > 1 ? digits.slice(1) : '0'
    return `${sign}${digits[0]}.${fraction}E${exponent < 0 ? '-' : '+'}${Math.abs(exponent)}`
  }

  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0')
  const fraction = digits.slice(exponent + 1)
  return fraction === '' ? `${sign}${whole}` : `${sign}${whole}.${fraction}`
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
function looseEquals(left: unknown, right: unknown): boolean {
  const a = left ?? null
  const b = right ?? null
  if (a === null && b === null) return true
  if (typeof a === 'boolean' || typeof b === 'boolean') return isTruthy(a) === isTruthy(b)
  if (a === null) return typeof b === 'string' ? b === '' : !isTruthy(b)
  if (b === null) return typeof a === 'string' ? a === '' : !isTruthy(a)

  const aValues = arrayValues(a)
  const bValues = arrayValues(b)
  if (aValues !== null || bValues !== null) {
    return aValues !== null && bValues !== null && arraysLooselyEqual(a as object, b as object)
  }

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
  const bRecord = b as PlainObject
  if (aEntries.length !== Object.keys(b).length) return false
  return aEntries.every(([key, value]) => Object.hasOwn(b, key) && looseEquals(value, bRecord[key]))
}

// ---------------------------------------------------------------------------------------------------
// URL validation: PHP's filter_var($value, FILTER_VALIDATE_URL), which runs its parse_url()

// FILTER_SANITIZE_URL keeps only these; the validator fails when sanitising would remove anything
// (whitespace, non-ASCII, control characters).
const URL_CHARS = /^[A-Za-z0-9$\-_.+!*'(),{}|\\^~[\]`<>#%";/?:@&=]*$/

interface ParsedUrl {
  scheme?: string
  host?: string
  user?: string
  pass?: string
}

function isValidPhpUrl(value: string): boolean {
  if (!URL_CHARS.test(value)) return false
  const url = parsePhpUrl(value)
  if (url === null) return false

  const scheme = url.scheme?.toLowerCase()
  if (scheme === 'http' || scheme === 'https') {
    if (url.host === undefined) return false
    // A bracketed IPv6 host is accepted outright (PHP returns before checking the user info).
    if (isBracketedIpv6(url.host)) return true
    if (!isValidHostname(url.host)) return false
  }

  if (url.scheme === undefined) return false
  // Only these schemes (compared case-sensitively upstream) may lack a host.
  if (url.host === undefined && !['mailto', 'news', 'file'].includes(url.scheme)) return false
  if (url.user !== undefined && !isValidUserinfo(url.user)) return false
  if (url.pass !== undefined && !isValidUserinfo(url.pass)) return false
  return true
}

const isAsciiDigit = (ch: string | undefined) => ch !== undefined && ch >= '0' && ch <= '9'
const isAsciiAlnum = (ch: string | undefined) => ch !== undefined && /^[A-Za-z0-9]$/.test(ch)
const isSchemeChar = (ch: string) => isAsciiAlnum(ch) || ch === '+' || ch === '-' || ch === '.'

/**
 * The parts of PHP's parse_url() that decide validity: scheme, user info and host; null when PHP's
 * parser gives up. Follows the C parser's branches, which is why it reads like a state machine.
 * The input is ASCII here (URL_CHARS), so string indices are byte offsets.
 */
function parsePhpUrl(s: string): ParsedUrl | null {
  const url: ParsedUrl = {}
  const end = s.length
  const startsWithDoubleSlash = (at: number) => at + 1 < end && s[at] === '/' && s[at + 1] === '/'
  const firstOf = (from: number, chars: string) => {
    for (let i = from; i < end; i++) if (chars.includes(s[i])) return i
    return end
  }

  let start = 0
  let hasPort = false
  let next: 'host' | 'path' | 'port'
  const colon = s.indexOf(':')

  if (colon > 0) {
    const schemeIsValid = [...s.slice(0, colon)].every((ch) => isSchemeChar(ch))
    if (!schemeIsValid) {
      // Not a scheme: maybe "host:port", a scheme-relative "//host", or just a path.
      if (colon + 1 < end && colon < firstOf(0, '?#')) {
        next = 'port'
      } else if (startsWithDoubleSlash(0)) {
        start = 2
        next = 'host'
      } else {
        next = 'path'
      }
    } else if (colon + 1 === end) {
      return {scheme: s.slice(0, colon)}
    } else if (s[colon + 1] === '/') {
      url.scheme = s.slice(0, colon)
      if (colon + 2 < end && s[colon + 2] === '/') {
        start = colon + 3
        // "file:///path" has no host.
        next = url.scheme.toLowerCase() === 'file' && s[colon + 3] === '/' ? 'path' : 'host'
      } else {
        start = colon + 1
        next = 'path'
      }
    } else {
      // "a.com:80" is a host and port, not the scheme "a.com"; "mailto:x" is a scheme without "//".
      let p = colon + 1
      while (p < end && isAsciiDigit(s[p])) p++
      if ((p === end || s[p] === '/') && p - colon < 7) {
        next = 'port'
      } else {
        url.scheme = s.slice(0, colon)
        start = colon + 1
        next = 'path'
      }
    }
  } else if (colon === 0) {
    next = 'port'
  } else if (startsWithDoubleSlash(0)) {
    start = 2
    next = 'host'
  } else {
    next = 'path'
  }

  if (next === 'port') {
    const digitsStart = colon + 1
    let p = digitsStart
    while (p < end && p - digitsStart < 6 && isAsciiDigit(s[p])) p++
    const length = p - digitsStart
    if (length > 0 && length < 6 && (p === end || s[p] === '/')) {
      if (Number(s.slice(digitsStart, p)) > 65_535) return null
      hasPort = true
      if (startsWithDoubleSlash(start)) start += 2
      next = 'host'
    } else if (length === 0 && p === end) {
      return null
    } else if (startsWithDoubleSlash(start)) {
      start += 2
      next = 'host'
    } else {
      next = 'path'
    }
  }

  // The path, query and fragment never make parse_url fail, and validation does not look at them.
  if (next === 'path') return url
  return parseAuthority(s, start, hasPort, url)
}

/** parse_url's host part: `[user[:pass]@]host[:port]`, ending at the first '/', '?' or '#'. */
function parseAuthority(s: string, from: number, hasPort: boolean, url: ParsedUrl): ParsedUrl | null {
  let start = from
  let end = start
  while (end < s.length && !'/?#'.includes(s[end])) end++

  const at = end > start ? s.lastIndexOf('@', end - 1) : -1
  if (at >= start) {
    const colon = s.indexOf(':', start)
    if (colon !== -1 && colon < at) {
      url.user = s.slice(start, colon)
      url.pass = s.slice(colon + 1, at)
    } else {
      url.user = s.slice(start, at)
    }

    start = at + 1
  }

  let hostEnd = end
  const bracketed = start < s.length && s[start] === '[' && s[end - 1] === ']'
  const portColon = bracketed ? -1 : s.lastIndexOf(':', end - 1)
  if (portColon >= start) {
    hostEnd = portColon
    if (!hasPort) {
      const portText = s.slice(portColon + 1, end)
      if (portText.length > 5) return null
      if (portText.length > 0) {
        // strtol(): a leading number is enough ("80x" is 80), none at all is an error.
        const port = /^[+-]?\d+/.exec(portText)
        if (port === null || Number(port[0]) < 0 || Number(port[0]) > 65_535) return null
      }
    }
  }

  if (hostEnd - start < 1) return null
  url.host = s.slice(start, hostEnd)
  return url
}

function isBracketedIpv6(host: string): boolean {
  // PHP's own IPv6 check has no zone ids ("%eth0"); node's isIPv6 would accept them.
  return host.startsWith('[') && host.endsWith(']') && !host.includes('%') && isIPv6(host.slice(1, -1))
}

/**
 * PHP's hostname check: at most 253 characters, labels of 1–63 letters, digits and hyphens that start
 * and end with a letter or digit. One trailing dot is allowed, and (a quirk kept for parity) the label
 * before that dot may then end with a hyphen.
 */
function isValidHostname(host: string): boolean {
  const trailingDot = host.endsWith('.')
  const name = trailingDot ? host.slice(0, -1) : host
  if (name.length === 0 || name.length > 253) return false

  const labels = name.split('.')
  return labels.every((label, index) => {
    const last = index === labels.length - 1
    if (label.length === 0 || label.length > 63) return false
    if (!/^[A-Za-z0-9-]+$/.test(label) || !isAsciiAlnum(label[0])) return false
    return isAsciiAlnum(label.at(-1)) || (last && trailingDot)
  })
}

const USERINFO_CHARS = "-._~!$&'()*+,;=:"

/** Unreserved and sub-delimiter characters or %XX escapes (PHP requires the first hex digit to be 0-9). */
function isValidUserinfo(text: string): boolean {
  for (let i = 0; i < text.length;) {
    const ch = text[i]
    if (isAsciiAlnum(ch) || USERINFO_CHARS.includes(ch)) {
      i++
    } else if (ch === '%' && i + 2 < text.length && isAsciiDigit(text[i + 1]) && /^[0-9A-Fa-f]$/.test(text[i + 2])) {
      i += 3
    } else {
      return false
    }
  }

  return true
}
