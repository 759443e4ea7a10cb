import {existsSync, mkdirSync, statSync} from 'node:fs'
import path from 'node:path'
import type {Knex} from 'knex'

import type {DatabaseTarget} from '../config.js'
import {OpsError} from '../errors.js'

export type Dialect = 'sqlite' | 'pg'

/** knex writes pool warnings straight to the console; ours become clear errors, so keep them for DEBUG. */
const quietLog = {
  warn: (m: unknown) => process.env.DEBUG && console.error(m),
  error: (m: unknown) => process.env.DEBUG && console.error(m),
  deprecate: () => {},
  debug: () => {},
}

/** An open database: the knex instance, its dialect, and where it points (for messages). */
export interface Database {
  knex: Knex
  dialect: Dialect
  target: DatabaseTarget
  /** Opened for reading only (see OpenOptions.readOnly): every write is refused by the database. */
  readOnly: boolean
  close(): Promise<void>
}

/**
 * Set on a driver error when a read-only connection refused a write (SQLite's `query_only`, PostgreSQL's
 * read-only session): a read-only command or a dry run tried to change something, which is a bug.
 */
export const READ_ONLY_VIOLATION = 'laundryOpsReadOnlyViolation'

/** Is this driver error a write refused by a read-only connection (tagged by openDatabase)? */
export function isReadOnlyViolation(error: unknown): boolean {
  return Boolean(error && typeof error === 'object' && (error as Record<string, unknown>)[READ_ONLY_VIOLATION] === true)
}

/** Tags the writes a read-only connection refuses (SQLITE_READONLY from query_only; 25006 on PostgreSQL). */
function tagReadOnlyViolations(knex: Knex): void {
  knex.on('query-error', (error: unknown) => {
    const code = (error as {code?: unknown})?.code
    if ((code === 'SQLITE_READONLY' || code === '25006') && error && typeof error === 'object') {
      Object.assign(error, {[READ_ONLY_VIOLATION]: true})
    }
  })
}

const BINDING_HINT =
  "better-sqlite3's native binding is missing (npm blocked or skipped its install script). " +
  'Fix: `npm rebuild better-sqlite3` in the install folder, or reinstall with ' +
  '`npm install -g laundry-ops --allow-scripts=better-sqlite3`'

function isMissingBinding(error: unknown): boolean {
  const message = String((error as Error)?.message ?? '')
  const code = (error as NodeJS.ErrnoException)?.code
  return /Could not locate the bindings file|better_sqlite3\.node|NODE_MODULE_VERSION/.test(message) || code === 'ERR_DLOPEN_FAILED'
}

function storageError(dir: string, error: NodeJS.ErrnoException): OpsError {
  const why = error.code === 'ENOTDIR' ? 'a parent is not a folder' : (error.code ?? error.message)
  return new OpsError('STORAGE_UNWRITABLE', `cannot use folder ${dir} for the SQLite database (${why})`)
}

/** Makes sure the SQLite file's folder exists and is a folder we can write in. */
/** The part of a better-sqlite3 connection the pool's set-up touches. */
interface SqliteStatement {
  busy: boolean
  safeIntegers(on?: boolean): unknown
}
interface SqliteConnection {
  pragma(sql: string): unknown
  prepare(sql: string): SqliteStatement
}

/** Prepared statements kept per connection, most recently used last. */
const STATEMENT_CACHE_SIZE = 256

/**
 * knex's better-sqlite3 dialect prepares every query anew, which was a tenth of the CPU of an API request
 * (bench/api.ts, GET /api/me). The connection keeps its last STATEMENT_CACHE_SIZE statements by SQL text
 * and hands a cached one back when it is not in the middle of an iteration (`busy`), reset to the
 * connection's default integer mode (knex sets safeIntegers per query only when asked). SQLite re-prepares
 * a cached statement by itself when the schema changed under it.
 */
function cachePreparedStatements(conn: SqliteConnection): void {
  const prepare = conn.prepare.bind(conn)
  const cache = new Map<string, SqliteStatement>()
  conn.prepare = (sql: string) => {
    const cached = cache.get(sql)
    if (cached && !cached.busy) {
      cache.delete(sql)
      cache.set(sql, cached)
      cached.safeIntegers(false)
      return cached
    }
    const statement = prepare(sql)
    if (!cached) {
      cache.set(sql, statement)
      if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string)
    }
    return statement
  }
}

function prepareSqliteFolder(filename: string): void {
  const dir = path.dirname(filename)
  try {
    mkdirSync(dir, {recursive: true})
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a folder'), {code: 'ENOTDIR'})
  } catch (error) {
    throw storageError(dir, error as NodeJS.ErrnoException)
  }
}

