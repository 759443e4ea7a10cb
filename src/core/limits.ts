import {UsageError} from './errors.js'

/**
 * Bounds of every duration, count and threshold the commands take. They keep what is derived from a
 * value valid: a cutoff `now - days` stays a real date that both engines store (an unbounded --days gave
 * `NaN-NaN-NaN`, which SQLite compared as greater than every row), a `setTimeout` delay stays below
 * 2^31-1 ms (above it Node fires at once: a busy loop), and a LIMIT stays an ordinary number. Flags
 * check them before anything runs (src/flags.ts); core functions check them again for other callers.
 */
export interface Bound {
  min: number
  max: number
  /** What the value counts, for messages: "days", "seconds". */
  unit: string
}

const YEARS_100_DAYS = 36_500

export const LIMITS = {
  /** `audit archive --days`: a cutoff up to 100 years back. */
  days: {min: 1, max: YEARS_100_DAYS, unit: 'days'},
  /** `queue flush --hours`. */
  hours: {min: 1, max: YEARS_100_DAYS * 24, unit: 'hours'},
  /** `observe health --lookback-minutes`. */
  lookbackMinutes: {min: 1, max: YEARS_100_DAYS * 1440, unit: 'minutes'},
  /** Seconds a loop sleeps or rests between polls (setTimeout): at most a day. */
  sleepSeconds: {min: 0, max: 86_400, unit: 'seconds'},
  /** Seconds before a failed job is retried (added to Laravel's Unix-seconds `available_at`): at most a week. */
  backoffSeconds: {min: 0, max: 604_800, unit: 'seconds'},
  /** Seconds a job may run (`queue work --timeout`, setTimeout); below DB_QUEUE_RETRY_AFTER as well. */
  jobTimeoutSeconds: {min: 0, max: 86_400, unit: 'seconds'},
  /** `DB_QUEUE_RETRY_AFTER`: at most a week. */
  retryAfterSeconds: {min: 1, max: 604_800, unit: 'seconds'},
  /** `LAUNDRY_OPS_PROGRESS_INTERVAL_MS`: the least time between two plain progress lines (setInterval), at most an hour. */
  progressIntervalMs: {min: 0, max: 3_600_000, unit: 'milliseconds'},
  /** `--max-time` of the long-running loops: at most a year. */
  runSeconds: {min: 0, max: 31_536_000, unit: 'seconds'},
  /** `serve --port`: 0 asks the system for a free port (the one it gives is printed). */
  port: {min: 0, max: 65_535, unit: 'port number'},
  /** `serve --workers`: processes on the port (node:cluster). */
  serveWorkers: {min: 1, max: 64, unit: 'processes'},
  dbConnections: {min: 1, max: 100, unit: 'connections'},
  /** `db backup --keep-days`: 0 keeps only the newest backup. */
  keepDays: {min: 0, max: YEARS_100_DAYS, unit: 'days'},
  /** `queue work --max-jobs`. */
  jobs: {min: 0, max: 1_000_000_000, unit: 'jobs'},
  /** `queue work --concurrency`: jobs in flight in one worker process. */
  concurrency: {min: 1, max: 256, unit: 'jobs'},
  /** `queue work --tries`. */
  tries: {min: 0, max: 1_000, unit: 'tries'},
  /** `--limit` of the WhatsApp commands: candidates per run. */
  candidates: {min: 1, max: 1_000_000, unit: 'candidates'},
  /** `audit logins --limit`: rows per table of the incident helpers. */
  groups: {min: 1, max: 100_000, unit: 'rows'},
  /** `schedule history --limit`. */
  entries: {min: 1, max: 100_000, unit: 'entries'},
  /** `db rollback --step`. */
  migrations: {min: 1, max: 1_000, unit: 'migrations'},
  /** Count thresholds of `observe health`. */
  countThreshold: {min: 1, max: 1_000_000_000, unit: 'rows'},
  /** `observe health --wa-failure-ratio-threshold`: a percentage of messages. */
  ratioPercent: {min: 0, max: 100, unit: 'percent'},
  /** `observe health --quota-usage-threshold`: a percentage of the plan's quota (usage can exceed 100). */
  quotaPercent: {min: 1, max: 1_000, unit: 'percent'},
} as const satisfies Record<string, Bound>

/** Calendar years a period (`YYYY-MM`), a day (`--as-of`) or a rehearsal time (`--at`) may name. */
export const YEARS = {min: 1970, max: 9999} as const

/** Throws a UsageError (exit 2) naming the option, the value and the bounds, unless value is within. */
export function assertWithin(option: string, value: number, bound: Bound, integer = true): void {
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < bound.min || value > bound.max) {
    throw new UsageError(
      'USAGE',
      `${option} ${String(value)} is out of range: expected ${integer ? 'a whole number' : 'a number'} of ${bound.unit} from ${bound.min} to ${bound.max}`,
    )
  }
}
