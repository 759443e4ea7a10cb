import {accessSync, closeSync, constants, openSync, statSync, unlinkSync} from 'node:fs'
import path from 'node:path'

import {type AppConfig, type DatabaseTarget, loadConfig, readEnvironment} from '../config.js'
import {type Database, openDatabase} from '../db/connection.js'
import {EXPECTED_TABLES, findSchemaGaps} from '../db/expected-schema.js'
import type {WaProviderRow} from '../db/rows.js'
import {migrationStatus} from '../db/migrator.js'
import {SchemaBuilder} from '../db/schema/schema-builder.js'
import {BASELINE, type CommandLineCheck, loadCheckedSchedule, type LoadedSchedule} from '../scheduler/schedule.js'
import {STORAGE_FOLDERS} from '../storage/layout.js'
import {type Check, summarise, type Summary} from './report.js'

export interface ReadinessOptions {
  cwd?: string
  /** The process environment (the `.env` of `cwd` is read on top, as for every command). */
  env?: NodeJS.ProcessEnv
  /** `--database-url`. */
  databaseUrl?: string
  strict: boolean
  /** The report's time (tests pin it). */
  now?: Date
  /** Checks a schedule task's command line as the command would (the command layer's; see CommandLineCheck). */
  checkCommand: CommandLineCheck
  /** A readiness gate must answer quickly when the database does not (ms). */
  connectTimeoutMs?: number
}

export interface ReadinessReport {
  generated_at: string
  checks: Check[]
  summary: Summary
  strict: boolean
}

/** Timeout for connecting to PostgreSQL: short, so that a gate on a dead server fails fast. */
export const READINESS_CONNECT_TIMEOUT_MS = 3000

const oneLine = (error: unknown) =>
  String((error as Error)?.message ?? error)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(': ')

/** Laravel's connection names, as upstream prints them: `(sqlite)`, `(pgsql)`. */
const connectionName = (target: DatabaseTarget) => (target.client === 'pg' ? 'pgsql' : 'sqlite')

/**
 * `is_writable` and a real write: access(2) ignores permission bits for root and says yes on filesystems
 * that refuse every write (sysfs, a read-only bind mount as seen from some kernels, an immutable folder),
 * so a probe file is created (exclusively) and removed as well.
 */
function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK)
    const probe = path.join(dir, `.laundry-ops-readiness-${process.pid}-${Date.now().toString(36)}`)
    closeSync(openSync(probe, 'wx'))
    unlinkSync(probe)
    return true
  } catch {
    return false
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory()
  } catch {
    return false
  }
}

/**
 * ops:readiness:check (reference/upstream-ops.md §1.4, SPEC §4.5): upstream's checks in upstream's order,
 * with `config.valid` in place of `app.key.configured` and without `filesystem.bootstrap/cache`. Nothing
 * here throws: an invalid configuration, an invalid schedule file or an unreachable database become
 * failed checks, and the checks that depend on them fail as "not checked".
 */
