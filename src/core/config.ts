import {existsSync, readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'
import {parseEnv} from 'node:util'
import {z} from 'zod'

import {UsageError} from './errors.js'
import {LIMITS} from './limits.js'

export const ENVIRONMENTS = ['local', 'testing', 'staging', 'production'] as const
export type AppEnvironment = (typeof ENVIRONMENTS)[number]

export type DatabaseTarget =
  | {client: 'sqlite'; filename: string; display: string; source?: string}
  | {
      client: 'pg'
      connectionString: string
      /** Where the driver really connects: the URL's query parameters and PG* variables applied (see pgParameters). */
      host: string
      port: number
      database: string
      user: string
      display: string
      /** The setting the target came from (`DATABASE_URL`, `--database-url`, the default), for messages. */
      source?: string
    }

export interface AppConfig {
  env: AppEnvironment
  storage: string
  database: DatabaseTarget
  /** Where the database setting came from, for messages. */
  databaseSource: '--database-url' | 'DATABASE_URL' | 'default'
  /** `APP_NAME`, the `brand_name` of WA templates (upstream default "Laravel"). */
  appName: string
  /** `CACHE_PREFIX`: the prefix of Laravel's database cache keys (queue restart signal, locks). */
  cachePrefix: string
  /** `DB_QUEUE_RETRY_AFTER`: seconds after which a reserved job counts as abandoned. */
  queueRetryAfter: number
  /** `LAUNDRY_OPS_PROGRESS_INTERVAL_MS`: the least time between two plain progress lines on stderr. */
  progressIntervalMs: number
}

/** Plain progress lines (stderr not a terminal) come at most this often by default. */
export const DEFAULT_PROGRESS_INTERVAL_MS = 5000

const EnvSchema = z.object({
  DATABASE_URL: z.string().trim().min(1, 'must not be empty').optional(),
  LAUNDRY_OPS_ENV: z.enum(ENVIRONMENTS).default('local'),
  LAUNDRY_OPS_STORAGE: z.string().trim().min(1, 'must not be empty').default('./storage'),
  // The Laravel application's own variables, read under the same names so one .env serves both.
  APP_NAME: z.string().default('Laravel'),
  CACHE_PREFIX: z.string().optional(),
  DB_QUEUE_RETRY_AFTER: z.coerce
    .number({error: 'expected a whole number of seconds'})
    .int('expected a whole number of seconds')
    .min(LIMITS.retryAfterSeconds.min, `expected seconds from ${LIMITS.retryAfterSeconds.min} to ${LIMITS.retryAfterSeconds.max}`)
    .max(LIMITS.retryAfterSeconds.max, `expected seconds from ${LIMITS.retryAfterSeconds.min} to ${LIMITS.retryAfterSeconds.max}`)
    .default(90),
  LAUNDRY_OPS_PROGRESS_INTERVAL_MS: z.coerce
    .number({error: 'expected a whole number of milliseconds'})
    .int('expected a whole number of milliseconds')
    .min(LIMITS.progressIntervalMs.min, `expected milliseconds from ${LIMITS.progressIntervalMs.min} to ${LIMITS.progressIntervalMs.max}`)
    .max(LIMITS.progressIntervalMs.max, `expected milliseconds from ${LIMITS.progressIntervalMs.min} to ${LIMITS.progressIntervalMs.max}`)
    .default(DEFAULT_PROGRESS_INTERVAL_MS),
})

/** Laravel 12's default cache prefix: `Str::slug(APP_NAME, '_') . '_cache_'`. */
export function laravelCachePrefix(appName: string): string {
  const slug = appName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_\s-]/g, '')
    .replace(/[\s_-]+/g, '_')
    .replace(/^_+|_+$/g, '')
  return `${slug}_cache_`
}

/**
 * Reads `.env` from the working directory (real environment variables win), as Laravel's dotenv does.
 * A malformed file is a configuration error, not a crash.
 */
export function readEnvironment(cwd: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const file = path.join(cwd, '.env')
  if (!existsSync(file)) return env
  let parsed: Record<string, string>
  try {
    parsed = parseEnv(readFileSync(file, 'utf8')) as Record<string, string>
  } catch (error) {
    throw new UsageError('CONFIG_INVALID', `cannot read ${file}: ${(error as Error).message}`)
  }
  return {...parsed, ...env}
}

