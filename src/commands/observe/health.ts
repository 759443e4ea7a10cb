import {Flags} from '@oclif/core'

import {boundedInteger, boundedNumber, checkedString} from '../../flags.js'
import {periodWindow} from '../../core/quota/period.js'
import {LIMITS} from '../../core/limits.js'
import {DatabaseCommand} from '../../base-command.js'
import {OBSERVE_DEFAULTS} from '../../core/gates/observe-defaults.js'
import type {ObserveReport} from '../../core/gates/observe-health.js'

export default class ObserveHealth extends DatabaseCommand<typeof ObserveHealth> {
  static faultScope = 'reads' as const
  static hiddenAliases = ['ops:observe:health']
  static summary = 'Run observability health checks for queue, WhatsApp delivery, and quota saturation'
  static description = `Five checks with upstream's thresholds and comparisons: failed jobs in the lookback window (> threshold), messaging and default backlogs (> threshold), the WA failure ratio of messages updated in the window (> threshold %), and tenants at or above the quota threshold (>= %). Checks pass or warn; exit 1 only with --strict and a warning. Artisan alias: \`ops:observe:health\`.`
  static examples = [
    '<%= config.bin %> <%= command.id %> --lookback-minutes 15',
    '<%= config.bin %> <%= command.id %> --strict --json',
    '<%= config.bin %> <%= command.id %> --period 2026-02 --quota-usage-threshold 90 --junit reports/observe.xml',
  ]
  static flags = {
    period: checkedString(periodWindow)({description: 'quota period YYYY-MM (default: the current UTC month)'}),
    'lookback-minutes': boundedInteger(LIMITS.lookbackMinutes, {
      default: OBSERVE_DEFAULTS.lookbackMinutes,
      description: 'the window for failed jobs and WA traffic',
    }),
    'failed-jobs-threshold': boundedInteger(LIMITS.countThreshold, {
      default: OBSERVE_DEFAULTS.failedJobsThreshold,
      description: 'warn above this many failed jobs in the window',
    }),
    'queue-backlog-threshold': boundedInteger(LIMITS.countThreshold, {
      default: OBSERVE_DEFAULTS.queueBacklogThreshold,
      description: 'warn above this many jobs on a queue',
    }),
    'wa-failure-ratio-threshold': boundedNumber(LIMITS.ratioPercent, {
      default: OBSERVE_DEFAULTS.waFailureRatioThreshold,
      description: 'warn above this failed percentage of WA messages',
    }),
    'quota-usage-threshold': boundedNumber(LIMITS.quotaPercent, {
      default: OBSERVE_DEFAULTS.quotaUsageThreshold,
      description: 'warn for tenants at or above this percentage of their quota',
    }),
    strict: Flags.boolean({description: 'treat warnings as failures (exit 1)'}),
    junit: Flags.string({description: 'also write a JUnit XML report to this file'}),
  }

  async run(): Promise<ObserveReport> {
    const config = await this.loadConfig()
    const {observeHealth} = await import('../../core/gates/observe-health.js')
    let db
    try {
      db = await this.openDatabase(config)
    } catch (error) {
      // The gate could not run: a CI report step still finds its JUnit file, with the reason as a failure.
      if (this.flags.junit) {
        const {writeGateJunit} = await import('../../render/gate.js')
        try {
          writeGateJunit(
            this.flags.junit,
            'laundry-ops observe health',
            [{key: 'database.connection', status: 'fail', message: (error as Error).message}],
            this.flags.strict === true,
          )
        } catch {
          // The database error is the one to report; an unwritable report folder comes second.
        }
      }
      throw error
    }
    const report = await observeHealth(db, {
      period: this.flags.period,
      lookbackMinutes: this.flags['lookback-minutes'],
      failedJobsThreshold: this.flags['failed-jobs-threshold'],
      queueBacklogThreshold: this.flags['queue-backlog-threshold'],
      waFailureRatioThreshold: this.flags['wa-failure-ratio-threshold'],
      quotaUsageThreshold: this.flags['quota-usage-threshold'],
      strict: this.flags.strict === true,
      clock: {now: () => new Date()},
    })
    const {emitGate} = await import('../../render/gate.js')
    const failed = emitGate(report, {
      suite: 'laundry-ops observe health',
      label: 'Observability',
      junit: this.flags.junit,
      json: this.jsonEnabled(),
      log: (line) => this.log(line),
    })
    if (failed) process.exitCode = 1
    return report
  }
}
