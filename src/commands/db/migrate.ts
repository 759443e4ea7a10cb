import {existsSync} from 'node:fs'

import {Flags} from '@oclif/core'

import {DatabaseCommand} from '../../base-command.js'
import type {MigrateResult} from '../../core/db/migrator.js'
import {quietFlag} from '../../flags.js'
import type {ProgressReporter} from '../../render/progress.js'

export default class DbMigrate extends DatabaseCommand<typeof DbMigrate> {
  static faultScope = 'transaction' as const
  static hiddenAliases = ['migrate']
  static summary = 'Apply the pending schema migrations (Laravel migrations ledger)'
  static description = `Creates or updates the laundry schema on SQLite or PostgreSQL. The ledger is Laravel's \`migrations\` table with the upstream migration names, so a database migrated by the Laravel application shows nothing pending, and one migrated here looks migrated to Laravel. All pending migrations run in one transaction: a failure changes nothing. Each migration gets a progress line on stderr as it runs (none under --json or --quiet). Artisan alias: \`migrate\`.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    'DATABASE_URL=postgres://postgres@127.0.0.1:5432/laundry <%= config.bin %> <%= command.id %> --json',
    '<%= config.bin %> <%= command.id %> --dry-run',
    '<%= config.bin %> migrate --force   # artisan alias; production needs --force',
  ]
  static flags = {
    'dry-run': Flags.boolean({default: false, aliases: ['pretend'], description: 'list the migrations that would run; change nothing'}),
    force: Flags.boolean({description: 'allow running with LAUNDRY_OPS_ENV=production'}),
    step: Flags.boolean({description: 'give each migration its own batch, so `db rollback` undoes them one by one'}),
    quiet: quietFlag,
  }

  async run(): Promise<MigrateResult> {
    const config = await this.loadConfig()
    const {assertProductionForced} = await import('../../core/db/guards.js')
    if (!this.flags['dry-run']) assertProductionForced(config, this.flags.force, 'migrate')
    if (this.flags['dry-run'] && config.database.client === 'sqlite' && !existsSync(config.database.filename)) {
      // A dry run creates nothing: every migration would run on the database `db migrate` would create.
      const {MIGRATIONS} = await import('../../core/db/migrations/index.js')
      const result: MigrateResult = {database: config.database.display, dry_run: true, batch: 1, migrated: MIGRATIONS.map((m) => m.name), unknown: []}
      this.note(`The database does not exist yet: \`${this.config.bin} db migrate\` would create ${config.database.filename}.`)
      if (!this.jsonEnabled()) await this.render(result)
      return result
    }
    const db = await this.openDatabase(config, {create: !this.flags['dry-run']})
    const {migrate} = await import('../../core/db/migrator.js')
    const progress = await this.progress({title: 'db migrate', unit: 'migrations', closingLine: false}, config)
    let result: MigrateResult
    try {
      result = await migrate(db, {dryRun: this.flags['dry-run'], step: this.flags.step, onProgress: migrationLines(progress)})
    } catch (error) {
      await progress.end('failed')
      throw error
    }
    await progress.end()
    if (!this.flags['dry-run']) await this.ensureStorage(config.storage)
    if (!this.jsonEnabled()) await this.render(result)
    return result
  }

  /** storage/app and storage/logs, which `readiness check` requires (Laravel ships them in its repository). */
  private async ensureStorage(storage: string): Promise<void> {
    const {ensureStorageFolders} = await import('../../core/storage/layout.js')
    const {error} = ensureStorageFolders(storage)
    if (error) this.note(`note: ${error}; \`readiness check\` will fail until it exists and is writable`)
  }

  private async render(result: MigrateResult): Promise<void> {
    const {styleFor} = await import('../../render/style.js')
    const s = styleFor()
    for (const u of result.unknown) this.note(`note: the ledger also holds ${u.name} (batch ${u.batch}), which laundry-ops does not know`)
    if (result.migrated.length === 0) {
      this.log(`Nothing to migrate: ${result.database} is up to date.`)
      return
    }
    const verb = result.dry_run ? s.yellow('PENDING') : s.green('DONE')
    this.log(`${result.dry_run ? 'Would migrate' : 'Migrated'} ${result.database} (batch ${result.batch}):`)
    for (const name of result.migrated) this.log(`  ${verb}  ${name}`)
    this.log(`${result.migrated.length} migration(s) ${result.dry_run ? 'pending; nothing was changed (--dry-run)' : 'applied'}.`)
  }
}

/** One progress line per migration as it runs: `3/13 2026_02_16_001700_create_order_core_tables (52 ms)` (db fresh too). */
export function migrationLines(progress: ProgressReporter): (done: number, total: number, migration: string) => void {
  let since = performance.now()
  return (done, total, migration) => {
    const now = performance.now()
    progress.step(`${done}/${total} ${migration} (${Math.round(now - since)} ms)`, done, total)
    since = now
  }
}
