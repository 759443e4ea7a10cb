import path from 'node:path'

import {Flags} from '@oclif/core'

import {DatabaseCommand} from '../../base-command.js'
import type {BackupResult} from '../../core/backup/backup.js'
import type {PrunedBackup} from '../../core/backup/retention.js'
import {LIMITS} from '../../core/limits.js'
import {boundedInteger} from '../../flags.js'

interface BackupPlan {
  dry_run: true
  database: string
  folder: string
  encryption: 'x25519' | 'passphrase' | 'none'
  would_prune: PrunedBackup[]
}

interface BackupDocument {
  dry_run: false
  file: string
  manifest_file: string
  engine: 'sqlite' | 'pg'
  bytes: number
  sha256: string
  encryption: 'x25519' | 'passphrase' | 'none'
  tables: number
  rows: number
  duration_ms: number
  pruned: PrunedBackup[]
}

export default class DbBackup extends DatabaseCommand<typeof DbBackup> {
  static faultScope = 'reads' as const
  static summary = 'Back up the database: encrypted (age), with a manifest, old backups pruned'
  static description = `A full, consistent backup while the API and workers write: SQLite through the online backup API, PostgreSQL through pg_dump --format=custom (the PostgreSQL client of the server's version must be on PATH, or in LAUNDRY_OPS_PG_BIN). Streamed end to end, encrypted in the age format to LAUNDRY_OPS_BACKUP_RECIPIENT (age1…: the server holds no key that reads its backups) or with LAUNDRY_OPS_BACKUP_PASSPHRASE; without either it refuses unless --no-encrypt. The file goes to <storage>/backups/ (or --output), with <file>.manifest.json beside it: engine, server version, the migrations ledger, each table's row count and content checksum, the file's sha256, the tool version, the time. Afterwards, backups older than --keep-days are deleted: only files this command wrote, never the newest. Decrypt by hand with \`age -d -i key.txt FILE\`.`
  static examples = [
    '<%= config.bin %> <%= command.id %> --output /var/backups/laundry --keep-days 14 --json',
    'LAUNDRY_OPS_BACKUP_RECIPIENT=age1… <%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --no-encrypt --output /tmp/drill',
  ]
  static flags = {
    output: Flags.string({description: 'folder for the backup and its manifest (default: <storage>/backups)'}),
    'keep-days': boundedInteger(LIMITS.keepDays, {default: 7, description: 'after a successful backup, delete backups older than this many days'}),
    'no-encrypt': Flags.boolean({description: 'write the backup in the clear (no LAUNDRY_OPS_BACKUP_RECIPIENT / _PASSPHRASE needed)'}),
    'dry-run': Flags.boolean({description: 'check the key, the tools and the folder, and list what retention would delete; write nothing'}),
  }

  async run(): Promise<BackupDocument | BackupPlan> {
    const config = await this.loadConfig()
    const {backupEncryption} = await import('../../core/backup/keys.js')
    // LAUNDRY_OPS_BACKUP_* and LAUNDRY_OPS_PG_BIN may come from .env, like every other setting.
    const {readEnvironment} = await import('../../core/config.js')
    const env = readEnvironment(process.cwd(), process.env)
    const encryption = backupEncryption(env, {noEncrypt: this.flags['no-encrypt']})
    const folder = path.resolve(this.flags.output ?? path.join(config.storage, 'backups'))
    // Opening it first gives the usual one-line errors (no such SQLite file, server unreachable).
    await this.openDatabase(config)
    if (encryption.type === 'none' && config.env === 'production') {
      this.note('warning: --no-encrypt in production: this backup holds every customer and account in the clear.')
    }
    if (this.flags['dry-run']) {
      const {checkBackupPreconditions} = await import('../../core/backup/backup.js')
      await checkBackupPreconditions(config.database, folder, env)
      const {pruneBackups} = await import('../../core/backup/retention.js')
      const {existsSync} = await import('node:fs')
      // The run's own backup becomes the newest: every older one is a candidate.
      const wouldPrune = existsSync(folder) ? pruneBackups(folder, {keepDays: this.flags['keep-days'], now: new Date(), dryRun: true, newerComing: true}) : []
      if (!this.jsonEnabled()) {
        this.log(`Would back up ${config.database.display} to ${folder} (${encryption.type === 'none' ? 'not encrypted' : `age, ${encryption.type}`}).`)
        for (const p of wouldPrune) this.log(`Would delete ${p.name} (made ${p.created_at}, older than ${this.flags['keep-days']} days).`)
      }
      return {dry_run: true, database: config.database.display, folder, encryption: encryption.type, would_prune: wouldPrune}
    }
    const {createBackup} = await import('../../core/backup/backup.js')
    const result: BackupResult = await createBackup(config.database, {
      outputDir: folder,
      keepDays: this.flags['keep-days'],
      encryption,
      toolVersion: this.config.version,
      now: () => new Date(),
      env,
      onProgress: (m) => this.note(m),
    })
    const tables = Object.values(result.manifest.tables)
    const doc: BackupDocument = {
      dry_run: false,
      file: result.file,
      manifest_file: result.manifestFile,
      engine: result.manifest.engine,
      bytes: result.manifest.file.bytes,
      sha256: result.manifest.file.sha256,
      encryption: result.manifest.file.encryption,
      tables: tables.length,
      rows: tables.reduce((n, t) => n + t.rows, 0),
      duration_ms: result.manifest.duration_ms,
      pruned: result.pruned,
    }
    if (!this.jsonEnabled()) {
      if (doc.encryption === 'none') this.note('warning: this backup is not encrypted (--no-encrypt): keep it where only operators can read it.')
      this.log(
        `Backup written: ${doc.file} (${formatBytes(doc.bytes)}, ${doc.tables} tables, ${doc.rows} rows, ${doc.encryption === 'none' ? 'not encrypted' : `age ${doc.encryption}`}, ${(doc.duration_ms / 1000).toFixed(1)} s)`,
      )
      this.log(`Manifest: ${doc.manifest_file}`)
      this.log(
        doc.pruned.length === 0
          ? `Retention: nothing older than ${this.flags['keep-days']} days.`
          : `Retention: deleted ${doc.pruned.length} backup(s) older than ${this.flags['keep-days']} days: ${doc.pruned.map((p) => p.name).join(', ')}`,
      )
    }
    return doc
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}
