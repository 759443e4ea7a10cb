import {randomInt} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {systemClock} from '../clock.js'
import {type AppConfig, parseDatabaseUrl} from '../config.js'
import {type Database, openDatabase} from '../db/connection.js'
import {OpsError} from '../errors.js'
import type {UatScenarioInfo} from './catalog.js'
import {runScenarios, type UatOutcome, type UatRunOptions} from './runner.js'
import type {UatAccount, UatContext, UatRole, UatScenario} from './scenario.js'

/** Where the pack ran: an isolated database of its own, or a deployment's base URL. */
export type UatTarget = {kind: 'isolated'; engine: 'sqlite' | 'pg'; database: string; base_url: string} | {kind: 'deployment'; base_url: string}

export interface UatPackOptions {
  config: AppConfig
  scenarios: readonly UatScenario[]
  accounts: Record<UatRole, UatAccount>
  /** A deployment to run against; absent: an isolated database with an in-process server and worker. */
  baseUrl?: string
  /** Ctrl-C: the scenario in hand ends at its next request, the rest are not run; cleanup still runs. */
  signal?: AbortSignal
  /** Lines for the person running it ("Using isolated test database: …"). */
  note?: (line: string) => void
  onProgress?: UatRunOptions['onProgress']
  /** Per request (ms). */
  timeoutMs?: number
  /**
   * Runs the scenarios (a progress display drives them one by one); `runOne` runs one, telling `step`
   * what it is doing. Default: one after the other.
   */
  drive?: (scenarios: readonly UatScenario[], runOne: (scenario: UatScenario, step?: (text: string) => void) => Promise<UatOutcome>) => Promise<UatOutcome[]>
}

export interface UatPackResult {
  target: UatTarget
  outcomes: UatOutcome[]
  /** Ctrl-C came during the run. */
  interrupted: boolean
}

/** `laundry_ops_uat_<YYYYMMDDHHmmss>_<4 digits>`, as upstream names its isolated MySQL database. */
export function isolatedDatabaseName(now: Date): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14)
  return `laundry_ops_uat_${stamp}_${String(randomInt(10_000)).padStart(4, '0')}`
}

/** A fresh database for the pack: a temporary SQLite file, or a new database on the configured PostgreSQL server. */
interface Isolated {
  db: Database
  name: string
  drop(): Promise<void>
}

async function createIsolated(config: AppConfig, note: (line: string) => void): Promise<Isolated> {
  if (config.database.client === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'laundry-ops-uat-'))
    const file = path.join(dir, 'uat.sqlite')
    try {
      const db = await openDatabase(parseDatabaseUrl(`sqlite:${file}`, dir, 'the UAT pack'), {create: true})
      return {
        db,
        name: file,
        async drop() {
          await db.close().catch(() => {})
          rmSync(dir, {recursive: true, force: true})
        },
      }
    } catch (error) {
      rmSync(dir, {recursive: true, force: true})
      throw error
    }
  }
  const name = isolatedDatabaseName(new Date())
  const admin = await openDatabase(config.database, {poolMax: 1})
  try {
    await admin.knex.raw(`create database "${name}"`)
  } catch (error) {
    await admin.close().catch(() => {})
    const e = error as {code?: string; message?: string}
    throw new OpsError(
      'UAT_ISOLATION_FAILED',
      `cannot create the isolated database ${name} on ${config.database.display} (${e.code ?? ''} ${String(e.message ?? error).split('\n')[0]}); the UAT pack never runs on the configured database itself: give its user CREATEDB, or run against a deployment with --base-url`,
    )
  }
  note(`Using isolated test database: ${name}`)
  const url = new URL(config.database.connectionString)
  url.pathname = `/${name}`
  const drop = async (db?: Database) => {
    await db?.close().catch(() => {})
    try {
      await admin.knex.raw(`drop database if exists "${name}" with (force)`)
      note(`Dropped isolated test database: ${name}`)
    } catch (error) {
      note(`Failed to drop isolated test database ${name}: ${String((error as Error)?.message ?? error).split('\n')[0]}`)
    } finally {
      await admin.close().catch(() => {})
    }
  }
  try {
    const db = await openDatabase(parseDatabaseUrl(url.toString(), process.cwd(), 'the UAT pack'), {create: true, poolMax: 10})
    return {db, name, drop: () => drop(db)}
  } catch (error) {
    await drop()
    throw error
  }
}

