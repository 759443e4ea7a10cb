import type {Clock} from '../clock.js'
import type {Database} from '../db/connection.js'
import {leaseNow} from '../db/lease-time.js'
import {type RunReport, scheduleRun, type ScheduleRunOptions, type TaskExecutor} from './runner.js'
import type {ScheduledTask} from './schedule.js'

export interface WorkResult {
  minutes: number
  ran: number
  failed: number
  skipped: number
  stop_reason: 'signal' | 'max_time'
}

export interface ScheduleLoopOptions {
  /** The schedule at the start. */
  tasks: ScheduledTask[]
  /** Reads the schedule again, at the start of every minute (as cron's `schedule run` would); throws on an invalid file. */
  reloadTasks?: () => ScheduledTask[] | Promise<ScheduledTask[]>
  executor: TaskExecutor
  clock: Clock
  cachePrefix: string
  /** Stop after this many milliseconds (the running tasks are waited for). */
  maxTimeMs?: number
  /** Aborted by SIGTERM / SIGINT: no new minute starts, the running tasks are stopped (SIGTERM) and waited for. */
  stop?: AbortSignal
  onEvent?: ScheduleRunOptions['onEvent']
  /** The schedule file became invalid: the last valid schedule is kept. */
  onScheduleError?: (error: Error) => void
  /** A minute's run failed as a whole (the database went away, say). */
  onRunError?: (slot: Date, error: Error) => void
}

/** Waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, {once: true})
  })
}

/**
 * `schedule work`: at the start of every minute, what `schedule run` does (same ledger and leases, so it
 * runs beside cron runners on other hosts). A minute's run is not awaited before the next minute, so a
 * long task does not hold back the next one; a stop waits for every run in flight. The minute is read
 * from the same clock the runs use (the server's on PostgreSQL), so a host clock a few milliseconds off
 * the server's cannot make the loop wake in a minute the runs see as the previous one.
 */
export async function runScheduleLoop(db: Database, options: ScheduleLoopOptions): Promise<WorkResult> {
  let tasks = options.tasks
  // Elapsed time from the monotonic clock: --max-time is not stretched or cut by the host's clock being set.
  const t0 = performance.now()
  const maxTimeMs = options.maxTimeMs ?? Infinity
  const running = new Set<Promise<RunReport>>()
  const result: WorkResult = {minutes: 0, ran: 0, failed: 0, skipped: 0, stop_reason: 'signal'}
  let lastSlot = -1
  while (!options.stop?.aborted) {
    if (performance.now() - t0 >= maxTimeMs) {
      result.stop_reason = 'max_time'
      break
    }
    // The database away for a moment: this minute goes by the host's clock, and its run reads the time
    // itself (and fails, reported, if the database is still away), as every minute did before.
    const read = await leaseNow(db.knex, db.dialect, options.clock).catch(() => undefined)
    const now = (read ?? options.clock.now()).getTime()
    const slot = Math.floor(now / 60_000)
    if (slot !== lastSlot) {
      lastSlot = slot
      result.minutes++
      // An invalid edit of the schedule file is reported and the last valid schedule kept.
      try {
        if (options.reloadTasks) tasks = await options.reloadTasks()
      } catch (error) {
        options.onScheduleError?.(error as Error)
      }
      const run = scheduleRun(db, {
        tasks,
        executor: options.executor,
        clock: options.clock,
        cachePrefix: options.cachePrefix,
        signal: options.stop,
        at: read,
        onEvent: options.onEvent,
      })
      running.add(run)
      run
        .then((report) => {
          result.ran += report.summary.ran
          result.failed += report.summary.failed
          result.skipped += report.summary.skipped
        })
        .catch((error: Error) => {
          result.failed++
          options.onRunError?.(new Date(slot * 60_000), error)
        })
        .finally(() => running.delete(run))
    }
    // 5 ms into the next minute, measured on the clock that was read (a timer only measures durations).
    const untilNext = (slot + 1) * 60_000 - now + 5
    await pause(Math.max(5, Math.min(untilNext, maxTimeMs - (performance.now() - t0))), options.stop)
  }
  await Promise.allSettled([...running])
  return result
}
