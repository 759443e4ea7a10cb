import type {Executor} from '../db/transactions.js'
import {phpSerialize, phpUnserialize} from '../php/serialize.js'
import type {CacheRow} from '../db/rows.js'

/** Laravel's key, under the cache prefix: `php artisan queue:restart` and ours write the same row. */
export const RESTART_KEY = 'illuminate:queue:restart'
/** `Cache::forever` on the database store: ten years. */
const FOREVER_SECONDS = 315_360_000

/** Stores "now" as the restart time; every worker (ours or Laravel's) exits after its current job. */
export async function signalQueueRestart(conn: Executor, prefix: string, now: Date): Promise<number> {
  const timestamp = Math.floor(now.getTime() / 1000)
  const row = {key: `${prefix}${RESTART_KEY}`, value: phpSerialize(timestamp), expiration: timestamp + FOREVER_SECONDS}
  await conn('cache').insert(row).onConflict('key').merge(['value', 'expiration'])
  return timestamp
}

/**
 * The restart signal as stored: its cache key, the row's value as written (PHP-serialized, null when no
 * row) and the restart time read from it (null when none was ever signalled or the value is unreadable).
 */
export interface RestartSignal {
  key: string
  value: string | null
  time: number | null
}

export async function readRestartSignal(conn: Executor, prefix: string): Promise<RestartSignal> {
  const key = `${prefix}${RESTART_KEY}`
  const row = await conn<CacheRow>('cache').where({key}).first('value')
  if (!row) return {key, value: null, time: null}
  const value = String(row.value)
  try {
    const time = phpUnserialize(value)
    return {key, value, time: typeof time === 'number' ? time : null}
  } catch {
    return {key, value, time: null}
  }
}

/** The last restart time, or null when none was ever signalled (or the row is not readable). */
export async function lastQueueRestart(conn: Executor, prefix: string): Promise<number | null> {
  return (await readRestartSignal(conn, prefix)).time
}
