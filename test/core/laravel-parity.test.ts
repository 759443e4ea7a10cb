import {expect} from 'chai'

import {describeSchema} from '../../src/core/db/introspect.js'
import {migrate, migrationStatus} from '../../src/core/db/migrator.js'
import type {AccountRow} from '../../src/core/db/rows.js'
import {seedDatabase} from '../../src/core/db/seeds/index.js'
import {verifyPassword} from '../../src/core/auth/password.js'
import {createScratchDatabase, describeEachEngine, type ScratchDatabase} from '../helpers/engines.js'
import {migrateLikeLaravel} from '../helpers/laravel-fixture.js'

describeEachEngine('a database migrated by the Laravel application', (ctx) => {
  let ours: ScratchDatabase

  before(async () => {
    ours = await createScratchDatabase(ctx.dialect)
  })
  after(async () => {
    await ours?.drop()
  })

  it('shows every upstream migration as ran and nothing pending', async () => {
    const db = await ctx.scratch.open()
    await migrateLikeLaravel(db)
    const status = await migrationStatus(db)
    expect(status.ledger).to.equal(true)
    expect(status.pending).to.deep.equal([])
    expect(status.unknown).to.deep.equal([])
    expect(status.migrations.every((m) => m.ran && m.batch === 1)).to.equal(true)
  })

  it('is left alone by db migrate', async () => {
    const db = await ctx.scratch.open()
    const before = await describeSchema(db)
    const result = await migrate(db)
    expect(result.migrated).to.deep.equal([])
    const [{n}] = await db.knex('migrations').count({n: '*'})
    expect(Number(n)).to.equal(13)
    expect(await describeSchema(db)).to.deep.equal(before)
  })

  it('has exactly the tables, columns, types, defaults, keys and indexes that our migrations create', async () => {
    const laravel = await describeSchema(await ctx.scratch.open())
    const oursDb = await ours.open()
    await migrate(oursDb)
    const mine = await describeSchema(oursDb)
    expect(Object.keys(mine).sort()).to.deep.equal(Object.keys(laravel).sort())
    expect(Object.keys(mine)).to.have.length(34) // 33 upstream tables and the ledger
    for (const table of Object.keys(laravel)) {
      expect(mine[table].columns, `columns of ${table}`).to.deep.equal(laravel[table].columns)
      expect(mine[table].keys, `keys of ${table}`).to.deep.equal(laravel[table].keys)
    }
  })

  it('can be seeded by us, and the demo accounts verify with password "password"', async () => {
    const db = await ctx.scratch.open()
    const first = await seedDatabase(db, {env: 'local'})
    expect(first.changes.users).to.deep.equal({created: 5, updated: 0})
    const users = await db.knex<AccountRow>('users').select('email', 'password').orderBy('id')
    expect(users.map((u) => u.email)).to.deep.equal(['owner@demo.local', 'admin@demo.local', 'cashier@demo.local', 'worker@demo.local', 'courier@demo.local'])
    for (const u of users) {
      expect(u.password).to.match(/^\$2y\$12\$/)
      expect(await verifyPassword('password', u.password)).to.equal(true)
    }
  })
})
