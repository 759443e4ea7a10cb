import {createHash} from 'node:crypto'
import {existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import Sqlite from 'better-sqlite3'
import {expect} from 'chai'

import {parseDatabaseUrl} from '../../../src/core/config.js'
import {type Database, isReadOnlyViolation, openDatabase} from '../../../src/core/db/connection.js'
import {describeFault, interruptedBy} from '../../../src/core/db/faults.js'
import {writeTransaction} from '../../../src/core/db/transactions.js'
import {OpsError} from '../../../src/core/errors.js'
import {describeEachEngine} from '../../helpers/engines.js'
import {rejection} from '../../helpers/rejection.js'

describeEachEngine('a database opened read-only refuses every write', {from: 'seeded'}, (ctx) => {
  let db: Database

  before(async () => {
    db = await openDatabase(ctx.scratch.target, {readOnly: true})
  })

  after(async () => {
    await db?.close()
  })

  it('reads work; an insert, an update and a write transaction fail as a read-only violation; nothing changes', async () => {
    expect(db.readOnly).to.equal(true)
    const [{n}]: Array<{n: number | string}> = await db.knex('roles').count({n: '*'})
    expect(Number(n)).to.equal(5)
    const writes = [
      db.knex('cache').insert({key: 'read-only-test', value: 'x', expiration: 0}),
      db.knex('roles').update({name: 'changed'}),
      writeTransaction(db, (trx) => trx('cache').insert({key: 'read-only-test', value: 'x', expiration: 0})),
    ]
    for (const write of writes) {
      const error = await rejection(write)
      expect(isReadOnlyViolation(error), String(error)).to.equal(true)
    }
    expect(await db.knex('cache').where({key: 'read-only-test'}).first()).to.equal(undefined)
    expect(await db.knex('roles').where({name: 'changed'}).first()).to.equal(undefined)
  })

  it('the violation is reported as a bug that changed nothing, not as unwritable storage, whatever the caller had counted', async () => {
    const error = await rejection(db.knex('cache').insert({key: 'read-only-test', value: 'x', expiration: 0}))
    const fault = describeFault(error, db.target)
    expect(fault).to.be.instanceOf(OpsError)
    expect(fault?.code).to.equal('INTERNAL')
    expect(fault?.message).to.match(
      /was opened read-only \(a read-only command or --dry-run\) and a statement tried to write \(a bug in laundry-ops: .+\); nothing was changed$/,
    )
    const interrupted = interruptedBy(error, db.target, {done: '3 reminders were enqueued and committed', next: 'rerun'}) as OpsError
    expect(interrupted.code).to.equal('INTERNAL')
    expect(interrupted.message).to.not.match(/enqueued|rerun/)
  })

  it('what the read commands use still works: sequences read, server functions called (PostgreSQL), the schema listed', async () => {
    if (db.dialect === 'pg') {
      const {rows} = await db.knex.raw<{rows: unknown[]}>('select last_value from jobs_id_seq')
      expect(rows).to.have.length(1)
      await db.knex.raw('select current_database(), current_schema(), pg_backend_pid()')
      // A read-only transaction (a dry run's) commits.
      await db.knex.transaction(async (trx) => trx('roles').count({n: '*'}))
      expect(isReadOnlyViolation(await rejection(db.knex.raw("select nextval('jobs_id_seq')")))).to.equal(true)
    } else {
      await db.knex.raw("select name from sqlite_master where type = 'table'")
      expect(await db.knex.schema.hasTable('audit_events')).to.equal(true)
    }
  })

  it('a writer opened beside it still writes (readOnly is per open)', async () => {
    const writer = await openDatabase(ctx.scratch.target)
    try {
      expect(writer.readOnly).to.equal(false)
      await writer.knex('cache').insert({key: 'writer-test', value: 'x', expiration: 0})
      expect(await db.knex('cache').where({key: 'writer-test'}).first()).to.not.equal(undefined)
      await writer.knex('cache').where({key: 'writer-test'}).delete()
    } finally {
      await writer.close()
    }
  })
})

describe('an SQLite file opened read-only is never written', () => {
  let dir: string

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'laundry-ops-ro-'))
  })

  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex')

  it('a DELETE-journal file keeps its journal mode and its bytes; a temp table is refused too', async () => {
    const file = path.join(dir, 'delete.sqlite')
    const conn = new Sqlite(file)
    conn.pragma('journal_mode = DELETE')
    conn.exec('create table t (a integer); insert into t values (1)')
    conn.close()
    const before = sha256(file)
    const db = await openDatabase(parseDatabaseUrl(`sqlite:${file}`, dir), {readOnly: true})
    try {
      expect(await db.knex('t').select('a')).to.deep.equal([{a: 1}])
      expect(await db.knex.raw('pragma journal_mode')).to.deep.equal([{journal_mode: 'delete'}])
      expect(await db.knex.raw('pragma foreign_keys')).to.deep.equal([{foreign_keys: 1}])
      expect(isReadOnlyViolation(await rejection(db.knex.raw('create temp table x (a integer)')))).to.equal(true)
    } finally {
      await db.close()
    }
    expect(sha256(file)).to.equal(before)
    expect(existsSync(`${file}-wal`) || existsSync(`${file}-shm`) || existsSync(`${file}-journal`)).to.equal(false)
  })

  it('a 0-byte file stays 0 bytes: it reads as an empty database', async () => {
    const file = path.join(dir, 'empty.sqlite')
    writeFileSync(file, '')
    const db = await openDatabase(parseDatabaseUrl(`sqlite:${file}`, dir), {readOnly: true})
    try {
      expect(await db.knex.schema.hasTable('migrations')).to.equal(false)
    } finally {
      await db.close()
    }
    expect(statSync(file).size).to.equal(0)
  })

  it('readOnly wins over create: a missing file is reported, not created', async () => {
    const file = path.join(dir, 'missing', 'db.sqlite')
    const error = await rejection(openDatabase(parseDatabaseUrl(`sqlite:${file}`, dir), {readOnly: true, create: true}))
    expect((error as OpsError).code).to.equal('DB_NOT_FOUND')
    expect(existsSync(path.dirname(file))).to.equal(false)
  })
})
