/**
 * The error catalogue: every code the toolkit reports, with its exit code (SPEC §3: 1 = the operation
 * failed, 2 = bad usage or configuration, nothing changed), the HTTP status the embedded API answers
 * with, and a one-line meaning. `OpsError` reads its exit code from here; the CLI's error rendering and
 * the HTTP error handler do the same. A code that is not here does not compile (ErrorCode), and a test
 * checks every code the sources use and that the README lists them all.
 */
export interface ErrorSpec {
  exit: 1 | 2
  http: number
  meaning: string
}

export const ERROR_CATALOGUE = {
  // Bad usage and configuration (exit 2): refused before anything was changed.
  USAGE: {exit: 2, http: 400, meaning: 'bad usage: an unknown command or flag, a missing argument, or a value outside what the flag accepts'},
  CONFIG_INVALID: {
    exit: 2,
    http: 500,
    meaning: 'the configuration (environment, .env, --database-url) is invalid: the message names the variable and what is expected',
  },
  SCHEDULE_INVALID: {exit: 2, http: 500, meaning: 'the schedule file is invalid: the message names the task and the field'},
  REFUSED_PRODUCTION: {exit: 2, http: 403, meaning: 'a destructive or schema-changing command was refused in production without --force'},
  REFUSED_REMOTE: {
    exit: 2,
    http: 403,
    meaning: 'a command that drops every table was refused on a PostgreSQL server that is not on this machine, without --force',
  },
  INVALID_TENANT: {exit: 2, http: 422, meaning: '--tenant is not a tenant id (a UUID)'},
  UNKNOWN_TENANT: {exit: 2, http: 404, meaning: '--tenant names no tenant of this database'},
  INVALID_OUTLET: {exit: 2, http: 422, meaning: '--outlet is not an outlet id (a UUID)'},
  UNKNOWN_OUTLET: {exit: 2, http: 404, meaning: '--outlet names no outlet of this database'},
  UNKNOWN_REASON: {exit: 2, http: 422, meaning: '--reason is not a WhatsApp failure reason code the send job writes or the database holds'},
  INVALID_PERIOD: {exit: 2, http: 422, meaning: 'a quota period is not YYYY-MM with month 01-12 and a year in the supported range'},
  INVALID_AS_OF: {exit: 2, http: 422, meaning: '--as-of is not a real calendar date YYYY-MM-DD in the supported range'},
  INVALID_BUCKET: {exit: 2, http: 422, meaning: '--bucket is not one of the aging buckets'},
  INVALID_COLLECTION_STATUS: {exit: 2, http: 422, meaning: '--collection-status is not one of the collection statuses'},
  FAILED_JOB_NOT_FOUND: {exit: 2, http: 404, meaning: '`queue retry` named a uuid that is not in failed_jobs'},
  UNKNOWN_SCENARIO: {exit: 2, http: 422, meaning: '`uat run --scenario` names no scenario of the UAT catalogue (UAT-01 … UAT-10)'},
  INVALID_DATE: {exit: 2, http: 422, meaning: 'a date flag is not YYYY-MM-DD (`uat run --date`)'},
  BACKUP_KEY_MISSING: {
    exit: 2,
    http: 500,
    meaning: 'no usable backup key: LAUNDRY_OPS_BACKUP_RECIPIENT / LAUNDRY_OPS_BACKUP_PASSPHRASE to back up, --identity or the passphrase to verify or restore',
  },
  BACKUP_NOT_FOUND: {exit: 2, http: 404, meaning: '`db backup verify` / `db restore` names a file that does not exist or is a folder'},
  BACKUP_TARGET_NOT_EMPTY: {exit: 2, http: 409, meaning: '`db restore` was refused: the database holds tables, and --force was not given'},
  BACKUP_ENGINE_MISMATCH: {exit: 2, http: 422, meaning: '`db restore` was given a backup of the other engine (SQLite vs PostgreSQL)'},
  BACKUP_TOOL_MISSING: {
    exit: 2,
    http: 500,
    meaning: 'pg_dump / pg_restore is not installed, or is older than the server: the message names the Debian package',
  },
  INVALID_DURATION: {exit: 2, http: 422, meaning: '--since is not a duration: a whole number and a unit s, m, h, d or w (15m, 1h, 2d), 1s to 36500d'},

  // The operation failed (exit 1).
  UAT_ISOLATION_FAILED: {
    exit: 1,
    http: 500,
    meaning: "the UAT pack could not create its isolated database (the configured database's user may not CREATE DATABASE)",
  },
  INTERNAL: {exit: 1, http: 500, meaning: 'an unexpected error (a bug): DEBUG=1 prints the stack trace'},
  FAILED: {exit: 1, http: 500, meaning: 'the command failed for a reason its message gives'},
  DB_NOT_FOUND: {exit: 1, http: 503, meaning: 'the SQLite database file does not exist (only db migrate and db fresh create it)'},
  DB_UNREACHABLE: {exit: 1, http: 503, meaning: 'the database server cannot be reached, refused the login, or has no such database'},
  DB_INVALID: {exit: 1, http: 503, meaning: 'the file is not an SQLite database'},
  DB_CONNECTION_LOST: {exit: 1, http: 503, meaning: 'the connection to the database was lost mid-way: the message says what was committed and what to rerun'},
  DB_TIMEOUT: {exit: 1, http: 503, meaning: 'the database cancelled a statement or transaction on a server-side timeout'},
  DB_LOCKED: {exit: 1, http: 503, meaning: 'the database (or a row) stayed locked by another process longer than the lock timeout'},
  NOT_MIGRATED: {exit: 1, http: 503, meaning: 'a table or column the command needs is missing: run `laundry-ops db migrate`'},
  MIGRATION_FAILED: {exit: 1, http: 500, meaning: 'a migration failed; the transaction was rolled back and nothing was changed'},
  MIGRATION_UNKNOWN: {exit: 1, http: 500, meaning: 'a rollback reached a migration laundry-ops does not know (run by the Laravel application)'},
  SEED_FAILED: {exit: 1, http: 500, meaning: 'seeding failed; nothing was changed'},
  STORAGE_UNWRITABLE: {exit: 1, http: 507, meaning: 'a folder or file (the storage folder, the SQLite file, a report) cannot be created or written'},
  DISK_FULL: {exit: 1, http: 507, meaning: 'the disk (or the database server) ran out of space: free space and rerun'},
  SQLITE_BINDING_MISSING: {exit: 1, http: 500, meaning: "better-sqlite3's native part is not installed: `npm rebuild better-sqlite3`"},
  ARCHIVE_RUNNING: {exit: 1, http: 409, meaning: 'another `audit archive` run holds the archive lease'},
  PORT_IN_USE: {exit: 1, http: 500, meaning: '`serve` cannot listen: another process already listens on that host and port'},
  LISTEN_FAILED: {
    exit: 1,
    http: 500,
    meaning: '`serve` cannot listen: the host is not an address of this machine, does not resolve, or the port needs privileges',
  },
  BACKUP_CORRUPT: {
    exit: 1,
    http: 422,
    meaning: 'the backup file is damaged, truncated, changed since it was written, or has no valid manifest: nothing was changed',
  },
  BACKUP_KEY_WRONG: {exit: 1, http: 422, meaning: 'the identity or passphrase given does not open the backup: nothing was changed'},
  BACKUP_RESTORE_MISMATCH: {exit: 1, http: 500, meaning: "the restore finished, but a table's rows or checksum differ from the backup's manifest"},
  ARCHIVE_LEASE_LOST: {exit: 1, http: 409, meaning: 'another `audit archive` run took the lease over mid-way: this run stopped; the next finishes its file'},

  // The HTTP API's answers (reference §0.4): the code is the `reason_code` the body carries, where it has one.
  VALIDATION_FAILED: {exit: 2, http: 422, meaning: "the input failed validation: Laravel's `{message, errors}` names every field and rule that failed"},
  UNAUTHENTICATED: {exit: 2, http: 401, meaning: 'no bearer token, or one that names no valid token of an existing account'},
  USER_INACTIVE: {exit: 1, http: 403, meaning: "the account's status is not `active`: it cannot log in"},
  OUTLET_ACCESS_DENIED: {exit: 1, http: 403, meaning: "the outlet is not in the user's tenant, or (not an owner) not assigned to the user"},
  ROLE_ACCESS_DENIED: {exit: 1, http: 403, meaning: "none of the user's roles may perform this action"},
  TOO_MANY_REQUESTS: {exit: 1, http: 429, meaning: 'a rate limit (auth-login, sync-push) is exhausted for this key: retry after the Retry-After seconds'},
  QUOTA_EXCEEDED: {exit: 1, http: 422, meaning: "the tenant's order quota for the period is used up: no order was created"},
  INVALID_TRANSITION: {exit: 1, http: 422, meaning: 'the status change skips ahead, names an unknown status, or is not valid for this order'},
  STATUS_NOT_FORWARD: {exit: 1, http: 422, meaning: 'the target status is at or before the current one in its pipeline'},
  SCHEDULE_LOCKED: {exit: 1, http: 422, meaning: 'a cashier cannot edit the schedule once the courier is on the way'},
  PHONE_INVALID: {exit: 1, http: 422, meaning: 'the customer phone number does not normalise to a valid number'},
  INVOICE_RANGE_INVALID: {exit: 1, http: 422, meaning: "the client's invoice number fails the parse, outlet code, date, lease or already-used checks"},
  INVOICE_COUNTER_OVERFLOW: {exit: 1, http: 422, meaning: 'the invoice counter of the outlet and date would pass 9999'},
  PLAN_FEATURE_DISABLED: {exit: 1, http: 403, meaning: "the tenant's plan does not include the feature (WhatsApp: premium and pro only)"},
  DATA_NOT_FOUND: {exit: 1, http: 404, meaning: "the record is not in the user's tenant"},
} as const satisfies Record<string, ErrorSpec>

