import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {archiveAuditEvents, type ArchiveOptions} from '../../src/core/audit/archive.js'
import {fixedClock} from '../../src/core/clock.js'
import type {Database} from '../../src/core/db/connection.js'
import type {JobRow, PlanRow, WaMessageRow} from '../../src/core/db/rows.js'
import {migrate, rollback} from '../../src/core/db/migrator.js'
import {sendAgingReminders} from '../../src/core/messaging/aging-reminders.js'
import {redriveFailedMessages} from '../../src/core/messaging/redrive.js'
import {failJob, pushJob} from '../../src/core/queue/database-queue.js'
import {flushFailedJobs, retryFailedJobs} from '../../src/core/queue/failed-jobs.js'
import {sendWaJobPayload} from '../../src/core/queue/payload.js'
import {reconcileQuota} from '../../src/core/quota/reconcile.js'
import {insertAuditEvents, recordArchiveSource} from '../helpers/audit.js'
import {describeEachEngine} from '../helpers/engines.js'
import {found, insertOrder, manualClock, premiumTenantWithMock, type WaTenant} from '../helpers/wa.js'

/**
 * Class 7 of issue 9: for every command with --dry-run, the dry run reports the same counts and reasons
 * as the real run on the same data. Each case runs the dry run, then the real run on the same data.
 */
