import {createHash} from 'node:crypto'

import {expect} from 'chai'

import {hitThrottle, type ThrottleLimit, throttleCacheKey} from '../../../src/core/auth/throttle.js'
import type {Database} from '../../../src/core/db/connection.js'
import type {CacheRow} from '../../../src/core/db/rows.js'
import {describeEachEngine} from '../../helpers/engines.js'
import {manualClock} from '../../helpers/wa.js'

const PREFIX = 'laravel_cache_'
const login = (key: string): ThrottleLimit => ({limiter: 'auth-login', key, maxAttempts: 10, decaySeconds: 60})

describeEachEngine('auth throttle: Laravel named limiters with counters in the cache table', {from: 'migrated'}, (ctx) => {
  let db: Database

  before(async () => {
    db = await ctx.scratch.open()
  })

  it('keys as ThrottleRequests does (md5 of limiter name and key under the cache prefix), stores PHP-serialized ints, and refuses the 11th request of the window with its Retry-After', async () => {
    const clock = manualClock('2026-03-01T10:00:30Z')
    const limit = login('owner@demo.local|127.0.0.1')
    const key = throttleCacheKey(PREFIX, limit)
    expect(key).to.equal(PREFIX + createHash('md5').update('auth-loginowner@demo.local|127.0.0.1').digest('hex'))
    for (let i = 1; i <= 10; i++) {
      const decision = await hitThrottle(db, PREFIX, limit, clock)
      expect(decision, `request ${i}`).to.deep.include({allowed: true, remaining: 10 - i})
      clock.advance(2)
    }
    const rows = await db
      .knex<CacheRow>('cache')
      .whereIn('key', [key, `${key}:timer`])
      .orderBy('key')
    const start = Date.parse('2026-03-01T10:00:30Z') / 1000
    expect(rows.map((r) => [r.key, r.value, Number(r.expiration)])).to.deep.equal([
      [key, 'i:10;', start + 60],
      [`${key}:timer`, `i:${start + 60};`, start + 60],
    ])
    const refused = await hitThrottle(db, PREFIX, limit, clock)
    expect(refused).to.deep.equal({allowed: false, limit: 10, remaining: 0, retryAfter: 40, resetAt: start + 60})
    // The window is fixed from the first request, not from the clock minute: at +60 s it is over.
    clock.set('2026-03-01T10:01:30Z')
    expect(await hitThrottle(db, PREFIX, limit, clock)).to.deep.include({allowed: true, remaining: 9})
    // Another key has its own window.
    expect(await hitThrottle(db, PREFIX, login('other@demo.local|127.0.0.1'), clock)).to.deep.include({allowed: true, remaining: 9})
  })

  it('20 concurrent requests through two connection pools (two processes) let exactly 10 through', async () => {
    const clock = manualClock('2026-03-02T10:00:00Z')
    const other = await ctx.scratch.open()
    // Two SQLite pools in one process: better-sqlite3 waits for a lock synchronously, blocking the holder's
    // event loop too; with busy_timeout 0 writeTransaction waits asynchronously (two processes need neither).
    for (const conn of [db, other]) if (conn.dialect === 'sqlite') await conn.knex.raw('PRAGMA busy_timeout = 0')
    try {
      const limit = login('race@demo.local|10.0.0.1')
      const decisions = await Promise.all(Array.from({length: 20}, (_, i) => hitThrottle(i % 2 === 0 ? db : other, PREFIX, limit, clock)))
      expect(decisions.filter((d) => d.allowed)).to.have.length(10)
      expect(
        decisions
          .filter((d) => d.allowed)
          .map((d) => d.remaining)
          .sort((a, b) => a - b),
      ).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    } finally {
      await other.close()
    }
  })
})
