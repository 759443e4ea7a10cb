import type {Knex} from 'knex'

import type {Clock} from '../clock.js'
import {toDbTimestamp, toPeriod} from '../clock.js'
import type {Database} from '../db/connection.js'
import {requireTables} from '../db/faults.js'
import {SEND_STATE_KEY} from '../messaging/send-wa-message.js'
import {SchemaBuilder} from '../db/schema/schema-builder.js'
import {assertWithin, LIMITS} from '../limits.js'
import {periodWindow} from '../quota/reconcile.js'
import {phpRound} from '../php/round.js'
import {phpFloatToString} from '../php/string-conversion.js'
import {type Check, summarise, type Summary} from './report.js'

export interface ObserveOptions {
  period?: string
  lookbackMinutes: number
  failedJobsThreshold: number
  queueBacklogThreshold: number
  waFailureRatioThreshold: number
  quotaUsageThreshold: number
  strict: boolean
  clock: Clock
}

export interface ObserveReport {
  generated_at: string
  period: string
  lookback_minutes: number
  checks: Check[]
  summary: Summary
  strict: boolean
}

const iso = (d: Date) => `${d.toISOString().slice(0, 19)}+00:00`

/**
 * ops:observe:health: failed jobs in the window, the messaging and default backlogs, the WA failure
 * ratio and quota saturation, with upstream's thresholds and comparisons (`>` except quota, which is
 * `>=`). It never fails a check; warnings fail the gate only under --strict.
 */
export async function observeHealth(db: Database, options: ObserveOptions): Promise<ObserveReport> {
  const period = options.period ?? toPeriod(options.clock.now())
  periodWindow(period)
  assertWithin('--lookback-minutes', options.lookbackMinutes, LIMITS.lookbackMinutes)
  const now = options.clock.now()
  const windowStart = toDbTimestamp(new Date(now.getTime() - options.lookbackMinutes * 60_000))
  // A missing table is a warning of its own check (as upstream); a missing column of a table that is there is the schema's fault.
  await requireTables(db, ['failed_jobs', 'jobs', 'wa_messages', 'quota_usage', 'tenants', 'plans'], {tablesOptional: true})
  const schema = new SchemaBuilder(db.knex, db.dialect)
  const has = (table: string) => schema.hasTable(table)
  const count = async (q: Knex.QueryBuilder<Record<string, unknown>>) => {
    const [row]: Array<{n: number | string}> = await q.count({n: '*'})
    return Number(row.n)
  }
  const table = (name: string) => db.knex<Record<string, unknown>>(name)
  const checks: Check[] = []

  if (!(await has('failed_jobs'))) {
    checks.push({key: 'queue.failed_jobs.recent', status: 'warn', message: 'failed_jobs table is missing.'})
  } else {
    const n = await count(table('failed_jobs').where('failed_at', '>=', windowStart))
    checks.push({
      key: 'queue.failed_jobs.recent',
      status: n > options.failedJobsThreshold ? 'warn' : 'pass',
      // The configured lookback as an integer (upstream printed Carbon's float, e.g. 15.000001283333).
      message: `failed_jobs=${n} in last ${options.lookbackMinutes} minutes (threshold=${options.failedJobsThreshold}).`,
    })
  }

  if (!(await has('jobs'))) {
    checks.push({key: 'queue.backlog.messaging', status: 'warn', message: 'jobs table is missing.'})
  } else {
    for (const queue of ['messaging', 'default']) {
      const n = await count(table('jobs').where({queue}))
      checks.push({
        key: `queue.backlog.${queue}`,
        status: n > options.queueBacklogThreshold ? 'warn' : 'pass',
        message: `${queue} backlog=${n} (threshold=${options.queueBacklogThreshold}).`,
      })
    }
  }

  if (!(await has('wa_messages'))) {
    checks.push({key: 'wa.failure_ratio.window', status: 'warn', message: 'wa_messages table is missing.'})
  } else {
    const total = await count(table('wa_messages').where('updated_at', '>=', windowStart))
    if (total === 0) {
      checks.push({key: 'wa.failure_ratio.window', status: 'pass', message: 'No WA traffic in current window.'})
    } else {
      const failed = await count(table('wa_messages').where('updated_at', '>=', windowStart).where({status: 'failed'}))
      const ratio = phpRound((failed / total) * 100, 2)
      checks.push({
        key: 'wa.failure_ratio.window',
        status: ratio > options.waFailureRatioThreshold ? 'warn' : 'pass',
        message: `wa failed ratio=${phpFloatToString(ratio)}% (${failed}/${total}) threshold=${phpFloatToString(options.waFailureRatioThreshold)}%.`,
      })
    }
  }

  if (!(await has('quota_usage'))) {
    checks.push({key: 'quota.saturation.period', status: 'warn', message: 'quota_usage table is missing.'})
  } else {
    const rows: Array<{orders_limit: number | string; orders_used: number | string | null}> = await db
      .knex('tenants as t')
      .join('plans as p', 'p.id', 't.current_plan_id')
      .leftJoin('quota_usage as q', (j) => j.on('q.tenant_id', '=', 't.id').andOn('q.period', '=', db.knex.raw('?', [period])))
      .where('t.status', 'active')
      .where('p.orders_limit', '>', 0)
      .select('p.orders_limit', 'q.orders_used')
    const atRisk = rows.filter((r) => (Number(r.orders_used ?? 0) / Number(r.orders_limit)) * 100 >= options.quotaUsageThreshold).length
    checks.push({
      key: 'quota.saturation.period',
      status: atRisk > 0 ? 'warn' : 'pass',
      message: `tenants near limit=${atRisk}, threshold=${phpFloatToString(options.quotaUsageThreshold)}%, period=${period}.`,
    })
  }

  // Ours, after upstream's checks (their order is upstream's).
  if (await has('wa_messages')) {
    // Messages sent again after a worker died (or was cut off) between the provider's answer and the commit:
    // they may have reached the customer twice (src/core/messaging/send-wa-message.ts marks them).
    const since = now.getTime() - options.lookbackMinutes * 60_000
    const marked =
      db.dialect === 'pg'
        ? `"metadata_json" -> ? ->> 'possible_duplicate_at'`
        : `case when json_valid("metadata_json") then json_extract("metadata_json", ?) end`
    const path = db.dialect === 'pg' ? SEND_STATE_KEY : `$.${SEND_STATE_KEY}.possible_duplicate_at`
    const n = await count(
      table('wa_messages')
        .where('updated_at', '>=', windowStart)
        .whereRaw(`${marked} >= ?`, [path, new Date(since).toISOString()]),
    )
    checks.push({
      key: 'wa.possible_duplicates.window',
      status: n > 0 ? 'warn' : 'pass',
      message: `messages possibly sent twice (a worker died with the send in flight)=${n} in last ${options.lookbackMinutes} minutes.`,
    })
  }

  return {generated_at: iso(now), period, lookback_minutes: options.lookbackMinutes, checks, summary: summarise(checks), strict: options.strict}
}
