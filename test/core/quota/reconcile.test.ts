import {expect} from 'chai'

import {fixedClock, toDbTimestamp} from '../../../src/core/clock.js'
import type {Database} from '../../../src/core/db/connection.js'
import type {CustomerRow, FullOutletRow, PlanRow, QuotaUsageRow} from '../../../src/core/db/rows.js'
import {uuid7} from '../../../src/core/domain/ids.js'
import {OpsError} from '../../../src/core/errors.js'
import {periodWindow, reconcileQuota} from '../../../src/core/quota/reconcile.js'
import {describeEachEngine} from '../../helpers/engines.js'
import {found} from '../../helpers/wa.js'

function refused(fn: () => unknown): OpsError {
  try {
    fn()
  } catch (error) {
    return error as OpsError
  }
  throw new Error('expected a refusal')
}

describe('quota period validation', () => {
  it('accepts YYYY-MM with month 01-12 and gives the exact UTC month', () => {
    expect(periodWindow('2026-02')).to.deep.equal({period: '2026-02', start: '2026-02-01 00:00:00', end: '2026-03-01 00:00:00'})
    expect(periodWindow('2024-12')).to.deep.equal({period: '2024-12', start: '2024-12-01 00:00:00', end: '2025-01-01 00:00:00'})
  })
  it('refuses 2026-13, 2026-2, 2026/02 and abc with exit 2', () => {
    for (const bad of ['2026-13', '2026-2', '2026/02', 'abc', '2026-00', '']) {
      const err = refused(() => periodWindow(bad))
      expect(err.exit, bad).to.equal(2)
      expect(err.message).to.equal(`Invalid period format. Use YYYY-MM (month 01-12); got '${bad}'.`)
    }
  })
})

describeEachEngine('quota reconcile', {from: 'seeded', seed: {env: 'production'}}, (ctx) => {
  let db: Database
  const tenants: Record<string, string> = {}

  async function addTenant(name: string): Promise<string> {
    const now = '2026-01-01 00:00:00'
    const plan = found(await db.knex<PlanRow>('plans').where({key: 'standard'}).first(), 'standard plan')
    const id = uuid7()
    await db.knex('tenants').insert({id, name, current_plan_id: plan.id, status: 'active', created_at: now, updated_at: now})
    const outlet = uuid7()
    await db.knex('outlets').insert({id: outlet, tenant_id: id, name: 'O', code: 'OPS', created_at: now, updated_at: now})
    await db.knex('customers').insert({id: uuid7(), tenant_id: id, name: 'C', phone_normalized: '6281000000001', created_at: now, updated_at: now})
    tenants[name] = id
    return id
  }

  async function addOrder(tenant: string, createdAt: string) {
    const outlet = found(await db.knex<FullOutletRow>('outlets').where({tenant_id: tenant}).first(), 'outlet')
    const customer = found(await db.knex<CustomerRow>('customers').where({tenant_id: tenant}).first(), 'customer')
    await db.knex('orders').insert({
      id: uuid7(),
      tenant_id: tenant,
      outlet_id: outlet.id,
      customer_id: customer.id,
      order_code: `ORD-${uuid7().slice(-8)}`,
      total_amount: 12000,
      due_amount: 12000,
      created_at: createdAt,
      updated_at: createdAt,
    })
  }

  before(async () => {
    db = await ctx.scratch.open()
    const ops = await addTenant('Ops Tenant')
    await addTenant('Another Tenant')
    // The month boundary, to the second.
    await addOrder(ops, '2026-01-31 23:59:59')
    await addOrder(ops, '2026-02-01 00:00:00')
    await addOrder(ops, '2026-02-15 12:00:00')
    await addOrder(ops, '2026-02-28 23:59:59')
    await addOrder(ops, '2026-03-01 00:00:00')
    await db
      .knex('quota_usage')
      .insert({id: uuid7(), tenant_id: ops, period: '2026-02', orders_used: 99, created_at: '2026-02-01 00:00:00', updated_at: '2026-02-01 00:00:00'})
  })

  it('OpsCommandsTest T4: rebuilds the period usage of one tenant', async () => {
    const result = await reconcileQuota(db, {period: '2026-02', tenant: tenants['Ops Tenant'], clock: fixedClock('2026-02-20T00:00:00Z')})
    expect(result.tenants).to.deep.equal([{id: tenants['Ops Tenant'], name: 'Ops Tenant', orders: 3, previous: 99}])
    expect(result.updated).to.equal(1)
    const row = await db.knex<QuotaUsageRow>('quota_usage').where({tenant_id: tenants['Ops Tenant'], period: '2026-02'}).first()
    expect(row?.orders_used).to.equal(3)
    expect(row?.updated_at).to.equal('2026-02-20 00:00:00')
  })

  it('counts the exact UTC month whatever day it runs, and gives every tenant a row, in name order', async () => {
    // Upstream ran on the 31st of a month and shifted February into March; the day no longer matters.
    const result = await reconcileQuota(db, {clock: fixedClock('2026-02-28T23:59:59Z')})
    expect(result.period).to.equal('2026-02')
    expect(result.tenants.map((t) => [t.name, t.orders])).to.deep.equal([
      ['Another Tenant', 0],
      ['Ops Tenant', 3],
    ])
    const rows = await db.knex<QuotaUsageRow>('quota_usage').where({period: '2026-02'}).orderBy('orders_used')
    expect(rows.map((r) => r.orders_used)).to.deep.equal([0, 3])
    const march = await reconcileQuota(db, {period: '2026-03', clock: fixedClock('2026-03-31T10:00:00Z')})
    expect(march.tenants.find((t) => t.name === 'Ops Tenant')?.orders).to.equal(1)
    const january = await reconcileQuota(db, {period: '2026-01', dryRun: true, clock: fixedClock('2026-03-31T10:00:00Z')})
    expect(january.tenants.find((t) => t.name === 'Ops Tenant')?.orders).to.equal(1)
  })

  it('--dry-run shows the same counts and writes nothing', async () => {
    const before = await db.knex('quota_usage').select('*').orderBy('id')
    const result = await reconcileQuota(db, {period: '2026-04', dryRun: true, clock: fixedClock('2026-04-02T00:00:00Z')})
    expect(result).to.deep.include({updated: 0, dry_run: true})
    expect(result.tenants).to.have.length(2)
    expect(await db.knex('quota_usage').select('*').orderBy('id')).to.deep.equal(before)
  })

  it('refuses an unknown or malformed --tenant before anything changes', async () => {
    const before = await db.knex('quota_usage').select('*').orderBy('id')
    for (const [tenant, code] of [
      ['abc', 'INVALID_TENANT'],
      ['0195f3a0-0000-7000-8000-00000000ffff', 'UNKNOWN_TENANT'],
    ]) {
      let error: OpsError | undefined
      try {
        await reconcileQuota(db, {period: '2026-02', tenant, clock: fixedClock('2026-02-20T00:00:00Z')})
      } catch (err) {
        error = err as OpsError
      }
      expect(error?.code).to.equal(code)
      expect(error?.exit).to.equal(2)
    }
    expect(await db.knex('quota_usage').select('*').orderBy('id')).to.deep.equal(before)
    expect(toDbTimestamp(new Date(0))).to.equal('1970-01-01 00:00:00')
  })
})
