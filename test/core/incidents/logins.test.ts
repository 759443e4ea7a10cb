import {randomUUID} from 'node:crypto'

import {expect} from 'chai'

import {fixedClock} from '../../../src/core/clock.js'
import type {Database} from '../../../src/core/db/connection.js'
import type {OpsError} from '../../../src/core/errors.js'
import {failedLoginReport} from '../../../src/core/incidents/logins.js'
import {parseSince} from '../../../src/core/incidents/window.js'
import {describeEachEngine} from '../../helpers/engines.js'
import {ago, demoTenant, failedLoginRow, otherTenant} from '../../helpers/incidents.js'
import {rejection} from '../../helpers/rejection.js'

const NOW = new Date('2026-03-01T10:00:00Z')
const clock = fixedClock(NOW)

describe('--since durations', () => {
  it('reads s, m, h, d and w as seconds', () => {
    expect(['30s', '15m', '1h', '2d', '1w', '36500d'].map(parseSince)).to.deep.equal([30, 900, 3600, 172_800, 604_800, 36_500 * 86_400])
  })
  it('refuses anything else with INVALID_DURATION (exit 2) and says what is expected', () => {
    for (const bad of ['', '0m', '1', 'h', '1.5h', '-1h', '1H', '1 h', ' 1h', '1hour', '36501d', '9'.repeat(13) + 's', 'NaN', '١h']) {
      let error: OpsError | undefined
      try {
        parseSince(bad)
      } catch (err) {
        error = err as OpsError
      }
      expect(error?.code, bad).to.equal('INVALID_DURATION')
      expect(error?.exit, bad).to.equal(2)
      expect(error?.message, bad).to.contain('expected a whole number and a unit s, m, h, d or w')
    }
  })
})

