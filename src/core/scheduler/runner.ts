import type {Clock} from '../clock.js'
import type {Database} from '../db/connection.js'
import {holdLease, leaseHolder, leaseOwner, letGoLease, localOwnerState} from '../db/lease.js'
import {leaseNow, unixSeconds} from '../db/lease-time.js'
import {requireTables} from '../db/faults.js'
import {type Executor, selectRows, writeTransaction} from '../db/transactions.js'
import {cronMatches, slotOf} from './cron.js'
import type {ScheduledTask} from './schedule.js'

/**
 * `schedule run`: the tasks due in the current UTC minute, each run at most once per slot across every
 * runner that shares the database, and never beside its own previous run.
 *
 * Two records in Laravel's cache tables (so no table is added to the shared schema):
 * - the slot ledger, a `cache` row per (task, slot), inserted with ON CONFLICT DO NOTHING: whoever
 *   inserts it owns the slot; every other runner skips it (Laravel's `onOneServer`, as a ledger);
 * - the task lease, a `cache_locks` row per task (Laravel's DatabaseLock shape): held while the task
 *   runs, renewed by a heartbeat, released at the end; a lease whose runner died expires after the task's
 *   `leaseMinutes` and the next due slot takes it over (Laravel's `withoutOverlapping` holds 24 h).
 * Both are taken in one write transaction, so a slot is never owned without its outcome decided. The slot
 * and every expiry follow the database server's clock on PostgreSQL, never the host's (db/lease-time.ts).
 * A run whose lease was taken over learns it at its next heartbeat, or at the latest when it releases the
 * lease, and says so (`lease_lost`, `lost_to`) in its report and slot record.
 */

export type Outcome = 'ran' | 'failed' | 'skipped'
export type SkipReason = 'claimed_by_other_runner' | 'previous_run_still_running' | 'runner_stopping'

export interface TaskReport {
  name: string
  command: string
  outcome: Outcome
  reason?: SkipReason
  /** The runner holding the lease (still running) or owning the slot, for skipped tasks. */
  holder?: string
  /** For `claimed_by_other_runner`: what the ledger says of that runner's run (running, done, failed, skipped). */
  slot_status?: SlotRecord['status']
  /** A lease that had expired (its runner died or stalled) and was taken over. */
  took_over_from?: string
  /** This run's lease was taken over by another runner while the task ran (the two overlapped). */
  lease_lost?: boolean
  /** The runner that took it over, when known. */
  lost_to?: string
  exit_code?: number
  duration_ms?: number
  error?: string
  log?: string
}

export interface RunReport {
  slot: string
  runner: string
  tasks: TaskReport[]
  summary: {due: number; ran: number; failed: number; skipped: number}
}

export interface TaskRun {
  task: ScheduledTask
  slot: Date
  runner: string
}

export interface TaskResult {
  exitCode: number
  error?: string
  log?: string
}

/** Runs one task to its end. `signal` aborts on SIGTERM/SIGINT of the runner: stop gracefully. */
export type TaskExecutor = (run: TaskRun, signal: AbortSignal) => Promise<TaskResult>

export interface ScheduleRunOptions {
  tasks: ScheduledTask[]
  executor: TaskExecutor
  clock: Clock
  /** Laravel's cache prefix (CACHE_PREFIX), so our keys sit beside the application's own. */
  cachePrefix: string
  /** Run only these tasks (by name) when they are due. */
  only?: string[]
  /** Lease renewal period; false turns the heartbeat off (tests of expiry). Default: a third of the lease, at most 60 s. */
  heartbeatMs?: number | false
  signal?: AbortSignal
  /** Called as each task is claimed or skipped and as it ends (progress lines). */
  onEvent?: (event: {type: 'start' | 'end'; slot: Date; report: TaskReport}) => void
  /** How long slot records are kept (days). */
  keepDays?: number
  /** The time whose minute is the slot, read by the caller (the minute loop); by default read here. */
  at?: Date
}

const unix = unixSeconds

export function slotStamp(slot: Date): string {
  return slot.toISOString().slice(0, 16).replace(/[-:T]/g, '')
}

export function slotKey(prefix: string, task: string, slot: Date): string {
  return `${prefix}laundry-ops:schedule:slot:${task}:${slotStamp(slot)}`
}

export function leaseKey(prefix: string, task: string): string {
  return `${prefix}laundry-ops:schedule:lease:${task}`
}

