import {Flags} from '@oclif/core'

import {boundedInteger} from '../../flags.js'
import {LIMITS} from '../../core/limits.js'
import {DatabaseCommand} from '../../base-command.js'
import type {SlotRecord} from '../../core/scheduler/runner.js'

interface HistoryEntry extends SlotRecord {
  task: string
  slot: string
}

export default class ScheduleHistory extends DatabaseCommand<typeof ScheduleHistory> {
  static faultScope = 'reads' as const
  static summary = 'What the scheduler did, minute by minute: which runner ran which task, and how it ended'
  static description = `Reads the scheduler's ledger (one row per task and minute in Laravel's cache table, kept 7 days), newest first: the runner (host:pid) that claimed the minute, the status (running, done, failed, skipped and why), the exit code and the duration, and a run whose lease another runner took over while it ran (lease_lost, lost_to). A "running" entry whose runner is gone is a run that was killed; its lease is taken over once it expires. Exit 0 (also when nothing is recorded).`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --task audit-archive --limit 7',
    '<%= config.bin %> <%= command.id %> --status failed --json',
  ]
  static flags = {
    task: Flags.string({description: 'only this task'}),
    status: Flags.string({description: 'only entries with this status', options: ['running', 'done', 'failed', 'skipped']}),
    limit: boundedInteger(LIMITS.entries, {default: 50, description: 'at most this many entries'}),
  }

  async run(): Promise<{entries: HistoryEntry[]}> {
    const config = await this.loadConfig()
    const {requireExistingDatabase} = await import('../../core/scheduler/setup.js')
    requireExistingDatabase(config)
    const db = await this.openDatabase(config)
    const {slotRecords} = await import('../../core/scheduler/runner.js')
    if (!(await db.knex.schema.hasTable('cache'))) {
      const {OpsError} = await import('../../core/errors.js')
      throw new OpsError('NOT_MIGRATED', 'the database has no cache table (the scheduler ledger lives there): run `laundry-ops db migrate` first')
    }
    const entries = (await slotRecords(db, config.cachePrefix, this.flags.task))
      .filter((r) => !this.flags.status || r.record.status === this.flags.status)
      .slice(0, this.flags.limit)
      .map((r) => ({task: r.task, slot: r.slot, ...r.record}))
    if (!this.jsonEnabled()) {
      if (entries.length === 0) {
        this.log(`No scheduler runs recorded${this.flags.task ? ` for ${this.flags.task}` : ''}.`)
      } else {
        const {renderTable} = await import('../../render/table.js')
        const minute = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)}`
        const seconds = (e: HistoryEntry) => (e.finished_at ? `${((Date.parse(e.finished_at) - Date.parse(e.started_at)) / 1000).toFixed(1)}s` : '')
        const detail = (e: HistoryEntry) =>
          [
            e.reason,
            e.exit_code !== undefined ? `exit ${e.exit_code}` : '',
            e.took_over_from ? `took over ${e.took_over_from}` : '',
            e.lease_lost ? `lost its lease to ${e.lost_to ?? 'another runner'}` : '',
            e.holder ? `held by ${e.holder}` : '',
          ]
            .filter(Boolean)
            .join(', ')
        this.log(
          renderTable(
            ['Minute (UTC)', 'Task', 'Status', 'Runner', 'Took', 'Detail'],
            entries.map((e) => [minute(e.slot), e.task, e.status, e.runner, seconds(e), detail(e)]),
          ),
        )
      }
    }
    return {entries}
  }
}
