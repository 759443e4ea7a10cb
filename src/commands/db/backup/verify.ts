import {Args, Flags} from '@oclif/core'

import {DatabaseCommand} from '../../../base-command.js'

interface VerifyDocument {
  file: string
  ok: true
  engine: 'sqlite' | 'pg'
  created_at: string
  tables: number
  rows: number
  checks: string[]
}

export default class DbBackupVerify extends DatabaseCommand<typeof DbBackupVerify> {
  static faultScope = 'reads' as const
  static summary = 'Check a backup completely without restoring it'
  static description =
    "Reads the manifest beside FILE, checks the file's size and sha256, decrypts it (every age chunk is authenticated) and checks the content's sha256; then SQLite: integrity_check and every table's row count and checksum against the manifest; PostgreSQL: pg_restore reads the archive and finds every table. Decrypts with --identity (an age identity file) or LAUNDRY_OPS_BACKUP_PASSPHRASE. Exit 0 when everything holds, 1 when the file is damaged or the key is wrong, 2 when no key was given. Does not open the database."
  static examples = [
    '<%= config.bin %> <%= command.id %> storage/backups/laundry-ops-pg-20261202T013000Z.dump.age --identity /secure/backup-key.txt',
    'LAUNDRY_OPS_BACKUP_PASSPHRASE=… <%= config.bin %> <%= command.id %> storage/backups/laundry-ops-sqlite-20261202T013000Z.sqlite.age --json',
  ]
  static args = {
    file: Args.string({required: true, description: 'the backup file (or its .manifest.json)'}),
  }
  static flags = {
    identity: Flags.string({description: 'age identity file (AGE-SECRET-KEY-1…, from age-keygen); or LAUNDRY_OPS_BACKUP_IDENTITY'}),
  }

  async run(): Promise<VerifyDocument> {
    const {backupKeys} = await import('../../../core/backup/keys.js')
    const {readEnvironment} = await import('../../../core/config.js')
    const env = readEnvironment(process.cwd(), process.env)
    const keys = backupKeys(env, this.flags.identity)
    const {verifyBackup} = await import('../../../core/backup/restore.js')
    const result = await verifyBackup(this.args.file, keys, {env, onProgress: (m) => this.note(m)})
    const tables = Object.values(result.manifest.tables)
    const doc: VerifyDocument = {
      file: result.file,
      ok: true,
      engine: result.manifest.engine,
      created_at: result.manifest.created_at,
      tables: tables.length,
      rows: tables.reduce((n, t) => n + t.rows, 0),
      checks: result.checks,
    }
    if (!this.jsonEnabled()) {
      for (const c of doc.checks) this.log(`  ok  ${c}`)
      this.log(`Backup verified: ${doc.file} (${doc.engine}, made ${doc.created_at}, ${doc.tables} tables, ${doc.rows} rows).`)
    }
    return doc
  }
}
