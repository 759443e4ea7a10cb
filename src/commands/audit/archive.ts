import {Flags} from '@oclif/core'

import {boundedInteger, quietFlag} from '../../flags.js'
import {LIMITS} from '../../core/limits.js'
import {DatabaseCommand} from '../../base-command.js'
import type {ArchiveResult} from '../../core/audit/archive.js'

export default class AuditArchive extends DatabaseCommand<typeof AuditArchive> {
  static faultScope = 'progress' as const
  static hiddenAliases = ['ops:audit:archive']
  static summary = 'Archive old audit events to JSONL and delete the archived rows'
  static description = `Audit events older than --days are written, oldest first, to <storage>/app/audit-archives/audit-events-YYYYMMDD-HHMMSS.jsonl (one JSON object per line, upstream's 12 keys) with a checksum manifest beside it, then deleted. Each chunk is fsynced before its rows are deleted (in batches of up to 100,000 fsynced rows); progress (rows archived of matched, rate, time left; also while an interrupted archive is finished) goes to stderr, a live line on a terminal and a plain line every few seconds otherwise, none under --json or --quiet; a run that was killed is finished by the next run against the same database (an unfinished archive of another database sharing the folder is left alone), so no row is lost or archived twice. --dry-run reports the same counts, including the unfinished archive the run would finish first. Artisan alias: \`ops:audit:archive\`.`
  static examples = [
    '<%= config.bin %> <%= command.id %> --dry-run',
    '<%= config.bin %> <%= command.id %> --days 90',
    '<%= config.bin %> <%= command.id %> --days 30 --channel web --gzip --json',
  ]
  static flags = {
    days: boundedInteger(LIMITS.days, {default: 90, description: 'archive events older than this many days'}),
    chunk: Flags.integer({
      min: 100,
      max: 10_000,
      default: 1000,
      description: 'rows per chunk, 100-10000 (each chunk is written and fsynced; fsynced rows are then deleted in batches)',
    }),
    channel: Flags.string({description: 'only events of this channel (e.g. api, web)'}),
    gzip: Flags.boolean({description: 'write .jsonl.gz (one gzip member per chunk)'}),
    'dry-run': Flags.boolean({
      default: false,
      description: 'count what would be archived (and what an unfinished archive would take first); write and delete nothing',
    }),
    adopt: Flags.string({
      multiple: true,
      description:
        "finish this unfinished archive (a file of the archive folder without manifest) as this database's, though it carries no record of its database (written by laundry-ops 0.1)",
    }),
    quiet: quietFlag,
  }

  async run(): Promise<ArchiveResult> {
    const config = await this.loadConfig()
    const db = await this.openDatabase(config)
    const {archiveAuditEvents} = await import('../../core/audit/archive.js')
    const progress = await this.progress({title: 'audit archive', unit: 'rows'}, config)
    let result: ArchiveResult
    try {
      result = await archiveAuditEvents(db, {
        days: this.flags.days,
        chunk: this.flags.chunk,
        channel: this.flags.channel?.trim(),
        dryRun: this.flags['dry-run'],
        gzip: this.flags.gzip,
        adopt: this.flags.adopt,
        clock: {now: () => new Date()},
        storage: config.storage,
        toolVersion: this.config.version,
        onProgress: (done, total, phase) => progress.update(done, total, phase === 'recover' ? 'finishing an interrupted archive' : undefined),
      })
    } catch (error) {
      await progress.end('failed')
      throw error
    }
    await progress.end()
    if (!this.jsonEnabled()) {
      for (const other of result.left_alone) {
        this.note(`Left alone: the unfinished archive ${other.file} belongs to ${other.database}; an \`audit archive\` run against that database finishes it.`)
      }
      for (const r of result.recovered) {
        this.note(
          result.dry_run
            ? `Would finish the interrupted archive ${r.file}: ${r.rows} rows kept${r.torn_tail ? ' (torn tail cut)' : ''}, ${r.deleted_from_table} left-over rows deleted from the table.`
            : `Finished the interrupted archive ${r.file}: ${r.rows} rows kept${r.torn_tail ? ' (torn tail cut)' : ''}, ${r.deleted_from_table} left-over rows deleted from the table.`,
        )
      }
      if (result.matched === 0 && result.file === null) {
        this.log('No audit events matched for archive.')
      } else {
        this.log(`Archive summary: matched=${result.matched}, archived=${result.archived}, deleted=${result.deleted}, dry_run=${result.dry_run ? 'yes' : 'no'}`)
        if (result.file) this.log(`Archive file: ${result.file}`)
      }
    }
    return result
  }
}
