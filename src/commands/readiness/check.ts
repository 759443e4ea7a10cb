import {Flags} from '@oclif/core'

import {DatabaseCommand} from '../../base-command.js'
import type {ReadinessReport} from '../../core/gates/readiness.js'

export default class ReadinessCheck extends DatabaseCommand<typeof ReadinessCheck> {
  static hiddenAliases = ['ops:readiness:check']
  static summary = 'Run staging readiness checks for release operations'
  static description = `Fourteen checks in upstream's order: the configuration and schedule file are valid (in place of APP_KEY), the database answers, no migration is pending, the queue is the database queue, the jobs and failed_jobs tables exist, the five baseline tasks are in the schedule and enabled, <storage>/app and <storage>/logs are writable, and the mock WA provider is seeded. An invalid configuration or an unreachable database gives failed checks, not an error. Exit 1 on any failure, or with --strict on any warning. Artisan alias: \`ops:readiness:check\`.`
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
    const [{readinessCheck}, {gateFailed, junitXml}] = await Promise.all([import('../../core/gates/readiness.js'), import('../../core/gates/report.js')])
    const report = await readinessCheck({databaseUrl: this.flags['database-url'], strict: this.flags.strict === true})
    if (this.flags.junit) {
      const [{mkdirSync}, path, {writeFileAtomic}] = await Promise.all([import('node:fs'), import('node:path'), import('../../core/storage/files.js')])
      // A CI checkout has no reports/ folder yet.
      mkdirSync(path.dirname(path.resolve(this.flags.junit)), {recursive: true})
      writeFileAtomic(this.flags.junit, junitXml('laundry-ops readiness check', report.checks, report.strict, new Date()))
    }
    if (gateFailed(report.summary, report.strict)) process.exitCode = 1
    if (!this.jsonEnabled()) {
      const {renderTable} = await import('../../render/table.js')
      this.log(renderTable(['Check', 'Status', 'Message'], report.checks.map((c) => [c.key, c.status.toUpperCase(), c.message])))
      const s = report.summary
      this.log(`Readiness summary: pass=${s.pass}, warn=${s.warn}, fail=${s.fail}, strict=${report.strict ? 'yes' : 'no'}`)
    }
    return report
  }
}
