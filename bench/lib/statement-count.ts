// Statements per send for bench/queue.ts: one process that counts every statement its driver sends
// (PostgreSQL: each pg Client.query, one round trip to the server, BEGIN and COMMIT included; SQLite: each
// execution of a better-sqlite3 statement) while the queue worker (runWorker, in this process, one job at
// a time) drains the queue the bench filled. Counting starts after the database is opened.
//
//   DATABASE_URL=... node --import tsx bench/lib/statement-count.ts
//
// Prints one JSON document: {sends, seconds, statements, perSend, kinds: [[statement, count, mean ms], ...]}
// (most frequent first; each statement's first 90 characters, whitespace folded; the time from the call to
// its answer: on PostgreSQL the round trip and the server's work, on SQLite the call itself).

import {performance} from 'node:perf_hooks'

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
const kinds = new Map<string, {n: number; ms: number}>()
/** Starts the count of one statement; the function returned ends its time (its answer arrived). */
const note = (sql: unknown): (() => void) => {
  if (!counting) return () => {}
  const config = sql as {text?: unknown} | null
  const text = typeof sql === 'string' ? sql : typeof config?.text === 'string' ? config.text : '?'
  const kind = text.replace(/\s+/g, ' ').trim().slice(0, 90)
  const entry = kinds.get(kind) ?? {n: 0, ms: 0}
  kinds.set(kind, entry)
  entry.n++
  const t0 = performance.now()
  return () => {
    entry.ms += performance.now() - t0
  }
}

type Query = (this: unknown, ...args: unknown[]) => unknown
const clientProto = pg.Client.prototype as unknown as {query: Query}
const pgQuery = clientProto.query
clientProto.query = function (this: unknown, ...args: unknown[]) {
  const done = note(args[0])
  const last = args.length - 1
  const callback = args[last]
  if (typeof callback === 'function') {
    // knex's form: query(config, callback).
    args[last] = (...answer: unknown[]) => {
      done()
      return (callback as (...a: unknown[]) => unknown)(...answer)
    }
    return pgQuery.apply(this, args)
  }
  const answer = pgQuery.apply(this, args)
  if (answer instanceof Promise) answer.then(done, done)
  return answer
}
const probe = new BetterSqlite3(':memory:')
const statementProto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<'run' | 'all' | 'get' | 'iterate', Query> & {source: string}
for (const method of ['run', 'all', 'get', 'iterate'] as const) {
  const original = statementProto[method]
  statementProto[method] = function (this: unknown, ...args: unknown[]) {
    const done = note((this as {source: string}).source)
    try {
      return original.apply(this, args)
    } finally {
      done()
    }
  }
}
probe.close()

const db = await openDatabase(parseDatabaseUrl(url, process.cwd()))
let result
let started: number
try {
  counting = true
  started = performance.now()
  result = await runWorker(db, {...DEFAULT_WORKER_OPTIONS, stopWhenEmpty: true, sleep: 0})
  counting = false
} finally {
  await db.close()
}
const statements = [...kinds.values()].reduce((a, b) => a + b.n, 0)
const sends = result.messages.sent
const seconds = (performance.now() - started) / 1000
process.stdout.write(
  `${JSON.stringify({
    sends,
    seconds,
    statements,
    perSend: statements / Math.max(1, sends),
    kinds: [...kinds].sort((a, b) => b[1].n - a[1].n).map(([kind, {n, ms}]) => [kind, n, ms / n]),
  })}\n`,
)
