import {randomUUID} from 'node:crypto'

import {toDbTimestamp, unixSeconds} from '../clock.js'
import type {Database} from '../db/connection.js'
import {selectRows} from '../db/raw.js'
import {type Executor, singleStatement, writeTransaction} from '../db/transactions.js'
import {readEnvelope} from './payload.js'
import type {JobRow} from '../db/rows.js'

/** Laravel's `DB_QUEUE_RETRY_AFTER` in the upstream application: a reservation older than this is reclaimed. */
export const DEFAULT_RETRY_AFTER = 90
/** The connection name Laravel writes into failed_jobs for the database queue. */
export const QUEUE_CONNECTION_NAME = 'database'

/** A job as claimed: its row of Laravel's `jobs` table. */
export type QueuedJob = JobRow

export {unixSeconds} from '../clock.js'

function toJob(row: Record<string, unknown>): QueuedJob {
  return {
    id: Number(row.id),
    queue: String(row.queue),
    payload: String(row.payload),
    attempts: Number(row.attempts),
    reserved_at: row.reserved_at === null ? null : Number(row.reserved_at),
    available_at: Number(row.available_at),
    created_at: Number(row.created_at),
  }
}

/** Pushes a payload onto a queue (Laravel `DatabaseQueue::pushToDatabase`); returns the job id. */
export async function pushJob(conn: Executor, job: {queue: string; payload: string; now: Date; delaySeconds?: number; attempts?: number}): Promise<number> {
  const now = unixSeconds(job.now)
  const [row] = await conn<JobRow>('jobs')
    .insert({
      queue: job.queue,
      payload: job.payload,
      attempts: job.attempts ?? 0,
      reserved_at: null,
      available_at: now + Math.max(0, Math.floor(job.delaySeconds ?? 0)),
      created_at: now,
    })
    .returning<Array<Pick<JobRow, 'id'> | number>>('id')
  // Older drivers answered the bare id, current ones an object.
  return Number(typeof row === 'object' ? row.id : row)
}

/**
 * What a claim checks before it takes a job: that the queue:restart signal (the cache row `key`) still
 * holds the value the worker started with (`value`, null for no row). A claim that finds it changed takes
 * nothing, in the same statement, so a worker checks for a restart on every claim at no extra round trip.
 */
export interface RestartGuard {
  key: string
  value: string | null
}

const CLAIM_WHERE = `"queue" = ? and (("reserved_at" is null and "available_at" <= ?) or "reserved_at" <= ?)`

/**
 * The claim statement, one per engine and guard: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so racing workers
 * never get the same row; SQLite runs the statement under its write lock, taken when the statement starts.
 *
 * On PostgreSQL the claim commits asynchronously (`synchronous_commit` off for its own transaction, set
 * from its RETURNING list, which runs before the commit): it does not wait for its WAL to reach the disk.
 * A claim is only a reservation, and whatever the worker does next with the job commits synchronously (the
 * send's in-flight mark before the provider is called, a release, a failure); the server writes WAL in
 * order, so that commit makes the claim durable too. A claim lost in a server crash had nothing done on its
 * behalf that survived: the job is simply free again.
 */
function claimSql(dialect: Database['dialect'], guarded: boolean): string {
  if (dialect === 'pg') {
    const guard = guarded ? ` and (select "value" from "cache" where "key" = ?) is not distinct from ?::text` : ''
    return `update "jobs" set "reserved_at" = ?, "attempts" = "attempts" + 1
        where "id" = (select "id" from "jobs" where ${CLAIM_WHERE} order by "id" limit 1 for update skip locked)${guard}
        returning *, set_config('synchronous_commit', 'off', true) as "laundry_ops_async_commit"`
  }
  const guard = guarded ? ` and (select "value" from "cache" where "key" = ?) is ?` : ''
  return `update "jobs" set "reserved_at" = ?, "attempts" = "attempts" + 1
        where "id" = (select "id" from "jobs" where ${CLAIM_WHERE} order by "id" limit 1)${guard}
        returning *`
}

/**
 * Claims the next job of one queue: available now, or reserved longer than `retryAfter` seconds ago by
 * a worker that died. One atomic statement on its own (a prepared statement on PostgreSQL; on SQLite it
 * takes the write lock as it starts, as BEGIN IMMEDIATE would). The attempt is counted at claim time, as
 * Laravel does.
 */
