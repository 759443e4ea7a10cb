import {Flags} from '@oclif/core'

import {DatabaseCommand} from '../../base-command.js'
import type {MigrationStatus} from '../../core/db/migrator.js'

export default class DbStatus extends DatabaseCommand<typeof DbStatus> {
  static faultScope = 'reads' as const
  static hiddenAliases = ['migrate:status']
  static summary = 'Show which migrations have run and which are pending'
  static description =
    'Reads the Laravel `migrations` ledger. Rows of migrations laundry-ops does not know (run by the Laravel application) are listed too. With --pending the exit code is 1 while anything is pending, for CI gates. Artisan alias: `migrate:status`.'
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json',
    '<%= config.bin %> <%= command.id %> --pending || echo "schema not up to date"',
  ]
  static flags = {
    pending: Flags.boolean({description: 'exit 1 when a migration is pending'}),
  }

  async run(): Promise<MigrationStatus> {
    const config = await this.loadConfig()
    const db = await this.openDatabase(config)
    const {migrationStatus} = await import('../../core/db/migrator.js')
    const status = await migrationStatus(db)
    if (this.flags.pending && status.pending.length > 0) process.exitCode = 1
    if (!this.jsonEnabled()) await this.render(status)
    return status
  }

  private async render(status: MigrationStatus): Promise<void> {
    const [{renderTable}, {styleFor}] = await Promise.all([import('../../render/table.js'), import('../../render/style.js')])
    const s = styleFor()
    const rows: Array<Array<string | number>> = status.migrations.map((m) => [m.name, m.batch ?? '', m.ran ? s.green('Ran') : s.yellow('Pending')])
    for (const u of status.unknown) rows.push([u.name, u.batch, s.cyan('Ran (not known to laundry-ops)')])
    this.log(`Database: ${status.database}${status.ledger ? '' : ' (no migrations table yet)'}`)
    this.log(renderTable(['Migration', 'Batch', 'Status'], rows))
    this.log(status.pending.length === 0 ? 'Nothing pending.' : `${status.pending.length} migration(s) pending: run \`${this.config.bin} db migrate\`.`)
  }
}
