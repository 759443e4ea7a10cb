import {checkedString, uuidFlag} from '../../flags.js'
import {assertTenantId} from '../../core/domain/id-input.js'
import {parseSince} from '../../core/incidents/window.js'
import {DatabaseCommand} from '../../base-command.js'
import type {WaStatusReport} from '../../core/incidents/wa-status.js'

/** A number of seconds as the largest two units: `3d 4h`, `5m 10s`. */
function age(seconds: number): string {
  const parts: string[] = []
  let rest = seconds
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size)
    if (n > 0 || (unit === 's' && parts.length === 0)) parts.push(`${n}${unit}`)
    rest -= n * size
  }
  return parts.slice(0, 2).join(' ')
}

export default class WaStatus extends DatabaseCommand<typeof WaStatus> {
  static faultScope = 'reads' as const
  static summary = 'WhatsApp status per tenant: provider config, queued backlog, failed messages by reason code'
  static description = `Runbook incident helper for "many WA failures" (no upstream command): per tenant, the active provider config (else the most recently updated one, shown inactive), the queued messages with the age of the oldest, and the failed messages updated in the window (--since, default 24h back from now, UTC) by last_error_code; then the messaging queue's jobs (waiting, delayed, reserved; all tenants: a job's tenant is inside its payload). Tenants with nothing queued and nothing failed in the window are left out unless --tenant names one. Only reads.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --since 1h',
    '<%= config.bin %> <%= command.id %> --tenant 0195f3a0-0000-7000-8000-000000000001 --json',
  ]
  static flags = {
    since: checkedString(parseSince)({default: '24h', description: 'failed messages updated in this window back from now: 30s, 15m, 1h, 2d, 1w'}),
    tenant: uuidFlag(assertTenantId, 'only this tenant (UUID); shown even with nothing to show'),
  }

  async run(): Promise<WaStatusReport> {
    const config = await this.loadConfig()
    const db = await this.openDatabase(config)
    const {waStatusReport} = await import('../../core/incidents/wa-status.js')
    const report = await waStatusReport(db, {since: this.flags.since, tenant: this.flags.tenant}, {now: () => new Date()})
    if (!this.jsonEnabled()) await this.render(report)
    return report
  }

  private async render(report: WaStatusReport): Promise<void> {
    const {renderTable} = await import('../../render/table.js')
    const w = report.window
    this.log(`WhatsApp status; failed messages updated from ${w.from} to ${w.to} UTC (--since ${w.since})${report.tenant ? `, tenant ${report.tenant}` : ''}`)
    if (report.tenants.length === 0) {
      this.log('No tenant has queued messages or failed messages in the window.')
    } else {
      this.log('')
      this.log(
        renderTable(
          ['Tenant', 'Provider', 'Active', 'Config updated', 'Queued', 'Oldest queued', 'Failed', 'Failed by reason'],
          report.tenants.map((t) => [
            `${t.tenant_name ?? '?'} (${t.tenant_id})`,
            t.provider?.key ?? '(none)',
            t.provider ? (t.provider.is_active ? 'yes' : 'no') : 'no',
            t.provider?.updated_at ?? '',
            t.queued,
            t.oldest_queued_age_seconds === null ? '' : `${age(t.oldest_queued_age_seconds)} ago`,
            t.failed,
            t.failed_by_code.map((f) => `${f.last_error_code ?? '(none)'}=${f.count}`).join(', '),
          ]),
        ),
      )
      this.log('')
    }
    const j = report.jobs
    this.log(
      `WA status summary: tenants=${report.tenants.length}, queued=${report.totals.queued}, failed=${report.totals.failed}, messaging_jobs_waiting=${j.waiting}, messaging_jobs_delayed=${j.delayed}, messaging_jobs_reserved=${j.reserved}, since=${w.since}`,
    )
  }
}
