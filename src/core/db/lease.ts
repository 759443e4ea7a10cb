import {randomBytes} from 'node:crypto'
import {hostname} from 'node:os'

import {type Clock, systemClock} from '../clock.js'
import type {Database} from './connection.js'
import {leaseNow, unixSeconds} from './lease-time.js'
import {type Executor, selectRows, writeTransaction} from './transactions.js'

/** A lock in Laravel's `cache_locks` table (key, owner, expiration): both applications can see it. */
export interface Lease {
  key: string
  owner: string
  /**
   * Renews the lease, or throws LeaseHeldError (naming the new holder) when another process took it over.
   * `conn`: run on this executor (a caller holding the pooled SQLite connection must pass its own).
   */
  refresh(conn?: Executor): Promise<void>
  /** Releases the lease; false when it was no longer ours (taken over since the last refresh). */
  release(conn?: Executor): Promise<boolean>
}

export function leaseOwner(): string {
  return `laundry-ops:${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`
}

/** How many leases this process holds under each owner string (a scheduler run holds one per task). */
const heldHere = new Map<string, number>()

/** Notes that this process holds a lease as `owner`, until the matching letGoLease(). */
export function holdLease(owner: string): void {
  heldHere.set(owner, (heldHere.get(owner) ?? 0) + 1)
}

export function letGoLease(owner: string): void {
  const n = (heldHere.get(owner) ?? 0) - 1
  if (n > 0) heldHere.set(owner, n)
  else heldHere.delete(owner)
}

/**
 * Where a lease owner's process is: `alive` or `dead` on this host (by its pid), `elsewhere` (another
 * host, or not one of our owner strings: nothing can be known of it). For this very process the answer is
 * exact: a lease it no longer holds (its release failed) is a dead one, or a long-lived process
 * (`schedule work`) would block that task on SQLite until it restarts.
 */
export function localOwnerState(owner: string): 'alive' | 'dead' | 'elsewhere' {
  const [tool, host, pid] = owner.split(':')
  if (tool !== 'laundry-ops' || host !== hostname() || !/^\d+$/.test(pid ?? '')) return 'elsewhere'
  if (Number(pid) === process.pid) return heldHere.has(owner) ? 'alive' : 'dead'
  try {
    process.kill(Number(pid), 0)
    return 'alive'
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH' ? 'dead' : 'alive'
  }
}

/** The owner of the lease `key` now, if any. */
export async function leaseHolder(conn: Executor, key: string): Promise<string | undefined> {
  const row = await conn<{key: string; owner: string}>('cache_locks').where({key}).first('owner')
  return row ? String(row.owner) : undefined
}

export class LeaseHeldError extends Error {
  constructor(
    message: string,
    /** The owner holding the lease now, when known. */
    readonly holder?: string,
  ) {
    super(message)
    this.name = 'LeaseHeldError'
  }
}

/**
 * Takes the lease `key` for `seconds`, or throws LeaseHeldError naming the holder. A lease held by a dead
 * process on this host is taken over at once, an expired one otherwise; expiry is judged by the server's
 * clock on PostgreSQL (lease-time.ts). On SQLite, a lease held by a live process on this host is not taken
 * over even when it looks expired: SQLite is one host, so an expired-looking lease of a live holder means
 * this host's clock jumped forward (or the holder stalled), and taking it over would run two at once.
 */
export async function acquireLease(db: Database, key: string, seconds: number, clock: Clock = systemClock): Promise<Lease> {
  const owner = leaseOwner()
  // Counted as held from before the row exists, so no moment finds it written and not held.
  holdLease(owner)
  await writeTransaction(db, async (trx) => {
    const read = trx('cache_locks').where({key}).first('owner', 'expiration')
    // On PostgreSQL the row is locked so that two runs cannot both take an expired lease over.
    const current = (await (db.dialect === 'pg' ? read.forUpdate() : read)) as {owner: string; expiration: number | string} | undefined
    const now = unixSeconds(await leaseNow(trx, db.dialect, clock))
    if (!current) {
      // Two runs may both find no row: the second one's insert does nothing, and it is told who holds it.
      const inserted = await selectRows<{owner: string}>(
        trx,
        db.dialect,
        'insert into cache_locks (key, owner, expiration) values (?, ?, ?) on conflict (key) do nothing returning owner',
        [key, owner, now + seconds],
      )
      if (inserted.length === 0) throw new LeaseHeldError(`${key} was just taken by another process`)
      return
    }
    const holder = String(current.owner)
    const expiration = Number(current.expiration)
    const state = localOwnerState(holder)
    if (state !== 'dead') {
      const until = new Date(expiration * 1000).toISOString()
      if (expiration > now) throw new LeaseHeldError(`${key} is held by ${holder} until ${until}`, holder)
      if (db.dialect === 'sqlite' && state === 'alive') {
        throw new LeaseHeldError(
          `${key} is held by ${holder}, a live process on this host (its lease looks expired since ${until}: a clock that jumped?)`,
          holder,
        )
      }
    }
    const updated = await trx('cache_locks')
      .where({key, owner: holder})
      .update({owner, expiration: now + seconds})
    if (updated !== 1) throw new LeaseHeldError(`${key} was just taken by another process`)
  }).catch((error: unknown) => {
    letGoLease(owner)
    throw error
  })
  let held = true
  return {
    key,
    owner,
    async refresh(conn: Executor = db.knex) {
      // The server's clock is read on the pool (PostgreSQL only): `conn` may be a bare table accessor.
      const now = unixSeconds(await leaseNow(db.knex, db.dialect, clock))
      const updated = await conn('cache_locks')
        .where({key, owner})
        .update({expiration: now + seconds})
      if (updated !== 1) {
        const holder = await leaseHolder(conn, key).catch(() => undefined)
        throw new LeaseHeldError(`lost the lease ${key} to ${holder ?? 'another process (it has released it since)'}`, holder)
      }
    },
    async release(conn: Executor = db.knex) {
      if (held) {
        held = false
        letGoLease(owner)
      }
      const deleted = await conn('cache_locks').where({key, owner}).delete()
      return deleted === 1
    },
  }
}