export interface SlotRecord {
  status: 'running' | 'done' | 'failed' | 'skipped'
  runner: string
  started_at: string
  finished_at?: string
  exit_code?: number
  reason?: SkipReason
  holder?: string
  took_over_from?: string
  lease_lost?: boolean
  lost_to?: string
}

type Claim =
  {kind: 'claimed'; startedAt: Date; tookOverFrom?: string} | {kind: 'skipped'; reason: SkipReason; holder?: string; slotStatus?: SlotRecord['status']}

async function claim(db: Database, task: ScheduledTask, slot: Date, runner: string, options: ScheduleRunOptions): Promise<Claim> {
  const prefix = options.cachePrefix
  const keepUntil = unix(slot) + (options.keepDays ?? 7) * 86_400
  return writeTransaction(db, async (trx) => {
    // One reading for the whole decision (the server's clock on PostgreSQL). Were it older than the row
    // lock below, that would only make a takeover later, never earlier.
    const startedAt = await leaseNow(trx, db.dialect, options.clock)
    const now = unix(startedAt)
    const record: SlotRecord = {status: 'running', runner, started_at: startedAt.toISOString()}
    const inserted = await selectRows<{key: string}>(
      trx,
      db.dialect,
      'insert into cache (key, value, expiration) values (?, ?, ?) on conflict (key) do nothing returning key',
      [slotKey(prefix, task.name, slot), JSON.stringify(record), keepUntil],
    )
    if (inserted.length === 0) {
      const row = await trx<{key: string; value: string}>('cache')
        .where({key: slotKey(prefix, task.name, slot)})
        .first('value')
      let record: Partial<SlotRecord> = {}
      try {
        record = JSON.parse(String(row?.value)) as SlotRecord
      } catch {
        // Not ours to read: still claimed.
      }
      return {kind: 'skipped', reason: 'claimed_by_other_runner', holder: record.runner, slotStatus: record.status}
    }
    const key = leaseKey(prefix, task.name)
    // On PostgreSQL the row is locked, so the holder cannot release it between this read and the upsert
    // (which would report a takeover of a run that ended normally). SQLite's write lock covers it already.
    const current = trx('cache_locks').where({key}).first('owner', 'expiration')
    const previous = (await (db.dialect === 'pg' ? current.forUpdate() : current)) as {owner: string; expiration: number | string} | undefined
    const skip = async (): Promise<Claim> => {
      const skipped: SlotRecord = {...record, status: 'skipped', reason: 'previous_run_still_running', holder: previous?.owner}
      await trx('cache')
        .where({key: slotKey(prefix, task.name, slot)})
        .update({value: JSON.stringify(skipped)})
      return {kind: 'skipped', reason: 'previous_run_still_running', holder: previous?.owner}
    }
    // SQLite is one host: a live process here whose lease looks expired means this host's clock jumped
    // forward (or the runner stalled); taking it over would run the task twice at once. (On PostgreSQL
    // expiry follows the server's clock, which every runner shares, so it is the judge there.)
    if (db.dialect === 'sqlite' && previous && Number(previous.expiration) <= now && localOwnerState(String(previous.owner)) === 'alive') return skip()
    const acquired = await selectRows<{owner: string}>(
      trx,
      db.dialect,
      `insert into cache_locks (key, owner, expiration) values (?, ?, ?)
       on conflict (key) do update set owner = excluded.owner, expiration = excluded.expiration
       where cache_locks.expiration <= ?
       returning owner`,
      [key, runner, now + task.leaseMinutes * 60, now],
    )
    if (acquired.length === 0) return skip()
    if (previous) {
      const tookOver: SlotRecord = {...record, took_over_from: String(previous.owner)}
      await trx('cache')
        .where({key: slotKey(prefix, task.name, slot)})
        .update({value: JSON.stringify(tookOver)})
      return {kind: 'claimed', startedAt, tookOverFrom: String(previous.owner)}
    }
    return {kind: 'claimed', startedAt}
  })
}

/** What finishing a run found of its lease: lost when another runner had taken it over (`lostTo`, if it still holds it). */
interface LeaseCheck {
  lost: boolean
  lostTo?: string
}

/**
 * Records the outcome and releases the lease. The release is also the last ownership check: a task
 * shorter than a heartbeat would otherwise never learn that its lease was taken over.
 */
