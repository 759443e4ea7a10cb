import {expect} from 'chai'

import type {MigrateResult} from '../../src/core/db/migrator.js'
import type {SeedResult} from '../../src/core/db/seeds/index.js'
import {parseJson, runCli} from '../helpers/cli.js'
import {describeEachEngine} from '../helpers/engines.js'

describeEachEngine('concurrent db migrate and db seed processes [slow]', (ctx) => {
  it('apply each migration once and seed each row once', async () => {
    const env = {DATABASE_URL: ctx.scratch.url}
    const cwd = ctx.scratch.dir
    const runs = await Promise.all([1, 2, 3].map(() => runCli(['db', 'migrate', '--json'], {cwd, env})))
    for (const run of runs) expect(run.code, run.stderr).to.equal(0)
    const applied = runs.map((r) => (parseJson(r) as MigrateResult).migrated.length).sort()
    // Exactly one process applied the 13 migrations; the others found nothing pending.
    expect(applied).to.deep.equal([0, 0, 13])

    const seeds = await Promise.all([1, 2, 3].map(() => runCli(['db', 'seed', '--json'], {cwd, env})))
    for (const run of seeds) expect(run.code, run.stderr).to.equal(0)
    expect(seeds.map((r) => (parseJson(r) as SeedResult).changes.users?.created ?? 0).sort()).to.deep.equal([0, 0, 5])

    const db = await ctx.scratch.open()
    const ledger = await db.knex('migrations').select('migration').count({n: '*'}).groupBy('migration')
    expect(ledger).to.have.length(13)
    expect(ledger.every((row) => Number(row.n) === 1)).to.equal(true)
    const [{n: users}] = await db.knex('users').count({n: '*'})
    const [{n: tenants}] = await db.knex('tenants').count({n: '*'})
    expect([Number(users), Number(tenants)]).to.deep.equal([5, 1])
  })
})
