import type {Clock} from '../clock.js'
import type {Database} from './connection.js'
import {type Executor, selectRows} from './transactions.js'

/**
 * The time leases (expiry, takeover) and the scheduler's slots are judged by. Runners on several hosts
 * share a PostgreSQL database, and a host's clock can be minutes off or jump forward (an NTP step): a
 * runner ten minutes ahead would see every healthy lease as expired. So on PostgreSQL the host's clock is
 * not asked: the server's `clock_timestamp()` is the one clock every runner shares. A simulated clock (a
 * test, the `--at` rehearsal) is read as it is, everywhere. SQLite lives on one host: its clock is the clock.
 *
 * `conn` is only queried on PostgreSQL (an SQLite caller may hold the pool's one connection).
 */
export async function leaseNow(conn: Executor, dialect: Database['dialect'], clock: Clock): Promise<Date> {
  if (dialect !== 'pg' || clock.simulated) return clock.now()
  // clock_timestamp(), not now(): now() is the start of the transaction, which may have waited on a lock.
  const [row] = await selectRows<{ms: string | number}>(conn, dialect, 'select extract(epoch from clock_timestamp()) * 1000 as ms')
  return new Date(Math.floor(Number(row.ms)))
}

export {unixSeconds} from '../clock.js'