export async function readinessCheck(options: ReadinessOptions): Promise<ReadinessReport> {
  const cwd = options.cwd ?? process.cwd()
  const env = options.env ?? process.env
  const checks: Check[] = []
  const add = (key: string, status: Check['status'], message: string) => checks.push({key, status, message})

  // 1. config.valid: the configuration (SPEC §2) and the schedule file (SPEC §6).
  let config: AppConfig | undefined
  let schedule: LoadedSchedule | undefined
  const problems: string[] = []
  try {
    config = loadConfig({cwd, env, databaseUrl: options.databaseUrl})
  } catch (error) {
    problems.push(`Configuration is invalid: ${oneLine(error)}`)
  }
  try {
    schedule = await loadCheckedSchedule({cwd, env, checkCommand: options.checkCommand})
  } catch (error) {
    problems.push(`Schedule is invalid: ${oneLine(error)}`)
  }
  if (problems.length > 0) {
    add('config.valid', 'fail', problems.join('; '))
  } else {
    add('config.valid', 'pass', `Configuration is valid (env=${config!.env}, schedule: ${schedule!.file ?? 'baseline'}).`)
  }

  // 2. database.connection
  let db: Database | undefined
  if (!config) {
    add('database.connection', 'fail', 'Database connection failed: the configuration is invalid (see config.valid).')
  } else {
    try {
      // Read-only: the gate changes nothing, not even the journal mode of an SQLite file.
      db = await openDatabase(config.database, {connectTimeoutMs: options.connectTimeoutMs ?? READINESS_CONNECT_TIMEOUT_MS, poolMax: 1, readOnly: true})
      add('database.connection', 'pass', `Database connection is healthy (${connectionName(config.database)}).`)
    } catch (error) {
      add('database.connection', 'fail', `Database connection failed: ${oneLine(error)}`)
    }
  }

  try {
    const schema = db ? new SchemaBuilder(db.knex, db.dialect) : undefined
    /** A database check: "not checked" without a connection, and an unexpected error fails it, not the run. */
    const dbCheck = async (key: string, work: (db: Database, schema: SchemaBuilder) => Promise<void>) => {
      if (!db || !schema) {
        add(key, 'fail', 'Not checked: no database connection.')
        return
      }
      try {
        await work(db, schema)
      } catch (error) {
        add(key, 'fail', `Check failed: ${oneLine(error)}`)
      }
    }

    // 3. database.migrations.pending: our migration names are upstream's, and the ledger is Laravel's.
    await dbCheck('database.migrations.pending', async (conn) => {
      const status = await migrationStatus(conn)
      if (!status.ledger) {
        add('database.migrations.pending', 'fail', 'Migrations table is missing.')
        return
      }
      const pending = [...status.pending].sort()
      if (pending.length === 0) add('database.migrations.pending', 'pass', 'No pending migrations.')
      else add('database.migrations.pending', 'fail', `Pending migrations: ${pending.slice(0, 3).join(', ')}${pending.length > 3 ? ' ...' : ''}`)
    })

    // Migrations the Laravel application ran that we do not know: its schema has moved past ours.
    await dbCheck('database.migrations.unknown', async (conn) => {
      const unknown = (await migrationStatus(conn)).unknown.map((u) => u.name)
      if (unknown.length === 0) add('database.migrations.unknown', 'pass', 'Every migration in the ledger is known to laundry-ops.')
      else {
        add(
          'database.migrations.unknown',
          'warn',
          `The ledger holds ${unknown.length} migration(s) laundry-ops does not know: ${unknown.slice(0, 3).join(', ')}${unknown.length > 3 ? ' ...' : ''}`,
        )
      }
    })

    // The schema itself: the ledger can say "nothing pending" while a table or column is gone.
    await dbCheck('database.schema', async (conn) => {
      const gaps = await findSchemaGaps(conn)
      const missing = [...gaps.missingTables.map((t) => `table ${t}`), ...gaps.missingColumns.map((c) => `column ${c}`)]
      if (missing.length === 0)
        add('database.schema', 'pass', `Every table and column of the laundry schema exists (${Object.keys(EXPECTED_TABLES).length} tables).`)
      else
        add(
          'database.schema',
          'fail',
          `Missing ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}: run \`laundry-ops db migrate\`.`,
        )
    })

    // 4. queue.connection.mode: laundry-ops always uses Laravel's database queue. QUEUE_CONNECTION (the
    // Laravel application's setting, in the same .env) set to anything else means the application pushes
    // its jobs where `queue work` does not look: a warning, as upstream's `sync` one.
    let queueConnection: string | undefined
    try {
      queueConnection = readEnvironment(cwd, env).QUEUE_CONNECTION?.trim()
    } catch {
      queueConnection = env.QUEUE_CONNECTION?.trim()
    }
    if (!queueConnection || queueConnection === 'database') {
      add('queue.connection.mode', 'pass', "QUEUE_CONNECTION uses 'database'.")
    } else if (queueConnection === 'sync') {
      add('queue.connection.mode', 'warn', 'QUEUE_CONNECTION is sync. Use async worker backend for staging/production.')
    } else {
      add(
        'queue.connection.mode',
        'warn',
        `QUEUE_CONNECTION is '${queueConnection}', but laundry-ops serves only the 'database' queue: jobs pushed to '${queueConnection}' are not worked by \`queue work\`.`,
      )
    }

    // 5-6. the queue tables (always: our queue is the database queue).
    await dbCheck('queue.database.jobs_table', async (_conn, s) => {
      if (await s.hasTable('jobs')) add('queue.database.jobs_table', 'pass', 'jobs table exists.')
      else add('queue.database.jobs_table', 'fail', 'jobs table is missing.')
    })
    await dbCheck('queue.failed_jobs.table', async (_conn, s) => {
      if (await s.hasTable('failed_jobs')) add('queue.failed_jobs.table', 'pass', 'failed_jobs table exists.')
      else add('queue.failed_jobs.table', 'warn', 'failed_jobs table missing; failure diagnostics may be limited.')
    })

    // 7-11. the baseline entries must be in the effective schedule, enabled (substring match, as upstream).
    for (const entry of BASELINE) {
      const key = `scheduler.command.${entry.command}`
      if (!schedule) {
        add(key, 'fail', 'Not checked: the schedule is invalid (see config.valid).')
      } else if (schedule.tasks.some((t) => t.enabled && t.command.includes(entry.command))) {
        add(key, 'pass', `Scheduled: ${entry.command}`)
      } else {
        add(key, 'fail', `Missing schedule entry: ${entry.command}`)
      }
    }

    // 12. the scheduler's own tables (not an upstream check: its schedule ran without a shared lock).
    await dbCheck('scheduler.lock_tables', async (_conn, s) => {
      const missing = []
      for (const table of ['cache', 'cache_locks']) if (!(await s.hasTable(table))) missing.push(table)
      if (missing.length === 0) add('scheduler.lock_tables', 'pass', 'cache and cache_locks tables exist.')
      else
        add(
          'scheduler.lock_tables',
          'fail',
          `${missing.join(' and ')} table${missing.length > 1 ? 's are' : ' is'} missing: \`schedule run\` cannot record its slots and leases.`,
        )
    })

    // 13-14. storage/app and storage/logs under the configured storage folder.
    for (const name of STORAGE_FOLDERS) {
      const key = `filesystem.storage/${name}`
      if (!config) {
        add(key, 'fail', 'Not checked: the configuration is invalid (see config.valid).')
        continue
      }
      const dir = path.join(config.storage, name)
      if (!isDirectory(dir)) add(key, 'fail', `Directory missing: ${dir}`)
      else if (writable(dir)) add(key, 'pass', `Writable: ${dir}`)
      else add(key, 'fail', `Not writable: ${dir}`)
    }

    // 15. wa.provider.mock_seed
    await dbCheck('wa.provider.mock_seed', async (conn, s) => {
      if (!(await s.hasTable('wa_providers'))) {
        add('wa.provider.mock_seed', 'fail', 'wa_providers table is missing.')
        return
      }
      const row = await conn.knex<WaProviderRow>('wa_providers').where({key: 'mock'}).first('id')
      if (row) add('wa.provider.mock_seed', 'pass', 'Mock WA provider baseline exists.')
      else add('wa.provider.mock_seed', 'warn', 'Mock WA provider baseline not found.')
    })
  } finally {
    await db?.close().catch(() => {})
  }

  return {generated_at: `${(options.now ?? new Date()).toISOString().slice(0, 19)}+00:00`, checks, summary: summarise(checks), strict: options.strict === true}
}
