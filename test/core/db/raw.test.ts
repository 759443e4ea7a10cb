/**
 * selectRows (src/core/db/raw.ts), the API's fixed-SQL path: named prepared statements on PostgreSQL, knex.raw
 * on SQLite, with knex's own safety nets kept: a finished transaction refuses statements, a read-only
 * session's refusal is tagged, and a prepared statement a migration made stale is prepared again.
 */
import {expect} from 'chai'

import {type Database, isReadOnlyViolation, openDatabase} from '../../../src/core/db/connection.js'
import {isStalePreparedStatement, selectRows} from '../../../src/core/db/raw.js'
import {type Executor, writeTransaction} from '../../../src/core/db/transactions.js'
import {describeEachEngine} from '../../helpers/engines.js'
import {rejection} from '../../helpers/rejection.js'

describeEachEngine('selectRows: fixed SQL on either engine', {from: 'migrated'}, (ctx) => {
  let db: Database

  before(async () => {
    db = await ctx.scratch.open()
    await db.knex.schema.createTable('raw_probe', (t) => {
      t.integer('a')
    })
    await db.knex('raw_probe').insert([{a: 1}, {a: 2}])
  })

  it('answers rows of a select and of insert … returning, and nothing for a plain write', async () => {
    expect(await selectRows(db.knex, 'select a from raw_probe where a = ?', [2])).to.deep.equal([{a: 2}])
    expect(await selectRows(db.knex, 'insert into raw_probe (a) values (?) returning a', [3])).to.deep.equal([{a: 3}])
    expect(await selectRows(db.knex, 'delete from raw_probe where a = ?', [3])).to.deep.equal([])
  })

  it('refuses a statement on a transaction that has finished (its connection may serve another by now)', async () => {
    let finished: Executor | undefined
    await db.knex.transaction(async (trx) => {
      finished = trx
      await selectRows(trx, 'select a from raw_probe where a = ?', [1])
    })
    const error = await rejection(selectRows(finished as Executor, 'select a from raw_probe where a = ?', [1]))
    expect(String((error as Error).message)).to.match(/Transaction query already complete/)
  })

  it('tags a write refused by a read-only session as a read-only violation', async () => {
    const readOnly = await openDatabase(ctx.scratch.target, {readOnly: true})
    try {
      const error = await rejection(selectRows(readOnly.knex, 'insert into raw_probe (a) values (?)', [9]))
      expect(isReadOnlyViolation(error)).to.equal(true)
    } finally {
      await readOnly.close()
    }
    expect(await db.knex('raw_probe').where({a: 9}).first()).to.equal(undefined)
  })

  it('keeps working after a migration changes the type of a column a prepared statement returns', async () => {
    const sql = 'select a from raw_probe where a = ? limit 1'
    const warm = async () => {
      // Prepared on every connection of the pool (4 in tests): parallel uses take different connections.
      for (const rows of await Promise.all(Array.from({length: 8}, () => selectRows(db.knex, sql, [1])))) expect(rows).to.deep.equal([{a: 1}])
    }
    await warm()
    if (ctx.dialect === 'pg') {
      await db.knex.raw('alter table raw_probe alter column a type bigint')
      // Inside a plain knex transaction the statement fails (the transaction is aborted), marked as worth a rerun.
      const error = await rejection(db.knex.transaction((trx) => selectRows(trx, sql, [1])))
      expect((error as {code?: string}).code).to.equal('0A000')
      expect(isStalePreparedStatement(error)).to.equal(true)
      await warm()
      // writeTransaction runs such a transaction again, once: the caller sees its answer, not the fault.
      await db.knex.raw('alter table raw_probe alter column a type integer')
      expect(await writeTransaction(db, (trx) => selectRows(trx, sql, [1]))).to.deep.equal([{a: 1}])
      await db.knex.raw('alter table raw_probe alter column a type bigint')
    } else {
      await db.knex.schema.alterTable('raw_probe', (t) => {
        t.bigInteger('b')
      })
    }
    // Outside a transaction the statement is prepared again on the spot, on every connection of the pool.
    await warm()
    for (const rows of await Promise.all(Array.from({length: 8}, () => selectRows(db.knex, sql, [2])))) expect(rows).to.deep.equal([{a: 2}])
  })
})
