import {existsSync} from 'node:fs'

import {systemClock} from '../clock.js'
import type {AppConfig} from '../config.js'
import type {Database} from '../db/connection.js'
import {requireTables} from '../db/faults.js'
import {migrate} from '../db/migrator.js'
import {MIGRATIONS} from '../db/migrations/index.js'
import {OBSERVE_DEFAULTS} from '../gates/observe-defaults.js'
import {observeHealth} from '../gates/observe-health.js'
import {readinessCheck} from '../gates/readiness.js'
import {type Check, gateFailed, type Summary} from '../gates/report.js'
import {signalQueueRestart, RESTART_KEY} from '../queue/restart-signal.js'
import type {CommandLineCheck} from '../scheduler/schedule.js'
import {ensureStorageFolders} from '../storage/layout.js'
import type {ReleaseStep} from './checklist.js'

export interface ReleaseInput {
  config: AppConfig
  /** `--database-url`, for the readiness gate (which loads the configuration itself, as its command does). */
  databaseUrl?: string
  /** `--migrate`: run `db migrate` first; otherwise that step is skipped. */
  migrate: boolean
  /** `--base-url`: the UAT pack against this deployment; otherwise on an isolated database, as `uat run`. */
  baseUrl?: string
  /** Checks a schedule task's command line as its command would (readiness's `config.valid`). */
  checkCommand: CommandLineCheck
  /**
   * The configured database, opened once and closed by the caller. `create`: a missing SQLite file may be
   * created (only for `--migrate`, as `db migrate`).
   */
  open: (options: {create: boolean}) => Promise<Database>
  signal?: AbortSignal
  /** Whether progress is shown as plain lines (no terminal): request-by-request detail is left out. */
  plain: boolean
}

/** A gate's summary and the checks that fail it under --strict, on one line. */
function gateDetail(checks: Check[], summary: Summary): string {
  const failing = checks.filter((c) => c.status !== 'pass').map((c) => `${c.key} ${c.status}: ${c.message}`)
  return `pass=${summary.pass}, warn=${summary.warn}, fail=${summary.fail}, strict=yes${failing.length > 0 ? `; ${failing.join('; ')}` : ''}`
}

