// The bare baseline for bench/queue.ts: one process that claims jobs with the queue's own
// claimNextJob (the same statement `queue work` uses) and deletes each by id, until the queue is empty.
// No payload decoding, no message, no provider: what the jobs table alone allows.
//
//   DATABASE_URL=... node --import tsx bench/lib/claim-loop.ts
//
// Prints one JSON document: {claimed, ids, loopStart, loopEnd} (epoch milliseconds, sub-ms precision).

import {performance} from 'node:perf_hooks'

import {parseDatabaseUrl} from '../../src/core/config.js'
import {openDatabase} from '../../src/core/db/connection.js'
import {claimNextJob} from '../../src/core/queue/database-queue.js'

const QUEUES = ['messaging', 'default']
const epochMs = () => performance.timeOrigin + performance.now()

const url = process.env.DATABASE_URL
if (!url) {
  process.stderr.write('claim-loop: DATABASE_URL is not set\n')
  process.exit(2)
}

const db = await openDatabase(parseDatabaseUrl(url, process.cwd()), {create: true})
const ids: number[] = []
const loopStart = epochMs()
try {
  for (;;) {
    const job = await claimNextJob(db, QUEUES, new Date())
    if (!job) break
    await db.knex('jobs').where({id: job.id}).delete()
    ids.push(job.id)
  }
} finally {
  await db.close()
}
const loopEnd = epochMs()
process.stdout.write(`${JSON.stringify({claimed: ids.length, ids, loopStart, loopEnd})}\n`)
