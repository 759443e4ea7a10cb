import {Flags} from '@oclif/core'

import {DatabaseCommand} from '../../base-command.js'
import {checkedString} from '../../flags.js'
import {assertBaseUrl, assertScenarioId, assertUatDate} from '../../core/uat/input.js'
import type {UatRunDocument} from '../../core/uat/command.js'

export default class UatRun extends DatabaseCommand<typeof UatRun> {
  static faultScope = 'progress' as const
  static hiddenAliases = ['ops:uat:run']
  static summary = 'Run the business UAT pack (UAT-01 … UAT-10) as real HTTP flows and write the Markdown report'
  static description = `Each scenario of the upstream catalogue is a flow of HTTP calls with the demo accounts and its own checks, creating its own orders, so scenarios pass in any order and next to other data. By default the pack runs on an isolated database (a temporary SQLite file, or a new PostgreSQL database laundry_ops_uat_<timestamp>_<random> on the configured server when DATABASE_URL is PostgreSQL), migrated and seeded, with an in-process server and queue worker; it is removed afterwards, also on failure or Ctrl-C. --base-url runs it against a running deployment with its demo accounts (passwords from LAUNDRY_OPS_UAT_PASSWORD, or LAUNDRY_OPS_UAT_<ROLE>_PASSWORD). --seed-demo first migrates and seeds the configured database (the demo accounts), as upstream. The report is upstream's Markdown (docs/uat-reports/UAT-<YYYYMMDD>-automated-pack.md under the working folder unless --output). Exit 1 when a scenario fails. Artisan alias: \`ops:uat:run\`.`
  static examples = [
    '<%= config.bin %> <%= command.id %> --seed-demo',
    '<%= config.bin %> <%= command.id %> --scenario UAT-03 --scenario UAT-06',
    '<%= config.bin %> <%= command.id %> --base-url https://staging.example.com --environment staging --junit reports/uat.xml',
    '<%= config.bin %> <%= command.id %> --dry-run --date 2026-02-16 --environment testing --output storage/uat-dryrun.md',
  ]
  static flags = {
    'base-url': checkedString(assertBaseUrl)({description: 'run against this deployment instead of an isolated database (its demo accounts)'}),
    'seed-demo': Flags.boolean({description: 'first migrate and seed the configured database (the demo tenant and accounts)'}),
    scenario: checkedString(assertScenarioId)({multiple: true, description: 'run only this scenario (repeatable), e.g. UAT-03'}),
    date: checkedString(assertUatDate)({description: 'the report date, YYYY-MM-DD (default: today, UTC)'}),
    environment: Flags.string({description: 'the environment named in the report (default: LAUNDRY_OPS_ENV)'}),
    output: Flags.string({description: 'the report file (default: docs/uat-reports/UAT-<YYYYMMDD>-automated-pack.md)'}),
    'dry-run': Flags.boolean({description: 'write the report with every scenario Blocked; run nothing, touch no database'}),
    junit: Flags.string({description: 'also write a JUnit XML report to this file (one test case per scenario)'}),
  }

  async run(): Promise<UatRunDocument> {
    const config = await this.loadConfig()
    const [{runUatCommand}, {uatProgress}] = await Promise.all([import('../../core/uat/command.js'), import('../../render/uat-progress.js')])
    const json = this.jsonEnabled()
    const result = await runUatCommand({
      config,
      baseUrl: this.flags['base-url'],
      seedDemo: this.flags['seed-demo'],
      scenarioIds: this.flags.scenario,
      date: this.flags.date,
      environment: this.flags.environment,
      output: this.flags.output,
      dryRun: this.flags['dry-run'],
      junit: this.flags.junit,
      json,
      openConfigured: async () => this.openDatabase(config, {create: true}),
      log: (line) => this.log(line),
      note: (line) => this.note(line),
      drive: uatProgress({json}),
    })
    if (result.exitCode !== 0) process.exitCode = result.exitCode
    return result.document
  }
}
