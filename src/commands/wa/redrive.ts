import {Flags} from '@oclif/core'

import {boundedInteger, quietFlag, uuidFlag} from '../../flags.js'
import {assertTenantId} from '../../core/domain/id-input.js'
import {LIMITS} from '../../core/limits.js'
import {DatabaseCommand} from '../../base-command.js'
import type {RedriveResult} from '../../core/messaging/redrive.js'

/** Progress is shown from this many candidates up (`wa remind` too). */
export const PROGRESS_FROM = 200

export default class WaRedrive extends DatabaseCommand<typeof WaRedrive> {
  static faultScope = 'progress' as const
  static hiddenAliases = ['ops:wa:redrive-failed', 'wa:redrive-failed']
  static summary = 'Requeue failed WA messages and dispatch send jobs'
  static description = `Selects failed WhatsApp messages (oldest updated first) whose last error is retryable (NETWORK_ERROR, RATE_LIMIT, UNKNOWN_ERROR, PROVIDER_TIMEOUT by default), resets each to queued with attempts 0, records manual_redrive_at in its metadata, and queues its send job on the messaging queue, the reset and the job in one transaction. The summary appends requeued=N (a message changed by another process meanwhile is skipped); --dry-run reports the same. From 200 candidates up, progress goes to stderr unless --json or --quiet. Artisan alias: \`ops:wa:redrive-failed\`.`
  static examples = [
    '<%= config.bin %> <%= command.id %> --dry-run',
    '<%= config.bin %> <%= command.id %> --limit 100',
    '<%= config.bin %> <%= command.id %> --tenant 0195f3a0-0000-7000-8000-000000000001 --reason PHONE_INVALID --reason EMPTY_MESSAGE',
    '<%= config.bin %> <%= command.id %> --all-reasons --json',
  ]
  static flags = {
    tenant: uuidFlag(assertTenantId, 'only this tenant (UUID)'),
    limit: boundedInteger(LIMITS.candidates, {default: 200, description: 'at most this many messages'}),
    reason: Flags.string({multiple: true, description: 'only these last_error_code values (repeatable)'}),
    'all-reasons': Flags.boolean({description: 'any reason code (ignored when --reason is given)'}),
    'dry-run': Flags.boolean({default: false, description: 'print the candidates; change nothing'}),
    quiet: quietFlag,
  }

  async run(): Promise<RedriveResult> {
    const config = await this.loadConfig()
    const db = await this.openDatabase(config)
    const {redriveFailedMessages} = await import('../../core/messaging/redrive.js')
    // A few hundred candidates take a while (one transaction each); fewer are done before a line would help.
    const progress = await this.progress({title: 'wa redrive', unit: 'messages', minTotal: PROGRESS_FROM}, config)
    let result: RedriveResult
    try {
      result = await redriveFailedMessages(db, {
        tenant: this.flags.tenant,
        limit: this.flags.limit,
        reasons: this.flags.reason ?? [],
        allReasons: this.flags['all-reasons'],
        dryRun: this.flags['dry-run'],
        clock: {now: () => new Date()},
        onProgress: (done, total) => progress.update(done, total),
      })
    } catch (error) {
      await progress.end('failed')
      throw error
    }
    await progress.end()
    if (!this.jsonEnabled()) {
      if (result.processed === 0) {
        this.log('No failed WA messages matched for redrive.')
      } else {
        for (const c of result.candidates) {
          this.log(
            `Candidate: ${c.id} ${c.last_error_code ?? ''} attempts=${c.attempts}${!result.dry_run && !c.requeued ? ' (changed meanwhile; skipped)' : ''}`,
          )
        }
        this.log(`Redrive summary: processed=${result.processed}, dry_run=${result.dry_run ? 'yes' : 'no'}, requeued=${result.requeued}`)
      }
    }
    return result
  }
}
