import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import path from 'node:path'
import {promisify} from 'node:util'

import type {DatabaseTarget} from '../config.js'
import {UsageError} from '../errors.js'

const run = promisify(execFile)

type PgTarget = Extract<DatabaseTarget, {client: 'pg'}>

/** Where pg_dump / pg_restore are looked for: LAUNDRY_OPS_PG_BIN (a folder) when set, else PATH. */
export function findPgTool(tool: 'pg_dump' | 'pg_restore', env: NodeJS.ProcessEnv = process.env, serverMajor?: number): string {
  const pinned = env.LAUNDRY_OPS_PG_BIN?.trim()
  if (pinned) {
    // A folder the operator named is the only place looked at: a typo must not fall back to another version on PATH.
    const candidate = path.join(pinned, tool)
    if (existsSync(candidate)) return candidate
    throw new UsageError(
      'BACKUP_TOOL_MISSING',
      `LAUNDRY_OPS_PG_BIN=${pinned} holds no ${tool}: name the folder of the PostgreSQL client (e.g. /usr/lib/postgresql/${serverMajor ?? 15}/bin)`,
    )
  }
  const folders = (env.PATH ?? '').split(path.delimiter).filter((f) => Boolean(f))
  for (const folder of folders) {
    const candidate = path.join(folder, tool)
    if (existsSync(candidate)) return candidate
  }
  throw new UsageError(
    'BACKUP_TOOL_MISSING',
    `${tool} is not on PATH: install the PostgreSQL client of the server's version (Debian: apt install postgresql-client${serverMajor ? `-${serverMajor}` : ''}) or set LAUNDRY_OPS_PG_BIN to the folder that holds it`,
  )
}

/** The major version `pg_dump --version` prints (`pg_dump (PostgreSQL) 15.20 …` → 15). */
export async function pgToolMajor(binary: string): Promise<number> {
  const {stdout} = await run(binary, ['--version'], {timeout: 30_000})
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(stdout)
  if (!match) throw new UsageError('BACKUP_TOOL_MISSING', `${binary} --version printed '${stdout.trim().slice(0, 100)}': not a PostgreSQL client tool`)
  const major = Number(match[1])
  // Before 10 the major version had two parts (9.6).
  return major < 10 ? Number(`${major}.${match[2] ?? 0}`) : major
}

/** A client older than the server cannot dump it (pg_dump refuses: "server version mismatch"). */
export async function checkPgTool(tool: 'pg_dump' | 'pg_restore', serverMajor: number, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const binary = findPgTool(tool, env, serverMajor)
  const major = await pgToolMajor(binary)
  if (major < serverMajor) {
    const what = tool === 'pg_restore' ? `the server the backup was made on (${serverMajor})` : `the server (${serverMajor})`
    throw new UsageError(
      'BACKUP_TOOL_MISSING',
      `${binary} is PostgreSQL ${major}, older than ${what}: install the client of the server's version (Debian: apt install postgresql-client-${serverMajor}) or set LAUNDRY_OPS_PG_BIN to its folder (e.g. /usr/lib/postgresql/${serverMajor}/bin)`,
    )
  }
  return binary
}

/**
 * The environment pg_dump / pg_restore connect with: host, port, user and database as the driver
 * resolves them, the password in PGPASSWORD (never on the command line, where `ps` shows it), and the
 * URL's sslmode when it has one.
 */
export function pgToolEnvironment(target: PgTarget, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {...env, PGHOST: target.host, PGPORT: String(target.port), PGDATABASE: target.database, PGAPPNAME: 'laundry-ops'}
  if (target.user) out.PGUSER = target.user
  try {
    const url = new URL(target.connectionString)
    if (url.password) out.PGPASSWORD = decodeURIComponent(url.password)
    const sslmode = url.searchParams.get('sslmode')
    if (sslmode) out.PGSSLMODE = sslmode
  } catch {
    // pgParameters already refused a URL that does not parse.
  }
  return out
}
