import {OpsError} from '../errors.js'
import {isCalendarDate} from '../invoices/outlet-time.js'
import {UAT_CATALOG} from './catalog.js'

/** `--date`: a real calendar date written YYYY-MM-DD (upstream's message; its silent overflow of 2026-02-30 is refused here). */
export function assertUatDate(value: string): void {
  if (!isCalendarDate(value)) throw new OpsError('INVALID_DATE', `Invalid --date value ${JSON.stringify(value)}. Use format YYYY-MM-DD.`)
}

/** `--scenario`: an ID of the catalogue (any case). */
export function assertScenarioId(value: string): void {
  if (!UAT_CATALOG.some((s) => s.id === value.toUpperCase())) {
    throw new OpsError('UNKNOWN_SCENARIO', `no scenario ${JSON.stringify(value)}: the catalogue has ${UAT_CATALOG.map((s) => s.id).join(', ')}`)
  }
}

/** `--base-url`: an http(s) URL without credentials, query or fragment. */
export function assertBaseUrl(value: string): void {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new OpsError('USAGE', `--base-url ${JSON.stringify(value)} is not a URL (e.g. http://127.0.0.1:8000)`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OpsError('USAGE', `--base-url must be http:// or https://, not ${url.protocol}`)
  if (url.username || url.password || url.search || url.hash)
    throw new OpsError('USAGE', '--base-url takes the server address only (no credentials, query or fragment)')
}
