import {expect} from 'chai'

import {fixedClock} from '../../src/core/clock.js'
import {migrate} from '../../src/core/db/migrator.js'
import type {AccountRow, FullOutletRow, TenantRow} from '../../src/core/db/rows.js'
import {DEMO_USERS, seedDatabase} from '../../src/core/db/seeds/index.js'
import {verifyPassword} from '../../src/core/auth/password.js'
import {describeEachEngine} from '../helpers/engines.js'
import {found} from '../helpers/wa.js'

const clock = fixedClock('2026-02-28T23:59:59Z')

/** The tenant_subscriptions columns the demo seed is checked on. */
interface TenantSubscriptionRow {
  id: string
  tenant_id: string
  plan_id: number
  period: string
  starts_at: string
  ends_at: string
  status: string
}

/** A demo user joined to its role, as the seed test selects it. */
interface SeededUser {
  email: string
  name: string
  phone: string | null
  status: string
  password: string
  role: string
}

async function countRows(db: Awaited<ReturnType<import('../helpers/engines.js').ScratchDatabase['open']>>, tables: string[]) {
  const counts: Record<string, number> = {}
  for (const t of tables) counts[t] = Number((await db.knex(t).count({n: '*'}))[0].n)
  return counts
}

const TABLES = [
  'roles',
  'plans',
  'wa_providers',
  'tenants',
  'outlets',
  'users',
  'user_roles',
  'user_outlets',
  'services',
  'outlet_services',
  'tenant_subscriptions',
  'quota_usage',
]

describeEachEngine('seeding', (ctx) => {
  it('refuses an unmigrated database with a clear message', async () => {
    const db = await ctx.scratch.open()
    let error: Error | undefined
    try {
      await seedDatabase(db, {env: 'local'})
    } catch (err) {
      error = err as Error
    }
    expect(error?.message).to.match(/13 pending migration\(s\): run `laundry-ops db migrate` first/)
  })

  it('seeds only reference data outside local/testing', async () => {
    const db = await ctx.scratch.open()
    await migrate(db)
    const result = await seedDatabase(db, {env: 'production', clock})
    expect(result.demo).to.equal(false)
    expect(await countRows(db, ['roles', 'plans', 'wa_providers', 'tenants', 'users'])).to.deep.equal({
      roles: 5,
      plans: 4,
      wa_providers: 1,
      tenants: 0,
      users: 0,
    })
    const plans = await db.knex('plans').select('key', 'name', 'orders_limit').orderBy('id')
    expect(plans).to.deep.equal([
      {key: 'free', name: 'Gratis', orders_limit: 200},
      {key: 'standard', name: 'Standar', orders_limit: 1000},
      {key: 'premium', name: 'Premium', orders_limit: 5000},
      {key: 'pro', name: 'Pro', orders_limit: 20000},
    ])
  })

  it('seeds the demo tenant as upstream does, with Laravel-compatible rows', async () => {
    const db = await ctx.scratch.open()
    await seedDatabase(db, {env: 'staging', demo: true, clock})
    expect(await countRows(db, TABLES)).to.deep.equal({
      roles: 5,
      plans: 4,
      wa_providers: 1,
      tenants: 1,
      outlets: 1,
      users: 5,
      user_roles: 5,
      user_outlets: 5,
      services: 2,
      outlet_services: 2,
      tenant_subscriptions: 1,
      quota_usage: 1,
    })
    const tenant = found(await db.knex<TenantRow>('tenants').first(), 'tenant')
    expect(tenant.name).to.equal('Demo Laundry')
    expect(tenant.id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(tenant.created_at).to.equal('2026-02-28 23:59:59')
    const outlet = await db.knex<FullOutletRow>('outlets').first()
    expect(outlet).to.deep.include({code: 'BL', name: 'Outlet Utama', timezone: 'Asia/Jakarta', address: 'Alamat demo outlet'})
    const sub = await db.knex<TenantSubscriptionRow>('tenant_subscriptions').first()
    expect(sub).to.deep.include({period: '2026-02', starts_at: '2026-02-01 00:00:00', ends_at: '2026-02-28 23:59:59', status: 'active'})
    expect(await db.knex('quota_usage').first()).to.deep.include({period: '2026-02', orders_used: 0})
    const users = await db
      .knex('users')
      .join('user_roles', 'users.id', 'user_roles.user_id')
      .join('roles', 'roles.id', 'user_roles.role_id')
      .select<SeededUser[]>('users.email', 'users.name', 'users.phone', 'users.status', 'users.password', 'roles.key as role')
      .orderBy('users.id')
    expect(users.map(({password: _p, ...u}) => u)).to.deep.equal(
      DEMO_USERS.map((u) => ({email: u.email, name: u.name, phone: u.phone, status: 'active', role: u.role})),
    )
    for (const u of users) {
      expect(u.password).to.match(/^\$2y\$12\$[./A-Za-z0-9]{53}$/)
      expect(await verifyPassword('password', u.password)).to.equal(true)
      expect(await verifyPassword('wrong', u.password)).to.equal(false)
    }
    const services = await db.knex('services').select('name', 'unit_type', 'base_price_amount').orderBy('name')
    expect(services).to.deep.equal([
      {name: 'Cuci Satuan', unit_type: 'pcs', base_price_amount: 5000},
      {name: 'Kiloan Reguler', unit_type: 'kg', base_price_amount: 8000},
    ])
  })

  it('changes nothing when run again, not even updated_at', async () => {
    const db = await ctx.scratch.open()
    const snapshot = async () =>
      Promise.all(
        TABLES.map((t) =>
          db
            .knex(t)
            .select('*')
            .orderBy(t === 'plans' || t === 'roles' || t.startsWith('user') || t === 'wa_providers' ? 'id' : 'created_at'),
        ),
      )
    const before = await snapshot()
    const again = await seedDatabase(db, {env: 'local', clock: fixedClock('2026-03-01T10:00:00Z')})
    expect(again.changes).to.deep.equal({tenant_subscriptions: {created: 1, updated: 0}, quota_usage: {created: 1, updated: 0}})
    const after = await snapshot()
    // Only the new month's subscription and quota rows were added.
    expect(after.map((rows) => rows.length)).to.deep.equal(before.map((rows, i) => rows.length + (i >= 10 ? 1 : 0)))
    expect(after.slice(0, 10)).to.deep.equal(before.slice(0, 10))
    const third = await seedDatabase(db, {env: 'local', clock: fixedClock('2026-03-01T10:00:00Z')})
    expect(third.changed).to.equal(0)
  })

  it('repairs a demo account whose password or status was changed', async () => {
    const db = await ctx.scratch.open()
    await db
      .knex('users')
      .where({email: 'cashier@demo.local'})
      .update({status: 'suspended', password: '$2y$12$abcdefghijklmnopqrstuuJ2mzL9xJgXyZ1pZ6b7s8H2pQe3Rk2u'})
    const result = await seedDatabase(db, {env: 'local', clock})
    expect(result.changes.users).to.deep.equal({created: 0, updated: 1})
    const cashier = found(await db.knex<AccountRow>('users').where({email: 'cashier@demo.local'}).first(), 'cashier')
    expect(cashier.status).to.equal('active')
    expect(await verifyPassword('password', cashier.password)).to.equal(true)
  })
})
