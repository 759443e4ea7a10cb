import {expect} from 'chai'

import {type Clock, fixedClock, systemClock} from '../../../src/core/clock.js'
import type {Database} from '../../../src/core/db/connection.js'
import {leaseNow, unixSeconds} from '../../../src/core/db/lease-time.js'
import {migrate} from '../../../src/core/db/migrator.js'
import {writeTransaction} from '../../../src/core/db/transactions.js'
import {dueTasks, leaseKey, scheduleRun, slotRecords, type RunReport, type TaskExecutor, type TaskReport} from '../../../src/core/scheduler/runner.js'
import {buildSchedule} from '../../../src/core/scheduler/schedule.js'
import {slotOf} from '../../../src/core/scheduler/cron.js'
import {describeTask} from '../../../src/core/scheduler/setup.js'
import {describeEachEngine} from '../../helpers/engines.js'

const DAY = Date.UTC(2026, 10, 22)
const PREFIX = 'laravel_cache_'
const minute = (m: number) => new Date(DAY + m * 60_000)
const hhmm = (d: Date) => d.toISOString().slice(11, 16)
/** The owner of a lease whose runner died on another host. */
const CRASHED = 'laundry-ops:crashed-host:4242:dead'

/** Deterministic jitter: runners on different hosts start within the same minute, never at once. */
function prng(seed: number) {
  let s = seed
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648
    return s / 2_147_483_648
  }
}

// The baseline plus two tasks that exercise the lease:
// - `long` is due every 10 minutes but runs for 25 (lease 30): it must run at :00 and :30 only;
// - `crashy` is hourly; at 05:00 its runner "dies" mid-task (the task never ends, nothing is cleaned up),
//   so its lease (90 minutes) is left behind: 06:00 is skipped, 07:00 takes it over. (The dead runner's
//   lease names a host of its own: a runner of this live test process would not be taken over on SQLite.)
const tasks = buildSchedule({
  tasks: {
    long: {cron: '*/10 * * * *', command: 'db status', lease_minutes: 30},
    crashy: {cron: '0 * * * *', command: 'db status', lease_minutes: 90},
  },
})