export type ErrorCode = keyof typeof ERROR_CATALOGUE
/** The codes that mean bad usage or configuration (exit 2). */
export type UsageCode = {[K in ErrorCode]: (typeof ERROR_CATALOGUE)[K]['exit'] extends 2 ? K : never}[ErrorCode]

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CATALOGUE, code)
}

/**
 * The one error class of the toolkit. `code` is stable (scripts and --json consumers match on it);
 * `exit` and `http` come from the catalogue.
 */
export class OpsError extends Error {
  readonly code: ErrorCode
  readonly exit: 1 | 2
  readonly http: number

  constructor(code: ErrorCode, message: string, options?: {cause?: unknown}) {
    super(message, options)
    this.name = 'OpsError'
    this.code = code
    this.exit = ERROR_CATALOGUE[code].exit
    this.http = ERROR_CATALOGUE[code].http
  }
}

/**
 * A domain refusal the API answers as `{reason_code, message, ...extra}` (reference §0.4): the code is the
 * reason code, the status the catalogue's unless given (VALIDATION_FAILED is also a reason code, 422, when a
 * controller refuses with it rather than with field errors). `extra` carries the additional keys
 * (QUOTA_EXCEEDED's period, orders_limit, orders_used).
 */
export class ReasonError extends OpsError {
  readonly extra: Record<string, unknown>
  readonly status: number

