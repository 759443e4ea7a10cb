import {expect} from 'chai'

import type {Database} from '../../src/core/db/connection.js'
import {EXPECTED_TABLES, findSchemaGaps} from '../../src/core/db/expected-schema.js'
import {describeSchema} from '../../src/core/db/introspect.js'
import {migrate} from '../../src/core/db/migrator.js'
import {describeEachEngine} from '../helpers/engines.js'

describeEachEngine('the expected schema of readiness check', (ctx) => {
  let db: Database
  before(async () => {
    db = await ctx.scratch.open()
    await migrate(db)
  })

  it('lists exactly the tables and columns the migrations create', async () => {
    const shape = await describeSchema(db)
    const created = Object.fromEntries(Object.entries(shape).map(([table, t]) => [table, t.columns.map((c) => c.name).sort()]))
    const expected = Object.fromEntries(Object.entries(EXPECTED_TABLES).map(([table, columns]) => [table, [...columns].sort()]))
    expect(created).to.deep.equal(expected)
    expect(await findSchemaGaps(db)).to.deep.equal({missingTables: [], missingColumns: []})
  })
})