describeEachEngine('scheduler: three runners over a simulated day (1,440 slots)', {from: 'migrated'}, (ctx) => {
  const runners: Database[] = []

  before(async function () {
    this.timeout(120_000)
    for (let i = 0; i < 3; i++) {
      const db = await ctx.scratch.open()
      // Three SQLite connections in one process: better-sqlite3 would wait for a lock synchronously,
      // blocking the event loop of the holder too; with busy_timeout 0 the wait is async (writeTransaction).
      if (db.dialect === 'sqlite') await db.knex.raw('PRAGMA busy_timeout = 0')
      runners.push(db)
    }
  })

  it('runs each (task, slot) exactly once, never overlaps a running task, and takes over a dead run after its lease [slow]', async function () {
    this.timeout(300_000)
    const executions: Array<{task: string; slot: string; runner: number; start: number; end?: number}> = []
    const parkedLong: Array<{endAt: number; resolve: () => void; settled: Promise<unknown>}> = []
    const taskReports: Array<TaskReport & {slot: string}> = []
    let simNow = 0
    const random = prng(42)

    for (let m = 0; m < 1440; m++) {
      simNow = DAY + m * 60_000
      // Long tasks whose 25 minutes are over end now; their runs finish (lease released) before the slot.
      const ending = parkedLong.filter((p) => p.endAt <= simNow)
      for (const p of ending) {
        parkedLong.splice(parkedLong.indexOf(p), 1)
        p.resolve()
      }
      await Promise.all(ending.map((p) => p.settled))

      const due = dueTasks(tasks, minute(m)).length
      const waits: Array<Promise<unknown>> = []
      // Hosts reach the minute in a different order every time.
      const order = [0, 1, 2].sort(() => random() - 0.5)
      for (const r of order) {
        let ends = 0
        let parked = 0
        let quiet!: () => void
        const quiescent = new Promise<void>((resolve) => (quiet = resolve))
        const check = () => {
          if (ends + parked === due) quiet()
        }
        check()
        // A long task has finished (slot record written, lease released) when its `end` event arrives.
        let longFinished!: () => void
        const longDone = new Promise<void>((resolve) => (longFinished = resolve))
        const executor: TaskExecutor = async ({task, slot}) => {
          const record: (typeof executions)[number] = {task: task.name, slot: hhmm(slot), runner: r, start: simNow}
          executions.push(record)
          if (task.name === 'crashy' && hhmm(slot) === '05:00') {
            await writeTransaction(runners[r], (trx) =>
              trx('cache_locks')
                .where({key: leaseKey(PREFIX, 'crashy')})
                .update({owner: CRASHED}),
            )
            parked++
            check()
            return new Promise(() => {}) // the runner was killed: no end, no release
          }
          if (task.name === 'long') {
            let resolve!: () => void
            const ended = new Promise<void>((res) => (resolve = res))
            parkedLong.push({endAt: simNow + 25 * 60_000, resolve, settled: longDone})
            parked++
            check()
            await ended
            record.end = simNow
            return {exitCode: 0}
          }
          record.end = simNow
          return {exitCode: 0}
        }
        const run = scheduleRun(runners[r], {
          tasks,
          executor,
          clock: fixedClock(new Date(DAY + m * 60_000 + Math.floor(random() * 50_000))),
          cachePrefix: PREFIX,
          heartbeatMs: false,
          onEvent: ({type, slot, report}) => {
            if (type === 'end') taskReports.push({...report, slot: hhmm(slot)})
            if (type === 'end') ends++
            if (type === 'end' && report.name === 'long') longFinished()
            check()
          },
        })
        waits.push(Promise.race([run, quiescent]))
      }
      await Promise.all(waits)
    }

    const key = (e: {task: string; slot: string}) => `${e.task}@${e.slot}`
    const counts = new Map<string, number>()
    for (const e of executions) counts.set(key(e), (counts.get(key(e)) ?? 0) + 1)
    expect(
      [...counts.values()].filter((n) => n > 1),
      'a (task, slot) ran twice',
    ).to.deep.equal([])

    const ran = (task: string) => executions.filter((e) => e.task === task).map((e) => e.slot)
    expect(ran('wa-redrive')).to.have.length(144)
    expect(ran('observe-health')).to.have.length(96)
    expect(ran('wa-remind')).to.deep.equal(['09:00'])
    expect(ran('quota-reconcile')).to.deep.equal(['00:10'])
    expect(ran('audit-archive')).to.deep.equal(['02:00'])
    // `long` runs at :00 and :30; :10, :20, :40 and :50 find it still running.
    expect(ran('long')).to.have.length(48)
    expect(ran('long').every((s) => s.endsWith(':00') || s.endsWith(':30'))).to.equal(true)
    const longRuns = executions.filter((e) => e.task === 'long').sort((a, b) => a.start - b.start)
    for (let i = 1; i < longRuns.length; i++) expect(longRuns[i].start, 'long overlapped').to.be.at.least(longRuns[i - 1].end!)
    // `crashy`: every hour but 06:00 (the dead 05:00 run still holds the lease), taken over at 07:00.
    expect(ran('crashy')).to.have.length(23)
    expect(ran('crashy')).to.not.include('06:00')

    const bySlot = new Map<string, typeof taskReports>()
    for (const t of taskReports) bySlot.set(key({task: t.name, slot: t.slot}), [...(bySlot.get(key({task: t.name, slot: t.slot})) ?? []), t])
    for (const [k, list] of bySlot) {
      // The 05:00 crashy run never reports; everything else has three reports, one of them the owner's.
      if (k === 'crashy@05:00') continue
      expect(list, k).to.have.length(3)
      expect(
        list.filter((t) => t.reason === 'claimed_by_other_runner'),
        k,
      ).to.have.length(2)
    }
    expect(bySlot.get('long@00:10')!.some((t) => t.reason === 'previous_run_still_running')).to.equal(true)
    expect(bySlot.get('crashy@06:00')!.filter((t) => t.reason === 'previous_run_still_running')).to.have.length(1)
    const takeover = bySlot.get('crashy@07:00')!.find((t) => t.outcome === 'ran')!
    expect(takeover.took_over_from).to.equal(CRASHED)
    expect(bySlot.get('crashy@08:00')!.find((t) => t.outcome === 'ran')!.took_over_from).to.equal(undefined)
    // Every runner won slots: the claims really raced.
    for (let r = 0; r < 3; r++) expect(executions.filter((e) => e.runner === r).length, `runner ${r}`).to.be.greaterThan(20)

    // The ledger agrees: one record per (task, due slot), with the outcome.
    const ledger = await slotRecords(runners[0], PREFIX)
    const expectedSlots = [...Array(1440).keys()].reduce((n, m) => n + dueTasks(tasks, minute(m)).length, 0)
    expect(ledger).to.have.length(expectedSlots)
    const status = (task: string, slot: string) => ledger.find((l) => l.task === task && l.slot === `2026-11-22T${slot}:00.000Z`)?.record.status
    expect(status('crashy', '05:00')).to.equal('running')
    expect(status('crashy', '06:00')).to.equal('skipped')
    expect(status('long', '00:10')).to.equal('skipped')
    expect(status('long', '00:30')).to.equal('done')
    expect(ledger.filter((l) => l.record.status === 'done')).to.have.length(executions.length - 1)
  })
})

