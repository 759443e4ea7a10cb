import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {AppConfig} from '../config.js'
import type {Database} from '../db/connection.js'
import {OpsError} from '../errors.js'
import {junitXml} from '../gates/report.js'
import {preflightReportFile, writeFileAtomic} from '../storage/files.js'
import {UAT_CATALOG} from './catalog.js'
import {runUatPack, type UatPackOptions, type UatTarget} from './pack.js'
import {defaultReportName, dryRunRows, renderUatReport, summarise, type UatSummary} from './report.js'
import {demoAccounts, type UatOutcome} from './runner.js'
import type {UatAccount, UatRole, UatScenario} from './scenario.js'
import {UAT_SCENARIOS} from './scenarios/index.js'

export interface UatCommandInput {
  config: AppConfig
  baseUrl?: string
  seedDemo?: boolean
  scenarioIds?: string[]
  date?: string
  environment?: string
  output?: string
  dryRun?: boolean
  junit?: string
  json: boolean
  /** Opens the configured database (for --seed-demo). */
  openConfigured: () => Promise<Database>
  /** stdout (silent under --json) and stderr notes. */
  log: (line: string) => void
  note: (line: string) => void
  /** Ctrl-C; default: SIGINT and SIGTERM of this process. */
  signal?: AbortSignal
  /** The progress display that drives the scenarios (the command's, on stderr); default: none. */
  drive?: UatPackOptions['drive']
}

/** The --json document. */
export interface UatRunDocument {
  date: string
  environment: string
  build: string
  target: UatTarget | {kind: 'dry-run'}
  report: string
  junit: string | null
  summary: UatSummary
  interrupted: boolean
  scenarios: Array<{
    id: string
    role: string
    notes: string
    status: string
    evidence: string
    ms: number
    requests: Array<{method: string; path: string; status: number | null; ms: number}>
  }>
}

const ROLES: readonly UatRole[] = ['owner', 'admin', 'cashier', 'worker', 'courier']

/** The demo accounts, passwords from LAUNDRY_OPS_UAT_<ROLE>_PASSWORD or LAUNDRY_OPS_UAT_PASSWORD (default `password`). */
export function accountsFromEnvironment(env: NodeJS.ProcessEnv = process.env): Record<UatRole, UatAccount> {
  const accounts = demoAccounts(env.LAUNDRY_OPS_UAT_PASSWORD || 'password')
  for (const role of ROLES) {
    const own = env[`LAUNDRY_OPS_UAT_${role.toUpperCase()}_PASSWORD`]
    if (own) accounts[role] = {...accounts[role], password: own}
  }
  return accounts
}

/** The package version and, when run from a git checkout, its commit: the report's Build/Commit Ref. */
export function buildReference(): string {
  // The package root: the first folder above this module (src/core/uat, or dist when bundled) whose
  // package.json is laundry-ops's.
  let root = path.dirname(fileURLToPath(import.meta.url))
  let version = 'unknown'
  for (let depth = 0; depth < 6; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {name?: string; version?: string}
      if (pkg.name === 'laundry-ops') {
        version = pkg.version ?? version
        break
      }
    } catch {
      // No package.json here: one folder up.
    }
    root = path.dirname(root)
  }
  let commit = ''
  if (existsSync(path.join(root, '.git'))) {
    try {
      commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 5000,
      }).trim()
      const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 5000,
      })
      if (dirty.trim() !== '') commit += ' (modified)'
    } catch {
      commit = ''
    }
  }
  return `laundry-ops ${version}${commit ? ` git ${commit}` : ''}`
}

/** An abort signal that fires on SIGINT or SIGTERM, and a way to stop listening (a second signal exits 130 at once). */
export function interruptSignal(note: (line: string) => void, what = 'the UAT pack'): {signal: AbortSignal; dispose: () => void} {
  const controller = new AbortController()
  let count = 0
  const handler = (name: NodeJS.Signals) => {
    count++
    if (count > 1) process.exit(130)
    note(`${name}: stopping ${what}; cleaning up (a second signal exits at once)`)
    controller.abort()
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler)
      process.off('SIGTERM', handler)
    },
  }
}