/** Hides the password of a connection URL; secrets are never printed. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, '$1***@')
}

/** Accepts `sqlite:<path>`, `sqlite://<path>`, a plain file path, or `postgres://` / `postgresql://`. */
export function parseDatabaseUrl(raw: string, cwd: string, source = 'DATABASE_URL'): DatabaseTarget {
  const value = raw.trim()
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase()
  if (scheme === 'postgres' || scheme === 'postgresql') {
    const params = pgParameters(value, source)
    // pg falls back on the user name as the database; a URL that names none is more likely a mistake.
    if (!params.named) {
      throw new UsageError('CONFIG_INVALID', `${source}='${redactUrl(value)}' names no database: expected postgres://user@host:port/database`)
    }
    if (!Number.isInteger(params.port) || params.port < 1 || params.port > 65535) {
      throw new UsageError('CONFIG_INVALID', `${source}='${redactUrl(value)}' has an invalid port: expected 1-65535`)
    }
    return {
      client: 'pg',
      connectionString: value,
      host: params.host,
      port: params.port,
      database: params.database,
      user: params.user,
      display: redactUrl(value),
      source,
    }
  }
  if (scheme === 'sqlite' || scheme === 'file') {
    let rest = value.slice(scheme.length + 1)
    if (rest.startsWith('//')) rest = rest.slice(2)
    if (!rest) throw new UsageError('CONFIG_INVALID', `${source}='${value}' names no file: expected sqlite:<path>`)
    const filename = path.resolve(cwd, rest)
    return {client: 'sqlite', filename, display: `sqlite:${filename}`, source}
  }
  // A one-letter "scheme" is a Windows drive; anything else with a scheme is a database we do not speak.
  if (scheme && scheme.length > 1) {
    throw new UsageError('CONFIG_INVALID', `${source}='${redactUrl(value)}' is not supported: expected sqlite:<path>, a file path, or postgres://…`)
  }
  const filename = path.resolve(cwd, value)
  return {client: 'sqlite', filename, display: `sqlite:${filename}`, source}
}

interface PgParameters {
  host: string
  port: number
  database: string
  user: string
  /** The URL or PGDATABASE names the database (pg would otherwise use the user name). */
  named: boolean
}

const requirePg = createRequire(import.meta.url)

/**
 * The host, port, database and user the pg driver will really use for this URL: pg's own
 * ConnectionParameters, so `?host=` (which wins over the URL's authority), `?port=`, a socket folder and
 * the PGHOST / PGPORT / PGUSER / PGDATABASE variables count exactly as they do when it connects. Safety
 * checks (`db fresh` on a remote host) and error messages must name that host, not the URL's authority.
 */
export function pgParameters(connectionString: string, source = 'DATABASE_URL'): PgParameters {
  const requireFromPg = createRequire(requirePg.resolve('pg'))
  const connectionStrings = requireFromPg('pg-connection-string') as {parse: (url: string) => {database?: string | null}}
  const ConnectionParameters = requirePg('pg/lib/connection-parameters.js') as new (config: {connectionString: string}) => {
    host: string
    port: number
    database: string | undefined
    user: string
  }
  let params
  let named
  try {
    named = Boolean(connectionStrings.parse(connectionString).database) || Boolean(process.env.PGDATABASE)
    params = new ConnectionParameters({connectionString})
  } catch {
    throw new UsageError(
      'CONFIG_INVALID',
      `${source}='${redactUrl(connectionString)}' is not a valid URL: expected postgres://user:password@host:port/database`,
    )
  }
  return {host: String(params.host), port: Number(params.port), database: String(params.database ?? ''), user: params.user ? String(params.user) : '', named}
}

function describeIssue(issue: z.core.$ZodIssue, env: NodeJS.ProcessEnv): string {
  const name = String(issue.path[0] ?? 'environment')
  const value = env[name]
  if (name === 'LAUNDRY_OPS_ENV') {
    return `LAUNDRY_OPS_ENV='${value}' is invalid: expected one of ${ENVIRONMENTS.join(', ')}`
  }
  const shown = name === 'DATABASE_URL' && value ? redactUrl(value) : value
  return `${name}='${shown ?? ''}' is invalid: ${issue.message}`
}