describeEachEngine('scheduler: the lease heartbeat', {from: 'migrated'}, (ctx) => {
  let a: Database
  let b: Database

  before(async function () {
    this.timeout(60_000)
    a = await ctx.scratch.open()
    b = await ctx.scratch.open()
    for (const db of [a, b]) if (db.dialect === 'sqlite') await db.knex.raw('PRAGMA busy_timeout = 0')
  })

  // One real second is one simulated minute. The task runs 2.5 simulated minutes with a 1-minute lease.
  const start = Date.UTC(2026, 10, 22, 12, 0)
  const fast = () => {
    const real = Date.now()
    return {now: () => new Date(start + (Date.now() - real) * 60), simulated: true}
  }
  const every = buildSchedule({baseline: false, tasks: {job: {cron: '* * * * *', command: 'db status', lease_minutes: 1}}})

  async function race(heartbeatMs: number | false): Promise<{second: RunReport; first: RunReport}> {
    const clock = fast()
    const first = scheduleRun(a, {
      tasks: every,
      clock,
      cachePrefix: `${PREFIX}hb${heartbeatMs}_`,
      heartbeatMs,
      executor: () => new Promise((resolve) => setTimeout(() => resolve({exitCode: 0}), 2500)),
    })
    await new Promise((resolve) => setTimeout(resolve, 1700))
    // Another runner, 1.7 simulated minutes later: the first run's 1-minute lease has passed its first expiry.
    // Its task outlasts the first one's, so it still holds the lease when the first run ends.
    const second = await scheduleRun(b, {
      tasks: every,
      clock: {now: () => clock.now(), simulated: true},
      cachePrefix: `${PREFIX}hb${heartbeatMs}_`,
      heartbeatMs: false,
      executor: () => new Promise((resolve) => setTimeout(() => resolve({exitCode: 0}), 1500)),
    })
    return {second, first: await first}
  }

  it('keeps a long task leased while it runs; without it the lease expires: taken over on PostgreSQL (the first run is told), kept by the live runner on SQLite [slow]', async function () {
    this.timeout(30_000)
    const healthy = await race(100)
    expect(healthy.second.tasks[0].reason).to.equal('previous_run_still_running')
    expect(healthy.first.tasks[0]).to.include({outcome: 'ran'}).and.not.have.property('lease_lost')
    // A heartbeat slower than the lease (a stalled runner): the lease expires.
    const stale = await race(2000)
    if (ctx.dialect === 'pg') {
      // The next minute takes the task over, and the first run learns it lost the lease (to whom) at its next beat.
      expect(stale.second.tasks[0].outcome).to.equal('ran')
      expect(stale.first.tasks[0]).to.include({outcome: 'ran', lease_lost: true, lost_to: stale.second.runner})
    } else {
      // SQLite is one host: the stalled runner is a live process here, so its lease is not taken over.
      expect(stale.second.tasks[0]).to.include({reason: 'previous_run_still_running', holder: stale.first.runner})
      expect(stale.first.tasks[0]).to.include({outcome: 'ran'}).and.not.have.property('lease_lost')
    }
  })
})

