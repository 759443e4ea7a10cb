/**
 * Laravel's `email` rule without parameters: egulias/email-validator's RFCValidation (RFC 5322 address
 * syntax, warnings ignored). Ported as the grammar it enforces: a dot-atom or quoted local part, `@`, and
 * a domain of labels (letters, digits, hyphens inside, non-ASCII allowed, no dot at either end; a dotless
 * host such as `localhost` passes) or a bracketed literal. Comments and folding white space, which the
 * library also accepts, are refused here: no login email carries them.
 */
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\-\\u0080-\\uFFFF]"
const DOT_ATOM = new RegExp(`^${ATEXT}+(?:\\.${ATEXT}+)*$`, 'u')
const QUOTED = /^"(?:[^"\\\r\n]|\\[\x20-\x7E])*"$/
const LABEL = /^[A-Za-z0-9\u0080-\uFFFF](?:[A-Za-z0-9\u0080-\uFFFF-]*[A-Za-z0-9\u0080-\uFFFF])?$/u
const LITERAL = /^\[[\x21-\x5A\x5E-\x7E]*\]$/

export function isLaravelEmail(value: unknown): boolean {
  if (typeof value !== 'string') return false
  const at = value.lastIndexOf('@')
  if (at <= 0 || at === value.length - 1) return false
  const local = value.slice(0, at)
  const domain = value.slice(at + 1)
  if (!DOT_ATOM.test(local) && !QUOTED.test(local)) return false
  if (LITERAL.test(domain)) return true
  return domain.split('.').every((label) => LABEL.test(label))
}