let pgTypesConfigured = false

/**
 * Laravel reads timestamp(0) columns as UTC wall-clock text; so do we: no local-time Date objects.
 * bigint ids become numbers (they stay far below 2^53); numeric stays a string like Laravel's decimal cast.
 */
async function configurePgTypes(): Promise<void> {
  if (pgTypesConfigured) return
  const pg = (await import('pg')).default
  pg.types.setTypeParser(1114, (v: string) => v) // timestamp without time zone
  pg.types.setTypeParser(1082, (v: string) => v) // date
  pg.types.setTypeParser(20, (v: string) => {
    const n = Number(v)
    return Number.isSafeInteger(n) ? n : v
  })
  pgTypesConfigured = true
}

function describePgError(target: Extract<DatabaseTarget, {client: 'pg'}>, error: unknown): OpsError {
  const err = error as NodeJS.ErrnoException & {code?: string}
  const where = `${target.host}:${target.port}/${target.database}`
  switch (err.code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new OpsError('DB_UNREACHABLE', `cannot reach PostgreSQL at ${where} (${err.code}): is the server running and DATABASE_URL right?`)
    case '3D000':
      return new OpsError('DB_UNREACHABLE', `PostgreSQL database "${target.database}" does not exist on ${target.host}:${target.port}`)
    case '28P01':
    case '28000':
      return new OpsError('DB_UNREACHABLE', `PostgreSQL refused the login of user "${target.user}" at ${where}: check the credentials in DATABASE_URL`)
    default: {
      const message = String(err.message ?? err)
      if (/timeout|timed out/i.test(message)) {
        return new OpsError('DB_UNREACHABLE', `cannot reach PostgreSQL at ${where}: connection timed out`)
      }
      return new OpsError('DB_UNREACHABLE', `cannot connect to PostgreSQL at ${where}: ${message.split('\n')[0]}`)
    }
  }
}

export interface OpenOptions {
  /** Fail fast when the server does not answer (ms). */
  connectTimeoutMs?: number
  poolMax?: number
  /**
   * Create a missing SQLite file and its folder. Only the commands that create a schema do (db migrate,
   * db fresh); everything else reports a missing database instead of leaving an empty file behind.
   */
  create?: boolean
  /**
   * Open for reading only (the commands whose faultScope is 'reads', and every --dry-run): nothing is
   * written to the database. On SQLite the connection sets only per-connection pragmas (foreign_keys,
   * busy_timeout, and query_only = ON, so an accidental write fails instead of changing data): no
   * journal_mode switch, which would rewrite the header of a DELETE-journal file or of an empty (0-byte)
   * one. On PostgreSQL the session is `default_transaction_read_only = on`. Never creates a file.
   */
  readOnly?: boolean
  /** PostgreSQL session timeouts (ms, 0 = none) in place of SESSION_TIMEOUTS. */
  timeouts?: Partial<SessionTimeouts>
  /**
   * SQLite's busy_timeout (default 10,000 ms). better-sqlite3 waits for a lock synchronously, holding the
   * event loop: a process with work in flight beside its queries (the worker's provider calls, whose own
   * timers would expire while it waits) takes a short one, and writeTransaction waits for the write lock
   * asynchronously instead (up to 10 s, src/core/db/transactions.ts).
   */
  sqliteBusyTimeoutMs?: number
}

/** The PostgreSQL timeouts of our own sessions. */
export interface SessionTimeouts {
  statement_timeout: number
  lock_timeout: number
  idle_in_transaction_session_timeout: number
}

/**
 * Our sessions set the timeouts they need for themselves, whatever the database or role default says: a
 * database-wide `statement_timeout` of 150 ms (set for the web application) must not cancel an archive's
 * 100,000-row delete, and an `idle_in_transaction_session_timeout` must not end the archive's cursor
 * transaction while a page is fsynced. They stay bounded, so a stuck statement or lock still ends with a
 * clear error instead of hanging a cron run.
 */
export const SESSION_TIMEOUTS: SessionTimeouts = {
  statement_timeout: 15 * 60_000,
  lock_timeout: 60_000,
  idle_in_transaction_session_timeout: 15 * 60_000,
}

/**
 * A missing SQLite file is reported, not created (unless the command creates a schema): a read-only
 * command pointed at a wrong path, or `DATABASE_URL=garbage`, must not leave an empty database behind.
 */
export function assertSqliteExists(target: Extract<DatabaseTarget, {client: 'sqlite'}>): void {
  if (existsSync(target.filename)) return
  const from = target.source ? ` (${target.source})` : ''
  throw new OpsError(
    'DB_NOT_FOUND',
    `no SQLite database at ${target.filename}${from}: create it with \`laundry-ops db migrate\`, or point DATABASE_URL / --database-url at the right file; nothing was created`,
  )
}