/**
 * The isolated target: migrated, seeded with the demo tenant (the `local` seed), the demo tenant on the
 * premium plan (UAT-09's WhatsApp, as upstream's test fixture), an in-process server on 127.0.0.1 and the
 * queue worker that UAT-09 runs until the messaging queue is empty. Everything is removed afterwards,
 * whatever happened.
 */
async function withIsolatedTarget<T>(
  config: AppConfig,
  note: (line: string) => void,
  work: (target: UatTarget & {kind: 'isolated'}, messaging: UatContext['messaging']) => Promise<T>,
): Promise<T> {
  const isolated = await createIsolated(config, note)
  try {
    const [{migrate}, {seedDatabase}, {buildApp}, {DEFAULT_WORKER_OPTIONS, runWorker}] = await Promise.all([
      import('../db/migrator.js'),
      import('../db/seeds/index.js'),
      import('../../api/app.js'),
      import('../queue/worker.js'),
    ])
    const {db} = isolated
    await migrate(db)
    await seedDatabase(db, {env: 'local', clock: systemClock})
    const premium = await db.knex('plans').where({key: 'premium'}).first<{id: number} | undefined>('id')
    if (premium) {
      await db.knex('tenants').where({name: 'Demo Laundry'}).update({current_plan_id: premium.id})
      await db.knex('tenant_subscriptions').update({plan_id: premium.id})
    }
    const app = await buildApp({db, config, clock: systemClock})
    try {
      await app.listen({host: '127.0.0.1', port: 0})
      const address = app.server.address()
      const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
      const settle = async () => {
        await runWorker(db, {...DEFAULT_WORKER_OPTIONS, stopWhenEmpty: true, sleep: 0, timeout: 30}, {clock: systemClock})
      }
      return await work({kind: 'isolated', engine: db.dialect, database: isolated.name, base_url: baseUrl}, {expect: 'sent', settle})
    } finally {
      await app.close().catch(() => {})
    }
  } finally {
    await isolated.drop()
  }
}

/** A scenario that was not run (Ctrl-C came first): Blocked. */
function notRun(scenario: UatScenarioInfo): UatOutcome {
  return {
    id: scenario.id,
    role: scenario.role,
    notes: scenario.notes,
    status: 'Blocked',
    evidence: 'Not executed (interrupted)',
    requests: [],
    checks: [],
    ms: 0,
  }
}

/** Runs the pack against its target and returns every scenario's outcome, in the order given. */
export async function runUatPack(options: UatPackOptions): Promise<UatPackResult> {
  const note = options.note ?? (() => {})
  const run = async (baseUrl: string, messaging: UatContext['messaging']) => {
    const sessions = new Map<UatRole, string>()
    const runOne = async (scenario: UatScenario, step?: (text: string) => void): Promise<UatOutcome> => {
      if (options.signal?.aborted) return notRun(scenario)
      const [outcome] = await runScenarios([scenario], {
        baseUrl,
        accounts: options.accounts,
        sessions,
        messaging,
        timeoutMs: options.timeoutMs,
        signal: options.signal,
        onProgress: (event) => {
          options.onProgress?.(event)
          if (event.kind === 'step' || event.kind === 'request') step?.(event.text)
        },
      })
      return outcome
    }
    if (options.drive) return options.drive(options.scenarios, runOne)
    const outcomes: UatOutcome[] = []
    for (const scenario of options.scenarios) outcomes.push(await runOne(scenario))
    return outcomes
  }
  if (options.baseUrl !== undefined) {
    const target: UatTarget = {kind: 'deployment', base_url: options.baseUrl}
    return {target, outcomes: await run(options.baseUrl, {expect: 'logged'}), interrupted: options.signal?.aborted === true}
  }
  return withIsolatedTarget(options.config, note, async (target, messaging) => ({
    target,
    outcomes: await run(target.base_url, messaging),
    interrupted: options.signal?.aborted === true,
  }))
}
