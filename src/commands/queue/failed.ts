import {DatabaseCommand} from '../../base-command.js'
import type {FailedJobSummary} from '../../core/queue/failed-jobs.js'

export default class QueueFailed extends DatabaseCommand<typeof QueueFailed> {
  static faultScope = 'reads' as const
  static hiddenAliases = ['queue:failed']
  static summary = 'List the failed jobs (as php artisan queue:failed)'
  static description = 'Newest first: uuid, connection, queue, job class, failure time and the first line of the reason. Artisan alias: `queue:failed`.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<{failed: FailedJobSummary[]}> {
    const config = await this.loadConfig()
    const db = await this.openDatabase(config)
    const {listFailedJobs} = await import('../../core/queue/failed-jobs.js')
    const failed = await listFailedJobs(db)
    if (!this.jsonEnabled()) {
      if (failed.length === 0) {
        this.log('No failed jobs found.')
      } else {
        const {renderTable} = await import('../../render/table.js')
        this.log(
          renderTable(
            ['ID', 'Connection', 'Queue', 'Class', 'Failed At', 'Reason'],
            failed.map((f) => [f.uuid, f.connection, f.queue, f.class, f.failed_at, f.exception.slice(0, 80)]),
          ),
        )
      }
    }
    return {failed}
  }
}
