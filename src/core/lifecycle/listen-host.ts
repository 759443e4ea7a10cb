import {isIP} from 'node:net'

import {UsageError} from '../errors.js'

/**
 * `serve --host`: an IP address, or a host name whose labels are letters, digits and hyphens and whose
 * last label is not all digits (so `0` or `9007199254740992` are refused here, not handed to the
 * resolver, which reads some of them as IPv4 numbers). A pure input check, also run while parsing.
 */
export function assertListenHost(value: string): void {
  if (isIP(value) !== 0) return
  const labels = value.split('.')
  const label = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i
  if (value.length <= 253 && labels.every((l) => label.test(l)) && !/^\d+$/.test(labels[labels.length - 1])) return
  const shown = value.length > 60 ? `${value.slice(0, 40)}…(${value.length} characters)` : value
  throw new UsageError('USAGE', `--host '${shown}' is not an IP address or a host name: expected e.g. 127.0.0.1, 0.0.0.0, ::1 or localhost`)
}
