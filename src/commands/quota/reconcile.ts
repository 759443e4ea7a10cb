import {Flags} from '@oclif/core'

import {DatabaseCommand} from '../../base-command.js'
import {assertTenantId} from '../../core/domain/id-input.js'
import {periodWindow} from '../../core/quota/period.js'
import {checkedArg, quietFlag, uuidFlag} from '../../flags.js'
import type {ReconcileResult} from '../../core/quota/reconcile.js'

export default class QuotaReconcile extends DatabaseCommand<typeof QuotaReconcile> {
  static faultScope = 'transaction' as const
  static hiddenAliases = ['ops:quota:reconcile']
  static summary = 'Rebuild quota_usage values from orders per period'
  static description = `Counts each tenant's orders created in the period (the exact UTC calendar month) with one aggregate query and writes quota_usage.orders_used, creating the row when a tenant has none; rows that already hold the right count are left as they are. Progress (the count, then the rows written) goes to stderr unless --json or --quiet. The summary tells updated, created and unchanged rows apart, and --dry-run reports the same counts without writing. The period defaults to the current UTC month and must be YYYY-MM with month 01-12 and a year from 1970 to 9999. Artisan alias: \`ops:quota:reconcile\`.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> 2026-02 --dry-run',
    '<%= config.bin %> <%= command.id %> 2026-02 --tenant 0195f3a0-0000-7000-8000-000000000001 --json',
  ]
  static args = {period: checkedArg(periodWindow)({description: 'YYYY-MM (default: the current UTC month)'})}
  static flags = {
    tenant: uuidFlag(assertTenantId, 'only this tenant (UUID)'),
    'dry-run': Flags.boolean({default: false, description: 'only show the calculated usage; write nothing'}),
    quiet: quietFlag,
  }

  async run(): Promise<ReconcileResult> {
    const [{reconcileQuota}, {describeCount}] = await Promise.all([import('../../core/quota/reconcile.js'), import('../../render/progress.js')])
    const config = await this.loadConfig()
    const db = await this.openDatabase(config)
    const counting = 'counting the orders per tenant'
    const progress = await this.progress(
      {
        title: 'quota reconcile',
        unit: 'tenants',
        describe: (state) => (state.phase === counting && state.total === null ? `${counting}…` : describeCount(state, 'tenants')),
      },
      config,
    )
    let result: ReconcileResult
    try {
      result = await reconcileQuota(db, {
        period: this.args.period,
        tenant: this.flags.tenant,
        dryRun: this.flags['dry-run'],
        clock: {now: () => new Date()},
        onProgress: (done, total, phase) => progress.update(done, total, phase === 'count' ? counting : 'writing quota_usage'),
      })
    } catch (error) {
      await progress.end('failed')
      throw error
    }
    await progress.end()
    if (!this.jsonEnabled()) {
      if (result.tenants.length === 0) this.warn('No tenants matched for reconciliation.')
      for (const t of result.tenants) this.log(`Tenant ${t.name} (${t.id}) -> ${t.orders}`)
      this.log(
        `Quota reconcile summary: period=${result.period}, tenants=${result.tenants.length}, updated=${result.updated}, dry_run=${result.dry_run ? 'yes' : 'no'}, created=${result.created}, unchanged=${result.unchanged}`,
      )
    }
    return result
  }
}
