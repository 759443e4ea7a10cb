import {Flags} from '@oclif/core'

import {boundedInteger} from '../../flags.js'
import {LIMITS} from '../../core/limits.js'
import {DatabaseCommand} from '../../base-command.js'
import type {RollbackResult} from '../../core/db/migrator.js'

export default class DbRollback extends DatabaseCommand<typeof DbRollback> {
  static faultScope = 'transaction' as const
  static hiddenAliases = ['migrate:rollback']
  static summary = 'Undo the last batch of migrations (or the last N with --step)'
  static description =
    'Runs the down side of the newest migrations in one transaction and removes them from the ledger. It refuses to undo a migration laundry-ops does not know. Production needs --force. Artisan alias: `migrate:rollback`.'
  static examples = [
    '<%= config.bin %> <%= command.id %> --dry-run',
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --step 2 --json',
  ]
  static flags = {
    step: boundedInteger(LIMITS.migrations, {description: 'undo this many migrations, newest first, whatever their batch'}),
    'dry-run': Flags.boolean({default: false, aliases: ['pretend'], description: 'list what would be undone; change nothing'}),
    force: Flags.boolean({description: 'allow running with LAUNDRY_OPS_ENV=production'}),
  }

  async run(): Promise<RollbackResult> {
    const config = await this.loadConfig()
    const {assertProductionForced} = await import('../../core/db/guards.js')
    if (!this.flags['dry-run']) assertProductionForced(config, this.flags.force, 'roll back migrations')
    const db = await this.openDatabase(config)
    const {rollback} = await import('../../core/db/migrator.js')
    const result = await rollback(db, {step: this.flags.step, dryRun: this.flags['dry-run']})
    if (!this.jsonEnabled()) {
      if (result.rolled_back.length === 0) this.log('Nothing to roll back.')
      for (const m of result.rolled_back) this.log(`  ${result.dry_run ? 'WOULD UNDO' : 'UNDONE'}  ${m.name} (batch ${m.batch})`)
      if (result.rolled_back.length > 0) {
        this.log(`${result.rolled_back.length} migration(s) ${result.dry_run ? 'would be rolled back; nothing was changed (--dry-run)' : 'rolled back'}.`)
      }
    }
    return result
  }
}
