import {existsSync} from 'node:fs'

import {Flags} from '@oclif/core'

import {DatabaseCommand} from '../../base-command.js'
import type {SeedResult} from '../../core/db/seeds/index.js'
import {quietFlag} from '../../flags.js'
import {migrationLines} from './migrate.js'
import {renderSeed} from './seed.js'

interface FreshResult {
  database: string
  dry_run: boolean
  dropped: string[]
  migrated: string[]
  seed: SeedResult | null
}

export default class DbFresh extends DatabaseCommand<typeof DbFresh> {
  static faultScope = 'progress' as const
  static hiddenAliases = ['migrate:fresh']
  static summary = 'Drop every table, migrate from scratch, and optionally seed'
  static description =
    'Destroys all data in the database; each migration then gets a progress line on stderr as it runs (none under --json or --quiet). Refused with LAUNDRY_OPS_ENV=production and on a PostgreSQL host other than this machine, unless --force. Artisan alias: `migrate:fresh`.'
  static examples = [
    '<%= config.bin %> <%= command.id %> --seed',
    'DATABASE_URL=postgres://postgres@127.0.0.1:5432/laundry_dev <%= config.bin %> <%= command.id %> --seed --json',
    '<%= config.bin %> <%= command.id %> --dry-run',
  ]
  static flags = {
    seed: Flags.boolean({description: 'seed after migrating (as `db seed`)'}),
    demo: Flags.boolean({description: 'with --seed: seed the demo tenant whatever LAUNDRY_OPS_ENV says', dependsOn: ['seed']}),
    force: Flags.boolean({description: 'allow production and non-local PostgreSQL hosts'}),
    'dry-run': Flags.boolean({default: false, description: 'list the tables that would be dropped; change nothing'}),
    quiet: quietFlag,
  }

  async run(): Promise<FreshResult> {
    const config = await this.loadConfig()
    const {assertDestructiveAllowed} = await import('../../core/db/guards.js')
    assertDestructiveAllowed(config, this.flags.force, 'drop every table')
    const {dropAllTables, listTables, migrate} = await import('../../core/db/migrator.js')
    if (this.flags['dry-run']) {
      // A dry run creates nothing: a missing SQLite file has no table to drop.
      const missing = config.database.client === 'sqlite' && !existsSync(config.database.filename)
      const tables = missing ? [] : await listTables(await this.openDatabase(config))
      const result: FreshResult = {database: config.database.display, dry_run: true, dropped: tables, migrated: [], seed: null}
      if (!this.jsonEnabled()) {
        this.log(`Would drop ${tables.length} table(s) of ${result.database}, then run every migration; nothing was changed (--dry-run).`)
      }
      return result
    }
    const db = await this.openDatabase(config, {create: true})
    const {interruptedBy} = await import('../../core/db/faults.js')
    const progress = await this.progress({title: 'db fresh', unit: 'migrations', closingLine: false}, config)
    let stage: 'drop' | 'migrate' | 'seed' = 'drop'
    try {
      const dropped = await dropAllTables(db)
      this.note(`Dropped ${dropped.length} table(s).`)
      stage = 'migrate'
      const migration = await migrate(db, {onProgress: migrationLines(progress)}).then(
        async (applied) => {
          await progress.end()
          return applied
        },
        async (error: unknown) => {
          await progress.end('failed')
          throw error
        },
      )
      this.note(`Applied ${migration.migrated.length} migration(s).`)
      // storage/app and storage/logs, which `readiness check` requires (Laravel ships them in its repository).
      const {ensureStorageFolders} = await import('../../core/storage/layout.js')
      const storage = ensureStorageFolders(config.storage)
      if (storage.error) this.note(`note: ${storage.error}; \`readiness check\` will fail until it exists and is writable`)
      let seed: SeedResult | null = null
      if (this.flags.seed) {
        stage = 'seed'
        const {seedDatabase} = await import('../../core/db/seeds/index.js')
        seed = await seedDatabase(db, {env: config.env, demo: this.flags.demo})
      }
      const result: FreshResult = {database: db.target.display, dry_run: false, dropped, migrated: migration.migrated, seed}
      if (!this.jsonEnabled()) {
        this.log(`Fresh schema in ${result.database}: ${dropped.length} table(s) dropped, ${migration.migrated.length} migration(s) applied.`)
        if (seed) renderSeed(this, seed)
      }
      return result
    } catch (error) {
      // Three transactions: a fault leaves the database after the last one that committed.
      const bin = this.config.bin
      throw interruptedBy(
        error,
        db.target,
        stage === 'drop'
          ? {done: 'nothing was changed (the drop was rolled back)', next: `rerun \`${bin} db fresh\``}
          : stage === 'migrate'
            ? {
                done: 'every table was dropped',
                notDone: 'no migration was applied (rolled back)',
                next: `run \`${bin} db migrate\`${this.flags.seed ? ` and \`${bin} db seed\`` : ''}`,
              }
            : {
                done: 'every table was dropped and every migration applied',
                notDone: 'the seed data was not written (rolled back)',
                next: `run \`${bin} db seed\``,
              },
      )
    }
  }
}
