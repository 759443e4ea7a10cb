import {isUtf8} from 'node:buffer'

import type {FastifyInstance} from 'fastify'

/**
 * Laravel's request input, as its default global middleware leaves it (reference §0.2): the body is read
 * as JSON when the Content-Type says so (`/json` or `+json` in its media type, as Request::isJson), as a PHP
 * form for `application/x-www-form-urlencoded` and for the fields of `multipart/form-data`, and is otherwise
 * no input at all; a body that is not valid
 * JSON is no input either (json_decode gives null), so a route answers it with its field errors (422),
 * never a parse error. Then TrimStrings and ConvertEmptyStringsToNull run over the body and the query,
 * recursively.
 */

/** Fields TrimStrings leaves alone (top-level names only, as Laravel compares the dotted key). */
const NEVER_TRIMMED = new Set(['password', 'password_confirmation', 'current_password'])

// Str::trim: whitespace (Unicode-aware), BOM, zero-width space, left-to-right mark and NUL.
const EDGE_SPACE = /^[\s\uFEFF\u200B\u200E\0]+|[\s\uFEFF\u200B\u200E\0]+$/g

type Input = Record<string, unknown>

/** PHP's json_decode depth (512): a document nested deeper decodes to null, i.e. no input. */
export const JSON_MAX_DEPTH = 512
/** PHP's max_input_vars (1000): the variables of a form body or query string after it are dropped. */
export const MAX_INPUT_VARS = 1000
/** PHP's max_input_nesting_level (64): a variable nested deeper is dropped. */
export const MAX_INPUT_NESTING = 64

/**
 * Sets an own property, whatever its name: `out.__proto__ = v` would replace the prototype instead (a key
 * PHP reads as any other; here it must never reach a prototype another part of the code reads through).
 */
function setOwn(out: Input, key: string, value: unknown): void {
  Object.defineProperty(out, key, {value, enumerable: true, writable: true, configurable: true})
}

function normaliseValue(value: unknown, key: string): unknown {
  if (typeof value === 'string') {
    const trimmed = NEVER_TRIMMED.has(key) ? value : value.replace(EDGE_SPACE, '')
    return trimmed === '' ? null : trimmed
  }
  if (Array.isArray(value)) return value.map((item, index) => normaliseValue(item, `${key}.${index}`))
  if (value !== null && typeof value === 'object') {
    const out: Input = {}
    for (const [k, v] of Object.entries(value as Input)) setOwn(out, k, normaliseValue(v, `${key}.${k}`))
    return out
  }
  return value
}

/** TrimStrings then ConvertEmptyStringsToNull over an input object (its nesting is bounded by the parsers). */
export function normaliseInput(input: Input): Input {
  const out: Input = {}
  for (const [key, value] of Object.entries(input)) setOwn(out, key, normaliseValue(value, key))
  return out
}

/** Is `value` nested deeper than `limit` (a scalar is depth 0)? Iterative: a hostile document cannot overflow the stack. */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!
    if (node === null || typeof node !== 'object') continue
    if (depth + 1 > limit) return true
    for (const child of Object.values(node as Input)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1])
  }
  return false
}

/**
 * A decoded body as Laravel's input bag: an object stays, a list becomes its index keys, a scalar the
 * single key "0" ((array) cast), null or nothing no input.
 */
export function asInputObject(body: unknown): Input {
  if (body === undefined || body === null) return {}
  if (Array.isArray(body)) return Object.fromEntries(body.map((v, i) => [String(i), v]))
  if (typeof body === 'object') return body as Input
  return {'0': body}
}

/**
 * PHP's parse_str for query strings and form bodies: `a[b][]=1&a[b][]=2` nests, a later key wins.
 * Keys are kept as text (`items[0]` is the key "0" of an object, as in PHP), own-property safe.
 */
export function parsePhpQuery(text: string): Input {
  return phpVariables(new URLSearchParams(text))
}

/**
 * PHP's registration of request variables (php_register_variable) from name/value pairs in order, as for
 * a query string, a form body or the fields of a multipart body.
 */
