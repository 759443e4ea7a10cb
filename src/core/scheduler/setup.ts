import path from 'node:path'

import {type Clock, systemClock} from '../clock.js'
import type {AppConfig} from '../config.js'
import {assertSqliteExists} from '../db/connection.js'
import {UsageError} from '../errors.js'
import {YEARS} from '../limits.js'
import type {TaskReport} from './runner.js'
import {spawnExecutor} from './spawn-executor.js'

/** The executor of the real commands: `node <root>/bin/run.js <argv>`, output to `<storage>/logs/schedule/`. */
export function commandExecutor(config: AppConfig, root: string) {
  const database = config.database.client === 'sqlite' ? `sqlite:${config.database.filename}` : config.database.connectionString
  return spawnExecutor({
    bin: path.join(root, 'bin', 'run.js'),
    logDir: path.join(config.storage, 'logs', 'schedule'),
    // The task runs on the runner's database and storage, whatever the task's own working directory says.
    env: {...process.env, DATABASE_URL: database, LAUNDRY_OPS_STORAGE: config.storage},
  })
}

/**
 * `--at`: run as if the clock read this instant when the command started (it then advances in real
 * time). For rehearsals and tests of a schedule; the slot records it writes are real. Without it, the
 * host's clock, which leases and slots on PostgreSQL replace with the server's (db/lease-time.ts).
 */
export function clockFrom(at: string | undefined): Clock {
  if (at === undefined) return systemClock
  const start = Date.parse(at)
  const year = Number(at.slice(0, 4))
  if (Number.isNaN(start) || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(at) || year < YEARS.min || year > YEARS.max) {
    throw new UsageError('USAGE', `--at '${at}' is not an ISO 8601 time with a zone, e.g. 2026-11-22T09:00:00Z`)
  }
  // Elapsed time from the monotonic clock: a rehearsal is not moved by the host's clock being set.
  const t0 = performance.now()
  return {now: () => new Date(start + Math.round(performance.now() - t0)), simulated: true}
}

/**
 * `schedule run` from cron in the wrong folder must not leave an empty SQLite file behind it each minute:
 * a missing SQLite database is refused before it is opened (and so created).
 */
export function requireExistingDatabase(config: AppConfig): void {
  if (config.database.client === 'sqlite') assertSqliteExists(config.database)
}

/** One progress line per task: `09:00 UTC  wa-remind  wa remind --limit=100  DONE 0.4s`. */
export function describeTask(slot: Date, report: TaskReport, phase: 'start' | 'end'): string {
  const time = `${slot.toISOString().slice(0, 10)} ${slot.toISOString().slice(11, 16)} UTC`
  const head = `${time}  ${report.name}  laundry-ops ${report.command}`
  if (phase === 'start') return `${head}  RUNNING${report.took_over_from ? ` (took over the expired lease of ${report.took_over_from})` : ''}`
  const seconds = ((report.duration_ms ?? 0) / 1000).toFixed(1)
  // Another runner took the lease over while this one ran: the task may have run twice at once.
  const lost = report.lease_lost ? `lost its lease to ${report.lost_to ?? 'another runner'}` : ''
  switch (report.outcome) {
    case 'ran':
      return `${head}  DONE ${seconds}s${lost ? `, but ${lost}` : ''}`
    case 'failed':
      return `${head}  FAIL exit ${report.exit_code}${report.error ? ` (${report.error})` : ''}${lost ? `; ${lost}` : ''}${report.log ? `, see ${report.log}` : ''}`
    case 'skipped':
      if (report.reason === 'claimed_by_other_runner') {
        const state = report.slot_status ? `, ${report.slot_status === 'skipped' ? 'which skipped it' : `its run: ${report.slot_status}`}` : ''
        return `${head}  SKIP claimed by another runner${report.holder ? ` (${report.holder}${state})` : ''}`
      }
      if (report.reason === 'runner_stopping') return `${head}  SKIP not started: the runner is stopping`
      return `${head}  SKIP previous run still running${report.holder ? ` (${report.holder})` : ''}`
  }
}
