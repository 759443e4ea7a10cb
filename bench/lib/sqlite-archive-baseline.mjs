// The bare SQLite baseline for bench/archive.ts: better-sqlite3 directly (no knex, no CLI), one process
// that pages audit_events older than the cutoff by rowid keyset, writes each page as JSON lines to a file
// (no fsync) and deletes the page (one autocommit DELETE per page), until nothing is left. Same connection
// pragmas as laundry-ops' connection (WAL, synchronous = NORMAL, foreign_keys = ON). Plain .mjs so that
// node starts it without a TypeScript loader.
//
//   node bench/lib/sqlite-archive-baseline.mjs <sqlite file> <out file> <cutoff 'YYYY-MM-DD HH:MM:SS'> <page rows>
//
// Prints one JSON document: {archived, deleted, pages, loopMs}. Rows come out in rowid order, not in
// (created_at, id) order: this is what the table allows without any ordering work.

import {closeSync, openSync, writeSync} from 'node:fs'
import {performance} from 'node:perf_hooks'

import Database from 'better-sqlite3'

const [file, out, cutoff, pageArg] = process.argv.slice(2)
const page = Number(pageArg)
if (!file || !out || !cutoff || !Number.isInteger(page) || page < 1) {
  process.stderr.write('usage: node bench/lib/sqlite-archive-baseline.mjs <sqlite file> <out file> <cutoff> <page rows>\n')
  process.exit(2)
}

const db = new Database(file)
db.pragma('foreign_keys = ON')
db.pragma('busy_timeout = 10000')
db.pragma('journal_mode = WAL')
db.pragma('synchronous = NORMAL')

const select = db.prepare(
  `select rowid as rid, id, tenant_id, user_id, outlet_id, event_key, channel, entity_type, entity_id, request_id,
          ip_address, metadata_json, created_at
   from audit_events where rowid > ? and created_at < ? order by rowid limit ?`,
)
const remove = db.prepare('delete from audit_events where rowid > ? and rowid <= ? and created_at < ?')

const fd = openSync(out, 'w')
const t0 = performance.now()
let last = 0
let archived = 0
let deleted = 0
let pages = 0
try {
  for (;;) {
    const rows = select.all(last, cutoff, page)
    if (rows.length === 0) break
    // rid is the paging key, not a column of the archive line.
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const lines = rows.map(({rid, ...row}) => JSON.stringify(row))
    const data = Buffer.from(`${lines.join('\n')}\n`)
    for (let off = 0; off < data.length;) off += writeSync(fd, data, off)
    const through = rows.at(-1).rid
    deleted += remove.run(last, through, cutoff).changes
    archived += rows.length
    last = through
    pages++
  }
} finally {
  closeSync(fd)
  db.close()
}
process.stdout.write(`${JSON.stringify({archived, deleted, pages, loopMs: performance.now() - t0})}\n`)
