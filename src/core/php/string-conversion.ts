/**
 * How PHP turns scalars into strings: `(string)`, string interpolation and `echo`, under PHP 8's
 * default `precision` of 14 significant digits.
 */

/** A PHP scalar as JSON carries it (PHP's `is_scalar`, plus null). */
export type PhpScalar = null | boolean | number | string

/** PHP's `precision` ini setting, 14 by default: the significant digits echo and `(string)` print. */
const PRECISION = 14

/**
 * PHP's string form of a float: at most 14 significant digits, a whole value without a decimal point
 * (20.0 → "20"), and exponent notation below 1e-4 or from 1e14 on (1.5e20 → "1.5E+20", 1e15 → "1.0E+15").
 */
export function phpFloatToString(value: number): string {
  if (Number.isNaN(value)) return 'NAN'
  if (!Number.isFinite(value)) return value > 0 ? 'INF' : '-INF'
  // Object.is tells -0 apart; PHP prints its sign.
  if (value === 0) return Object.is(value, -0) ? '-0' : '0'

  const {digits, exponent} = roundToPrecision(exactDigits(Math.abs(value)), PRECISION)
  const sign = value < 0 ? '-' : ''

  if (exponent < -4 || exponent >= PRECISION) {
    const fraction = digits.length > 1 ? digits.slice(1) : '0'
    return `${sign}${digits[0]}.${fraction}E${exponent < 0 ? '-' : '+'}${Math.abs(exponent)}`
  }

  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0')
  const fraction = digits.slice(exponent + 1)
  return fraction === '' ? `${sign}${whole}` : `${sign}${whole}.${fraction}`
}

/** Significant digits without trailing zeros, and the power of ten of the first digit. */
interface Decimal {
  digits: string
  exponent: number
}

/** The exact decimal value of a positive finite double (every double is a finite decimal). */
function exactDigits(value: number): Decimal {
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, value)
  const bits = view.getBigUint64(0)
  const biasedExponent = Number(bits >> 52n)
  const fraction = bits & ((1n << 52n) - 1n)
  // value = mantissa × 2^power, subnormals included.
  const mantissa = biasedExponent === 0 ? fraction : fraction | (1n << 52n)
  const power = Math.max(biasedExponent, 1) - 1075
  // m × 2^-k = m × 5^k / 10^k, so a negative power of two becomes an integer and a decimal shift.
  const integer = power >= 0 ? mantissa << BigInt(power) : mantissa * 5n ** BigInt(-power)
  const text = integer.toString()
  const scale = Math.max(0, -power)
  return {digits: text.replace(/0+$/, ''), exponent: text.length - 1 - scale}
}

/**
 * Rounds to `precision` significant digits as PHP's zend_dtoa does: to nearest, and an exact tie to
 * the even digit (String(number) and toExponential round ties up).
 */
function roundToPrecision({digits, exponent}: Decimal, precision: number): Decimal {
  if (digits.length <= precision) return {digits, exponent}
  const kept = digits.slice(0, precision)
  const rest = digits.slice(precision)
  const tie = rest === '5'
  const roundUp = rest[0] > '5' || (rest[0] === '5' && (!tie || Number(kept.at(-1)) % 2 === 1))
  // zend_dtoa's fast path for integers below 10^15 leaves the zeros of a tie rounded down
  // (445582193404005.0 prints 4.4558219340400E+14).
  if (!roundUp && tie && exponent === precision) return {digits: kept, exponent}
  if (!roundUp) return {digits: kept.replace(/0+$/, ''), exponent}
  const bumped = (BigInt(kept) + 1n).toString()
  // 99…9 + 1 gains a digit: the value moved up a power of ten.
  return bumped.length > precision ? {digits: '1', exponent: exponent + 1} : {digits: bumped.replace(/0+$/, ''), exponent}
}

/**
 * PHP's string form of a JSON number. JSON does not say int or float, so a whole number in PHP's
 * 64-bit int range prints as the int json_decode makes of it, in full; anything else as a float.
 */
export function phpNumberToString(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 2 ** 63) return BigInt(value).toString()
  return phpFloatToString(value)
}

/** PHP's `(string)` of a scalar: null → '', true → '1', false → '', numbers as PHP prints them. */
export function phpStringCast(value: PhpScalar): string {
  if (value === null) return ''
  if (typeof value === 'boolean') return value ? '1' : ''
  if (typeof value === 'number') return phpNumberToString(value)
  return value
}