export function phpVariables(pairs: Iterable<readonly [string, string]>): Input {
  const out: Input = Object.create(null) as Input
  // PHP's next index of an `a[]=` append: one more than the largest integer key so far, per array.
  const nextIndex = new WeakMap<Input, number>()
  const note = (node: Input, part: string) => {
    if (/^(0|[1-9]\d{0,15})$/.test(part)) nextIndex.set(node, Math.max(nextIndex.get(node) ?? 0, Number(part) + 1))
  }
  let vars = 0
  for (const [rawKey, value] of pairs) {
    if (++vars > MAX_INPUT_VARS) break
    const open = rawKey.indexOf('[')
    // PHP drops a variable without a name and writes `.` and spaces in the name as `_`.
    const head = (open >= 0 ? rawKey.slice(0, open) : rawKey).replace(/[ .]/g, '_')
    if (head === '') continue
    const rest = open >= 0 ? rawKey.slice(open) : ''
    const parts = [head]
    const bracket = /\[([^\]]*)\]/gy
    let match: RegExpExecArray | null
    let consumed = 0
    while ((match = bracket.exec(rest)) !== null) {
      parts.push(match[1])
      consumed = bracket.lastIndex
    }
    // Anything after the last complete bracket pair is ignored, as PHP does.
    if (consumed === 0 && rest !== '') parts.splice(1)
    // Deeper than max_input_nesting_level: PHP drops the variable.
    if (parts.length - 1 > MAX_INPUT_NESTING) continue
    let node: Input = out
    for (let i = 0; i < parts.length; i++) {
      const last = i === parts.length - 1
      let part = parts[i]
      if (part === '') part = String(nextIndex.get(node) ?? 0)
      note(node, part)
      if (last) {
        node[part] = value
      } else {
        const next = node[part]
        if (next === null || typeof next !== 'object') node[part] = Object.create(null) as Input
        node = node[part] as Input
      }
    }
  }
  return toPlain(out) as Input
}

/** Objects whose keys are 0..n-1 become lists (PHP arrays serialise that way); null-prototype objects become plain. */
function toPlain(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  const entries = Object.entries(value as Input).map(([k, v]) => [k, toPlain(v)] as const)
  if (entries.length > 0 && entries.every(([k], i) => k === String(i))) return entries.map(([, v]) => v)
  return Object.fromEntries(entries)
}

/** The boundary parameter of a multipart Content-Type (quoted or not), or null. */
function multipartBoundary(contentType: string | undefined): string | null {
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '')
  const boundary = match?.[1] ?? match?.[2] ?? null
  return boundary === null || boundary.length > 200 ? null : boundary
}

/**
 * The fields of a `multipart/form-data` body, as PHP's rfc1867 parser registers them (phpVariables): a
 * part starts after a `--boundary` line at the start of the body or after a line break (`\n--boundary`;
 * a boundary string inside a value is content), its headers end at the first empty line (CRLF or LF), its
 * value runs to the line break before the next boundary line (a CR before it dropped). The field name is
 * the Content-Disposition `name`. File parts (with a `filename`) are left out: no route of this API takes a
 * file, and Laravel keeps them apart from the input fields anyway. A body without a boundary parameter, or
 * without a boundary line, is no input. Every search starts where the last one ended: linear in the body.
 */
