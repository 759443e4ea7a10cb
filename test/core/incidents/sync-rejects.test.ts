import {randomUUID} from 'node:crypto'

import {expect} from 'chai'

import {fixedClock} from '../../../src/core/clock.js'
import type {Database} from '../../../src/core/db/connection.js'
import type {OpsError} from '../../../src/core/errors.js'
import {DEVICES_LISTED, syncRejectReport} from '../../../src/core/incidents/sync-rejects.js'
import {describeEachEngine} from '../../helpers/engines.js'
import {ago, demoTenant, insertDevice, mutationRow, otherTenant} from '../../helpers/incidents.js'
import {rejection} from '../../helpers/rejection.js'

const NOW = new Date('2026-03-01T10:00:00Z')
const clock = fixedClock(NOW)

describeEachEngine('sync rejects: rejected mutations by reason code', {from: 'seeded', seed: {at: '2026-03-01T09:00:00Z'}}, (ctx) => {
  let db: Database
  let demo: {tenantId: string; userId: number}
  let other: {tenantId: string; userId: number}
  const devices: string[] = []
  let otherDevice: string

  before(async () => {
    db = await ctx.scratch.open()
    demo = await demoTenant(db)
    other = await otherTenant(db, 'Other Laundry', NOW)
    // Device ids in a known order (00…, 01…, …) so the listed ones can be checked.
    for (let i = 0; i < 7; i++) devices.push(await insertDevice(db, demo, ago(NOW, 0), `0${i}000000-0000-4000-8000-000000000000`))
    otherDevice = await insertDevice(db, other, ago(NOW, 0))
    const rows: Array<Record<string, unknown>> = []
    // QUOTA_EXCEEDED: 7 from all seven devices; the newest (60 s ago) is the sample.
    for (let i = 0; i < 7; i++) {
      rows.push(mutationRow(demo.tenantId, devices[i], ago(NOW, 3000 - i * 100), {reason: 'QUOTA_EXCEEDED', message: `quota ${i}`, entityId: `Q-${i}`}))
    }
    rows.push(
      mutationRow(demo.tenantId, devices[0], ago(NOW, 60), {
        reason: 'QUOTA_EXCEEDED',
        message: 'Quota order periode 2026-03 sudah habis.',
        type: 'ORDER_CREATE',
        entityId: 'Q-last',
      }),
    )
    // INVALID_TRANSITION: 3 from one device.
    for (let i = 0; i < 3; i++)
      rows.push(mutationRow(demo.tenantId, devices[1], ago(NOW, 1200 + i), {reason: 'INVALID_TRANSITION', type: 'ORDER_UPDATE_LAUNDRY_STATUS'}))
    // Two codes tied at 2: ordered by code.
    for (let i = 0; i < 2; i++) rows.push(mutationRow(demo.tenantId, devices[2], ago(NOW, 900 + i), {reason: 'VALIDATION_FAILED'}))
    for (let i = 0; i < 2; i++) rows.push(mutationRow(demo.tenantId, devices[3], ago(NOW, 800 + i), {reason: 'OUTLET_ACCESS_DENIED'}))
    // No reason recorded: listed last.
    rows.push(mutationRow(demo.tenantId, devices[4], ago(NOW, 700), {reason: null, message: null}))
    // Applied ones in the window (the ratio), and outside it.
    for (let i = 0; i < 5; i++) rows.push(mutationRow(demo.tenantId, devices[5], ago(NOW, 500 + i), {status: 'applied'}))
    rows.push(mutationRow(demo.tenantId, devices[5], ago(NOW, 3601), {reason: 'QUOTA_EXCEEDED'}))
    rows.push(mutationRow(demo.tenantId, devices[5], ago(NOW, -5), {reason: 'QUOTA_EXCEEDED'}))
    // Another tenant: 4 INVALID_TRANSITION (would outrank it in the demo tenant's report if counted).
    for (let i = 0; i < 4; i++) rows.push(mutationRow(other.tenantId, otherDevice, ago(NOW, 400 + i), {reason: 'INVALID_TRANSITION'}))
    await db.knex.batchInsert('sync_mutations', rows, 100)
  })

  it('--tenant: codes by count (ties by code, none last), devices, first / last seen and the newest mutation as the sample', async () => {
    const report = await syncRejectReport(db, {since: '1h', tenant: demo.tenantId}, clock)
    expect(report.totals).to.deep.equal({rejected: 16, applied: 5, devices: 7})
    expect(report.reasons.map((r) => [r.reason_code, r.count])).to.deep.equal([
      ['QUOTA_EXCEEDED', 8],
      ['INVALID_TRANSITION', 3],
      ['OUTLET_ACCESS_DENIED', 2],
      ['VALIDATION_FAILED', 2],
      [null, 1],
    ])
    const quota = report.reasons[0]
    expect(quota.first_seen).to.equal(ago(NOW, 3000))
    expect(quota.last_seen).to.equal(ago(NOW, 60))
    expect(quota.devices).to.deep.equal({count: 7, ids: devices.slice(0, DEVICES_LISTED)})
    expect(quota.sample).to.deep.include({
      tenant_id: demo.tenantId,
      type: 'ORDER_CREATE',
      entity_type: 'order',
      entity_id: 'Q-last',
      message: 'Quota order periode 2026-03 sudah habis.',
      created_at: ago(NOW, 60),
    })
    expect(quota.sample?.id).to.be.a('number')
    expect(quota.sample?.mutation_id).to.match(/^m-/)
    expect(report.reasons[1].devices).to.deep.equal({count: 1, ids: [devices[1]]})
    expect(report.reasons[1].sample?.type).to.equal('ORDER_UPDATE_LAUNDRY_STATUS')
    expect(report.reasons[4].sample?.message).to.equal(null)
  })

  it('without --tenant: every tenant counts', async () => {
    const report = await syncRejectReport(db, {since: '1h'}, clock)
    expect(report.reasons.map((r) => [r.reason_code, r.count])).to.deep.equal([
      ['QUOTA_EXCEEDED', 8],
      ['INVALID_TRANSITION', 7],
      ['OUTLET_ACCESS_DENIED', 2],
      ['VALIDATION_FAILED', 2],
      [null, 1],
    ])
    expect(report.reasons[1].devices.count).to.equal(2)
    expect(report.totals).to.deep.equal({rejected: 20, applied: 5, devices: 8})
  })

  it('the window: 12m keeps only the newer rejects; an empty window reports none', async () => {
    const report = await syncRejectReport(db, {since: '12m', tenant: demo.tenantId}, clock)
    expect(report.reasons.map((r) => [r.reason_code, r.count])).to.deep.equal([
      ['QUOTA_EXCEEDED', 1],
      [null, 1],
    ])
    const empty = await syncRejectReport(db, {since: '30s', tenant: demo.tenantId}, clock)
    expect(empty.reasons).to.deep.equal([])
    expect(empty.totals).to.deep.equal({rejected: 0, applied: 0, devices: 0})
  })

  it('refuses an unknown tenant', async () => {
    const error = (await rejection(syncRejectReport(db, {since: '1h', tenant: randomUUID()}, clock))) as OpsError
    expect(error.code).to.equal('UNKNOWN_TENANT')
  })
})