async function claimFromQueue(db: Database, queue: string, now: number, retryAfter: number, restart?: RestartGuard): Promise<QueuedJob | null> {
  const bindings = [now, queue, now, now - retryAfter, ...(restart ? [restart.key, restart.value] : [])]
  const rows = await singleStatement(db, () => selectRows<Record<string, unknown>>(db.knex, claimSql(db.dialect, restart !== undefined), bindings))
  return rows[0] ? toJob(rows[0]) : null
}

/**
 * Strict priority, as `queue:work --queue=a,b`: the first queue with a job wins. With `restart`, nothing is
 * claimed once the restart signal changed (null, as for empty queues: the caller tells which).
 */
export async function claimNextJob(
  db: Database,
  queues: readonly string[],
  now: Date,
  retryAfter = DEFAULT_RETRY_AFTER,
  restart?: RestartGuard,
): Promise<QueuedJob | null> {
  for (const queue of queues) {
    const job = await claimFromQueue(db, queue, unixSeconds(now), retryAfter, restart)
    if (job) return job
  }
  return null
}

/** Deletes a finished job, but only while this worker still holds its reservation. */
export async function deleteReservedJob(conn: Executor, job: QueuedJob): Promise<boolean> {
  const deleted = await conn('jobs').where({id: job.id, reserved_at: job.reserved_at}).delete()
  return deleted > 0
}

/** Laravel's release: the row is replaced by a new one with the same payload and attempts, available later. */
export async function releaseJob(conn: Executor, job: QueuedJob, delaySeconds: number, now: Date): Promise<number> {
  await conn('jobs').where({id: job.id}).delete()
  return pushJob(conn, {queue: job.queue, payload: job.payload, now, delaySeconds, attempts: job.attempts})
}

/** The uuid Laravel files a failed job under: the payload's own, or a new one if the payload has none. */
export function failedJobUuid(payload: string): string {
  const uuid = readEnvelope(payload)?.uuid
  return uuid !== undefined && uuid.length > 0 && uuid.length <= 255 ? uuid : randomUUID()
}

/**
 * Moves a job to failed_jobs with the reason, in one transaction (Laravel `queue:failed` reads it), with
 * `alsoInTransaction` (what the job's own data needs, e.g. its message marked failed) in the same one.
 */
export async function failJob(
  db: Database,
  job: QueuedJob,
  exception: string,
  now: Date,
  alsoInTransaction?: (conn: Executor) => Promise<void>,
): Promise<string> {
  return writeTransaction(db, async (conn) => {
    await alsoInTransaction?.(conn)
    let uuid = failedJobUuid(job.payload)
    if (await conn('failed_jobs').where({uuid}).first()) uuid = randomUUID()
    await conn('failed_jobs').insert({
      uuid,
      connection: QUEUE_CONNECTION_NAME,
      queue: job.queue,
      payload: job.payload,
      exception,
      failed_at: toDbTimestamp(now),
    })
    await conn('jobs').where({id: job.id}).delete()
    return uuid
  })
}

/** Jobs waiting per queue (available now, delayed, reserved), for status output and gates. */
export async function queueSizes(db: Database, now: Date): Promise<Array<{queue: string; ready: number; delayed: number; reserved: number}>> {
  const t = unixSeconds(now)
  // PostgreSQL's sum() is a bigint: a number, or text past 2^53 (see configurePgTypes).
  const rows = await db
    .knex('jobs')
    .select('queue')
    .select(db.knex.raw('sum(case when reserved_at is null and available_at <= ? then 1 else 0 end) as ready', [t]))
    .select(db.knex.raw('sum(case when reserved_at is null and available_at > ? then 1 else 0 end) as delayed', [t]))
    .select<Array<{queue: string; ready: number | string; delayed: number | string; reserved: number | string}>>(
      db.knex.raw('sum(case when reserved_at is not null then 1 else 0 end) as reserved'),
    )
    .groupBy('queue')
    .orderBy('queue')
  return rows.map((r) => ({queue: String(r.queue), ready: Number(r.ready), delayed: Number(r.delayed), reserved: Number(r.reserved)}))
}