describeEachEngine('audit logins: AUTH_LOGIN_FAILED by account and IP', {from: 'seeded', seed: {at: '2026-03-01T09:00:00Z'}}, (ctx) => {
  let db: Database
  let demo: {tenantId: string}

  before(async () => {
    db = await ctx.scratch.open()
    demo = await demoTenant(db)
    const other = await otherTenant(db, 'Other Laundry', NOW)
    const rows: Array<Record<string, unknown>> = []
    // 30 failed logins in the last hour from two IPs (20 + 10) across two accounts:
    // 10.0.0.1 tries alice 12 times and bob 8 times; 10.0.0.2 tries bob 10 times.
    for (let i = 0; i < 20; i++) {
      rows.push(failedLoginRow(ago(NOW, 3000 - i * 100), {tenantId: demo.tenantId, email: i < 12 ? 'alice@demo.local' : 'bob@demo.local', ip: '10.0.0.1'}))
    }
    for (let i = 0; i < 10; i++) rows.push(failedLoginRow(ago(NOW, 2500 - i * 60), {tenantId: demo.tenantId, email: 'bob@demo.local', ip: '10.0.0.2'}))
    // Outside the window: older than an hour, and one second in the future of the pinned clock.
    rows.push(failedLoginRow(ago(NOW, 3601), {tenantId: demo.tenantId, email: 'alice@demo.local', ip: '10.0.0.1'}))
    rows.push(failedLoginRow(ago(NOW, -1), {tenantId: demo.tenantId, email: 'alice@demo.local', ip: '10.0.0.1'}))
    // Other event keys in the window.
    rows.push(failedLoginRow(ago(NOW, 60), {tenantId: demo.tenantId, email: 'alice@demo.local', ip: '10.0.0.1', eventKey: 'AUTH_LOGIN_SUCCESS'}))
    rows.push(failedLoginRow(ago(NOW, 60), {tenantId: demo.tenantId, email: 'alice@demo.local', ip: '10.0.0.1', eventKey: 'AUTH_LOGIN_INACTIVE'}))
    // Another tenant: 3 from 10.0.0.3.
    for (let i = 0; i < 3; i++) rows.push(failedLoginRow(ago(NOW, 600 + i), {tenantId: other.tenantId, email: 'carol@other.local', ip: '10.0.0.3'}))
    // Unknown emails (no tenant, as the API records them): 2 from 10.0.0.4, one with metadata that is no object.
    rows.push(failedLoginRow(ago(NOW, 30), {tenantId: null, email: 'nobody@x.test', ip: '10.0.0.4'}))
    rows.push(failedLoginRow(ago(NOW, 20), {tenantId: null, ip: '10.0.0.4', metadata: []}))
    // No IP recorded (a console / web event).
    rows.push(failedLoginRow(ago(NOW, 10), {tenantId: null, email: 'nobody@x.test', ip: null}))
    // A tie with 10.0.0.4 / nobody@x.test (2 each), inserted after them: the order must come from the key.
    for (let i = 0; i < 2; i++) rows.push(failedLoginRow(ago(NOW, 700 + i), {tenantId: other.tenantId, email: 'dave@other.local', ip: '10.0.0.0'}))
    await db.knex.batchInsert('audit_events', rows, 100)
  })

  it('--tenant: the busier IP and account first, counts, first and last seen; other tenants, keys and times excluded', async () => {
    const report = await failedLoginReport(db, {since: '1h', tenant: demo.tenantId, limit: 20}, clock)
    expect(report.window).to.deep.equal({since: '1h', seconds: 3600, from: '2026-03-01 09:00:00', to: '2026-03-01 10:00:00'})
    expect(report.totals).to.deep.equal({events: 30, accounts: 2, ips: 2})
    expect(report.by_ip).to.deep.equal([
      {key: '10.0.0.1', count: 20, first_seen: ago(NOW, 3000), last_seen: ago(NOW, 3000 - 19 * 100)},
      {key: '10.0.0.2', count: 10, first_seen: ago(NOW, 2500), last_seen: ago(NOW, 2500 - 9 * 60)},
    ])
    expect(report.by_account).to.deep.equal([
      {key: 'bob@demo.local', count: 18, first_seen: ago(NOW, 2500), last_seen: ago(NOW, 3000 - 19 * 100)},
      {key: 'alice@demo.local', count: 12, first_seen: ago(NOW, 3000), last_seen: ago(NOW, 3000 - 11 * 100)},
    ])
  })

  it('without --tenant: every tenant and the events of unknown emails (no tenant); a missing email or IP is its own row, listed last on a tie', async () => {
    const report = await failedLoginReport(db, {since: '1h', limit: 20}, clock)
    expect(report.totals).to.deep.equal({events: 38, accounts: 5, ips: 5})
    expect(report.by_ip.map((g) => [g.key, g.count])).to.deep.equal([
      ['10.0.0.1', 20],
      ['10.0.0.2', 10],
      ['10.0.0.3', 3],
      ['10.0.0.0', 2],
      ['10.0.0.4', 2],
      [null, 1],
    ])
    expect(report.by_account.map((g) => [g.key, g.count])).to.deep.equal([
      ['bob@demo.local', 18],
      ['alice@demo.local', 12],
      ['carol@other.local', 3],
      ['dave@other.local', 2],
      ['nobody@x.test', 2],
      [null, 1],
    ])
  })

  it('ties are broken by key; --limit cuts each table, not the totals', async () => {
    const report = await failedLoginReport(db, {since: '1h', limit: 2}, clock)
    expect(report.by_ip.map((g) => g.key)).to.deep.equal(['10.0.0.1', '10.0.0.2'])
    expect(report.totals.events).to.equal(38)
    const tie = await failedLoginReport(db, {since: '15m', limit: 20}, clock)
    // In the last 15 minutes: 3 from carol (10.0.0.3), 2 from dave (10.0.0.0), 2 to 10.0.0.4 and one without IP.
    expect(tie.by_ip.map((g) => [g.key, g.count])).to.deep.equal([
      ['10.0.0.3', 3],
      ['10.0.0.0', 2],
      ['10.0.0.4', 2],
      [null, 1],
    ])
    expect(tie.by_account.map((g) => [g.key, g.count])).to.deep.equal([
      ['carol@other.local', 3],
      ['dave@other.local', 2],
      ['nobody@x.test', 2],
      [null, 1],
    ])
  })

  it('a longer window takes the older events in; an empty window gives empty tables', async () => {
    const report = await failedLoginReport(db, {since: '2h', tenant: demo.tenantId, limit: 20}, clock)
    expect(report.totals.events).to.equal(31)
    const empty = await failedLoginReport(db, {since: '5s', tenant: demo.tenantId, limit: 20}, clock)
    expect(empty.totals).to.deep.equal({events: 0, accounts: 0, ips: 0})
    expect(empty.by_account).to.deep.equal([])
    expect(empty.by_ip).to.deep.equal([])
  })

  it('refuses an unknown tenant (UNKNOWN_TENANT, exit 2) and a bad --since (INVALID_DURATION)', async () => {
    const unknown = (await rejection(failedLoginReport(db, {since: '1h', tenant: randomUUID(), limit: 20}, clock))) as OpsError
    expect(unknown.code).to.equal('UNKNOWN_TENANT')
    expect(unknown.exit).to.equal(2)
    const bad = (await rejection(failedLoginReport(db, {since: '1x', limit: 20}, clock))) as OpsError
    expect(bad.code).to.equal('INVALID_DURATION')
  })
})
