import {Args, Flags} from '@oclif/core'

import {DatabaseCommand} from '../../base-command.js'

interface RestoreDocument {
  file: string
  database: string
  dry_run: boolean
  replaced: boolean
  created_at: string
  tables: number
  rows: number
  checks: string[]
  extra_tables: string[]
}

export default class DbRestore extends DatabaseCommand<typeof DbRestore> {
  static faultScope = 'transaction' as const
  static summary = 'Restore a backup: verified first, all or nothing'
  static description =
    "Verifies the whole backup first (manifest, key, sha256, every age chunk, the content) and only then restores it: into an empty database, or over one that holds tables only with --force. SQLite: the verified copy is written beside the database file and renamed over it (stop serve, queue work and schedule work first). PostgreSQL: pg_restore --single-transaction --no-owner --no-privileges (with --clean --if-exists over existing tables), fed the decrypted stream; a failed or killed restore rolls back. Afterwards every table's row count and checksum are compared with the manifest. --dry-run does every check and changes nothing."
  static examples = [
    '<%= config.bin %> <%= command.id %> storage/backups/laundry-ops-sqlite-20261202T013000Z.sqlite.age --identity key.txt --database-url sqlite:/tmp/drill.sqlite',
    '<%= config.bin %> <%= command.id %> laundry-ops-pg-20261202T013000Z.dump.age --identity key.txt --dry-run',
    'DATABASE_URL=postgres://postgres@127.0.0.1/laundry <%= config.bin %> <%= command.id %> laundry-ops-pg-20261202T013000Z.dump.age --identity key.txt --force --json',
  ]
  static args = {
    file: Args.string({required: true, description: 'the backup file (or its .manifest.json)'}),
  }
  static flags = {
    identity: Flags.string({description: 'age identity file (AGE-SECRET-KEY-1…, from age-keygen); or LAUNDRY_OPS_BACKUP_IDENTITY'}),
    force: Flags.boolean({description: 'replace the content of a database that holds tables'}),
    'dry-run': Flags.boolean({description: 'verify the backup and check the target; change nothing'}),
  }

  async run(): Promise<RestoreDocument> {
    const config = await this.loadConfig()
    const {backupKeys} = await import('../../core/backup/keys.js')
    const {readEnvironment} = await import('../../core/config.js')
    const env = readEnvironment(process.cwd(), process.env)
    const keys = backupKeys(env, this.flags.identity)
    const {restoreBackup} = await import('../../core/backup/restore.js')
    const result = await restoreBackup(config.database, this.args.file, keys, {
      force: this.flags.force,
      dryRun: this.flags['dry-run'],
      env,
      onProgress: (m) => this.note(m),
    })
    const tables = Object.values(result.manifest.tables)
    const doc: RestoreDocument = {
      file: result.file,
      database: result.database,
      dry_run: result.dryRun,
      replaced: result.replaced,
      created_at: result.manifest.created_at,
      tables: tables.length,
      rows: tables.reduce((n, t) => n + t.rows, 0),
      checks: result.checks,
      extra_tables: result.extraTables,
    }
    if (!this.jsonEnabled()) {
      for (const c of doc.checks) this.log(`  ok  ${c}`)
      if (doc.extra_tables.length > 0) this.note(`warning: tables not in the backup were left in place: ${doc.extra_tables.join(', ')}`)
      this.log(
        doc.dry_run
          ? `Dry run: ${doc.file} is sound and would be restored into ${doc.database}${doc.replaced ? ' over its existing tables (--force)' : ''}; nothing was changed.`
          : `Restored ${doc.file} (made ${doc.created_at}) into ${doc.database}: ${doc.tables} tables, ${doc.rows} rows, all matching the manifest.`,
      )
    }
    return doc
  }
}
