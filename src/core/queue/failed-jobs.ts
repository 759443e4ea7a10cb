import type {Clock} from '../clock.js'
import {toDbTimestamp} from '../clock.js'
import type {Database} from '../db/connection.js'
import {requireTables} from '../db/faults.js'
import {type Executor, writeTransaction} from '../db/transactions.js'
import {UsageError} from '../errors.js'
import {assertWithin, LIMITS} from '../limits.js'
import {pushJob} from './database-queue.js'
import {readEnvelope} from './payload.js'
import type {FailedJobRow} from '../db/rows.js'

export interface FailedJobSummary {
  id: number
  uuid: string
  connection: string
  queue: string
  class: string
  failed_at: string
  exception: string
}

function jobClass(payload: string): string {
  const envelope = readEnvelope(payload)
  if (envelope === null) return 'unreadable payload'
  return envelope.displayName ?? envelope.data?.commandName ?? 'unknown'
}

/** `queue:failed`: newest first, with the job class read from the payload and the reason's first line. */
export async function listFailedJobs(db: Database): Promise<FailedJobSummary[]> {
  await requireTables(db, ['failed_jobs'])
  const rows = await db.knex<FailedJobRow>('failed_jobs').select('id', 'uuid', 'connection', 'queue', 'payload', 'exception', 'failed_at').orderBy('id', 'desc')
  return rows.map((r) => ({
    id: Number(r.id),
    uuid: String(r.uuid),
    connection: String(r.connection),
    queue: String(r.queue),
    class: jobClass(String(r.payload)),
    failed_at: String(r.failed_at),
    exception: String(r.exception).split('\n')[0],
  }))
}

export interface RetryResult {
  dry_run: boolean
  retried: Array<{uuid: string; queue: string; job_id: number | null}>
}

/**
 * `queue:retry`: every named failed job (or all) goes back on its queue with attempts 0. Unlike
 * Laravel's push-then-forget, the insert and the delete commit together, so a crash can neither
 * lose the job nor duplicate it. Unknown uuids are refused before anything changes.
 */
export async function retryFailedJobs(db: Database, ids: string[] | 'all', clock: Clock, dryRun = false): Promise<RetryResult> {
  await requireTables(db, ['failed_jobs', 'jobs'])
  const work = async (trx: Executor): Promise<RetryResult> => {
    let rows: Array<Pick<FailedJobRow, 'id' | 'uuid' | 'queue' | 'payload'>>
    if (ids === 'all') {
      rows = await trx<FailedJobRow>('failed_jobs').select('id', 'uuid', 'queue', 'payload').orderBy('id')
    } else {
      const unique = [...new Set(ids)]
      rows = await trx<FailedJobRow>('failed_jobs').select('id', 'uuid', 'queue', 'payload').whereIn('uuid', unique).orderBy('id')
      const missing = unique.filter((id) => !rows.some((r) => r.uuid === id))
      if (missing.length > 0) {
        throw new UsageError('FAILED_JOB_NOT_FOUND', `no failed job with uuid ${missing.join(', ')} (see \`laundry-ops queue failed\`); nothing was retried`)
      }
    }
    const retried: RetryResult['retried'] = []
    for (const row of rows) {
      let jobId: number | null = null
      if (!dryRun) {
        jobId = await pushJob(trx, {queue: row.queue, payload: row.payload, now: clock.now()})
        await trx('failed_jobs').where({id: row.id}).delete()
      }
      retried.push({uuid: row.uuid, queue: row.queue, job_id: jobId})
    }
    return {dry_run: dryRun, retried}
  }
  // A dry run only reads (one select), on a read-only connection that refuses the write lock.
  return dryRun ? work(db.knex) : writeTransaction(db, work)
}

export interface FlushResult {
  dry_run: boolean
  deleted: number
  older_than: string | null
}

/** `queue:flush`: deletes failed jobs, all or those older than `hours`. */
export async function flushFailedJobs(db: Database, options: {hours?: number; dryRun?: boolean; clock: Clock}): Promise<FlushResult> {
  if (options.hours !== undefined) assertWithin('--hours', options.hours, LIMITS.hours)
  await requireTables(db, ['failed_jobs'])
  const olderThan = options.hours === undefined ? null : toDbTimestamp(new Date(options.clock.now().getTime() - options.hours * 3_600_000))
  const query = () => {
    const q = db.knex('failed_jobs')
    if (olderThan) q.where('failed_at', '<=', olderThan)
    return q
  }
  if (options.dryRun) {
    const [{n}] = await query().count({n: '*'})
    return {dry_run: true, deleted: Number(n), older_than: olderThan}
  }
  const deleted = await query().delete()
  return {dry_run: false, deleted, older_than: olderThan}
}
