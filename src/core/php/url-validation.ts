/**
 * PHP's filter_var($value, FILTER_VALIDATE_URL), which runs its own parse_url() first. Only the parts
 * that decide validity are ported (scheme, user info, host); the C code's quirks are kept on purpose,
 * since a stored template must accept exactly the URLs upstream accepts.
 */
import {isIPv6} from 'node:net'

// FILTER_SANITIZE_URL keeps only these; the validator fails when sanitising would remove anything
// (whitespace, non-ASCII, control characters).
const URL_CHARS = /^[A-Za-z0-9$\-_.+!*'(),{}|\\^~[\]`<>#%";/?:@&=]*$/

interface ParsedUrl {
  scheme?: string
  host?: string
  user?: string
  pass?: string
}

/** FILTER_VALIDATE_URL without flags. */
export function isValidPhpUrl(value: string): boolean {
  if (!URL_CHARS.test(value)) return false
  const url = parsePhpUrl(value)
  if (url === null) return false

  const scheme = url.scheme?.toLowerCase()
  if (scheme === 'http' || scheme === 'https') {
    if (url.host === undefined) return false
    // A bracketed IPv6 host needs no hostname check; its user info is still checked (PHP 8.2).
    if (!isBracketedIpv6(url.host) && !isValidHostname(url.host)) return false
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
