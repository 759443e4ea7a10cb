import {Flags} from '@oclif/core'

import {DatabaseCommand} from '../../base-command.js'

export default class QueueFlush extends DatabaseCommand<typeof QueueFlush> {
  static hiddenAliases = ['queue:flush']
  static summary = 'Delete failed jobs, all or those older than --hours (as php artisan queue:flush)'
  static description = 'Artisan alias: `queue:flush`.'
  static examples = [
    '<%= config.bin %> <%= command.id %> --dry-run',
    '<%= config.bin %> <%= command.id %> --hours 48',
    '<%= config.bin %> <%= command.id %> --json',
  ]
  static flags = {
    hours: Flags.integer({min: 1, description: 'only failed jobs older than this many hours'}),
    'dry-run': Flags.boolean({description: 'count what would be deleted; change nothing'}),
  }

  async run(): Promise<{dryRun: boolean; deleted: number; olderThan: string | null}> {
    const config = await this.loadConfig()
    const db = await this.openDatabase(config)
    const {flushFailedJobs} = await import('../../core/queue/failed-jobs.js')
    const result = await flushFailedJobs(db, {hours: this.flags.hours, dryRun: this.flags['dry-run'], clock: {now: () => new Date()}})
    const scope = result.olderThan ? ` older than ${this.flags.hours} hours` : ''
    if (result.dryRun) this.log(`Would delete ${result.deleted} failed job(s)${scope}; nothing was changed (--dry-run).`)
    else this.log(result.deleted === 0 ? `No failed jobs${scope} to delete.` : `Deleted ${result.deleted} failed job(s)${scope}.`)
    return result
  }
}
