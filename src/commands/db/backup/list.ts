import path from 'node:path'

import {Flags} from '@oclif/core'

import {DatabaseCommand} from '../../../base-command.js'
import {formatBytes} from '../backup.js'

interface ListedDocument {
  folder: string
  backups: Array<{
    file: string
    created_at: string | null
    engine: 'sqlite' | 'pg' | null
    bytes: number
    encryption: 'x25519' | 'passphrase' | 'none' | null
    tables: number | null
    rows: number | null
    migrations: number | null
    tool_version: string | null
    problem: string | null
  }>
}

export default class DbBackupList extends DatabaseCommand<typeof DbBackupList> {
  static faultScope = 'reads' as const
  static summary = 'List the backups `db backup` wrote, newest first'
  static description =
    "Reads the backup folder (<storage>/backups, or --output) and each backup's manifest. Only files `db backup` wrote are listed; a backup whose manifest is missing or unreadable is listed with the problem (it can be neither verified nor restored). Does not open the database."
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --output /var/backups/laundry --json']
  static flags = {
    output: Flags.string({description: 'the backup folder (default: <storage>/backups)'}),
  }

  async run(): Promise<ListedDocument> {
    const config = await this.loadConfig()
    const folder = path.resolve(this.flags.output ?? path.join(config.storage, 'backups'))
    const {listBackups} = await import('../../../core/backup/retention.js')
    const listed = listBackups(folder)
    const doc: ListedDocument = {
      folder,
      backups: listed.map((b) => {
        const tables = b.manifest ? Object.values(b.manifest.tables) : null
        return {
          file: b.file,
          created_at: b.manifest?.created_at ?? null,
          engine: b.manifest?.engine ?? null,
          bytes: b.bytes,
          encryption: b.manifest?.file.encryption ?? null,
          tables: tables?.length ?? null,
          rows: tables ? tables.reduce((n, t) => n + t.rows, 0) : null,
          migrations: b.manifest?.schema.migrations ?? null,
          tool_version: b.manifest?.tool.version ?? null,
          problem: b.problem,
        }
      }),
    }
    if (!this.jsonEnabled()) {
      if (doc.backups.length === 0) {
        const {existsSync} = await import('node:fs')
        this.log(existsSync(folder) ? `No backups in ${folder}.` : `No backups: ${folder} does not exist (check --output or LAUNDRY_OPS_STORAGE).`)
      } else {
        const {renderTable} = await import('../../../render/table.js')
        this.log(`Backups in ${folder}:`)
        this.log(
          renderTable(
            ['Backup', 'Created', 'Engine', 'Size', 'Encryption', 'Tables', 'Rows'],
            doc.backups.map((b) => [
              path.basename(b.file),
              b.created_at ?? 'no manifest',
              b.engine ?? '',
              formatBytes(b.bytes),
              b.encryption ?? '',
              b.tables ?? '',
              b.rows ?? '',
            ]),
          ),
        )
        for (const b of doc.backups.filter((x) => x.problem)) this.log(`${path.basename(b.file)}: ${b.problem}`)
      }
    }
    return doc
  }
}