describeEachEngine('every --dry-run predicts the real run', (ctx) => {
  const clock = manualClock('2026-03-10T08:00:00Z')
  let db: Database
  let t: WaTenant

  before(async () => {
    db = await ctx.scratch.open()
    t = await premiumTenantWithMock(db, clock)
  })

  it('wa remind: a plan without WhatsApp skips every candidate in the dry run as in the real run (plan_not_eligible)', async () => {
    const standard = found(await db.knex<PlanRow>('plans').where({key: 'standard'}).first(), 'standard plan')
    const premium = found(await db.knex<PlanRow>('plans').where({key: 'premium'}).first(), 'premium plan')
    clock.set('2026-03-01T08:00:00Z')
    for (let i = 0; i < 3; i++) await insertOrder(db, t, clock, {code: `ORD-REMIND-${i}`, due: 5000})
    clock.set('2026-03-10T08:00:00Z')
    const options = {tenant: t.tenantId, asOf: '2026-03-10', limit: 50, clock, brandName: 'Laundry'}
    await db.knex('tenants').where({id: t.tenantId}).update({current_plan_id: standard.id})
    try {
      const dry = await sendAgingReminders(db, {...options, dryRun: true})
      expect(await db.knex('wa_messages').count({n: '*'}).first()).to.satisfy((r: {n: unknown}) => Number(r.n) === 0)
      const real = await sendAgingReminders(db, {...options, dryRun: false})
      const counts = (r: typeof real) => ({
        processed: r.processed,
        enqueued: r.enqueued,
        already_sent: r.already_sent,
        skipped: r.skipped,
        skipped_reasons: r.skipped_reasons,
      })
      expect(dry.skipped).to.equal(3)
      expect(dry.skipped_reasons).to.deep.equal({plan_not_eligible: 3})
      expect(counts(dry)).to.deep.equal(counts(real))
      expect(dry.candidates.map((c) => [c.outcome, c.reason])).to.deep.equal(real.candidates.map((c) => [c.outcome, c.reason]))
    } finally {
      await db.knex('tenants').where({id: t.tenantId}).update({current_plan_id: premium.id})
    }
    // Eligible: the dry run counts what the run enqueues; afterwards both find them already sent.
    const dry = await sendAgingReminders(db, {...options, dryRun: true})
    const real = await sendAgingReminders(db, {...options, dryRun: false})
    expect({enqueued: dry.enqueued, already_sent: dry.already_sent}).to.deep.equal({enqueued: 3, already_sent: 0})
    expect({enqueued: real.enqueued, already_sent: real.already_sent}).to.deep.equal({enqueued: 3, already_sent: 0})
    const dryAgain = await sendAgingReminders(db, {...options, dryRun: true})
    expect({enqueued: dryAgain.enqueued, already_sent: dryAgain.already_sent}).to.deep.equal({enqueued: 0, already_sent: 3})
  })

  it('wa redrive: the dry run requeues (on paper) what the run requeues', async () => {
    const failedIds = await db.knex<WaMessageRow>('wa_messages').select('id').limit(2)
    await db
      .knex('wa_messages')
      .whereIn(
        'id',
        failedIds.map((r) => r.id),
      )
      .update({status: 'failed', last_error_code: 'NETWORK_ERROR'})
    const options = {tenant: t.tenantId, limit: 50, reasons: [], allReasons: false, clock}
    const dry = await redriveFailedMessages(db, {...options, dryRun: true})
    const real = await redriveFailedMessages(db, {...options, dryRun: false})
    expect({processed: dry.processed, requeued: dry.requeued}).to.deep.equal({processed: 2, requeued: 2})
    expect({processed: real.processed, requeued: real.requeued}).to.deep.equal({processed: 2, requeued: 2})
    expect(dry.candidates.map((c) => c.id)).to.deep.equal(real.candidates.map((c) => c.id))
  })

  it('quota reconcile: the dry run reports the rows the run creates, updates and leaves alone', async () => {
    const options = {period: '2026-03', clock}
    const dry = await reconcileQuota(db, {...options, dryRun: true})
    const real = await reconcileQuota(db, {...options, dryRun: false})
    const counts = (r: typeof real) => ({updated: r.updated, created: r.created, unchanged: r.unchanged})
    expect(counts(dry)).to.deep.equal(counts(real))
    expect(real.created + real.updated).to.be.above(0)
    const again = await reconcileQuota(db, {...options, dryRun: true})
    expect(counts(again)).to.deep.equal({updated: 0, created: 0, unchanged: real.tenants.length})
  })

  it('queue retry and queue flush: the dry run lists and counts what the run retries and deletes', async () => {
    const now = clock.now()
    for (let i = 0; i < 3; i++) {
      const id = await pushJob(db.knex, {queue: 'messaging', payload: sendWaJobPayload({waMessageId: `00000000-0000-7000-8000-00000000000${i}`, now}), now})
      const {payload} = found(await db.knex<JobRow>('jobs').where({id}).first(), `job ${id}`)
      await failJob(
        db,
        {id, queue: 'messaging', payload, attempts: 1, reserved_at: null, available_at: 0, created_at: 0},
        'boom',
        new Date(now.getTime() - i * 7_200_000),
      )
    }
    const flushDry = await flushFailedJobs(db, {hours: 1, dryRun: true, clock})
    const retryDry = await retryFailedJobs(db, 'all', clock, true)
    const flushed = await flushFailedJobs(db, {hours: 1, dryRun: false, clock})
    expect(flushDry.deleted).to.equal(2)
    expect(flushed.deleted).to.equal(flushDry.deleted)
    const retryDryAfter = await retryFailedJobs(db, 'all', clock, true)
    const retried = await retryFailedJobs(db, 'all', clock, false)
    expect(retryDry.retried).to.have.length(3)
    expect(retried.retried.map((r) => r.uuid)).to.deep.equal(retryDryAfter.retried.map((r) => r.uuid))
    await db.knex('jobs').delete()
  })

  it('audit archive: the dry run counts the unfinished archive the run finishes first, and what still matches after it', async () => {
    const storage = path.join(ctx.scratch.dir, 'storage-dry')
    const now = new Date('2026-03-10T02:00:00Z')
    const ids = await insertAuditEvents(db, 300, {now, minDays: 91, maxDays: 120})
    // A killed run of this database: 100 rows written and fsynced, 60 of them not yet deleted.
    const rows = await db.knex<{id: string; created_at: string}>('audit_events').whereIn('id', ids.slice(0, 100)).select('id', 'created_at')
    const dir = path.join(storage, 'app', 'audit-archives')
    mkdirSync(dir, {recursive: true})
    const killed = path.join(dir, 'audit-events-20260309-020000.jsonl')
    writeFileSync(killed, rows.map((r) => `${JSON.stringify({id: r.id, created_at: `${String(r.created_at).replace(' ', 'T')}+00:00`})}\n`).join(''))
    await recordArchiveSource(db, killed)
    await db.knex('audit_events').whereIn('id', ids.slice(0, 40)).delete()
    const options: ArchiveOptions = {days: 90, chunk: 100, dryRun: true, gzip: false, clock: fixedClock(now), storage, toolVersion: 'test'}
    const dry = await archiveAuditEvents(db, options)
    const real = await archiveAuditEvents(db, {...options, dryRun: false})
    const counts = (r: typeof real) => ({matched: r.matched, archived: r.archived, deleted: r.deleted, recovered: r.recovered, left_alone: r.left_alone})
    expect(dry.recovered).to.deep.equal([{file: killed, rows: 100, deleted_from_table: 60, torn_tail: false}])
    expect(counts(dry)).to.deep.equal(counts(real))
    expect(real).to.deep.include({matched: 200, archived: 200, deleted: 200})
  })

  it('db rollback and db migrate: the dry run lists what the run undoes and applies', async () => {
    const scratch = await ctx.scratch.open()
    const undoDry = await rollback(scratch, {step: 2, dryRun: true})
    const undone = await rollback(scratch, {step: 2})
    expect(undone.rolled_back).to.deep.equal(undoDry.rolled_back)
    const migrateDry = await migrate(scratch, {dryRun: true})
    const migrated = await migrate(scratch)
    expect(migrated.migrated).to.deep.equal(migrateDry.migrated)
    expect(migrated.migrated).to.have.length(2)
  })
})
