import {checkedString, uuidFlag} from '../../flags.js'
import {assertTenantId} from '../../core/domain/id-input.js'
import {parseSince} from '../../core/incidents/window.js'
import {DatabaseCommand} from '../../base-command.js'
import type {SyncRejectReport} from '../../core/incidents/sync-rejects.js'

export default class SyncRejects extends DatabaseCommand<typeof SyncRejects> {
  static faultScope = 'reads' as const
  static summary = 'Rejected sync mutations of the last hour by reason code'
  static description = `Runbook incident helper (no upstream command): the mutations the sync push rejected (sync_mutations, status rejected, logged in the window: --since back from now, UTC) grouped by reason code, most first, each with its count, first / last seen, the devices involved (count and the first ${5} ids) and the newest mutation as a sample (id, type, entity, message). The summary adds the applied mutations of the same window and the rejected ratio. Only reads.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --since 10m',
    '<%= config.bin %> <%= command.id %> --since 1d --tenant 0195f3a0-0000-7000-8000-000000000001 --json',
  ]
  static flags = {
    since: checkedString(parseSince)({default: '1h', description: 'the window back from now: 30s, 15m, 1h, 2d, 1w'}),
    tenant: uuidFlag(assertTenantId, 'only this tenant (UUID)'),
  }

  async run(): Promise<SyncRejectReport> {
    const config = await this.loadConfig()
    const db = await this.openDatabase(config)
    const {syncRejectReport} = await import('../../core/incidents/sync-rejects.js')
    const report = await syncRejectReport(db, {since: this.flags.since, tenant: this.flags.tenant}, {now: () => new Date()})
    if (!this.jsonEnabled()) await this.render(report)
    return report
  }

  private async render(report: SyncRejectReport): Promise<void> {
    const {renderTable} = await import('../../render/table.js')
    const w = report.window
    this.log(`Rejected sync mutations from ${w.from} to ${w.to} UTC (--since ${w.since})${report.tenant ? `, tenant ${report.tenant}` : ''}`)
    if (report.reasons.length === 0) {
      this.log('No rejected mutations in the window.')
    } else {
      this.log('')
      this.log(
        renderTable(
          ['Reason', 'Rejected', 'Devices', 'First seen', 'Last seen', 'Sample (id type entity: message)'],
          report.reasons.map((r) => {
            const more = r.devices.count > r.devices.ids.length ? ` +${r.devices.count - r.devices.ids.length}` : ''
            const s = r.sample
            const entity = s?.entity_type ? ` ${s.entity_type}:${s.entity_id ?? ''}` : ''
            return [
              r.reason_code ?? '(none)',
              r.count,
              `${r.devices.count} (${r.devices.ids.map((d) => d.slice(0, 8)).join(', ')}${more})`,
              r.first_seen,
              r.last_seen,
              s ? `#${s.id} ${s.type}${entity}: ${(s.message ?? '').slice(0, 60)}` : '',
            ]
          }),
        ),
      )
      this.log('')
    }
    const {rejected, applied, devices} = report.totals
    const ratio = rejected + applied === 0 ? 0 : Math.round((rejected / (rejected + applied)) * 1000) / 10
    this.log(`Sync reject summary: rejected=${rejected}, applied=${applied}, rejected_ratio=${ratio}%, devices=${devices}, since=${w.since}`)
  }
}
