import {expect} from 'chai'

import {fixedClock, toDbTimestamp} from '../../../src/core/clock.js'
import type {Database} from '../../../src/core/db/connection.js'
import type {TenantRow} from '../../../src/core/db/rows.js'
import {uuid7} from '../../../src/core/domain/ids.js'
import {observeHealth, type ObserveOptions} from '../../../src/core/gates/observe-health.js'
import {gateFailed, junitXml} from '../../../src/core/gates/report.js'
import {phpFloatToString} from '../../../src/core/php/string-conversion.js'
import {describeEachEngine} from '../../helpers/engines.js'
import {found} from '../../helpers/wa.js'

const NOW = new Date('2026-02-17T02:00:00Z')
const options = (extra: Partial<ObserveOptions> = {}): ObserveOptions => ({
  lookbackMinutes: 15,
  failedJobsThreshold: 10,
  queueBacklogThreshold: 100,
  waFailureRatioThreshold: 20,
  quotaUsageThreshold: 85,
  strict: false,
  clock: fixedClock(NOW),
  ...extra,
})

describe('gate report helpers', () => {
  it('prints floats as PHP does and writes well-formed JUnit', () => {
    expect([phpFloatToString(20), phpFloatToString(22.22), phpFloatToString(33.33), phpFloatToString(85)]).to.deep.equal(['20', '22.22', '33.33', '85'])
    const xml = junitXml(
      'suite <x>',
      [
        {key: 'a', status: 'pass', message: 'ok'},
        {key: 'b', status: 'warn', message: 'w & "q"'},
        {key: 'c', status: 'fail', message: 'bad'},
      ],
      true,
      NOW,
    )
    expect(xml).to.match(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuite name="suite &lt;x&gt;" tests="3" failures="2" errors="0"/)
    expect(xml.match(/<testcase /g)).to.have.length(3)
    expect(xml).to.contain('<failure type="warn" message="w &amp; &quot;q&quot;">')
    expect(junitXml('s', [{key: 'b', status: 'warn', message: 'w'}], false, NOW)).to.contain('failures="0"')
    expect(gateFailed({pass: 1, warn: 1, fail: 0}, false)).to.equal(false)
    expect(gateFailed({pass: 1, warn: 1, fail: 0}, true)).to.equal(true)
  })
})

