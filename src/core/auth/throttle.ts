import {createHash} from 'node:crypto'

import type {Clock} from '../clock.js'
import {unixSeconds} from '../clock.js'
import type {Database} from '../db/connection.js'
import type {CacheRow} from '../db/rows.js'
import {type Executor, writeTransaction} from '../db/transactions.js'
import {phpSerialize, phpUnserialize} from '../php/serialize.js'

/**
 * Laravel's named rate limiters (RateLimiter with the database cache store), with the counters in the
 * `cache` table so that every `serve` process and every host, and the Laravel application itself, count
 * together (reference §3.2, A-27). As Laravel's ThrottleRequests does for a named limiter: the key is
 * `md5(<limiter name><limit key>)` under the cache prefix; `<key>:timer` holds the unix time the window
 * ends; the window is a fixed `decaySeconds` starting at the key's first counted request (not aligned to
 * clock minutes); a request is refused when the count has reached the limit while the timer lives, and
 * every request that is let through counts, whatever its outcome.
 */

export interface ThrottleLimit {
  /** The limiter's name, as registered upstream: `auth-login`, `sync-push`. */
  limiter: string
  /** The limit's key, e.g. `lower(email)|ip`. */
  key: string
  maxAttempts: number
  decaySeconds: number
}

export interface ThrottleDecision {
  allowed: boolean
  limit: number
  /** Attempts left in the window after this one (0 when refused). */
  remaining: number
  /** Seconds until the window ends (for Retry-After; 0 while allowed). */
  retryAfter: number
  /** Unix time the window ends. */
  resetAt: number
}

/** The cache key Laravel's ThrottleRequests uses for a named limiter (hashed keys, the default). */
export function throttleCacheKey(cachePrefix: string, limit: Pick<ThrottleLimit, 'limiter' | 'key'>): string {
  return (
    cachePrefix +
    createHash('md5')
      .update(limit.limiter + limit.key)
      .digest('hex')
  )
}

/** Counts one request against `limit`, or refuses it: one write transaction, so concurrent processes never both take the last attempt. */
export async function hitThrottle(db: Database, cachePrefix: string, limit: ThrottleLimit, clock: Clock): Promise<ThrottleDecision> {
  const key = throttleCacheKey(cachePrefix, limit)
  const timerKey = `${key}:timer`
  return writeTransaction(db, async (conn) => {
    if (db.dialect === 'pg') await conn.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [key])
    const now = unixSeconds(clock.now())
    // FOR UPDATE as Laravel's DatabaseStore::increment, so the Laravel application's own hits on the same rows queue too.
    const read = conn<CacheRow>('cache').whereIn('key', [key, timerKey]).select('key', 'value', 'expiration')
    const rows = db.dialect === 'pg' ? await read.forUpdate() : await read
    // Laravel's database store treats a row whose expiration has come as absent.
    const live = (name: string) => rows.find((row) => row.key === name && Number(row.expiration) > now)
    const counter = live(key)
    const timer = live(timerKey)
    let attempts = counter ? readInt(counter.value) : 0
    const timerEnds = timer ? readInt(timer.value) : 0
    if (attempts >= limit.maxAttempts) {
      if (timer) {
        const retryAfter = Math.max(0, timerEnds - now)
        return {allowed: false, limit: limit.maxAttempts, remaining: 0, retryAfter, resetAt: now + retryAfter}
      }
      attempts = 0 // RateLimiter::resetAttempts: the window is over.
    }
    const ends = timer ? timerEnds : now + limit.decaySeconds
    if (!timer) await put(conn, timerKey, ends, now + limit.decaySeconds)
    // The counter lives as long as its window: Cache::add(key, 0, decay), then increment keeps its expiration.
    const expiration = counter && attempts > 0 ? Number(counter.expiration) : now + limit.decaySeconds
    const hits = attempts + 1
    await put(conn, key, hits, expiration)
    return {allowed: true, limit: limit.maxAttempts, remaining: Math.max(0, limit.maxAttempts - hits), retryAfter: 0, resetAt: ends}
  })
}

function readInt(value: string): number {
  try {
    const parsed = phpUnserialize(value)
    const n = typeof parsed === 'number' ? parsed : Number(parsed)
    return Number.isFinite(n) ? Math.trunc(n) : 0
  } catch {
    return 0
  }
}

async function put(conn: Executor, key: string, value: number, expiration: number): Promise<void> {
  await conn('cache')
    .insert({key, value: phpSerialize(value), expiration})
    .onConflict('key')
    .merge(['value', 'expiration'])
}
