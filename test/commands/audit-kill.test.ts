import {existsSync, readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import type {Manifest} from '../../src/core/audit/archive.js'
import {archivedIds, sha256} from '../../src/core/audit/archive-files.js'
import {type CliExit, startCli} from '../helpers/cli.js'
import {describeEachEngine} from '../helpers/engines.js'
import {insertAuditEvents} from '../helpers/audit.js'

const ROWS = 100_000
const KILLS = 20

async function runArchiver(env: Record<string, string>, cwd: string, killAfterMs?: number): Promise<CliExit> {
  const archiver = startCli(['audit', 'archive', '--days', '90', '--chunk', '100', '--json'], {cwd, env})
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => archiver.signal('SIGKILL'), killAfterMs)
  try {
    return await archiver.exited(600_000)
  } finally {
    clearTimeout(timer)
  }
}

describeEachEngine('audit archive killed with SIGKILL at random moments [slow]', {from: 'migrated'}, (ctx) => {
  it(`loses no row and, after a rerun, archives none twice (${KILLS} kills over ${ROWS.toLocaleString('en')} rows, refilled when a run empties the table)`, async function () {
    this.timeout(900_000)
    const db = await ctx.scratch.open()
    const all = await insertAuditEvents(db, ROWS, {now: new Date(), minDays: 91, maxDays: 400})
    const storage = path.join(ctx.scratch.dir, 'storage')
    const dir = path.join(storage, 'app', 'audit-archives')
    const env = {DATABASE_URL: ctx.scratch.url, LAUNDRY_OPS_STORAGE: storage, NO_COLOR: '1'}

    const checkNothingLost = async (when: string) => {
      const inTable = new Set((await db.knex<{id: string}>('audit_events').select('id')).map((r) => String(r.id)))
      const inArchives = archivedIds(dir)
      const lost = all.filter((id) => !inTable.has(id) && !inArchives.has(id))
      expect(lost, `rows neither in the table nor in an archive ${when}`).to.deep.equal([])
      return {table: inTable.size, archived: inArchives.size}
    }

    let kills = 0
    let runs = 0
    let fills = 1
    const seen: Array<{delay: number; table: number; archived: number}> = []
    while (kills < KILLS && runs < KILLS * 3) {
      // The archiver can finish 100k rows inside the kill window (about 1 s here): when a run has emptied
      // the table, the next kills need rows, so another 100k old rows go in (at most 4 fills in all).
      if (seen.length > 0 && seen.at(-1)!.table === 0 && fills < 4) {
        for (const id of await insertAuditEvents(db, ROWS, {now: new Date(), minDays: 91, maxDays: 400})) all.push(id)
        fills++
      }
      runs++
      const delay = 150 + Math.floor(Math.random() * 900)
      const run = await runArchiver(env, ctx.scratch.dir, delay)
      if (run.signal === 'SIGKILL') kills++
      else expect(run.code, run.stderr).to.equal(0)
      seen.push({delay, ...(await checkNothingLost(`after run ${runs} (killed after ${delay} ms: ${run.signal === 'SIGKILL'})`))})
    }
    expect(kills, `kills in ${runs} runs: ${JSON.stringify(seen)}`).to.equal(KILLS)
    // The kills hit a real, progressing archive: rows moved out of the table over the trials.
    expect(seen.some((s) => s.table < ROWS)).to.equal(true)

    const final = await runArchiver(env, ctx.scratch.dir)
    expect(final.code, final.stderr).to.equal(0)
    expect(Number((await db.knex('audit_events').count({n: '*'}))[0].n)).to.equal(0)
    const where = archivedIds(dir)
    expect(where.size).to.equal(all.length)
    const twice = [...where].filter(([, files]) => files.length > 1)
    expect(twice, 'rows in two archives').to.deep.equal([])
    // Every archive is complete: a manifest whose row count and checksum match the file.
    const archives = readdirSync(dir).filter((n) => !n.endsWith('.manifest.json'))
    let rows = 0
    for (const name of archives) {
      const manifestFile = path.join(dir, `${name}.manifest.json`)
      expect(existsSync(manifestFile), `manifest of ${name}`).to.equal(true)
      const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest
      expect(manifest.sha256, name).to.equal(sha256(readFileSync(path.join(dir, name))))
      rows += manifest.rows
    }
    expect(rows).to.equal(all.length)
  })
})
