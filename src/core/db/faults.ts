import type {DatabaseTarget} from '../config.js'
import {OpsError} from '../errors.js'
import type {Database} from './connection.js'
import {isReadOnlyViolation, SESSION_TIMEOUTS} from './connection.js'
import {findSchemaGaps} from './expected-schema.js'

/**
 * Faults of the database, the disk and the lock managers, told as what happened, never as the SQL
 * statement the driver failed on (knex prefixes every driver message with its statement). Callers that
 * changed something before the fault add what was done, what was not and what to do next
 * (interruptedBy); the CLI applies describeFault to anything else it catches.
 */

/** What a command had done when a fault stopped it, for the one-line report. */
export interface FaultContext {
  /** What was done (and is durable), e.g. "893 of 2000 messages were requeued and committed". */
  done?: string
  /** What was not, e.g. "the other 1107 were not changed". */
  notDone?: string
  /** What to do next, e.g. "rerun `laundry-ops wa redrive` to requeue them". */
  next?: string
}

export interface DriverError {
  code?: unknown
  errno?: unknown
  message?: unknown
  path?: unknown
}

/** The driver's own message without the SQL statement knex puts in front of it (`<sql> - <message>`). */
export function driverMessage(error: DriverError): string {
  const message = (typeof error.message === 'string' ? error.message : typeof error.code === 'string' ? error.code : 'unknown error')
    // SQLite's hint after a double-quoted name it could not resolve: not the driver message's start.
    .replace(/ - should this be a string literal in single-quotes\?$/, '')
  const cut = message.lastIndexOf(' - ')
  const text =
    cut >= 0 && /^\s*(select|insert|update|delete|with|create|alter|drop|begin|commit|rollback|declare|fetch|pragma|savepoint|release)\b/i.test(message)
      ? message.slice(cut + 3)
      : message
  return text.split('\n')[0].trim()
}

function where(target?: DatabaseTarget): string {
  if (!target) return 'the database'
  return target.client === 'pg' ? `PostgreSQL at ${target.host}:${target.port}/${target.database}` : `the SQLite database ${target.filename}`
}

const seconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`)

const CONNECTION_LOST =
  /Connection terminated|terminating connection|server closed the connection|connection reset|Client has encountered a connection error|Client was closed|read ECONNRESET|write EPIPE/i

/**
 * The fault an error stands for, as an OpsError with a plain message, or null when the error is not a
 * database, disk or lock fault (a bug: the caller rethrows it as it is).
 */
export function describeFault(error: unknown, target?: DatabaseTarget): OpsError | null {
  if (error instanceof OpsError) return error
  const e = (error ?? {}) as DriverError
  const code = typeof e.code === 'string' ? e.code : ''
  const text = driverMessage(e)
  const db = where(target)

  // A write refused by a connection opened for reading only: a read-only command or a dry run tried to
  // change something. Nothing was written; it is a bug of ours, not a fault of the storage.
  if (isReadOnlyViolation(error)) {
    return new OpsError(
      'INTERNAL',
      `${db} was opened read-only (a read-only command or --dry-run) and a statement tried to write (a bug in laundry-ops: ${text}); nothing was changed`,
      {cause: error},
    )
  }

  // Missing schema: the table or column, and the remedy.
  const table = /no such table: (?:main\.)?([\w.]+)/i.exec(text)?.[1] ?? (code === '42P01' ? /relation "([^"]+)" does not exist/.exec(text)?.[1] : undefined)
  if (table) return new OpsError('NOT_MIGRATED', `${db} has no table ${table}: run \`laundry-ops db migrate\` first`, {cause: error})
  const column =
    /no such column: ([\w."]+)/i.exec(text)?.[1] ??
    /has no column named (\w+)/i.exec(text)?.[1] ??
    (code === '42703' ? /column "?([^"\s]+)"? (?:of relation "[^"]+" )?does not exist/.exec(text)?.[1] : undefined)
  if (column)
    return new OpsError(
      'NOT_MIGRATED',
      `${db} has no column ${column.replace(/"/g, '')}: its schema is older than laundry-ops; run \`laundry-ops db migrate\` first`,
      {cause: error},
    )

  // Disk full: SQLite, the PostgreSQL server, or a file of ours.
  if (code === 'SQLITE_FULL' || code === '53100' || code === 'ENOSPC' || code === 'EDQUOT') {
    const file = typeof e.path === 'string' ? ` (writing ${e.path})` : ''
    const whose =
      code === '53100'
        ? `the PostgreSQL server at ${target?.client === 'pg' ? `${target.host}:${target.port}` : '?'}`
        : code === 'SQLITE_FULL'
          ? `the disk of ${db}`
          : 'the disk'
    return new OpsError('DISK_FULL', `${whose} is out of space${file}`, {cause: error})
  }

  // Locks held by someone else for longer than we wait.
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY') || code === 'SQLITE_LOCKED') {
    return new OpsError('DB_LOCKED', `${db} stayed locked by another process (a long write or an open transaction) for more than 10 s`, {cause: error})
  }
  if (code === '55P03')
    return new OpsError('DB_LOCKED', `a lock on ${db} stayed held by another session for more than lock_timeout (${seconds(SESSION_TIMEOUTS.lock_timeout)})`, {
      cause: error,
    })
  if (code === '40P01') return new OpsError('DB_LOCKED', `${db} broke a deadlock with another session by cancelling this one`, {cause: error})

  // Server-side timeouts.
  if (code === '57014') {
    const why = /statement timeout/i.test(text) ? 'statement_timeout' : /lock timeout/i.test(text) ? 'lock_timeout' : 'a cancel request'
    return new OpsError('DB_TIMEOUT', `${db} cancelled a statement (${why})`, {cause: error})
  }
  if (code === '25P03') return new OpsError('DB_TIMEOUT', `${db} ended the session on idle_in_transaction_session_timeout`, {cause: error})

  // The connection went away, or never came.
  if (
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    code.startsWith('08') ||
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    CONNECTION_LOST.test(text)
  ) {
    const why = code === '57P01' ? 'terminated by an administrator' : code === '57P02' || code === '57P03' ? 'the server is shutting down or starting' : text
    return new OpsError('DB_CONNECTION_LOST', `the connection to ${db} was lost (${why})`, {cause: error})
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT' || /Timeout acquiring a connection/i.test(text)) {
    return new OpsError('DB_UNREACHABLE', `cannot reach ${db} (${code || 'no connection within the timeout'})`, {cause: error})
  }

  // Storage we cannot write.
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN' || code === 'EACCES' || code === 'EROFS' || code === 'EPERM') {
    const file = typeof e.path === 'string' ? e.path : target?.client === 'sqlite' ? target.filename : 'a file'
    return new OpsError('STORAGE_UNWRITABLE', `cannot write ${file} (${code})`, {cause: error})
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') return new OpsError('DB_INVALID', `${db} is not a valid SQLite database (${code})`, {cause: error})
  return null
}

