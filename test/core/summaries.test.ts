import {expect} from 'chai'

import {describeStop} from '../../src/commands/queue/work.js'
import type {Database} from '../../src/core/db/connection.js'
import type {QuotaUsageRow} from '../../src/core/db/rows.js'
import {pushJob} from '../../src/core/queue/database-queue.js'
import {sendWaJobPayload} from '../../src/core/queue/payload.js'
import {DEFAULT_WORKER_OPTIONS, runWorker} from '../../src/core/queue/worker.js'
import {reconcileQuota} from '../../src/core/quota/reconcile.js'
import {describeEachEngine} from '../helpers/engines.js'
import {found, insertMessage, insertOrder, manualClock, premiumTenantWithMock, type WaTenant} from '../helpers/wa.js'

/** Class 8 of issue 9: a summary counts what the operator needs to act on. */
describeEachEngine('summaries tell what happened', (ctx) => {
  const clock = manualClock('2026-03-01T08:00:00Z')
  let db: Database
  let t: WaTenant

  before(async () => {
    db = await ctx.scratch.open()
    t = await premiumTenantWithMock(db, clock)
  })

  it('queue work: jobs that ran to their end but failed their message are counted as failed messages, by reason; delayed retries left behind are reported', async () => {
    const ids = [
      await insertMessage(db, t, clock, {metadata: {mock_failure: 'permanent'}}),
      await insertMessage(db, t, clock, {toPhone: '0812'}),
      await insertMessage(db, t, clock, {metadata: {mock_failure: 'transient'}}),
      await insertMessage(db, t, clock, {}),
    ]
    for (const id of ids) await pushJob(db.knex, {queue: 'messaging', payload: sendWaJobPayload({waMessageId: id, now: clock.now()}), now: clock.now()})
    const result = await runWorker(db, {...DEFAULT_WORKER_OPTIONS, stopWhenEmpty: true, sleep: 0}, {clock})
    expect(result).to.deep.include({processed: 4, released: 0, failed: 0, stop_reason: 'empty'})
    expect(result.messages).to.deep.equal({sent: 1, retry_scheduled: 1, failed: 2, skipped: 0, possible_duplicates: 0, failed_reasons: {PHONE_INVALID: 2}})
    expect(result.remaining).to.deep.equal({ready: 0, delayed: 1, reserved: 0, next_delayed_at: '2026-03-01T08:00:30.000Z'})
    expect(describeStop(result)).to.equal(
      'Worker stopped (empty): 4 job(s) processed, 0 released, 0 failed; messages: 1 sent, 2 failed (PHONE_INVALID=2), 1 to retry; 1 delayed job(s) remain, the next due at 2026-03-01 08:00:30 UTC.',
    )
    await db.knex('jobs').delete()
  })

  it('quota reconcile: unchanged rows are not counted as updated (nor rewritten); created and changed rows are told apart', async () => {
    await insertOrder(db, t, clock, {code: 'ORD-QUOTA-1'})
    const first = await reconcileQuota(db, {period: '2026-03', clock})
    const tenants = first.tenants.length
    // The seed made the demo tenant's row for the month (0 orders): it changes to 1.
    expect(first.tenants.find((x) => x.id === t.tenantId)).to.deep.include({orders: 1, previous: 0})
    expect(first.updated + first.created).to.equal(tenants)
    expect(first.updated).to.equal(1)
    const usage = async () => found(await db.knex<QuotaUsageRow>('quota_usage').where({tenant_id: t.tenantId, period: '2026-03'}).first(), 'quota_usage row')
    const stamp = (await usage()).updated_at
    clock.advance(3600)
    const again = await reconcileQuota(db, {period: '2026-03', clock})
    expect({updated: again.updated, created: again.created, unchanged: again.unchanged}).to.deep.equal({updated: 0, created: 0, unchanged: tenants})
    expect((await usage()).updated_at).to.equal(stamp)
    await insertOrder(db, t, clock, {code: 'ORD-QUOTA-2'})
    const changed = await reconcileQuota(db, {period: '2026-03', clock})
    expect({updated: changed.updated, created: changed.created, unchanged: changed.unchanged}).to.deep.equal({updated: 1, created: 0, unchanged: tenants - 1})
    expect(changed.tenants.find((x) => x.id === t.tenantId)).to.deep.include({orders: 2, previous: 1})
  })
})
