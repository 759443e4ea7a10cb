import {Flags} from '@oclif/core'

import {DatabaseCommand} from '../base-command.js'
import {checkedString} from '../flags.js'
import {assertBaseUrl} from '../core/uat/input.js'
import type {Database} from '../core/db/connection.js'
import type {ReleaseDocument} from '../core/release/checklist.js'

export default class Release extends DatabaseCommand<typeof Release> {
  static faultScope = 'progress' as const
  static summary = 'Run the release checklist: migrate, readiness check --strict, observe health --strict, the UAT pack, queue restart'
  static description = `The runbook's release checklist as one command, in one process, step by step: (1) \`db migrate\`, only with --migrate (in production also --force, as \`db migrate\`), otherwise skipped; (2) \`readiness check --strict\`; (3) \`observe health --strict\` with upstream's thresholds; (4) the UAT pack, on an isolated database as \`uat run\` does, or against --base-url; (5) \`queue restart\`. It stops at the first step that fails (exit 1); the steps after it are reported as not run. Progress goes to stderr (a live list on a terminal, plain lines otherwise, nothing under --json). --dry-run prints the plan and changes nothing. --junit writes one test case per step (a failed step is a failure, a skipped or not-run one is skipped).`
  static examples = [
    '<%= config.bin %> <%= command.id %> --dry-run',
    '<%= config.bin %> <%= command.id %>',
    'LAUNDRY_OPS_ENV=production <%= config.bin %> <%= command.id %> --migrate --force --base-url https://laundry.example.com --junit reports/release.xml',
    '<%= config.bin %> <%= command.id %> --json',
  ]
  static flags = {
    'base-url': checkedString(assertBaseUrl)({description: 'run the UAT pack against this deployment (its demo accounts) instead of an isolated database'}),
    migrate: Flags.boolean({description: 'apply pending migrations first (step 1); without it step 1 is skipped and a pending migration fails readiness'}),
    force: Flags.boolean({description: 'allow --migrate with LAUNDRY_OPS_ENV=production (as `db migrate --force`)', dependsOn: ['migrate']}),
    'dry-run': Flags.boolean({description: 'print the plan (the steps, which are skipped and why); run nothing, change no database'}),
    junit: Flags.string({description: 'also write a JUnit XML report to this file (one test case per step)'}),
  }

  private opened?: Promise<Database>

  async run(): Promise<ReleaseDocument> {
    const config = await this.loadConfig()
    const path = await import('node:path')
    const {preflightReportFile, writeFileAtomic} = await import('../core/storage/files.js')
    const dryRun = this.flags['dry-run']
    const migrateRequested = this.flags.migrate === true
    // Before anything runs: the production rule of `db migrate`, and a --junit file that can be written.
    const {assertProductionForced} = await import('../core/db/guards.js')
    if (migrateRequested && !dryRun) assertProductionForced(config, this.flags.force === true, 'migrate')
    const junit = this.flags.junit === undefined ? null : path.resolve(this.flags.junit)
    if (junit) preflightReportFile(junit, '--junit')

    const open = (options: {create: boolean}) => {
      // One connection for the steps that need the configured database: the first step decides whether a
      // missing SQLite file may be created (only `--migrate`, as `db migrate`).
      this.opened ??= this.openDatabase(config, options)
      return this.opened
    }
    const [{releaseSteps, pendingMigrationsPlan}, checklist] = await Promise.all([import('../core/release/steps.js'), import('../core/release/checklist.js')])
    const interrupt = dryRun
      ? undefined
      : (await import('../core/uat/command.js')).interruptSignal((line) => process.stderr.write(`${line}\n`), 'the release checklist')
    const steps = releaseSteps({
      config,
      databaseUrl: (this.flags as {'database-url'?: string})['database-url'],
      migrate: migrateRequested,
      baseUrl: this.flags['base-url'],
      checkCommand: this.scheduleCommandCheck(),
      open,
      signal: interrupt?.signal,
      plain: process.stderr.isTTY !== true,
    })

    let document: ReleaseDocument
    try {
      if (dryRun) {
        if (migrateRequested) {
          const migrateStep = steps[0]
          migrateStep.plan = await pendingMigrationsPlan(config, () => open({create: false}))
          if (config.env === 'production' && this.flags.force !== true) migrateStep.plan += '; refused with LAUNDRY_OPS_ENV=production unless --force'
        }
        const results = checklist.planChecklist(steps)
        document = {dry_run: true, steps: results, ok: true, interrupted: false, junit}
      } else {
        const {describeFault} = await import('../core/db/faults.js')
        const {oneLineMessage} = await import('../core/errors.js')
        const {releaseProgress} = await import('../render/release-progress.js')
        const {results, interrupted} = await checklist.runChecklist(steps, {
          drive: releaseProgress({json: this.jsonEnabled()}),
          signal: interrupt?.signal,
          describeError: (error) => oneLineMessage(describeFault(error, config.database) ?? error),
        })
        document = {dry_run: false, steps: results, ok: checklist.checklistPassed(results) && !interrupted, interrupted, junit}
      }
    } finally {
      interrupt?.dispose()
    }

    if (junit) {
      try {
        writeFileAtomic(junit, checklist.releaseJunit(document.steps, new Date()))
      } catch (error) {
        const {OpsError} = await import('../core/errors.js')
        const e = error as NodeJS.ErrnoException
        throw new OpsError('FAILED', `cannot write the JUnit report ${junit} (${e.code ?? e.message}); the release ${document.ok ? 'passed' : 'failed'}`)
      }
    }
    if (!this.jsonEnabled()) await this.render(document)
    if (!document.ok) process.exitCode = 1
    return document
  }

  private async render(document: ReleaseDocument): Promise<void> {
    const [{renderTable}, {styleFor}] = await Promise.all([import('../render/table.js'), import('../render/style.js')])
    const s = styleFor()
    const paint = (status: string) =>
      (status === 'passed' ? s.green : status === 'failed' ? s.red : status === 'planned' ? s.cyan : s.yellow)(status.toUpperCase().replace('_', ' '))
    this.log(document.dry_run ? 'Release plan (--dry-run: nothing was run or changed):' : 'Release checklist:')
    this.log(
      renderTable(
        ['Step', 'Command', 'Status', 'Took', 'Detail'],
        document.steps.map((r, i) => [
          `${i + 1}. ${r.name}`,
          `laundry-ops ${r.command}`,
          paint(r.status),
          document.dry_run ? '-' : `${r.duration_ms} ms`,
          r.detail,
        ]),
      ),
    )
    const count = (status: string) => document.steps.filter((r) => r.status === status).length
    const counts = document.dry_run
      ? `planned=${count('planned')}, skipped=${count('skipped')}`
      : `passed=${count('passed')}, failed=${count('failed')}, skipped=${count('skipped')}, not_run=${count('not_run')}`
    this.log(`Release summary: ${counts}, ok=${document.ok ? 'yes' : 'no'}, dry_run=${document.dry_run ? 'yes' : 'no'}`)
    if (document.junit) this.log(`JUnit report: ${document.junit}`)
  }
}
