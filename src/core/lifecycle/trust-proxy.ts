import {isIP} from 'node:net'

import {UsageError} from '../errors.js'

/** proxy-addr's named ranges, as fastify's trustProxy takes them. */
const NAMED = new Set(['loopback', 'linklocal', 'uniquelocal'])

/**
 * `--trust-proxy`: the proxies whose X-Forwarded-For the API believes (Laravel's TrustProxies), a comma
 * list of addresses, CIDR ranges or loopback / linklocal / uniquelocal. Without it the client address is
 * the socket's, as Laravel's default (no proxy trusted). Throws a UsageError naming the bad entry.
 */
export function parseTrustProxy(raw: string): string[] {
  const entries = raw.split(',').map((entry) => entry.trim())
  for (const entry of entries) {
    if (NAMED.has(entry)) continue
    const [address, prefix, extra] = entry.split('/')
    const family = isIP(address ?? '')
    const bits = prefix === undefined ? undefined : Number(prefix)
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && bits !== undefined && bits <= (family === 6 ? 128 : 32))
    if (family === 0 || !prefixOk || extra !== undefined) {
      throw new UsageError('USAGE', `--trust-proxy: '${entry}' is not an address, a CIDR range (10.0.0.0/8) or one of loopback, linklocal, uniquelocal`)
    }
  }
  return entries
}

/** The client address as Laravel sees it: an IPv4 client of a dual-stack socket (`::ffff:1.2.3.4`) is `1.2.3.4`. */
export function clientAddress(ip: string | undefined): string {
  if (ip === undefined) return ''
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip)
  return mapped ? mapped[1] : ip
}
