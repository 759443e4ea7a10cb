import {expect} from 'chai'

import type {Clock} from '../../../src/core/clock.js'
import type {Database} from '../../../src/core/db/connection.js'
import {migrate} from '../../../src/core/db/migrator.js'
import {runScheduleLoop} from '../../../src/core/scheduler/loop.js'
import {buildSchedule} from '../../../src/core/scheduler/schedule.js'
import {describeEachEngine} from '../../helpers/engines.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
/** A rehearsal clock that reads `at` now and advances in real time (as `--at`). */
function from(at: string): Clock {
  const start = Date.parse(at)
  const t0 = performance.now()
  return {now: () => new Date(start + Math.round(performance.now() - t0)), simulated: true}
}

describeEachEngine('schedule work: the minute loop', (ctx) => {
  let db: Database

  before(async function () {
    this.timeout(60_000)
    db = await ctx.scratch.open()
    await migrate(db)
  })

  it('runs every minute beside a long task, keeps the last valid schedule on a bad edit, and waits for running tasks at --max-time', async function () {
    this.timeout(30_000)
    const tasks = buildSchedule({
      baseline: false,
      tasks: {tick: {cron: '* * * * *', command: 'db status'}, slow: {cron: '* * * * *', command: 'db status'}},
    })
    const log: string[] = []
    const scheduleErrors: string[] = []
    let reloads = 0
    const t0 = performance.now()
    const result = await runScheduleLoop(db, {
      tasks,
      reloadTasks: () => {
        if (++reloads > 1) throw new Error('schedule.json: a bad edit')
        return tasks
      },
      // 06:00:58.5: two minutes start within two seconds.
      clock: from('2026-11-25T06:00:58.500Z'),
      cachePrefix: 'loop1_',
      maxTimeMs: 2600,
      executor: async ({task, slot}) => {
        if (task.name === 'slow') await sleep(3000)
        log.push(`${task.name}@${slot.toISOString().slice(11, 16)}`)
        return {exitCode: 0}
      },
      onEvent: ({type, slot, report}) => {
        if (type === 'end' && report.outcome === 'skipped') log.push(`${report.name}@${slot.toISOString().slice(11, 16)} ${report.reason}`)
      },
      onScheduleError: (error) => scheduleErrors.push(error.message),
    })
    // The 06:01 tick ran while the 06:00 slow task still ran (which made 06:01 skip slow), and the loop
    // stopped at --max-time only once slow had ended.
    expect(log).to.deep.equal(['tick@06:00', 'tick@06:01', 'slow@06:01 previous_run_still_running', 'slow@06:00'])
    expect(result).to.deep.equal({minutes: 2, ran: 3, failed: 0, skipped: 1, stop_reason: 'max_time'})
    expect(performance.now() - t0).to.be.at.least(3000)
    expect(scheduleErrors).to.deep.equal(['schedule.json: a bad edit'])
  })

  it('a stop starts no new minute, hands the stop to the running tasks and waits for them', async function () {
    this.timeout(30_000)
    const stop = new AbortController()
    let stopped = false
    const result = await runScheduleLoop(db, {
      tasks: buildSchedule({baseline: false, tasks: {job: {cron: '* * * * *', command: 'db status'}}}),
      clock: from('2026-11-25T07:00:30Z'),
      cachePrefix: 'loop2_',
      stop: stop.signal,
      executor: async (_run, signal) => {
        setTimeout(() => stop.abort(), 100)
        await new Promise((resolve) => signal.addEventListener('abort', resolve, {once: true}))
        await sleep(300) // a graceful stop takes a moment
        stopped = true
        return {exitCode: 0}
      },
    })
    expect(stopped).to.equal(true)
    expect(result).to.deep.equal({minutes: 1, ran: 1, failed: 0, skipped: 0, stop_reason: 'signal'})
  })
})
