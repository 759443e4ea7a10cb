// Statements per send for bench/queue.ts: one process that counts every statement its driver sends
// (PostgreSQL: each pg Client.query, one round trip to the server, BEGIN and COMMIT included; SQLite: each
// execution of a better-sqlite3 statement) while the queue worker (runWorker, in this process, one job at
// a time) drains the queue the bench filled. Counting starts after the database is opened.
//
//   DATABASE_URL=... node --import tsx bench/lib/statement-count.ts
//
// Prints one JSON document: {sends, statements, perSend, kinds: [[statement, count], ...]} (most frequent
// first; each statement's first 90 characters, whitespace folded).

import BetterSqlite3 from 'better-sqlite3'
import pg from 'pg'

import {parseDatabaseUrl} from '../../src/core/config.js'
import {openDatabase} from '../../src/core/db/connection.js'
import {DEFAULT_WORKER_OPTIONS, runWorker} from '../../src/core/queue/worker.js'

const url = process.env.DATABASE_URL
if (!url) {
  process.stderr.write('statement-count: DATABASE_URL is not set\n')
  process.exit(2)
}

let counting = false
const kinds = new Map<string, number>()
const note = (sql: unknown) => {
  if (!counting) return
  const config = sql as {text?: unknown} | null
  const text = typeof sql === 'string' ? sql : typeof config?.text === 'string' ? config.text : '?'
  const kind = text.replace(/\s+/g, ' ').trim().slice(0, 90)
  kinds.set(kind, (kinds.get(kind) ?? 0) + 1)
}

type Query = (this: unknown, ...args: unknown[]) => unknown
const clientProto = pg.Client.prototype as unknown as {query: Query}
const pgQuery = clientProto.query
clientProto.query = function (this: unknown, ...args: unknown[]) {
  note(args[0])
  return pgQuery.apply(this, args)
}
const probe = new BetterSqlite3(':memory:')
const statementProto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<'run' | 'all' | 'get' | 'iterate', Query> & {source: string}
for (const method of ['run', 'all', 'get', 'iterate'] as const) {
  const original = statementProto[method]
  statementProto[method] = function (this: unknown, ...args: unknown[]) {
    note((this as {source: string}).source)
    return original.apply(this, args)
  }
}
probe.close()

const db = await openDatabase(parseDatabaseUrl(url, process.cwd()))
let result
try {
  counting = true
  result = await runWorker(db, {...DEFAULT_WORKER_OPTIONS, stopWhenEmpty: true, sleep: 0})
  counting = false
} finally {
  await db.close()
}
const statements = [...kinds.values()].reduce((a, b) => a + b, 0)
const sends = result.messages.sent
process.stdout.write(`${JSON.stringify({sends, statements, perSend: statements / Math.max(1, sends), kinds: [...kinds].sort((a, b) => b[1] - a[1])})}\n`)