async function finish(
  db: Database,
  task: ScheduledTask,
  slot: Date,
  runner: string,
  record: Omit<SlotRecord, 'finished_at'>,
  options: ScheduleRunOptions,
  /** The runner the heartbeat saw holding the lease, if it lost it. */
  seenHolder?: string,
): Promise<LeaseCheck> {
  return writeTransaction(db, async (trx: Executor) => {
    const key = leaseKey(options.cachePrefix, task.name)
    const released = await trx('cache_locks').where({key, owner: runner}).delete()
    const check: LeaseCheck = {lost: released === 0}
    if (check.lost) {
      // The runner that took it over may have finished and released it already: then the heartbeat's word.
      const holder = (await leaseHolder(trx, key)) ?? seenHolder
      if (holder) check.lostTo = holder
    }
    const finished: SlotRecord = {...record, finished_at: (await leaseNow(trx, db.dialect, options.clock)).toISOString()}
    if (check.lost) {
      finished.lease_lost = true
      if (check.lostTo) finished.lost_to = check.lostTo
    }
    await trx('cache')
      .where({key: slotKey(options.cachePrefix, task.name, slot)})
      .update({value: JSON.stringify(finished)})
    return check
  })
}

/**
 * Renews the lease while the task runs; notes a lease taken over by another runner (a stall past
 * expiry). The returned stop waits for a renewal in flight, so none lands after the release.
 */
function heartbeat(db: Database, task: ScheduledTask, runner: string, options: ScheduleRunOptions, onLost: (holder?: string) => void): () => Promise<void> {
  const period = options.heartbeatMs === undefined ? Math.min(60_000, (task.leaseMinutes * 60_000) / 3) : options.heartbeatMs
  if (period === false) return async () => {}
  const key = leaseKey(options.cachePrefix, task.name)
  let lost = false
  let inFlight: Promise<void> | undefined
  const beat = async () => {
    try {
      const now = unix(await leaseNow(db.knex, db.dialect, options.clock))
      const updated = await db
        .knex('cache_locks')
        .where({key, owner: runner})
        .update({expiration: now + task.leaseMinutes * 60})
      if (updated === 0 && !lost) {
        lost = true
        onLost(await leaseHolder(db.knex, key))
      }
    } catch {
      // The database is unreachable for a moment: the lease keeps its expiry; the next beat retries.
    }
  }
  const timer = setInterval(() => {
    inFlight ??= beat().finally(() => (inFlight = undefined))
  }, period)
  timer.unref()
  return async () => {
    clearInterval(timer)
    await inFlight
  }
}

/** Runs a claimed task, then lets go of the lease this process counted as held since the claim. */
async function runTask(
  db: Database,
  task: ScheduledTask,
  slot: Date,
  runner: string,
  claimed: Claim & {kind: 'claimed'},
  options: ScheduleRunOptions,
): Promise<TaskReport> {
  try {
    return await runClaimedTask(db, task, slot, runner, claimed, options)
  } finally {
    letGoLease(runner)
  }
}

async function runClaimedTask(
  db: Database,
  task: ScheduledTask,
  slot: Date,
  runner: string,
  claimed: Claim & {kind: 'claimed'},
  options: ScheduleRunOptions,
): Promise<TaskReport> {
  const started_at = claimed.startedAt.toISOString()
  if (options.signal?.aborted) {
    // Stopped while claiming: the minute is recorded as skipped and the lease released, nothing started.
    const report: TaskReport = {name: task.name, command: task.command, outcome: 'skipped', reason: 'runner_stopping'}
    await finish(db, task, slot, runner, {status: 'skipped', reason: 'runner_stopping', runner, started_at}, options)
    options.onEvent?.({type: 'end', slot, report})
    return report
  }
  const t0 = performance.now()
  const report: TaskReport = {name: task.name, command: task.command, outcome: 'ran'}
  if (claimed.tookOverFrom) report.took_over_from = claimed.tookOverFrom
  options.onEvent?.({type: 'start', slot, report})
  let lostTo: {holder?: string} | undefined
  const stop = heartbeat(db, task, runner, options, (holder) => {
    lostTo = {holder}
  })
  let result: TaskResult
  try {
    result = await options.executor({task, slot, runner}, options.signal ?? new AbortController().signal)
  } catch (error) {
    result = {exitCode: 1, error: (error as Error).message}
  } finally {
    await stop()
  }
  report.exit_code = result.exitCode
  report.duration_ms = Math.round(performance.now() - t0)
  if (result.log) report.log = result.log
  if (result.error) report.error = result.error
  report.outcome = result.exitCode === 0 ? 'ran' : 'failed'
  const record: Omit<SlotRecord, 'finished_at'> = {status: report.outcome === 'ran' ? 'done' : 'failed', runner, started_at, exit_code: result.exitCode}
  if (claimed.tookOverFrom) record.took_over_from = claimed.tookOverFrom
  const lease = await finish(db, task, slot, runner, record, options, lostTo?.holder)
  if (lease.lost) {
    report.lease_lost = true
    if (lease.lostTo) report.lost_to = lease.lostTo
  }
  options.onEvent?.({type: 'end', slot, report})
  return report
}

