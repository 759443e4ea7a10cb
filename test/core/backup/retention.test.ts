import {existsSync, readdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {createBackup} from '../../../src/core/backup/backup.js'
import {listBackups, pruneBackups} from '../../../src/core/backup/retention.js'
import {createScratchDatabase, type ScratchDatabase} from '../../helpers/engines.js'

const DAY = 86_400_000

describe('db backup retention', () => {
  let scratch: ScratchDatabase
  let dir: string

  before(async function () {
    this.timeout(60_000)
    scratch = await createScratchDatabase('sqlite', {from: 'migrated'})
    dir = path.join(scratch.dir, 'backups')
  })
  after(() => scratch.drop())

  it('over backups spread across ten days keeps the last seven days, never the newest, and never a file it did not write', async function () {
    this.timeout(120_000)
    const now = new Date('2026-12-10T01:30:00Z')
    const made: string[] = []
    const backupAt = async (at: Date, keepDays = 365) =>
      createBackup(scratch.target, {outputDir: dir, keepDays, encryption: {type: 'none'}, toolVersion: 'test', now: () => at})
    // Days -9 … -1 first, with a retention that keeps everything.
    for (let day = 9; day >= 1; day--) made.push(path.basename((await backupAt(new Date(now.getTime() - day * DAY))).file))
    // Files that are not ours: our name pattern without a manifest, a manifest of another tool, an unrelated file.
    const noManifest = 'laundry-ops-sqlite-20261120T013000Z.sqlite.age'
    const foreign = 'laundry-ops-sqlite-20261121T013000Z.sqlite'
    writeFileSync(path.join(dir, noManifest), 'not ours')
    writeFileSync(path.join(dir, foreign), 'not ours')
    writeFileSync(path.join(dir, `${foreign}.manifest.json`), JSON.stringify({format: 'other-tool/1', created_at: '2026-11-21T01:30:00Z'}))
    writeFileSync(path.join(dir, 'notes.txt'), 'operator notes')

    const today = await backupAt(now, 7)
    const pruned = today.pruned.map((p) => p.name).sort()
    // Made 9 and 8 days ago: older than seven days. Day -7 is exactly at the edge and stays.
    expect(pruned).to.deep.equal(made.slice(0, 2).sort())
    const left = readdirSync(dir).sort()
    for (const name of made.slice(2)) {
      expect(left, name).to.include(name)
      expect(left).to.include(`${name}.manifest.json`)
    }
    for (const name of made.slice(0, 2)) {
      expect(existsSync(path.join(dir, name))).to.equal(false)
      expect(existsSync(path.join(dir, `${name}.manifest.json`))).to.equal(false)
    }
    expect(left).to.include.members([noManifest, foreign, `${foreign}.manifest.json`, 'notes.txt', path.basename(today.file)])
    expect(
      listBackups(dir)
        .filter((b) => b.manifest)
        .map((b) => b.name),
    ).to.deep.equal([path.basename(today.file), ...made.slice(2).reverse()])
  })

  it('never deletes the newest backup, however old; --keep-days 0 keeps only the newest', () => {
    const farFuture = new Date('2030-01-01T00:00:00Z')
    const newest = listBackups(dir).find((b) => b.manifest)!.name
    const wouldGo = pruneBackups(dir, {keepDays: 0, now: farFuture, dryRun: true}).map((p) => p.name)
    expect(wouldGo).to.not.include(newest)
    expect(wouldGo.length).to.equal(listBackups(dir).filter((b) => b.manifest).length - 1)
    pruneBackups(dir, {keepDays: 0, now: farFuture})
    expect(
      listBackups(dir)
        .filter((b) => b.manifest)
        .map((b) => b.name),
    ).to.deep.equal([newest])
    expect(readdirSync(dir)).to.include('notes.txt')
  })
})