describeEachEngine('observe health', {from: 'seeded', seed: {at: NOW.toISOString()}}, (ctx) => {
  let db: Database
  let tenantId: string

  before(async () => {
    db = await ctx.scratch.open()
    tenantId = found(await db.knex<TenantRow>('tenants').first(), 'tenant').id
  })

  it('OpsCommandsTest T6: a quiet database gives five passing checks, in upstream order, then our possible-duplicates check', async () => {
    const report = await observeHealth(db, options({period: '2026-02'}))
    expect(Object.keys(report)).to.deep.equal(['generated_at', 'period', 'lookback_minutes', 'checks', 'summary', 'strict'])
    expect(report).to.deep.include({generated_at: '2026-02-17T02:00:00+00:00', period: '2026-02', lookback_minutes: 15, strict: false})
    expect(report.checks).to.deep.equal([
      {key: 'queue.failed_jobs.recent', status: 'pass', message: 'failed_jobs=0 in last 15 minutes (threshold=10).'},
      {key: 'queue.backlog.messaging', status: 'pass', message: 'messaging backlog=0 (threshold=100).'},
      {key: 'queue.backlog.default', status: 'pass', message: 'default backlog=0 (threshold=100).'},
      {key: 'wa.failure_ratio.window', status: 'pass', message: 'No WA traffic in current window.'},
      {key: 'quota.saturation.period', status: 'pass', message: 'tenants near limit=0, threshold=85%, period=2026-02.'},
      {
        key: 'wa.possible_duplicates.window',
        status: 'pass',
        message: 'messages possibly sent twice (a worker died with the send in flight)=0 in last 15 minutes.',
      },
    ])
    expect(report.summary).to.deep.equal({pass: 6, warn: 0, fail: 0})
  })

  it('warns above the thresholds exactly as upstream compares (> for counts and ratio, >= for quota)', async () => {
    const stamp = (minutesAgo: number) => toDbTimestamp(new Date(NOW.getTime() - minutesAgo * 60_000))
    const failed = (n: number) =>
      Array.from({length: n}, (_, i) => ({uuid: uuid7(), connection: 'database', queue: 'messaging', payload: '{}', exception: 'x', failed_at: stamp(i % 14)}))
    await db.knex('failed_jobs').insert(failed(10))
    await db.knex('failed_jobs').insert({uuid: uuid7(), connection: 'database', queue: 'messaging', payload: '{}', exception: 'old', failed_at: stamp(16)})
    expect((await observeHealth(db, options())).checks[0].status).to.equal('pass')
    await db.knex('failed_jobs').insert(failed(1))
    expect((await observeHealth(db, options())).checks[0]).to.deep.equal({
      key: 'queue.failed_jobs.recent',
      status: 'warn',
      message: 'failed_jobs=11 in last 15 minutes (threshold=10).',
    })

    const job = {queue: 'messaging', payload: '{}', attempts: 0, available_at: 0, created_at: 0}
    await db.knex.batchInsert(
      'jobs',
      Array.from({length: 100}, () => job),
      100,
    )
    expect((await observeHealth(db, options())).checks[1].status).to.equal('pass')
    await db.knex('jobs').insert(job)
    expect((await observeHealth(db, options())).checks[1]).to.deep.equal({
      key: 'queue.backlog.messaging',
      status: 'warn',
      message: 'messaging backlog=101 (threshold=100).',
    })

    const message = (status: string, i: number) => ({
      id: uuid7(),
      tenant_id: tenantId,
      template_id: 'WA_ORDER_DONE',
      idempotency_key: `obs-${status}-${i}-${Math.random()}`,
      to_phone: '6281',
      body_text: 'x',
      status,
      created_at: stamp(1),
      updated_at: stamp(1),
    })
    await db.knex('wa_messages').insert([message('failed', 1), ...[1, 2, 3, 4].map((i) => message('sent', i))])
    expect((await observeHealth(db, options())).checks[3]).to.deep.equal({
      key: 'wa.failure_ratio.window',
      status: 'pass',
      message: 'wa failed ratio=20% (1/5) threshold=20%.',
    })
    await db.knex('wa_messages').insert([message('failed', 2), ...[5, 6, 7].map((i) => message('sent', i))])
    expect((await observeHealth(db, options())).checks[3]).to.deep.equal({
      key: 'wa.failure_ratio.window',
      status: 'warn',
      message: 'wa failed ratio=22.22% (2/9) threshold=20%.',
    })

    await db.knex('quota_usage').where({tenant_id: tenantId}).update({orders_used: 849})
    expect((await observeHealth(db, options())).checks[4].status).to.equal('pass')
    await db.knex('quota_usage').where({tenant_id: tenantId}).update({orders_used: 850})
    const report = await observeHealth(db, options({strict: true}))
    expect(report.checks[4]).to.deep.equal({key: 'quota.saturation.period', status: 'warn', message: 'tenants near limit=1, threshold=85%, period=2026-02.'})
    expect(report.summary).to.deep.equal({pass: 2, warn: 4, fail: 0})
    expect(gateFailed(report.summary, report.strict)).to.equal(true)
  })

  it('counts the messages marked as possibly sent twice in the window (a worker died with the send in flight)', async () => {
    const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000)
    const marked = (metadata: unknown, updatedMinutesAgo: number) => ({
      id: uuid7(),
      tenant_id: tenantId,
      template_id: 'WA_ORDER_DONE',
      idempotency_key: `dup-${Math.random()}`,
      to_phone: '6281',
      body_text: 'x',
      status: 'sent',
      metadata_json: typeof metadata === 'string' ? metadata : JSON.stringify(metadata),
      created_at: toDbTimestamp(minutesAgo(updatedMinutesAgo)),
      updated_at: toDbTimestamp(minutesAgo(updatedMinutesAgo)),
    })
    const at = (m: number) => ({laundry_ops_send: {possible_duplicates: 1, possible_duplicate_at: minutesAgo(m).toISOString()}})
    await db.knex('wa_messages').insert([
      marked(at(2), 1), // in the window
      marked(at(10), 9), // in the window
      marked(at(40), 1), // marked long ago, updated since: not counted
      marked(at(40), 39), // outside the window
      marked({laundry_ops_send: {possible_duplicates: 0}}, 1), // never resent
      marked({source: 'x'}, 1),
      // SQLite keeps whatever text it is given: a malformed value must not break the gate.
      ...(ctx.dialect === 'sqlite' ? [marked('{not json', 1), marked('[1,2]', 1)] : [marked([1, 2], 1)]),
    ])
    const check = (await observeHealth(db, options())).checks.find((c) => c.key === 'wa.possible_duplicates.window')
    expect(check).to.deep.equal({
      key: 'wa.possible_duplicates.window',
      status: 'warn',
      message: 'messages possibly sent twice (a worker died with the send in flight)=2 in last 15 minutes.',
    })
    await db.knex('wa_messages').where('idempotency_key', 'like', 'dup-%').delete()
  })

  it('refuses an invalid period', async () => {
    let error: Error & {exit?: number} = new Error('none')
    try {
      await observeHealth(db, options({period: '2026-2'}))
    } catch (err) {
      error = err as Error & {exit?: number}
    }
    expect(error.exit).to.equal(2)
  })
})