/** Variables whose empty value would silently pick a default that changes what a command touches. */
const BLANK_REFUSED = ['DATABASE_URL', 'LAUNDRY_OPS_ENV', 'LAUNDRY_OPS_STORAGE', 'DB_QUEUE_RETRY_AFTER', 'LAUNDRY_OPS_PROGRESS_INTERVAL_MS'] as const

export interface LoadConfigOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  databaseUrl?: string
}

/** Loads and validates the configuration (SPEC §2). Throws a UsageError (exit 2) naming the variable. */
export function loadConfig(options: LoadConfigOptions = {}): AppConfig {
  const cwd = options.cwd ?? process.cwd()
  const env = readEnvironment(cwd, options.env ?? process.env)
  // Set but blank is refused, as a blank flag is: `LAUNDRY_OPS_ENV=$ENV` with ENV unset must not mean
  // `local` (demo data, db fresh allowed), nor `DATABASE_URL=$URL` the default SQLite file.
  for (const name of BLANK_REFUSED) {
    const value = env[name]
    if (value !== undefined && value.trim() === '') {
      throw new UsageError('CONFIG_INVALID', `${name} is set but empty: give it a value, or unset it to use the default`)
    }
  }
  const result = EnvSchema.safeParse({
    DATABASE_URL: env.DATABASE_URL,
    LAUNDRY_OPS_ENV: env.LAUNDRY_OPS_ENV,
    LAUNDRY_OPS_STORAGE: env.LAUNDRY_OPS_STORAGE,
    APP_NAME: env.APP_NAME === '' ? undefined : env.APP_NAME,
    CACHE_PREFIX: env.CACHE_PREFIX,
    DB_QUEUE_RETRY_AFTER: env.DB_QUEUE_RETRY_AFTER,
    LAUNDRY_OPS_PROGRESS_INTERVAL_MS: env.LAUNDRY_OPS_PROGRESS_INTERVAL_MS,
  })
  if (!result.success) {
    throw new UsageError('CONFIG_INVALID', describeIssue(result.error.issues[0], env))
  }
  const parsed = result.data
  const storage = path.resolve(cwd, parsed.LAUNDRY_OPS_STORAGE)
  let database: DatabaseTarget
  let databaseSource: AppConfig['databaseSource']
  if (options.databaseUrl !== undefined) {
    if (options.databaseUrl.trim() === '') throw new UsageError('CONFIG_INVALID', '--database-url must not be empty')
    database = parseDatabaseUrl(options.databaseUrl, cwd, '--database-url')
    databaseSource = '--database-url'
  } else if (parsed.DATABASE_URL) {
    database = parseDatabaseUrl(parsed.DATABASE_URL, cwd)
    databaseSource = 'DATABASE_URL'
  } else {
    const filename = path.join(storage, 'database.sqlite')
    database = {client: 'sqlite', filename, display: `sqlite:${filename}`, source: 'the default under LAUNDRY_OPS_STORAGE'}
    databaseSource = 'default'
  }
  return {
    env: parsed.LAUNDRY_OPS_ENV,
    storage,
    database,
    databaseSource,
    appName: parsed.APP_NAME,
    cachePrefix: parsed.CACHE_PREFIX ?? laravelCachePrefix(parsed.APP_NAME),
    queueRetryAfter: parsed.DB_QUEUE_RETRY_AFTER,
    progressIntervalMs: parsed.LAUNDRY_OPS_PROGRESS_INTERVAL_MS,
  }
}

/**
 * True when the PostgreSQL server is on this machine: a Unix socket folder, `localhost`, or a loopback
 * address (127.0.0.0/8, ::1). `target.host` is the host the driver connects to (pgParameters).
 */
export function isLocalDatabase(target: DatabaseTarget): boolean {
  if (target.client === 'sqlite') return true
  const host = target.host.replace(/^\[|\]$/g, '').toLowerCase()
  return host === 'localhost' || /^127(\.\d{1,3}){3}$/.test(host) || host === '::1' || host === '0:0:0:0:0:0:0:1' || host.startsWith('/')
}
