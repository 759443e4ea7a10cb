/**
 * The subset of PHP's serialize() format that Laravel queue payloads use (`data.command`): null, bool,
 * int, float, string, array and object. String lengths are UTF-8 byte counts, as PHP counts them.
 */
export type PhpValue = null | boolean | number | string | PhpValue[] | PhpArray | PhpObject

export interface PhpArray {
  kind: 'array'
  entries: Array<[string | number, PhpValue]>
}

export interface PhpObject {
  kind: 'object'
  className: string
  properties: Array<[string, PhpValue]>
}

export class PhpSerializeError extends Error {}

const enc = (s: string) => Buffer.byteLength(s, 'utf8')

export function phpString(value: string): string {
  return `s:${enc(value)}:"${value}";`
}

export function phpSerialize(value: PhpValue): string {
  if (value === null) return 'N;'
  if (typeof value === 'boolean') return `b:${value ? 1 : 0};`
  if (typeof value === 'number') return Number.isInteger(value) ? `i:${value};` : `d:${value};`
  if (typeof value === 'string') return phpString(value)
  if (Array.isArray(value)) {
    return `a:${value.length}:{${value.map((v, i) => `i:${i};${phpSerialize(v)}`).join('')}}`
  }
  if (value.kind === 'array') {
    const body = value.entries.map(([k, v]) => `${typeof k === 'number' ? `i:${k};` : phpString(k)}${phpSerialize(v)}`).join('')
    return `a:${value.entries.length}:{${body}}`
  }
  const body = value.properties.map(([k, v]) => `${phpString(k)}${phpSerialize(v)}`).join('')
  return `O:${enc(value.className)}:"${value.className}":${value.properties.length}:{${body}}`
}

export function phpUnserialize(text: string): PhpValue {
  const buf = Buffer.from(text, 'utf8')
  let pos = 0
  const fail = (what: string): never => {
    throw new PhpSerializeError(`invalid PHP serialized data at byte ${pos}: ${what}`)
  }
  const expect = (ch: string) => {
    if (buf[pos] !== ch.charCodeAt(0)) fail(`expected '${ch}'`)
    pos++
  }
  const readUntil = (ch: string): string => {
    const end = buf.indexOf(ch, pos)
    if (end < 0) fail(`missing '${ch}'`)
    const s = buf.toString('utf8', pos, end)
    pos = end + 1
    return s
  }
  const readInt = (terminator: string): number => {
    const raw = readUntil(terminator)
    if (!/^-?\d+$/.test(raw)) fail(`not an integer: ${raw}`)
    return Number(raw)
  }
  const readStringBody = (): string => {
    const length = readInt(':')
    expect('"')
    if (pos + length > buf.length) fail('string runs past the end')
    const s = buf.toString('utf8', pos, pos + length)
    pos += length
    expect('"')
    return s
  }
  const value = (): PhpValue => {
    const type = String.fromCharCode(buf[pos])
    pos++
    if (type === 'N') {
      expect(';')
      return null
    }
    expect(':')
    switch (type) {
      case 'b':
        return readInt(';') === 1
      case 'i':
        return readInt(';')
      case 'd': {
        const raw = readUntil(';')
        const n = Number(raw)
        if (Number.isNaN(n) && raw !== 'NAN') fail(`not a float: ${raw}`)
        return n
      }
      case 's': {
        const s = readStringBody()
        expect(';')
        return s
      }
      case 'a': {
        const count = readInt(':')
        expect('{')
        const entries: Array<[string | number, PhpValue]> = []
        for (let i = 0; i < count; i++) {
          const key = value()
          if (typeof key !== 'string' && typeof key !== 'number') fail('array key must be int or string')
          entries.push([key as string | number, value()])
        }
        expect('}')
        return {kind: 'array', entries}
      }
      case 'O': {
        const className = readStringBody()
        expect(':')
        const count = readInt(':')
        expect('{')
        const properties: Array<[string, PhpValue]> = []
        for (let i = 0; i < count; i++) {
          const key = value()
          if (typeof key !== 'string') fail('property name must be a string')
          properties.push([key as string, value()])
        }
        expect('}')
        return {kind: 'object', className, properties}
      }
      default:
        return fail(`unsupported type '${type}'`)
    }
  }
  const result = value()
  if (pos !== buf.length) fail('trailing data')
  return result
}

/** A property of a serialized object, ignoring PHP's visibility prefixes ("\0*\0name"). */
export function phpProperty(object: PhpValue, name: string): PhpValue | undefined {
  if (!object || typeof object !== 'object' || Array.isArray(object) || object.kind !== 'object') return undefined
  const found = object.properties.find(([key]) => key === name || key.endsWith(`\0${name}`))
  return found?.[1]
}
