import {Flags} from '@oclif/core'

import {DatabaseCommand} from '../../base-command.js'
import type {ReadinessReport} from '../../core/gates/readiness.js'

export default class ReadinessCheck extends DatabaseCommand<typeof ReadinessCheck> {
  static faultScope = 'reads' as const
  static hiddenAliases = ['ops:readiness:check']
  static summary = 'Run staging readiness checks for release operations'
  static description = `Seventeen checks in upstream's order: the configuration and schedule file are valid (in place of APP_KEY), the database answers, no migration is pending, every migration in the ledger is known (a warning otherwise), every table and column of the laundry schema exists (whatever the ledger says), the queue is the database queue, the jobs and failed_jobs tables exist, the five baseline tasks are in the schedule and enabled, the scheduler's cache tables exist, <storage>/app and <storage>/logs are writable, and the mock WA provider is seeded. An invalid configuration or an unreachable database gives failed checks, not an error. Exit 1 on any failure, or with --strict on any warning. Artisan alias: \`ops:readiness:check\`.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --strict --json',
    '<%= config.bin %> <%= command.id %> --strict --junit reports/readiness.xml',
  ]
  static flags = {
    strict: Flags.boolean({description: 'treat warnings as failures (exit 1)'}),
    junit: Flags.string({description: 'also write a JUnit XML report to this file'}),
  }

  async run(): Promise<ReadinessReport> {
    const {readinessCheck} = await import('../../core/gates/readiness.js')
    const report = await readinessCheck({
      databaseUrl: (this.flags as {'database-url'?: string})['database-url'],
      strict: this.flags.strict === true,
      checkCommand: this.scheduleCommandCheck(),
    })
    const {emitGate} = await import('../../render/gate.js')
    const failed = emitGate(report, {
      suite: 'laundry-ops readiness check',
      label: 'Readiness',
      junit: this.flags.junit,
      json: this.jsonEnabled(),
      log: (line) => this.log(line),
    })
    if (failed) process.exitCode = 1
    return report
  }
}
