import {Args, Flags} from '@oclif/core'

import {DatabaseCommand} from '../../base-command.js'
import type {RetryResult} from '../../core/queue/failed-jobs.js'

export default class QueueRetry extends DatabaseCommand<typeof QueueRetry> {
  static faultScope = 'transaction' as const
  static hiddenAliases = ['queue:retry']
  static summary = 'Push failed jobs back onto their queue (as php artisan queue:retry)'
  static description =
    'Give the uuids from `queue failed`, or `all`. Each job goes back with attempts 0; the insert into `jobs` and the delete from `failed_jobs` commit together, so a crash neither loses nor duplicates a job. An unknown uuid is refused before anything changes. Artisan alias: `queue:retry`.'
  static examples = [
    '<%= config.bin %> <%= command.id %> 3f2b8c1e-6d4a-4f7e-9a1b-2c5d8e0f4a6b',
    '<%= config.bin %> <%= command.id %> all --dry-run',
    '<%= config.bin %> <%= command.id %> all --json',
  ]
  static strict = false
  static args = {ids: Args.string({description: 'failed job uuids, or "all"', required: true})}
  static flags = {
    'dry-run': Flags.boolean({default: false, description: 'list what would be retried; change nothing'}),
  }

  async run(): Promise<RetryResult> {
    const {argv} = await this.parse(QueueRetry)
    const ids = (argv as string[]).map((a) => a.trim()).filter(Boolean)
    const config = await this.loadConfig()
    const db = await this.openDatabase(config)
    const {retryFailedJobs} = await import('../../core/queue/failed-jobs.js')
    const result = await retryFailedJobs(db, ids.includes('all') ? 'all' : ids, {now: () => new Date()}, this.flags['dry-run'])
    if (!this.jsonEnabled()) {
      if (result.retried.length === 0) this.log('No failed jobs to retry.')
      for (const job of result.retried) {
        this.log(
          result.dry_run
            ? `Would push the failed job [${job.uuid}] back onto the [${job.queue}] queue.`
            : `The failed job [${job.uuid}] has been pushed back onto the queue.`,
        )
      }
    }
    return result
  }
}
