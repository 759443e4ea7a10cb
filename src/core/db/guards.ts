import {type AppConfig, isLocalDatabase} from '../config.js'
import {UsageError} from '../errors.js'

/**
 * `db fresh` drops every table: refuse it in production and on a PostgreSQL server that is not on this
 * machine, unless the operator says --force.
 */
export function assertDestructiveAllowed(config: AppConfig, force: boolean, what: string): void {
  if (force) return
  if (config.env === 'production') {
    throw new UsageError('REFUSED_PRODUCTION', `refusing to ${what} with LAUNDRY_OPS_ENV=production; add --force if you really mean it`)
  }
  if (!isLocalDatabase(config.database)) {
    const host = config.database.client === 'pg' ? config.database.host : ''
    throw new UsageError('REFUSED_REMOTE', `refusing to ${what} on the non-local PostgreSQL host ${host}; add --force if you really mean it`)
  }
}

/** Artisan asks before changing a production schema; a non-interactive tool requires --force instead. */
export function assertProductionForced(config: AppConfig, force: boolean, what: string): void {
  if (config.env === 'production' && !force) {
    throw new UsageError('REFUSED_PRODUCTION', `refusing to ${what} with LAUNDRY_OPS_ENV=production without --force`)
  }
}