export function parseMultipartFields(body: Buffer, contentType: string | undefined): Input {
  const boundary = multipartBoundary(contentType)
  if (boundary === null) return {}
  const marker = Buffer.from(`--${boundary}`)
  const delimiter = Buffer.from(`\n--${boundary}`)
  const fields: Array<[string, string]> = []
  // The first boundary line: at the very start, or after a line break (a preamble before it is ignored).
  let at = body.subarray(0, marker.length).equals(marker) ? 0 : body.indexOf(delimiter)
  if (at === -1) return {}
  if (at > 0) at += 1
  while (fields.length < MAX_INPUT_VARS) {
    const afterMarker = at + marker.length
    // `--boundary--` closes the body.
    if (body[afterMarker] === 0x2d && body[afterMarker + 1] === 0x2d) break
    // The rest of the boundary line (transport padding) is skipped.
    const lineEnd = body.indexOf(0x0a, afterMarker)
    if (lineEnd === -1) break
    const start = lineEnd + 1
    const next = body.indexOf(delimiter, start - 1)
    if (next === -1) break
    const part = body.subarray(start, next > start && body[next - 1] === 0x0d ? next - 1 : next)
    const crlf = part.indexOf('\r\n\r\n')
    const lf = part.indexOf('\n\n')
    const headerEnd = crlf !== -1 && (lf === -1 || crlf < lf) ? crlf : lf
    if (headerEnd !== -1) {
      const headers = part.subarray(0, headerEnd).toString('utf8')
      const disposition = /^content-disposition:\s*form-data(.*)$/im.exec(headers)?.[1] ?? ''
      const name = /;\s*name=(?:"([^"]*)"|([^;\s]+))/i.exec(disposition)
      const isFile = /;\s*filename\*?=/i.test(disposition)
      const fieldName = name?.[1] ?? name?.[2]
      const valueStart = headerEnd + (headerEnd === crlf ? 4 : 2)
      if (fieldName !== undefined && !isFile) fields.push([fieldName, part.subarray(valueStart).toString('utf8')])
    }
    at = next + 1
  }
  return phpVariables(fields)
}

/** A string PHP's JSON decoder refuses: a lone UTF-16 surrogate (`"\ud800"`, JSON_ERROR_UTF16). */
function hasLoneSurrogate(text: string): boolean {
  return !(text as string & {isWellFormed(): boolean}).isWellFormed()
}

/** Does any string or key of a decoded document hold a lone surrogate? Iterative, as nestedDeeperThan. */
function holdsLoneSurrogate(value: unknown): boolean {
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const node = stack.pop()
    if (typeof node === 'string') {
      if (hasLoneSurrogate(node)) return true
    } else if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node as Input)) {
        if (hasLoneSurrogate(key)) return true
        stack.push(child)
      }
    }
  }
  return false
}

/**
 * PHP's json_decode of a request body, as Laravel reads it: null (no input) for an empty body, invalid
 * JSON, a body that is not valid UTF-8 (JSON_ERROR_UTF8), a lone surrogate escape (JSON_ERROR_UTF16) or a
 * document nested deeper than 512 levels (which is never a stack overflow here).
 */
export function phpJsonDecode(body: Buffer): unknown {
  if (!isUtf8(body)) return null
  const text = body.toString('utf8')
  let value: unknown
  try {
    value = text.trim() === '' ? null : (JSON.parse(text) as unknown)
  } catch {
    return null
  }
  if (nestedDeeperThan(value, JSON_MAX_DEPTH)) return null
  if (/\\u[dD][89a-fA-F]/.test(text) && holdsLoneSurrogate(value)) return null
  return value
}

// Laravel looks for `/json` or `+json` anywhere in the header; here only in the media type itself (not in
// a parameter), so a CORS-simple `text/plain; x=/json` is not read as JSON.
const JSON_TYPE = /^[^;]*[/+]json/i

/** The body parsers and the normalisation hook. */
export function installInputNormalisation(app: FastifyInstance): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(JSON_TYPE, {parseAs: 'buffer'}, (_request, body, done) => {
    done(null, asInputObject(phpJsonDecode(body as Buffer)))
  })
  app.addContentTypeParser('application/x-www-form-urlencoded', {parseAs: 'string'}, (_request, body, done) => {
    done(null, parsePhpQuery(body as string))
  })
  app.addContentTypeParser('multipart/form-data', {parseAs: 'buffer'}, (request, body, done) => {
    done(null, parseMultipartFields(body as Buffer, request.headers['content-type']))
  })
  // Any other type (text/plain, none): read up to the body limit, then no input.
  app.addContentTypeParser('*', {parseAs: 'buffer'}, (_request, _body, done) => {
    done(null, {})
  })
  app.addHook('preValidation', (request, _reply, done) => {
    request.body = normaliseInput(asInputObject(request.body))
    request.query = normaliseInput(asInputObject(request.query))
    done()
  })
}