/** `uat run`: seeds when asked, runs the pack (or the dry run), writes the report and the JUnit file. */
export async function runUatCommand(input: UatCommandInput): Promise<{document: UatRunDocument; exitCode: number}> {
  const date = input.date ?? new Date().toISOString().slice(0, 10)
  const environment = input.environment ?? input.config.env
  const output = input.output ?? path.join('docs', 'uat-reports', defaultReportName(date))
  const wanted = new Set((input.scenarioIds ?? []).map((id) => id.toUpperCase()))
  const scenarios: readonly UatScenario[] = wanted.size === 0 ? UAT_SCENARIOS : UAT_SCENARIOS.filter((s) => wanted.has(s.id))
  const build = buildReference()
  preflightReportFile(path.resolve(output), '--output')
  if (input.junit) preflightReportFile(path.resolve(input.junit), '--junit')

  if (input.seedDemo) {
    if (input.dryRun) {
      input.note('--seed-demo skipped: --dry-run touches no database')
    } else {
      const [{migrate}, {seedDatabase}] = await Promise.all([import('../db/migrator.js'), import('../db/seeds/index.js')])
      const db = await input.openConfigured()
      await migrate(db)
      await seedDatabase(db, {env: input.config.env, demo: true})
      input.log('Demo accounts seeded.')
    }
  }

  let outcomes: UatOutcome[]
  let target: UatRunDocument['target']
  let interrupted = false
  if (input.dryRun) {
    outcomes = dryRunRows(scenarios).map((row) => ({...row, requests: [], checks: [], ms: 0}))
    target = {kind: 'dry-run'}
  } else {
    const interrupt = input.signal ? {signal: input.signal, dispose: () => {}} : interruptSignal(input.note)
    try {
      const result = await runUatPack({
        config: input.config,
        scenarios,
        accounts: accountsFromEnvironment(),
        baseUrl: input.baseUrl,
        signal: interrupt.signal,
        note: input.log,
        drive: input.drive,
      })
      outcomes = result.outcomes
      target = result.target
      interrupted = result.interrupted
    } finally {
      interrupt.dispose()
    }
  }

  const rows = outcomes.map(({id, role, notes, status, evidence}) => ({id, role, notes, status, evidence}))
  const summary = summarise(rows)
  const report = renderUatReport({date, environment, build, rows, evidenceCommand: 'laundry-ops uat run --seed-demo'})
  const absolute = path.resolve(output)
  try {
    mkdirSync(path.dirname(absolute), {recursive: true})
    writeFileAtomic(absolute, report)
  } catch (error) {
    throw new OpsError('FAILED', `Unable to write report file: ${absolute} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
  }
  if (input.junit) {
    const junitFile = path.resolve(input.junit)
    try {
      mkdirSync(path.dirname(junitFile), {recursive: true})
      const checks = outcomes.map((o) => ({
        key: `${o.id} ${o.notes}`,
        status: o.status === 'Pass' ? ('pass' as const) : o.status === 'Fail' ? ('fail' as const) : ('warn' as const),
        message: o.evidence,
      }))
      writeFileAtomic(junitFile, junitXml('laundry-ops uat run', checks, false, new Date()))
    } catch (error) {
      throw new OpsError(
        'FAILED',
        `cannot write the JUnit report ${junitFile} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); the report is at ${absolute}`,
      )
    }
  }
  input.log(`UAT report generated: ${output}`)
  input.log(`Summary: total=${summary.total}, pass=${summary.passed}, fail=${summary.failed}, blocked=${summary.blocked}, overall=${summary.overall}`)
  const document: UatRunDocument = {
    date,
    environment,
    build,
    target,
    report: absolute,
    junit: input.junit ? path.resolve(input.junit) : null,
    summary,
    interrupted,
    scenarios: outcomes.map((o) => ({
      id: o.id,
      role: o.role,
      notes: o.notes,
      status: o.status,
      evidence: o.evidence,
      ms: Math.round(o.ms),
      requests: o.requests.map((r) => ({...r, ms: Math.round(r.ms)})),
    })),
  }
  return {document, exitCode: summary.failed > 0 || interrupted ? 1 : 0}
}

/** The scenario IDs of the catalogue, for help texts. */
export const SCENARIO_IDS = UAT_CATALOG.map((s) => s.id)
