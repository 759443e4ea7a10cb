import {expect} from 'chai'

import {toDbTimestamp} from '../../src/core/clock.js'
import {uuid7} from '../../src/core/domain/ids.js'
import {describeSchema} from '../../src/core/db/introspect.js'
import {MIGRATIONS} from '../../src/core/db/migrations/index.js'
import {dropAllTables, listTables, migrate, migrationStatus, rollback} from '../../src/core/db/migrator.js'
import type {FullOutletRow, OrderRow, TenantRow} from '../../src/core/db/rows.js'
import {seedDatabase} from '../../src/core/db/seeds/index.js'
import {describeEachEngine} from '../helpers/engines.js'
import {found} from '../helpers/wa.js'

describeEachEngine('migrator', (ctx) => {
  it('reports everything pending on an empty database, with no ledger yet', async () => {
    const db = await ctx.scratch.open()
    const status = await migrationStatus(db)
    expect(status.ledger).to.equal(false)
    expect(status.pending).to.deep.equal(MIGRATIONS.map((m) => m.name))
  })

  it('--dry-run lists the pending migrations and creates nothing, not even the ledger', async () => {
    const db = await ctx.scratch.open()
    const result = await migrate(db, {dryRun: true})
    expect(result.migrated).to.have.length(13)
    expect(result.batch).to.equal(1)
    expect(await listTables(db)).to.deep.equal([])
  })

  it('leaves nothing behind when a migration fails halfway', async () => {
    const db = await ctx.scratch.open()
    // A table in the way of the 11th migration: the first ten succeed, then the run must fail as a whole.
    await db.knex.raw('create table "shipping_zones" ("x" integer)')
    let error: Error | undefined
    try {
      await migrate(db)
    } catch (err) {
      error = err as Error
    }
    expect(error?.message).to.match(/2026_02_16_120500_create_shipping_zones_table \(up\) failed/)
    expect(error?.message).to.match(/nothing was changed/)
    expect(await listTables(db)).to.deep.equal(['shipping_zones'])
    await db.knex.raw('drop table "shipping_zones"')
  })

  it('applies all 13 migrations in batch 1, then finds nothing to do', async () => {
    const db = await ctx.scratch.open()
    const first = await migrate(db)
    expect(first.batch).to.equal(1)
    expect(first.migrated).to.deep.equal(MIGRATIONS.map((m) => m.name))
    const again = await migrate(db)
    expect(again.migrated).to.deep.equal([])
    expect((await migrationStatus(db)).pending).to.deep.equal([])
    const providers = await db.knex('wa_providers').select('key', 'name')
    expect(providers).to.deep.equal([{key: 'mock', name: 'Mock Provider'}])
  })

  it('rolls back table rebuilds without losing or cascading away child rows', async () => {
    const db = await ctx.scratch.open()
    await seedDatabase(db, {env: 'local'})
    const tenant = found(await db.knex<TenantRow>('tenants').first(), 'tenant')
    const outlet = found(await db.knex<FullOutletRow>('outlets').first(), 'outlet')
    const now = toDbTimestamp(new Date())
    const customerId = uuid7()
    const orderId = uuid7()
    await db.knex('customers').insert({id: customerId, tenant_id: tenant.id, name: 'Budi', phone_normalized: '6281234', created_at: now, updated_at: now})
    await db.knex('orders').insert({
      id: orderId,
      tenant_id: tenant.id,
      outlet_id: outlet.id,
      customer_id: customerId,
      order_code: 'ORD-TEST0001',
      total_amount: 10000,
      due_amount: 10000,
      created_at: now,
      updated_at: now,
    })
    await db.knex('payments').insert({id: uuid7(), order_id: orderId, amount: 5000, method: 'cash', paid_at: now, created_at: now, updated_at: now})
    await db.knex('order_items').insert({
      id: uuid7(),
      order_id: orderId,
      service_name_snapshot: 'Kiloan Reguler',
      unit_type_snapshot: 'kg',
      weight_kg: '2.50',
      unit_price_amount: 8000,
      subtotal_amount: 20000,
      created_at: now,
      updated_at: now,
    })
    const schemaBefore = await describeSchema(db)

    // Undo the two migrations that rebuild orders, payments, users on SQLite (knex#6213's trap).
    const undone = await rollback(db, {step: 2})
    expect(undone.rolled_back.map((m) => m.name)).to.deep.equal([
      '2026_02_17_190000_add_collection_fields_to_orders_table',
      '2026_02_16_184500_add_audit_columns_and_soft_deletes',
    ])
    const columns = Object.keys(await db.knex('orders').columnInfo())
    expect(columns).to.not.include('source_channel')
    expect(columns).to.not.include('collection_status')
    for (const table of ['orders', 'payments', 'order_items', 'users', 'customers']) {
      const [{n}] = await db.knex(table).count({n: '*'})
      expect(Number(n), table).to.equal(table === 'users' ? 5 : 1)
    }

    const redo = await migrate(db)
    expect(redo.batch).to.equal(2)
    expect(redo.migrated).to.have.length(2)
    expect(await describeSchema(db)).to.deep.equal(schemaBefore)
    // The 190000 backfill: an order with money due enters the collection workflow as pending.
    expect((await db.knex<OrderRow>('orders').first())?.collection_status).to.equal('pending')
    const [{n}] = await db.knex('payments').count({n: '*'})
    expect(Number(n)).to.equal(1)
  })

  it('rolls back the last batch only, and refuses migrations it does not know', async () => {
    const db = await ctx.scratch.open()
    const dry = await rollback(db, {dryRun: true})
    expect(dry.rolled_back.map((m) => m.batch)).to.deep.equal([2, 2])
    await db.knex('migrations').insert({migration: '2026_03_01_000000_added_by_the_app', batch: 3})
    let error: Error | undefined
    try {
      await rollback(db)
    } catch (err) {
      error = err as Error
    }
    expect(error?.message).to.match(/does not know this migration/)
    expect((await migrationStatus(db)).unknown).to.deep.equal([{name: '2026_03_01_000000_added_by_the_app', batch: 3}])
    await db.knex('migrations').where({batch: 3}).delete()
  })

  it('drops every table for a fresh start', async () => {
    const db = await ctx.scratch.open()
    const dropped = await dropAllTables(db)
    expect(dropped).to.include.members(['migrations', 'orders', 'users'])
    expect(await listTables(db)).to.deep.equal([])
  })
})