/** knex's pool, which its typings leave as `any`: the calls we make on it, typed. */
interface PoolClient {
  acquireConnection(): Promise<unknown>
  releaseConnection(connection: unknown): Promise<void>
}

/**
 * One pooled connection held for a sequence of statements that must share it (a temporary table, a
 * cursor); give it back with releaseConnection.
 */
export function acquireConnection(db: Database): Promise<unknown> {
  return (db.knex.client as PoolClient).acquireConnection()
}

export function releaseConnection(db: Database, connection: unknown): Promise<void> {
  return (db.knex.client as PoolClient).releaseConnection(connection)
}

/** Opens the database named by the configuration and checks that it answers. */
export async function openDatabase(target: DatabaseTarget, options: OpenOptions = {}): Promise<Database> {
  const {default: knexFactory} = await import('knex')
  if (target.client === 'sqlite') {
    if (options.create && !options.readOnly) prepareSqliteFolder(target.filename)
    else assertSqliteExists(target)
    try {
      await import('better-sqlite3')
    } catch (error) {
      if (isMissingBinding(error)) throw new OpsError('SQLITE_BINDING_MISSING', BINDING_HINT)
      throw error
    }
    const knex = knexFactory({
      client: 'better-sqlite3',
      connection: {filename: target.filename},
      useNullAsDefault: true,
      log: quietLog,
      pool: {
        min: 1,
        max: 1,
        // Laravel turns SQLite foreign keys on for every connection; WAL lets readers run beside the writer.
        // journal_mode is persistent (it rewrites the file header), so only a connection that writes
        // anyway sets it: a read-only one sets per-connection pragmas only and refuses writes (query_only).
        afterCreate(conn: SqliteConnection, done: (err: Error | null, conn: unknown) => void) {
          try {
            cachePreparedStatements(conn)
            conn.pragma('foreign_keys = ON')
            conn.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.sqliteBusyTimeoutMs ?? 10_000))}`)
            if (options.readOnly) {
              conn.pragma('query_only = ON')
            } else {
              conn.pragma('journal_mode = WAL')
              conn.pragma('synchronous = NORMAL')
            }
            done(null, conn)
          } catch (error) {
            done(error as Error, conn)
          }
        },
      },
    })
    if (options.readOnly) tagReadOnlyViolations(knex)
    try {
      await knex.raw('select 1')
    } catch (error) {
      await knex.destroy().catch(() => {})
      if (isMissingBinding(error)) throw new OpsError('SQLITE_BINDING_MISSING', BINDING_HINT)
      const err = error as NodeJS.ErrnoException
      if (/SQLITE_CANTOPEN|unable to open|readonly|EACCES|EROFS/i.test(`${err.code} ${err.message}`)) {
        throw new OpsError('STORAGE_UNWRITABLE', `cannot open SQLite database ${target.filename} (${err.code ?? err.message})`)
      }
      if (/SQLITE_NOTADB|file is not a database/i.test(`${err.code} ${err.message}`)) {
        throw new OpsError('DB_INVALID', `${target.filename} is not an SQLite database`)
      }
      throw error
    }
    return {knex, dialect: 'sqlite', target, readOnly: options.readOnly === true, close: () => knex.destroy()}
  }

  await configurePgTypes()
  const knex = knexFactory({
    client: 'pg',
    log: quietLog,
    connection: {
      connectionString: target.connectionString,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      application_name: 'laundry-ops',
      ...SESSION_TIMEOUTS,
      ...options.timeouts,
    },
    pool: {
      min: 0,
      max: options.poolMax ?? 4,
      // A read-only session: every transaction (and every statement outside one) is read only, so an
      // accidental write fails with 25006 instead of changing data.
      ...(options.readOnly
        ? {
            afterCreate(conn: {query(sql: string, cb: (err: Error | null) => void): void}, done: (err: Error | null, conn: unknown) => void) {
              conn.query('SET default_transaction_read_only = on', (err) => done(err, conn))
            },
          }
        : {}),
    },
    acquireConnectionTimeout: (options.connectTimeoutMs ?? 5000) + 1000,
  })
  if (options.readOnly) tagReadOnlyViolations(knex)
  try {
    await knex.raw('select 1')
  } catch (error) {
    await knex.destroy().catch(() => {})
    throw describePgError(target, error)
  }
  return {knex, dialect: 'pg', target, readOnly: options.readOnly === true, close: () => knex.destroy()}
}
