import {Flags} from '@oclif/core'

import {boundedInteger} from '../../flags.js'
import {LIMITS} from '../../core/limits.js'
import {DatabaseCommand} from '../../base-command.js'
import type {FlushResult} from '../../core/queue/failed-jobs.js'

export default class QueueFlush extends DatabaseCommand<typeof QueueFlush> {
  static faultScope = 'transaction' as const
  static hiddenAliases = ['queue:flush']
  static summary = 'Delete failed jobs, all or those older than --hours (as php artisan queue:flush)'
  static description = 'Artisan alias: `queue:flush`.'
  static examples = [
    '<%= config.bin %> <%= command.id %> --dry-run',
    '<%= config.bin %> <%= command.id %> --hours 48',
    '<%= config.bin %> <%= command.id %> --json',
  ]
  static flags = {
    hours: boundedInteger(LIMITS.hours, {description: 'only failed jobs older than this many hours'}),
    'dry-run': Flags.boolean({default: false, description: 'count what would be deleted; change nothing'}),
  }

  async run(): Promise<FlushResult> {
    const config = await this.loadConfig()
    const db = await this.openDatabase(config)
    const {flushFailedJobs} = await import('../../core/queue/failed-jobs.js')
    const result = await flushFailedJobs(db, {hours: this.flags.hours, dryRun: this.flags['dry-run'], clock: {now: () => new Date()}})
    const scope = result.older_than ? ` older than ${this.flags.hours} hours` : ''
    if (result.dry_run) this.log(`Would delete ${result.deleted} failed job(s)${scope}; nothing was changed (--dry-run).`)
    else this.log(result.deleted === 0 ? `No failed jobs${scope} to delete.` : `Deleted ${result.deleted} failed job(s)${scope}.`)
    return result
  }
}
