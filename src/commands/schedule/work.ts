import {Flags} from '@oclif/core'

import {boundedInteger} from '../../flags.js'
import {LIMITS} from '../../core/limits.js'
import {DatabaseCommand} from '../../base-command.js'
import type {RunReport} from '../../core/scheduler/runner.js'

interface WorkResult {
  minutes: number
  ran: number
  failed: number
  skipped: number
  stop_reason: 'signal' | 'max_time'
}

export default class ScheduleWork extends DatabaseCommand<typeof ScheduleWork> {
  static faultScope = 'progress' as const
  static hiddenAliases = ['schedule:work']
  static summary = 'Run the scheduler in the foreground: schedule run at the start of every minute'
  static description = `A foreground loop for development, containers and hosts without cron: at the start of every UTC minute it does what \`schedule run\` does (same slot ledger and leases, so it can run beside cron runners on other hosts). A long task does not hold back the next minute. SIGTERM or SIGINT stops the loop, sends SIGTERM to running tasks and waits for them. Artisan alias: \`schedule:work\`.`
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --max-time 3600 --json']
  static flags = {
    'max-time': boundedInteger({...LIMITS.runSeconds, min: 1}, {description: 'stop after this many seconds (the running tasks are waited for)'}),
    at: Flags.string({
      hidden: true,
      description:
        'act as if the clock read this ISO 8601 time at start (tests and rehearsals on a copy of the database: the ledger rows and leases it writes are real)',
    }),
  }

  async run(): Promise<WorkResult> {
    const [{clockFrom, commandExecutor, describeTask, requireExistingDatabase}, {loadSchedule}] = await Promise.all([
      import('../../core/scheduler/setup.js'),
      import('../../core/scheduler/schedule.js'),
    ])
    const clock = clockFrom(this.flags.at)
    const config = await this.loadConfig()
    let {tasks} = loadSchedule()
    requireExistingDatabase(config)
    const db = await this.openDatabase(config)
    const {scheduleRun} = await import('../../core/scheduler/runner.js')
    const executor = commandExecutor(config, this.config.root)
    const stop = new AbortController()
    const tasksStop = new AbortController()
    let wake: (() => void) | undefined
    const onSignal = (signal: NodeJS.Signals) => {
      if (stop.signal.aborted) process.exit(1)
      this.note(`${signal} received: no new minute will start; stopping the running tasks, then exiting`)
      stop.abort()
      tasksStop.abort()
      wake?.()
    }
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
    const deadline = this.flags['max-time'] === undefined ? Infinity : Date.now() + this.flags['max-time'] * 1000
    const running = new Set<Promise<RunReport>>()
    const result: WorkResult = {minutes: 0, ran: 0, failed: 0, skipped: 0, stop_reason: 'signal'}
    this.note(`Running the schedule (${tasks.filter((t) => t.enabled).length} tasks) on ${db.target.display}; Ctrl-C to stop.`)
    try {
      let lastSlot = -1
      while (!stop.signal.aborted) {
        if (Date.now() >= deadline) {
          result.stop_reason = 'max_time'
          break
        }
        const now = clock.now().getTime()
        const slot = Math.floor(now / 60_000)
        if (slot !== lastSlot) {
          lastSlot = slot
          result.minutes++
          // The schedule file is read again every minute, as cron's `schedule run` would; an invalid edit
          // is reported and the last valid schedule kept.
          try {
            tasks = loadSchedule().tasks
          } catch (error) {
            process.stderr.write(`error: ${(error as Error).message} (keeping the previous schedule)\n`)
          }
          const run = scheduleRun(db, {
            tasks,
            executor,
            clock,
            cachePrefix: config.cachePrefix,
            signal: tasksStop.signal,
            onEvent: ({type, slot: at, report}) => {
              if (!this.jsonEnabled()) this.log(describeTask(at, report, type))
            },
          })
          running.add(run)
          run
            .then((report) => {
              result.ran += report.summary.ran
              result.failed += report.summary.failed
              result.skipped += report.summary.skipped
            })
            .catch((error: Error) => {
              result.failed++
              process.stderr.write(`error: schedule run at ${new Date(slot * 60_000).toISOString()}: ${error.message}\n`)
            })
            .finally(() => running.delete(run))
        }
        const untilNext = (slot + 1) * 60_000 - clock.now().getTime() + 5
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(5, Math.min(untilNext, deadline - Date.now())))
          wake = () => {
            clearTimeout(timer)
            resolve()
          }
        })
      }
      await Promise.allSettled([...running])
      this.note(
        `Scheduler stopped (${result.stop_reason}) after ${result.minutes} minute(s): ${result.ran} ran, ${result.failed} failed, ${result.skipped} skipped.`,
      )
      if (result.failed > 0) process.exitCode = 1
      return result
    } finally {
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
    }
  }
}