  constructor(code: ErrorCode, message: string, extra: Record<string, unknown> = {}, status?: number) {
    super(code, message)
    this.name = 'ReasonError'
    this.extra = extra
    this.status = status ?? ERROR_CATALOGUE[code].http
  }
}

/** Bad usage or configuration: exit 2, nothing was changed. */
export class UsageError extends OpsError {
  constructor(code: UsageCode, message: string) {
    super(code, message)
    this.name = 'UsageError'
  }
}

/** Laravel's validation errors: field path to its messages, in rule order. */
export type FieldErrors = Record<string, string[]>

/**
 * A failed validation, rendered by the API as Laravel's 422 `{message, errors}`: `message` is the first
 * error, with " (and N more error[s])" when there are more (ValidationException::summarize).
 */
export class ValidationError extends OpsError {
  readonly errors: FieldErrors

  constructor(errors: FieldErrors) {
    const all = Object.values(errors).flat()
    if (all.length === 0) throw new Error('ValidationError: no errors')
    const more = all.length - 1
    super('VALIDATION_FAILED', more === 0 ? all[0] : `${all[0]} (and ${more} more ${more === 1 ? 'error' : 'errors'})`)
    this.name = 'ValidationError'
    this.errors = errors
  }

  /** The 422 body. */
  body(): {message: string; errors: FieldErrors} {
    return {message: this.message, errors: this.errors}
  }
}

export function isOpsError(err: unknown): err is OpsError {
  return err instanceof OpsError
}

/**
 * An error's message on one line, as the CLI prints it: oclif puts the reason of a parse error on a
 * second, tab-indented line (joined here with ": "), after a "Parsing --flag" line that is dropped when
 * the reason names the flag itself; oclif's "See more help" tail and an "Error: " head are dropped.
 */
export function oneLineMessage(err: unknown): string {
  const lines = String((err as Error)?.message ?? err)
    .replace(/\n\s*See more help with --help\s*$/, '')
    // oclif's flag validation lists its reasons under a heading: the reasons are the message.
    .replace(/^The following errors? occurred:\s*\n/, '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
  const flag = /^Parsing (--[\w-]+)$/.exec(lines[0] ?? '')?.[1]
  if (flag && lines.length > 1 && lines.slice(1).some((line) => line.includes(flag))) lines.shift()
  return lines.reduce((text, line) => (text === '' ? line : `${text}${text.endsWith(':') ? ' ' : ': '}${line}`), '').replace(/^Error: /, '')
}
