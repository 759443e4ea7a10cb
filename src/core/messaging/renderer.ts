/**
 * WhatsApp template renderer: our port of upstream's `WaTemplateRenderer` (upstream-ops §2.4,
 * upstream-schema-api §4.8), written from the specification.
 *
 * Definitions are JSON stored per tenant, so every input is `unknown` and every shape gets the meaning
 * upstream's PHP gives it. Where PHP semantics leak into the result (loose `==`, float casts,
 * truthiness, `trim`, `strlen` counting bytes, FILTER_VALIDATE_URL) they are reproduced on purpose,
 * through src/core/php: the same stored template must produce the same message body in both systems.
 *
 * The one deliberate deviation: the final hard cut to max_length never splits a multi-byte UTF-8
 * character (see truncateUtf8).
 */
import {isJsonObject, isNumericString, type JsonObject, phpArrayValues, phpBoolCast, phpFloatCast, phpIntCast, phpLooseEquals} from '../php/loose-values.js'
import {phpNumberToString} from '../php/string-conversion.js'
import {phpRtrim, phpTrim} from '../php/trim.js'
import {isValidPhpUrl} from '../php/url-validation.js'

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
  const field = (key: string): unknown => (isJsonObject(definition) ? ownValue(definition, key) : undefined)

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
  const entries = phpArrayValues(raw)
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
    if (!isJsonObject(entry)) continue
    const text = ownValue(entry, 'text')
    if (typeof text !== 'string' && typeof text !== 'number') continue
    lines.push({
      text: typeof text === 'string' ? text : phpNumberToString(text),
      condition: ownValue(entry, 'condition') ?? null,
      optional: phpBoolCast(ownValue(entry, 'optional')),
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
  if (!isJsonObject(fallbacks) && !Array.isArray(fallbacks)) return
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
  const elements = phpArrayValues(required) ?? [required]
  if (elements.length === 0) return
  const groups = phpArrayValues(elements[0]) === null ? [elements] : elements

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
  const names = phpArrayValues(value) ?? [value]
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
  if (isJsonObject(condition)) {
    return Object.entries(condition).every(([operator, operand]) => evaluateOperator(operator, operand, vars))
  }

  return phpBoolCast(condition)
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
      return phpLooseEquals(...resolvePair(operand, vars))
    }

    case 'ne': {
      return !phpLooseEquals(...resolvePair(operand, vars))
    }

    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      return compareAsFloats(operator, resolvePair(operand, vars))
    }

    case 'and': {
      const conditions = phpArrayValues(operand)
      return conditions !== null && conditions.every((condition) => evaluateCondition(condition, vars))
    }

    case 'or': {
      const conditions = phpArrayValues(operand)
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
  if (isJsonObject(operand) && Object.hasOwn(operand, 'var')) {
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
  if (isJsonObject(operand) && Object.hasOwn(operand, 'left') && Object.hasOwn(operand, 'right')) {
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

  return phpBoolCast(value)
}

// ---------------------------------------------------------------------------------------------------
// Values

/** An own key only, so that a definition's `constructor` or `__proto__` never reaches Object.prototype. */
function ownValue(object: JsonObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined
}

/** "Has a value": null → no; a string → non-empty after trim; anything else (false, 0, []) → yes. */
function hasValue(value: unknown): boolean {
  if (value === null || value === undefined) return false
  if (typeof value === 'string') return phpTrim(value) !== ''
  return true
}
