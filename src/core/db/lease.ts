import {randomBytes} from 'node:crypto'
import {hostname} from 'node:os'

import type {Database} from './connection.js'
import {type Executor, writeTransaction} from './transactions.js'

/** A lock in Laravel's `cache_locks` table (key, owner, expiration): both applications can see it. */
export interface Lease {
  key: string
  owner: string
  /** `conn`: run on this executor (a caller holding the pooled SQLite connection must pass its own). */
  refresh(conn?: Executor): Promise<void>
  release(conn?: Executor): Promise<void>
}

export function leaseOwner(): string {
  return `laundry-ops:${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`
}

/** A holder on this host whose process is gone: its lease can be taken over at once. */
function isDeadLocalOwner(owner: string): boolean {
  const [tool, host, pid] = owner.split(':')
  if (tool !== 'laundry-ops' || host !== hostname() || !/^\d+$/.test(pid ?? '')) return false
  try {
    process.kill(Number(pid), 0)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

export class LeaseHeldError extends Error {}

/**
 * Takes the lease `key` for `seconds`, or throws LeaseHeldError naming the holder. An expired lease, or
 * one held by a dead process on this host, is taken over.
 */
export async function acquireLease(db: Database, key: string, seconds: number, now: () => Date = () => new Date()): Promise<Lease> {
  const owner = leaseOwner()
  const unix = () => Math.floor(now().getTime() / 1000)
  await writeTransaction(db, async (trx) => {
    const current = await trx('cache_locks').where({key}).first()
    if (!current) {
      await trx('cache_locks').insert({key, owner, expiration: unix() + seconds})
      return
    }
    if (Number(current.expiration) > unix() && !isDeadLocalOwner(String(current.owner))) {
      throw new LeaseHeldError(`${key} is held by ${current.owner} until ${new Date(Number(current.expiration) * 1000).toISOString()}`)
    }
    await trx('cache_locks')
      .where({key, owner: current.owner})
      .update({owner, expiration: unix() + seconds})
  })
  return {
    key,
    owner,
    async refresh(conn: Executor = db.knex) {
      const updated = await conn('cache_locks')
        .where({key, owner})
        .update({expiration: unix() + seconds})
      if (updated !== 1) throw new LeaseHeldError(`lost the lease ${key}: another process took it over`)
    },
    async release(conn: Executor = db.knex) {
      await conn('cache_locks').where({key, owner}).delete()
    },
  }
}