describeEachEngine('scheduler: a host clock that is wrong, and a lease taken over', (ctx) => {
  let a: Database
  let b: Database
  const TEN_MINUTES = 600_000
  const every = buildSchedule({baseline: false, tasks: {job: {cron: '* * * * *', command: 'db status', lease_minutes: 5}}})
  /** The host's clock (not a rehearsal), set `ms` off. */
  const hostClock = (ms: number): Clock => ({now: () => new Date(Date.now() + ms)})
  /** A rehearsal clock `ms` off real time: read as it is, also on PostgreSQL. */
  const shifted = (ms: number): Clock => ({now: () => new Date(Date.now() + ms), simulated: true})
  const serverMinute = async () => slotOf(await leaseNow(a.knex, a.dialect, systemClock)).toISOString()
  let prefixes = 0

  before(async function () {
    this.timeout(60_000)
    a = await ctx.scratch.open()
    await migrate(a)
    b = await ctx.scratch.open()
    for (const db of [a, b]) if (db.dialect === 'sqlite') await db.knex.raw('PRAGMA busy_timeout = 0')
  })

  /** A run of `job` on `db` whose task runs until the returned `end` is called. */
  function parkedRun(db: Database, clock: Clock, prefix: string, heartbeatMs: number | false = false) {
    let end!: () => void
    let started!: () => void
    const running = new Promise<void>((resolve) => (started = resolve))
    const run = scheduleRun(db, {
      tasks: every,
      clock,
      cachePrefix: prefix,
      heartbeatMs,
      executor: () =>
        new Promise((resolve) => {
          end = () => resolve({exitCode: 0})
          started()
        }),
    })
    return {run, running, end: () => end()}
  }

  it('a runner whose clock is ten minutes ahead does not take over the lease of a healthy run', async function () {
    this.timeout(30_000)
    const prefix = `${PREFIX}ahead${++prefixes}_`
    // The healthy run started a minute ago (its 5-minute lease runs four more minutes) and is still running.
    const healthy = parkedRun(a, shifted(-60_000), prefix)
    await healthy.running
    const before = await serverMinute()
    const ahead = await scheduleRun(b, {
      tasks: every,
      clock: hostClock(TEN_MINUTES),
      cachePrefix: prefix,
      heartbeatMs: false,
      executor: () => Promise.resolve({exitCode: 0}),
    })
    const after = await serverMinute()
    healthy.end()
    const first = await healthy.run
    expect(ahead.tasks[0]).to.include({outcome: 'skipped', reason: 'previous_run_still_running', holder: first.runner})
    expect(first.tasks[0]).to.include({outcome: 'ran'}).and.not.have.property('lease_lost')
    // PostgreSQL: the slot is the server's current minute, not the host's ten minutes ahead. (SQLite is one
    // host: its clock is the clock, and a live holder here keeps its lease whatever that clock says.)
    if (ctx.dialect === 'pg') expect([before, after]).to.include(ahead.slot)
  })

  it('a runner whose clock is ten minutes behind takes and renews a lease that lasts its full term', async function () {
    this.timeout(30_000)
    const prefix = `${PREFIX}behind${++prefixes}_`
    const behind = parkedRun(a, hostClock(-TEN_MINUTES), prefix, 100)
    await behind.running
    await new Promise((resolve) => setTimeout(resolve, 300)) // a few heartbeats
    const expiration = Number(
      (await a
        .knex<{key: string; expiration: number}>('cache_locks')
        .where({key: leaseKey(prefix, 'job')})
        .first('expiration'))!.expiration,
    )
    // The next minute's runner (a minute ahead, as the next cron run would be).
    const next = await scheduleRun(b, {
      tasks: every,
      clock: shifted(60_000),
      cachePrefix: prefix,
      heartbeatMs: false,
      executor: () => Promise.resolve({exitCode: 0}),
    })
    behind.end()
    const first = await behind.run
    expect(next.tasks[0]).to.include({outcome: 'skipped', reason: 'previous_run_still_running', holder: first.runner})
    expect(first.tasks[0]).to.include({outcome: 'ran'}).and.not.have.property('lease_lost')
    if (ctx.dialect === 'pg') {
      // Claimed and renewed on the server's clock: five minutes from the server's now, not from the host's.
      const server = unixSeconds(await leaseNow(a.knex, a.dialect, systemClock))
      expect(expiration).to.be.within(server + 300 - 5, server + 300 + 1)
    }
  })

  it('a run whose lease was taken over while its task ran (shorter than a heartbeat) says so in its report and slot record', async function () {
    this.timeout(30_000)
    const prefix = `${PREFIX}lost${++prefixes}_`
    const thief = 'laundry-ops:other-host:4242:beef'
    const events: string[] = []
    const report = await scheduleRun(a, {
      tasks: every,
      clock: systemClock,
      cachePrefix: prefix,
      // The default heartbeat (every 60 s here) never beats during this task.
      executor: async () => {
        // Another runner takes the lease over (as one on another host would once it looked expired).
        await b
          .knex('cache_locks')
          .where({key: leaseKey(prefix, 'job')})
          .update({owner: thief})
        return {exitCode: 0}
      },
      onEvent: ({type, slot, report: task}) => events.push(describeTask(slot, task, type)),
    })
    expect(report.tasks[0]).to.include({outcome: 'ran', lease_lost: true, lost_to: thief})
    expect(events.at(-1)).to.match(new RegExp(`DONE \\d+\\.\\ds, but lost its lease to ${thief}$`))
    const [entry] = await slotRecords(a, prefix, 'job')
    expect(entry.record).to.include({status: 'done', runner: report.runner, lease_lost: true, lost_to: thief})
    // The thief's lease is its own: finishing did not release it.
    expect(
      await a
        .knex('cache_locks')
        .where({key: leaseKey(prefix, 'job')})
        .first('owner'),
    ).to.deep.equal({owner: thief})
  })
})
