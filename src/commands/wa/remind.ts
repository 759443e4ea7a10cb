import {Flags} from '@oclif/core'

import {boundedInteger, checkedString, quietFlag, uuidFlag} from '../../flags.js'
import {assertOutletId, assertTenantId} from '../../core/domain/id-input.js'
import {assertBuckets, assertCollectionStatuses, parseAsOf} from '../../core/messaging/reminder-input.js'
import {LIMITS} from '../../core/limits.js'
import {DatabaseCommand} from '../../base-command.js'
import type {AgingReminderResult} from '../../core/messaging/aging-reminders.js'
import {PROGRESS_FROM} from './redrive.js'

export default class WaRemind extends DatabaseCommand<typeof WaRemind> {
  static faultScope = 'progress' as const
  static hiddenAliases = ['ops:wa:send-aging-reminders', 'wa:send-aging-reminders']
  static summary = 'Send WhatsApp billing reminders based on aging bucket and collection workflow'
  static description = `Orders with money due, in the chosen collection statuses (a missing status counts as pending), are bucketed by age on the as-of date (d0_7, d8_14, d15_30, d31_plus) and get one WA_BILLING_REMINDER each per as-of date and bucket. The summary tells enqueued, already_sent (a message for that day and bucket exists) and skipped (with reasons, e.g. plan_not_eligible) apart; --dry-run takes the same decisions and reports the same counts without enqueueing. From 200 candidates up, progress goes to stderr unless --json or --quiet. Artisan alias: \`ops:wa:send-aging-reminders\`.`
  static examples = [
    '<%= config.bin %> <%= command.id %> --dry-run',
    '<%= config.bin %> <%= command.id %> --limit 100',
    '<%= config.bin %> <%= command.id %> --bucket d8_14 --bucket d15_30 --as-of 2026-02-17',
    '<%= config.bin %> <%= command.id %> --collection-status resolved --tenant 0195f3a0-0000-7000-8000-000000000001 --json',
  ]
  static flags = {
    tenant: uuidFlag(assertTenantId, 'only this tenant (UUID)'),
    outlet: uuidFlag(assertOutletId, 'only this outlet (UUID)'),
    bucket: checkedString((value) => assertBuckets([value]))({
      multiple: true,
      description: 'd0_7, d8_14, d15_30 or d31_plus (repeatable; default all)',
    }),
    'collection-status': checkedString((value) => assertCollectionStatuses([value]))({
      multiple: true,
      description: 'pending, contacted, promise_to_pay, escalated or resolved (repeatable; default all but resolved)',
    }),
    'as-of': checkedString(parseAsOf)({description: 'the day to age against, YYYY-MM-DD (default: today, UTC)'}),
    limit: boundedInteger(LIMITS.candidates, {default: 200, description: 'at most this many candidates'}),
    'dry-run': Flags.boolean({default: false, description: 'list the candidates; enqueue nothing'}),
    quiet: quietFlag,
  }

  async run(): Promise<AgingReminderResult> {
    const config = await this.loadConfig()
    const {sendAgingReminders} = await import('../../core/messaging/aging-reminders.js')
    const db = await this.openDatabase(config)
    const progress = await this.progress({title: 'wa remind', unit: 'candidates', minTotal: PROGRESS_FROM}, config)
    let result: AgingReminderResult
    try {
      result = await sendAgingReminders(db, {
        tenant: this.flags.tenant,
        outlet: this.flags.outlet,
        buckets: this.flags.bucket,
        collectionStatuses: this.flags['collection-status'],
        asOf: this.flags['as-of'],
        limit: this.flags.limit,
        dryRun: this.flags['dry-run'],
        clock: {now: () => new Date()},
        brandName: config.appName,
        // The count of the candidates costs a query: only when there is a display to feed.
        onProgress: this.jsonEnabled() || this.flags.quiet ? undefined : (done, total) => progress.update(done, total),
      })
    } catch (error) {
      await progress.end('failed')
      throw error
    }
    await progress.end()
    if (!this.jsonEnabled()) {
      result.candidates.forEach((c, i) => {
        const outcome = ` -> ${result.dry_run ? 'would be ' : ''}${c.outcome}${c.reason ? ` (${c.reason})` : ''}`
        this.log(`Candidate ${i + 1}: ${c.order_code} due=${c.due_amount} bucket=${c.bucket} age=${c.age_days}d${outcome}`)
      })
      const reasons = Object.entries(result.skipped_reasons).map(([reason, n]) => `${reason}=${n}`)
      if (reasons.length > 0) this.log(`Skipped: ${reasons.join(', ')}`)
      this.log(
        `Aging reminder summary: processed=${result.processed}, enqueued=${result.enqueued}, skipped=${result.skipped}, dry_run=${result.dry_run ? 'yes' : 'no'}, as_of=${result.as_of}, already_sent=${result.already_sent}`,
      )
    }
    return result
  }
}
