import {randomUUID} from 'node:crypto'

import {expect} from 'chai'

import {fixedClock, unixSeconds} from '../../../src/core/clock.js'
import type {Database} from '../../../src/core/db/connection.js'
import {uuid7} from '../../../src/core/domain/ids.js'
import type {OpsError} from '../../../src/core/errors.js'
import {waStatusReport} from '../../../src/core/incidents/wa-status.js'
import {describeEachEngine} from '../../helpers/engines.js'
import {ago, otherTenant} from '../../helpers/incidents.js'
import {rejection} from '../../helpers/rejection.js'
import {premiumDemoTenant, type WaTenant} from '../../helpers/wa.js'

const NOW = new Date('2026-03-01T10:00:00Z')
const clock = fixedClock(NOW)

describeEachEngine('wa status: provider config, backlog and failures per tenant', {from: 'seeded', seed: {at: '2026-03-01T09:00:00Z'}}, (ctx) => {
  let db: Database
  let demo: WaTenant
  let other: {tenantId: string}
  let quiet: {tenantId: string}

  function message(tenantId: string, status: string, createdAgo: number, fields: {code?: string | null; updatedAgo?: number} = {}) {
    return {
      id: uuid7(),
      tenant_id: tenantId,
      template_id: 'WA_ORDER_DONE',
      idempotency_key: randomUUID(),
      to_phone: '6281200000000',
      body_text: 'x',
      status,
      attempts: status === 'failed' ? 3 : 0,
      last_error_code: fields.code ?? null,
      created_at: ago(NOW, createdAgo),
      updated_at: ago(NOW, fields.updatedAgo ?? createdAgo),
    }
  }

  before(async () => {
    db = await ctx.scratch.open()
    demo = await premiumDemoTenant(db, fixedClock('2026-03-01T08:00:00Z'))
    other = await otherTenant(db, 'Other Laundry', NOW)
    quiet = await otherTenant(db, 'Quiet Laundry', NOW)
    // The other tenant: an inactive mock config, updated later than nothing else.
    await db.knex('wa_provider_configs').insert({
      id: uuid7(),
      tenant_id: other.tenantId,
      provider_id: demo.mockProviderId,
      credentials_json: '{}',
      is_active: false,
      created_at: ago(NOW, 7200),
      updated_at: ago(NOW, 3600),
    })
    const rows = [
      // Demo: 3 queued, the oldest 2 h 5 min old; 4 failed in the last day (3 NETWORK_ERROR, 1 RATE_LIMIT), 1 older; 2 sent.
      message(demo.tenantId, 'queued', 7500),
      message(demo.tenantId, 'queued', 600),
      message(demo.tenantId, 'queued', 5),
      message(demo.tenantId, 'failed', 90_000, {code: 'NETWORK_ERROR', updatedAgo: 5000}),
      message(demo.tenantId, 'failed', 4000, {code: 'NETWORK_ERROR', updatedAgo: 2000}),
      message(demo.tenantId, 'failed', 4000, {code: 'NETWORK_ERROR', updatedAgo: 100}),
      message(demo.tenantId, 'failed', 4000, {code: 'RATE_LIMIT', updatedAgo: 50}),
      message(demo.tenantId, 'failed', 200_000, {code: 'PROVIDER_TIMEOUT', updatedAgo: 90_000}),
      message(demo.tenantId, 'sent', 100),
      message(demo.tenantId, 'sent', 100),
      // Other: 1 queued (1 min), failed RATE_LIMIT x2 and one without a code.
      message(other.tenantId, 'queued', 60),
      message(other.tenantId, 'failed', 500, {code: 'RATE_LIMIT', updatedAgo: 400}),
      message(other.tenantId, 'failed', 500, {code: 'RATE_LIMIT', updatedAgo: 300}),
      message(other.tenantId, 'failed', 500, {code: null, updatedAgo: 200}),
      // Quiet: only sent messages.
      message(quiet.tenantId, 'sent', 100),
    ]
    await db.knex.batchInsert('wa_messages', rows, 100)
    const now = unixSeconds(NOW)
    const job = (available: number, reserved: number | null, queue = 'messaging') => ({
      queue,
      payload: '{}',
      attempts: 0,
      reserved_at: reserved,
      available_at: available,
      created_at: now - 100,
    })
    await db.knex('jobs').insert([job(now - 10, null), job(now, null), job(now + 60, null), job(now - 50, now - 5), job(now - 10, null, 'default')])
  })

  it('per tenant: provider, queued with the oldest age from the pinned clock, failed of the last 24h by code; quiet tenants left out', async () => {
    const report = await waStatusReport(db, {since: '24h'}, clock)
    expect(report.window.from).to.equal('2026-02-28 10:00:00')
    expect(report.tenants.map((t) => t.tenant_id)).to.deep.equal([demo.tenantId, other.tenantId])
    const [d, o] = report.tenants
    expect(d).to.deep.equal({
      tenant_id: demo.tenantId,
      tenant_name: 'Demo Laundry',
      provider: {key: 'mock', is_active: true, updated_at: '2026-03-01 08:00:00'},
      queued: 3,
      oldest_queued_at: ago(NOW, 7500),
      oldest_queued_age_seconds: 7500,
      failed: 4,
      failed_by_code: [
        {last_error_code: 'NETWORK_ERROR', count: 3},
        {last_error_code: 'RATE_LIMIT', count: 1},
      ],
    })
    expect(o).to.deep.equal({
      tenant_id: other.tenantId,
      tenant_name: 'Other Laundry',
      provider: {key: 'mock', is_active: false, updated_at: ago(NOW, 3600)},
      queued: 1,
      oldest_queued_at: ago(NOW, 60),
      oldest_queued_age_seconds: 60,
      failed: 3,
      failed_by_code: [
        {last_error_code: 'RATE_LIMIT', count: 2},
        {last_error_code: null, count: 1},
      ],
    })
    expect(report.totals).to.deep.equal({queued: 4, failed: 7})
    expect(report.jobs).to.deep.equal({queue: 'messaging', waiting: 2, delayed: 1, reserved: 1})
  })

  it('--since narrows the failed messages, not the backlog', async () => {
    const report = await waStatusReport(db, {since: '1h'}, clock)
    const d = report.tenants.find((t) => t.tenant_id === demo.tenantId)
    expect(d?.queued).to.equal(3)
    expect(d?.failed_by_code).to.deep.equal([
      {last_error_code: 'NETWORK_ERROR', count: 2},
      {last_error_code: 'RATE_LIMIT', count: 1},
    ])
    const wide = await waStatusReport(db, {since: '1w'}, clock)
    expect(wide.tenants.find((t) => t.tenant_id === demo.tenantId)?.failed).to.equal(5)
  })

  it('--tenant: only that tenant, and a tenant with nothing to show is still listed', async () => {
    const one = await waStatusReport(db, {since: '24h', tenant: other.tenantId}, clock)
    expect(one.tenants.map((t) => t.tenant_id)).to.deep.equal([other.tenantId])
    expect(one.totals).to.deep.equal({queued: 1, failed: 3})
    const empty = await waStatusReport(db, {since: '24h', tenant: quiet.tenantId}, clock)
    expect(empty.tenants).to.deep.equal([
      {
        tenant_id: quiet.tenantId,
        tenant_name: 'Quiet Laundry',
        provider: null,
        queued: 0,
        oldest_queued_at: null,
        oldest_queued_age_seconds: null,
        failed: 0,
        failed_by_code: [],
      },
    ])
  })

  it('refuses an unknown tenant', async () => {
    const error = (await rejection(waStatusReport(db, {since: '24h', tenant: randomUUID()}, clock))) as OpsError
    expect(error.code).to.equal('UNKNOWN_TENANT')
    expect(error.exit).to.equal(2)
  })
})
