import {DatabaseCommand} from '../../base-command.js'

export default class QueueRestart extends DatabaseCommand<typeof QueueRestart> {
  static faultScope = 'transaction' as const
  static hiddenAliases = ['queue:restart']
  static summary = 'Tell every queue worker to stop after its current job (as php artisan queue:restart)'
  static description = `Stores the restart time under Laravel's \`illuminate:queue:restart\` cache key (table \`cache\`, prefix CACHE_PREFIX, default \`laravel_cache_\`). Workers, ours and Laravel's, check it after every job and exit 0; the process manager starts them again with the new code. Artisan alias: \`queue:restart\`.`
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<{key: string; restart_at: number}> {
    const config = await this.loadConfig()
    const db = await this.openDatabase(config)
    const {requireTables} = await import('../../core/db/faults.js')
    await requireTables(db, ['cache'])
    const {signalQueueRestart, RESTART_KEY} = await import('../../core/queue/restart-signal.js')
    const restartAt = await signalQueueRestart(db.knex, config.cachePrefix, new Date())
    this.log('Broadcasting queue restart signal.')
    return {key: `${config.cachePrefix}${RESTART_KEY}`, restart_at: restartAt}
  }
}