/** The codes of faults (as opposed to refusals and bugs): a report of one says what was done before it. */
const FAULT_CODES = new Set<OpsError['code']>([
  'DB_CONNECTION_LOST',
  'DB_TIMEOUT',
  'DB_LOCKED',
  'DB_UNREACHABLE',
  'DB_INVALID',
  'DISK_FULL',
  'STORAGE_UNWRITABLE',
  'NOT_MIGRATED',
])

/** The usual remedy for a fault, when the caller has nothing more precise to say. */
export function nextStep(code: OpsError['code'], command = 'the command'): string | undefined {
  switch (code) {
    case 'DISK_FULL':
      return `free space, then rerun ${command}`
    case 'DB_LOCKED':
      return `rerun ${command} once the other process has finished`
    case 'DB_TIMEOUT':
      return `rerun ${command}; if it happens again, look for what holds the server back (long transactions, locks)`
    case 'DB_CONNECTION_LOST':
    case 'DB_UNREACHABLE':
      return `rerun ${command} once the database answers`
    default:
      return undefined
  }
}

/**
 * The one-line report of a fault that stopped work part-way: what happened, what was done, what was not
 * and what to do next. An error that is no fault (a bug) is returned as it is; an OpsError that is no
 * fault (bad input found late, a lease held) too.
 */
export function interruptedBy(error: unknown, target: DatabaseTarget | undefined, context: FaultContext, command?: string): unknown {
  if (error instanceof OpsError && !FAULT_CODES.has(error.code)) return error
  const fault = describeFault(error, target)
  if (!fault) return error
  // A write refused by a read-only connection changed nothing, whatever the caller had counted.
  if (isReadOnlyViolation(error)) return fault
  let next = context.next ?? nextStep(fault.code, command)
  // A caller's own next step (rerun X) comes after the one a full disk needs first.
  if (fault.code === 'DISK_FULL' && next && !/free space/i.test(next)) next = `free space, then ${next}`
  const parts = [context.done, context.notDone, next].filter((p): p is string => Boolean(p))
  if (parts.length === 0) return fault
  return new OpsError(fault.code, `${fault.message}; ${parts.join('; ')}`, {cause: error})
}

/**
 * Refuses to start on a database that lacks a table the work needs, or a column of one (every column the
 * migrations create), naming each and the remedy, before anything is read or changed. With
 * `tablesOptional`, only the columns of the tables that exist are required.
 */
export async function requireTables(db: Database, tables: readonly string[], options: {tablesOptional?: boolean} = {}): Promise<void> {
  const gaps = await findSchemaGaps(db, tables)
  // A caller that reports a missing table itself (observe health warns, as upstream) still needs the columns of those present.
  const missingTables = options.tablesOptional ? [] : gaps.missingTables
  const missingColumns = gaps.missingColumns
  if (missingTables.length === 0 && missingColumns.length === 0) return
  const lacks = [
    missingTables.length > 0 ? `no ${missingTables.join(', ')} table${missingTables.length > 1 ? 's' : ''}` : '',
    missingColumns.length > 0 ? `no column${missingColumns.length > 1 ? 's' : ''} ${missingColumns.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(' and ')
  throw new OpsError('NOT_MIGRATED', `${where(db.target)} has ${lacks}: ${await schemaRemedy(db)}; nothing was changed`)
}

/**
 * What to do about a missing table or column. `db migrate` only runs what the ledger lists as pending: when
 * the ledger says every migration ran, the schema was changed by hand (or restored in part) and migrating
 * again changes nothing.
 */
async function schemaRemedy(db: Database): Promise<string> {
  const migrate = 'run `laundry-ops db migrate` first'
  try {
    const {migrationStatus} = await import('./migrator.js')
    const status = await migrationStatus(db)
    if (!status.ledger || status.pending.length > 0) return migrate
    return (
      'the migrations ledger says every migration ran, so `laundry-ops db migrate` would change nothing: the schema was altered outside ' +
      'the migrations; restore it from a backup, or rebuild a scratch database with `laundry-ops db fresh`'
    )
  } catch {
    return migrate
  }
}
