import {boundedInteger, checkedString, uuidFlag} from '../../flags.js'
import {assertTenantId} from '../../core/domain/id-input.js'
import {parseSince} from '../../core/incidents/window.js'
import {LIMITS} from '../../core/limits.js'
import {DatabaseCommand} from '../../base-command.js'
import type {FailedLoginGroup, FailedLoginReport} from '../../core/incidents/logins.js'

export default class AuditLogins extends DatabaseCommand<typeof AuditLogins> {
  static faultScope = 'reads' as const
  static summary = 'Failed logins (AUTH_LOGIN_FAILED) of the last hour by account and by IP'
  static description = `Runbook incident helper (no upstream command): the AUTH_LOGIN_FAILED audit events whose created_at is in the window (--since back from now, UTC) grouped by account (the email the event records) and by IP address, most first (ties by account / IP), each with its count and first / last seen; totals count the whole window. Without --tenant, events of every tenant and of unknown emails (no tenant) are counted. Only reads.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --since 15m --limit 10',
    '<%= config.bin %> <%= command.id %> --since 2d --tenant 0195f3a0-0000-7000-8000-000000000001 --json',
  ]
  static flags = {
    since: checkedString(parseSince)({default: '1h', description: 'the window back from now: 30s, 15m, 1h, 2d, 1w'}),
    tenant: uuidFlag(assertTenantId, 'only this tenant (UUID)'),
    limit: boundedInteger(LIMITS.groups, {default: 20, description: 'at most this many rows per table'}),
  }

  async run(): Promise<FailedLoginReport> {
    const config = await this.loadConfig()
    const db = await this.openDatabase(config)
    const {failedLoginReport} = await import('../../core/incidents/logins.js')
    const report = await failedLoginReport(db, {since: this.flags.since, tenant: this.flags.tenant, limit: this.flags.limit}, {now: () => new Date()})
    if (!this.jsonEnabled()) await this.render(report)
    return report
  }

  private async render(report: FailedLoginReport): Promise<void> {
    const {renderTable} = await import('../../render/table.js')
    const w = report.window
    this.log(`Failed logins (AUTH_LOGIN_FAILED) from ${w.from} to ${w.to} UTC (--since ${w.since})${report.tenant ? `, tenant ${report.tenant}` : ''}`)
    if (report.totals.events === 0) {
      this.log('No failed logins in the window.')
    } else {
      const rows = (groups: FailedLoginGroup[], none: string) => groups.map((g) => [g.key ?? none, g.count, g.first_seen, g.last_seen])
      this.log('')
      this.log(renderTable(['Account', 'Failed', 'First seen', 'Last seen'], rows(report.by_account, '(no email)')))
      if (report.totals.accounts > report.by_account.length) this.log(`… ${report.totals.accounts - report.by_account.length} more account(s) (--limit)`)
      this.log('')
      this.log(renderTable(['IP', 'Failed', 'First seen', 'Last seen'], rows(report.by_ip, '(no IP)')))
      if (report.totals.ips > report.by_ip.length) this.log(`… ${report.totals.ips - report.by_ip.length} more IP(s) (--limit)`)
      this.log('')
    }
    this.log(`Failed login summary: events=${report.totals.events}, accounts=${report.totals.accounts}, ips=${report.totals.ips}, since=${w.since}`)
  }
}
