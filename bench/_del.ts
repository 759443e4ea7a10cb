import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parseDatabaseUrl} from '../src/core/config.js'
import {openDatabase} from '../src/core/db/connection.js'
import {migrate} from '../src/core/db/migrator.js'
import {insertAuditEvents} from '../test/helpers/audit.js'
const dir = mkdtempSync(path.join(tmpdir(), 'ad-'))
const db = await openDatabase(parseDatabaseUrl(`sqlite:${dir}/a.sqlite`, dir))
await migrate(db)
await insertAuditEvents(db, 100000, {now: new Date(), minDays: 91, maxDays: 400})
const conn: any = await db.knex.client.acquireConnection()
for (const sync of ['NORMAL', 'FULL']) {
  conn.exec('create temp table if not exists snap as select * from audit_events'); 
  const rowids = conn.prepare('select rowid from audit_events order by created_at, id').pluck().all()
  conn.pragma(`synchronous = ${sync}`)
  let t = Date.now()
  for (let i = 0; i < rowids.length; i += 1000) {
    const chunk = rowids.slice(i, i + 1000)
    conn.prepare(`delete from audit_events where rowid in (${chunk.map(() => '?').join(',')})`).run(...chunk)
  }
  console.log(sync, 'delete by rowid, 1000/commit', Date.now() - t, 'ms')
  conn.exec('insert into audit_events select * from temp.snap; drop table temp.snap')
}