/** The tasks of `tasks` due in the minute of `at` (enabled ones, in schedule order). */
export function dueTasks(tasks: ScheduledTask[], at: Date, only?: string[]): ScheduledTask[] {
  return tasks.filter((t) => t.enabled && (!only || only.includes(t.name)) && cronMatches(t.expression, at))
}

/**
 * One `schedule run`: claims every due task of the current slot it can, runs the claimed ones side by
 * side (a long archive does not hold back the redrive of the same minute), and reports each.
 */
export async function scheduleRun(db: Database, options: ScheduleRunOptions): Promise<RunReport> {
  const now = options.at ?? (await leaseNow(db.knex, db.dialect, options.clock))
  const slot = slotOf(now)
  const runner = leaseOwner()
  const due = dueTasks(options.tasks, slot, options.only)
  // Checked every minute, due or not: a scheduler on an unmigrated database says so instead of "nothing due".
  await requireTables(db, ['cache', 'cache_locks'])
  const reports: Array<Promise<TaskReport>> = []
  for (const task of due) {
    if (options.signal?.aborted) break
    // Counted as held from before the lease row exists until after it is released (lease.ts localOwnerState).
    holdLease(runner)
    const claimed = await claim(db, task, slot, runner, options).catch((error: unknown) => {
      letGoLease(runner)
      throw error
    })
    if (claimed.kind === 'skipped') {
      letGoLease(runner)
      const report: TaskReport = {name: task.name, command: task.command, outcome: 'skipped', reason: claimed.reason}
      if (claimed.holder) report.holder = claimed.holder
      if (claimed.slotStatus) report.slot_status = claimed.slotStatus
      options.onEvent?.({type: 'end', slot, report})
      reports.push(Promise.resolve(report))
      continue
    }
    reports.push(runTask(db, task, slot, runner, claimed, options))
  }
  const tasks = await Promise.all(reports)
  if (slot.getUTCMinutes() === 30) await pruneLedger(db, options.cachePrefix, now).catch(() => {})
  return {
    slot: slot.toISOString(),
    runner,
    tasks,
    summary: {
      due: due.length,
      ran: tasks.filter((t) => t.outcome === 'ran').length,
      failed: tasks.filter((t) => t.outcome === 'failed').length,
      skipped: tasks.filter((t) => t.outcome === 'skipped').length,
    },
  }
}

/** Slot records past their keep date (our keys only). */
export async function pruneLedger(db: Database, prefix: string, now: Date): Promise<number> {
  return db.knex('cache').where('key', 'like', `${prefix}laundry-ops:schedule:slot:%`).andWhere('expiration', '<', unix(now)).delete()
}

/** Slot records of one task, newest first (for `schedule list` and tests). */
export async function slotRecords(db: Database, prefix: string, task?: string): Promise<Array<{task: string; slot: string; record: SlotRecord}>> {
  const like = `${prefix}laundry-ops:schedule:slot:${task ? `${task}:` : ''}%`
  const rows = await db.knex<{key: string; value: string}>('cache').where('key', 'like', like).select('key', 'value')
  const base = `${prefix}laundry-ops:schedule:slot:`
  return rows
    .filter((r) => r.key.startsWith(base) && (!task || r.key.startsWith(`${base}${task}:`)))
    .map((r) => {
      const rest = r.key.slice(base.length)
      const cut = rest.lastIndexOf(':')
      const stamp = rest.slice(cut + 1)
      const slot = `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(8, 10)}:${stamp.slice(10, 12)}:00.000Z`
      return {task: rest.slice(0, cut), slot, record: JSON.parse(r.value) as SlotRecord}
    })
    .sort((a, b) => (a.slot < b.slot ? 1 : a.slot > b.slot ? -1 : a.task.localeCompare(b.task)))
}
