import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {hostname} from 'node:os'

import {expect} from 'chai'

import {type Clock, systemClock} from '../../../src/core/clock.js'
import type {Database} from '../../../src/core/db/connection.js'
import {acquireLease, LeaseHeldError} from '../../../src/core/db/lease.js'
import type {Executor} from '../../../src/core/db/transactions.js'
import {leaseNow, unixSeconds} from '../../../src/core/db/lease-time.js'
import {migrate} from '../../../src/core/db/migrator.js'
import {describeEachEngine} from '../../helpers/engines.js'

const KEY = 'laundry-ops:test-lease'
const TEN_MINUTES = 600_000
/** The host's clock (not a rehearsal), set `ms` off. */
const hostClock = (ms: number): Clock => ({now: () => new Date(Date.now() + ms)})
/** An owner string of a process on this host: this test process (alive), or a pid that is not running. */
const localOwner = (pid: number) => `laundry-ops:${hostname()}:${pid}:abcd`
/** The pid of a process that has exited. */
const NO_SUCH_PID = spawnSync(process.execPath, ['-e', '']).pid
/** Another process on this host, alive while the tests run: a lease holder. */
let live: ChildProcess

async function heldError(run: () => Promise<unknown>): Promise<LeaseHeldError> {
  try {
    await run()
  } catch (error) {
    if (error instanceof LeaseHeldError) return error
    throw error
  }
  throw new Error('the lease was taken')
}

describeEachEngine('the cache_locks lease (audit archive)', (ctx) => {
  let db: Database
  const serverNow = async () => unixSeconds(await leaseNow(db.knex, db.dialect, systemClock))
  const row = async () => db.knex<{key: string; owner: string; expiration: number}>('cache_locks').where({key: KEY}).first('owner', 'expiration')

  before(async () => {
    db = await ctx.scratch.open()
    await migrate(db)
    live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {stdio: 'ignore'})
  })
  after(() => {
    live.kill()
  })
  beforeEach(async () => {
    await db.knex('cache_locks').delete()
  })

  it('a clock ten minutes ahead does not take over a live lease (PostgreSQL: the server judges; SQLite: a live process here keeps it)', async () => {
    const now = await serverNow()
    // PostgreSQL: a holder anywhere whose lease runs five more minutes by the server's clock. SQLite: this
    // live process, whose lease looks expired to the skewed clock.
    const holder = ctx.dialect === 'pg' ? 'laundry-ops:elsewhere:1:abcd' : localOwner(live.pid!)
    await db.knex('cache_locks').insert({key: KEY, owner: holder, expiration: now + 300})
    const error = await heldError(() => acquireLease(db, KEY, 600, hostClock(TEN_MINUTES)))
    expect(error.holder).to.equal(holder)
    if (ctx.dialect === 'sqlite') expect(error.message).to.match(/a live process on this host/)
    expect(await row()).to.deep.include({owner: holder})
  })

  it('on SQLite an expired-looking lease of a live process on this host is not taken over; on PostgreSQL expiry decides', async () => {
    const now = await serverNow()
    await db.knex('cache_locks').insert({key: KEY, owner: localOwner(live.pid!), expiration: now - 1})
    if (ctx.dialect === 'sqlite') {
      expect((await heldError(() => acquireLease(db, KEY, 600))).holder).to.equal(localOwner(live.pid!))
      expect((await row())?.owner).to.equal(localOwner(live.pid!))
    } else {
      // PostgreSQL: expiry by the server's clock, which every runner shares, is the judge.
      const taken = await acquireLease(db, KEY, 600)
      expect((await row())?.owner).to.equal(taken.owner)
    }
  })

  it('takes over an expired lease, and a dead local holder at once', async () => {
    const now = await serverNow()
    await db.knex('cache_locks').insert({key: KEY, owner: 'laundry-ops:elsewhere:1:abcd', expiration: now - 1})
    const expired = await acquireLease(db, KEY, 600)
    expect((await row())?.owner).to.equal(expired.owner)
    await expired.release()
    await db.knex('cache_locks').insert({key: KEY, owner: localOwner(NO_SUCH_PID), expiration: now + 300})
    const dead = await acquireLease(db, KEY, 600)
    expect((await row())?.owner).to.equal(dead.owner)
    await dead.release()
    // This very process: a lease it no longer holds (its release did not reach the database) is a dead one.
    const leftover = await acquireLease(db, KEY, 600)
    await leftover
      .release((() => {
        throw new Error('the database went away')
      }) as unknown as Executor)
      .catch(() => {})
    expect((await row())?.owner).to.equal(leftover.owner)
    const next = await acquireLease(db, KEY, 600)
    expect((await row())?.owner).to.equal(next.owner)
  })

  it('expirations follow the server clock on PostgreSQL (the host clock on SQLite), at acquire and refresh', async () => {
    const clock = hostClock(-TEN_MINUTES)
    const lease = await acquireLease(db, KEY, 600, clock)
    const expected = async () => (ctx.dialect === 'pg' ? await serverNow() : unixSeconds(clock.now())) + 600
    expect(Number((await row())?.expiration)).to.be.within((await expected()) - 5, await expected())
    await db.knex('cache_locks').where({key: KEY}).update({expiration: 0})
    await lease.refresh()
    expect(Number((await row())?.expiration)).to.be.within((await expected()) - 5, await expected())
    await lease.release()
    expect(await row()).to.equal(undefined)
  })

  it('a lease taken over is told at refresh (naming the new holder) and at release', async () => {
    const kept = await acquireLease(db, KEY, 600)
    expect(await kept.release()).to.equal(true)
    const lease = await acquireLease(db, KEY, 600)
    await db.knex('cache_locks').where({key: KEY}).update({owner: 'laundry-ops:elsewhere:2:beef'})
    const error = await heldError(() => lease.refresh())
    expect(error.holder).to.equal('laundry-ops:elsewhere:2:beef')
    expect(error.message).to.equal(`lost the lease ${KEY} to laundry-ops:elsewhere:2:beef`)
    expect(await lease.release()).to.equal(false)
    expect((await row())?.owner).to.equal('laundry-ops:elsewhere:2:beef')
  })
})
