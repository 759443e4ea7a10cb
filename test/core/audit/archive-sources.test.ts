import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {archiveAuditEvents, type ArchiveOptions, type Manifest} from '../../../src/core/audit/archive.js'
import {archivedIds, SOURCE_SUFFIX} from '../../../src/core/audit/archive-files.js'
import {fixedClock} from '../../../src/core/clock.js'
import type {Database} from '../../../src/core/db/connection.js'
import {databaseIdentity} from '../../../src/core/db/identity.js'
import {migrate} from '../../../src/core/db/migrator.js'
import {insertAuditEvents, recordArchiveSource} from '../../helpers/audit.js'
import {createScratchDatabase, describeEachEngine, type ScratchDatabase} from '../../helpers/engines.js'

const NOW = new Date('2026-03-10T02:00:00Z')

/** The lines a run of `audit archive` against `db` had written and fsynced when it was killed (rows still in the table). */
async function killedRun(db: Database, dir: string, name: string, ids: string[]): Promise<string> {
  const rows = await db.knex<{id: string; created_at: string}>('audit_events').whereIn('id', ids).orderBy('created_at').orderBy('id').select('id', 'created_at')
  mkdirSync(dir, {recursive: true})
  const file = path.join(dir, name)
  writeFileSync(file, rows.map((r) => `${JSON.stringify({id: r.id, created_at: `${String(r.created_at).replace(' ', 'T')}+00:00`})}\n`).join(''))
  await recordArchiveSource(db, file)
  return file
}

/**
 * Class 4 of issue 9: two databases share one storage folder. An archive run killed on one leaves an
 * unfinished file; a run against the other must leave it alone (and say so), or the rows end up in two
 * archives.
 */
describeEachEngine('audit archive: an unfinished archive is only finished by its own database', (ctx) => {
  let a: Database
  let b: Database
  let other: ScratchDatabase
  let storage: string
  let dir: string
  const options = (): ArchiveOptions => ({days: 90, chunk: 100, dryRun: false, gzip: false, clock: fixedClock(NOW), storage, toolVersion: 'test'})

  before(async () => {
    a = await ctx.scratch.open()
    await migrate(a)
    other = await createScratchDatabase(ctx.dialect)
    b = await other.open()
    await migrate(b)
    storage = path.join(ctx.scratch.dir, 'shared-storage')
    dir = path.join(storage, 'app', 'audit-archives')
  })
  after(async () => {
    await other?.drop()
  })

  it('records the database: different for two databases, the same for one database however it is reached', async () => {
    const ia = await databaseIdentity(a)
    const ib = await databaseIdentity(b)
    expect(ia.fingerprint).to.match(/^[0-9a-f]{16}$/)
    expect(ia.fingerprint).not.to.equal(ib.fingerprint)
    const again = await ctx.scratch.open()
    expect((await databaseIdentity(again)).fingerprint).to.equal(ia.fingerprint)
    expect(ia.display).not.to.match(/password|:[^/@]*@/)
  })

  it('a run against another database leaves the unfinished archive alone and says so; its own database finishes it; no row is in two archives', async () => {
    const idsA = await insertAuditEvents(a, 250, {now: NOW, minDays: 91, maxDays: 100})
    const idsB = await insertAuditEvents(b, 150, {now: NOW, minDays: 91, maxDays: 100})
    // Killed between the fsync of its first 100 lines and their delete: those rows are still in A's table.
    const killed = await killedRun(a, dir, 'audit-events-20260309-020000.jsonl', idsA.slice(0, 100))
    const sourceA = await databaseIdentity(a)

    const runB = await archiveAuditEvents(b, options())
    expect(runB.recovered).to.deep.equal([])
    expect(runB.left_alone).to.deep.equal([{file: killed, database: sourceA.display}])
    expect(runB).to.deep.include({matched: 150, archived: 150, deleted: 150})
    expect(existsSync(`${killed}.manifest.json`), 'B must not finish A’s archive').to.equal(false)
    expect(existsSync(killed + SOURCE_SUFFIX)).to.equal(true)
    // B's dry run says the same.
    expect((await archiveAuditEvents(b, {...options(), dryRun: true})).left_alone).to.deep.equal([{file: killed, database: sourceA.display}])

    const runA = await archiveAuditEvents(a, options())
    expect(runA.recovered).to.deep.equal([{file: killed, rows: 100, deleted_from_table: 100, torn_tail: false}])
    expect(runA).to.deep.include({matched: 150, archived: 150, deleted: 150})
    const manifest = JSON.parse(readFileSync(`${killed}.manifest.json`, 'utf8')) as Manifest
    expect(manifest.database).to.deep.equal(sourceA)
    expect((JSON.parse(readFileSync(`${runB.file}.manifest.json`, 'utf8')) as Manifest).database).to.deep.equal(await databaseIdentity(b))

    // Every row of both databases is in exactly one archive, and in the archives of its own database.
    const where = archivedIds(dir)
    expect([...where.keys()].sort()).to.deep.equal([...idsA, ...idsB].sort())
    expect([...where.values()].every((files) => files.length === 1)).to.equal(true)
    for (const id of idsB) expect(where.get(id)).to.deep.equal([path.basename(runB.file!)])
    expect(readdirSync(dir).filter((name) => name.endsWith(SOURCE_SUFFIX))).to.deep.equal([])
  })

  it('an unfinished archive with no record of its database is refused until the operator adopts it (--adopt), then finished', async () => {
    const ids = await insertAuditEvents(a, 30, {now: NOW, minDays: 91, maxDays: 100})
    const legacy = await killedRun(a, dir, 'audit-events-20260308-020000.jsonl', ids.slice(0, 10))
    const {rmSync} = await import('node:fs')
    rmSync(legacy + SOURCE_SUFFIX) // written by laundry-ops 0.1, which recorded no source
    const refused = await archiveAuditEvents(a, options()).then(
      () => null,
      (error: {code: string; message: string}) => error,
    )
    expect(refused?.code).to.equal('FAILED')
    expect(refused?.message).to.match(/carries no record of its database .*rerun with --adopt <file>/)
    expect(await a.knex('audit_events').whereIn('id', ids).count({n: '*'}).first()).to.satisfy((r: {n: unknown}) => Number(r.n) === 30)
    const adopted = await archiveAuditEvents(a, {...options(), adopt: [path.basename(legacy)]})
    expect(adopted.recovered).to.deep.equal([{file: legacy, rows: 10, deleted_from_table: 10, torn_tail: false}])
    expect(adopted).to.deep.include({matched: 20, archived: 20})
    expect((JSON.parse(readFileSync(`${legacy}.manifest.json`, 'utf8')) as Manifest).database).to.deep.equal(await databaseIdentity(a))
    const bad = await archiveAuditEvents(a, {...options(), adopt: ['audit-events-20990101-000000.jsonl']}).then(
      () => null,
      (error: {code: string}) => error,
    )
    expect(bad?.code).to.equal('USAGE')
  })
})