/** The five steps of the runbook's release checklist (upstream-ops §8.2), as laundry-ops commands. */
export function releaseSteps(input: ReleaseInput): ReleaseStep[] {
  const {config} = input
  return [
    {
      name: 'migrate',
      command: config.env === 'production' ? 'db migrate --force' : 'db migrate',
      skip: input.migrate ? undefined : '--migrate not given (a pending migration fails the readiness step)',
      plan: 'apply the pending migrations in one transaction',
      async run(progress) {
        progress(`migrating ${config.database.display}`)
        const db = await input.open({create: true})
        const result = await migrate(db)
        // As `db migrate`: the storage folders readiness requires.
        const {error} = ensureStorageFolders(config.storage)
        const note = error ? `; note: ${error}` : ''
        if (result.migrated.length === 0) return {ok: true, detail: `nothing to migrate: ${result.database} is up to date${note}`}
        return {ok: true, detail: `migrated ${result.migrated.length} migration(s) (batch ${result.batch}): ${result.migrated.join(', ')}${note}`}
      },
    },
    {
      name: 'readiness',
      command: 'readiness check --strict',
      plan: 'the readiness gate; a warning fails it',
      async run(progress) {
        progress('configuration, database, migrations, queue tables, schedule, storage, WA provider')
        const report = await readinessCheck({databaseUrl: input.databaseUrl, strict: true, checkCommand: input.checkCommand})
        return {ok: !gateFailed(report.summary, true), detail: gateDetail(report.checks, report.summary)}
      },
    },
    {
      name: 'observe',
      command: 'observe health --strict',
      plan: `the health gate with upstream's thresholds (lookback ${OBSERVE_DEFAULTS.lookbackMinutes} min); a warning fails it`,
      async run(progress) {
        progress('failed jobs, queue backlogs, WA failure ratio, quota saturation')
        const db = await input.open({create: false})
        const report = await observeHealth(db, {...OBSERVE_DEFAULTS, strict: true, clock: systemClock})
        return {ok: !gateFailed(report.summary, true), detail: gateDetail(report.checks, report.summary)}
      },
    },
    {
      name: 'uat',
      command: input.baseUrl ? `uat run --base-url ${input.baseUrl}` : 'uat run',
      plan: input.baseUrl
        ? `the ten UAT scenarios against ${input.baseUrl} (its demo accounts)`
        : `the ten UAT scenarios on an isolated ${config.database.client === 'pg' ? 'PostgreSQL' : 'SQLite'} database, removed afterwards`,
      async run(progress) {
        const [{runUatPack}, {accountsFromEnvironment}, {UAT_SCENARIOS}] = await Promise.all([
          import('../uat/pack.js'),
          import('../uat/command.js'),
          import('../uat/scenarios/index.js'),
        ])
        const result = await runUatPack({
          config,
          scenarios: UAT_SCENARIOS,
          accounts: accountsFromEnvironment(),
          baseUrl: input.baseUrl,
          signal: input.signal,
          note: progress,
          drive: async (scenarios, runOne) => {
            const outcomes = []
            for (const scenario of scenarios) {
              progress(`${scenario.id} ${scenario.notes}`)
              outcomes.push(
                await runOne(scenario, (text) => {
                  // Plain lines carry the steps only; a live display also shows each request.
                  if (input.plain && /^[A-Z]+ \//.test(text)) return
                  progress(`${scenario.id}: ${text}`)
                }),
              )
            }
            return outcomes
          },
        })
        const count = (status: string) => result.outcomes.filter((o) => o.status === status).length
        const where = result.target.kind === 'deployment' ? result.target.base_url : `isolated ${result.target.engine} database`
        const failures = result.outcomes.filter((o) => o.status === 'Fail').map((o) => `${o.id} failed: ${o.evidence}`)
        // Scenarios that Ctrl-C kept from starting are counted, not listed one by one.
        const notStarted = result.outcomes.filter((o) => o.status === 'Blocked' && o.requests.length === 0 && result.interrupted).length
        const blocked = result.outcomes
          .filter((o) => o.status === 'Blocked' && !(o.requests.length === 0 && result.interrupted))
          .map((o) => `${o.id} blocked: ${o.evidence}`)
          .concat(notStarted > 0 ? [`${notStarted} scenario(s) not started (interrupted)`] : [])
        const detail = [
          `${result.outcomes.length} scenarios on ${where}: pass=${count('Pass')}, fail=${count('Fail')}, blocked=${count('Blocked')}${result.interrupted ? ', interrupted' : ''}`,
          ...failures,
          ...blocked,
        ].join('; ')
        // As `uat run`: a failed scenario or an interrupted run fails; a Blocked one (a precondition of the
        // target, e.g. a plan without WhatsApp) is reported, not failed.
        return {ok: count('Fail') === 0 && !result.interrupted, detail}
      },
    },
    {
      name: 'queue-restart',
      command: 'queue restart',
      plan: 'tell every queue worker to exit after its current job (the process manager starts the new code)',
      async run(progress) {
        progress('storing the restart signal')
        const db = await input.open({create: false})
        await requireTables(db, ['cache'])
        const restartAt = await signalQueueRestart(db.knex, config.cachePrefix, new Date())
        return {ok: true, detail: `Broadcasting queue restart signal: ${config.cachePrefix}${RESTART_KEY} = ${restartAt}`}
      },
    },
  ]
}

/**
 * --dry-run of the migrate step: the migrations `db migrate` would apply (the database opened read-only by
 * the caller; a missing SQLite file would get every migration, as `db migrate --dry-run` says).
 */
export async function pendingMigrationsPlan(config: AppConfig, open: () => Promise<Database>): Promise<string> {
  const names =
    config.database.client === 'sqlite' && !existsSync(config.database.filename)
      ? MIGRATIONS.map((m) => m.name)
      : (await migrate(await open(), {dryRun: true})).migrated
  return names.length === 0 ? 'nothing to migrate: no migration is pending' : `would apply ${names.length} migration(s): ${names.join(', ')}`
}
