import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {parseEnv} from 'node:util'
import {z} from 'zod'

import {UsageError} from './errors.js'

export const ENVIRONMENTS = ['local', 'testing', 'staging', 'production'] as const
export type AppEnvironment = (typeof ENVIRONMENTS)[number]

export type DatabaseTarget =
  | {client: 'sqlite'; filename: string; display: string}
  | {
      client: 'pg'
      connectionString: string
      host: string
      port: number
      database: string
      user: string
      display: string
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
}

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
    .min(1, 'must be at least 1 second')
    .default(90),
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
    let url: URL
    try {
      url = new URL(value)
    } catch {
      throw new UsageError('CONFIG_INVALID', `${source}='${redactUrl(value)}' is not a valid URL: expected postgres://user:password@host:port/database`)
    }
    const database = decodeURIComponent(url.pathname.replace(/^\//, ''))
    if (!database) {
      throw new UsageError('CONFIG_INVALID', `${source}='${redactUrl(value)}' names no database: expected postgres://user@host:port/database`)
    }
    return {
      client: 'pg',
      connectionString: value,
      host: url.hostname || 'localhost',
      port: url.port ? Number(url.port) : 5432,
      database,
      user: decodeURIComponent(url.username) || process.env.PGUSER || 'postgres',
      display: redactUrl(value),
    }
  }
  if (scheme === 'sqlite' || scheme === 'file') {
    let rest = value.slice(scheme.length + 1)
    if (rest.startsWith('//')) rest = rest.slice(2)
    if (!rest) throw new UsageError('CONFIG_INVALID', `${source}='${value}' names no file: expected sqlite:<path>`)
    const filename = path.resolve(cwd, rest)
    return {client: 'sqlite', filename, display: `sqlite:${filename}`}
  }
  // A one-letter "scheme" is a Windows drive; anything else with a scheme is a database we do not speak.
  if (scheme && scheme.length > 1) {
    throw new UsageError('CONFIG_INVALID', `${source}='${redactUrl(value)}' is not supported: expected sqlite:<path>, a file path, or postgres://…`)
  }
  const filename = path.resolve(cwd, value)
  return {client: 'sqlite', filename, display: `sqlite:${filename}`}
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

export interface LoadConfigOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  databaseUrl?: string
}

/** Loads and validates the configuration (SPEC §2). Throws a UsageError (exit 2) naming the variable. */
export function loadConfig(options: LoadConfigOptions = {}): AppConfig {
  const cwd = options.cwd ?? process.cwd()
  const env = readEnvironment(cwd, options.env ?? process.env)
  const result = EnvSchema.safeParse({
    DATABASE_URL: env.DATABASE_URL === '' ? undefined : env.DATABASE_URL,
    LAUNDRY_OPS_ENV: env.LAUNDRY_OPS_ENV === '' ? undefined : env.LAUNDRY_OPS_ENV,
    LAUNDRY_OPS_STORAGE: env.LAUNDRY_OPS_STORAGE === '' ? undefined : env.LAUNDRY_OPS_STORAGE,
    APP_NAME: env.APP_NAME === '' ? undefined : env.APP_NAME,
    CACHE_PREFIX: env.CACHE_PREFIX,
    DB_QUEUE_RETRY_AFTER: env.DB_QUEUE_RETRY_AFTER === '' ? undefined : env.DB_QUEUE_RETRY_AFTER,
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
    database = {client: 'sqlite', filename, display: `sqlite:${filename}`}
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
  }
}

/** True when the PostgreSQL server is on this machine (or a Unix socket). */
export function isLocalDatabase(target: DatabaseTarget): boolean {
  if (target.client === 'sqlite') return true
  const host = target.host.replace(/^\[|\]$/g, '')
  return host === 'localhost' || host === '127.0.0.1' || host === '::1' || host.startsWith('/')
}
