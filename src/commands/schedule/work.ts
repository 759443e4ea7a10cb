import {Flags} from '@oclif/core'

import {boundedInteger} from '../../flags.js'
import {LIMITS} from '../../core/limits.js'
import {DatabaseCommand} from '../../base-command.js'
import type {WorkResult} from '../../core/scheduler/loop.js'

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
    const [{clockFrom, commandExecutor, describeTask, requireExistingDatabase}, {loadCheckedSchedule}] = await Promise.all([
      import('../../core/scheduler/setup.js'),
      import('../../core/scheduler/schedule.js'),
    ])
    const clock = clockFrom(this.flags.at)
    const config = await this.loadConfig()
    const checkCommand = this.scheduleCommandCheck()
    const {tasks} = await loadCheckedSchedule({checkCommand})
    requireExistingDatabase(config)
    const db = await this.openDatabase(config)
    const [{runScheduleLoop}, {installStopSignals}] = await Promise.all([
      import('../../core/scheduler/loop.js'),
      import('../../core/lifecycle/stop-signals.js'),
    ])
    const stop = installStopSignals({note: (line) => this.note(line), stopping: 'no new minute will start; stopping the running tasks, then exiting'})
    this.note(`Running the schedule (${tasks.filter((t) => t.enabled).length} tasks) on ${db.target.display}; Ctrl-C to stop.`)
    try {
      const result = await runScheduleLoop(db, {
        tasks,
        reloadTasks: async () => (await loadCheckedSchedule({checkCommand})).tasks,
        executor: commandExecutor(config, this.config.root),
        clock,
        cachePrefix: config.cachePrefix,
        maxTimeMs: this.flags['max-time'] === undefined ? undefined : this.flags['max-time'] * 1000,
        stop: stop.signal,
        onEvent: ({type, slot, report}) => {
          if (!this.jsonEnabled()) this.log(describeTask(slot, report, type))
        },
        onScheduleError: (error) => process.stderr.write(`error: ${error.message} (keeping the previous schedule)\n`),
        onRunError: (slot, error) => process.stderr.write(`error: schedule run at ${slot.toISOString()}: ${error.message}\n`),
      })
      this.note(
        `Scheduler stopped (${result.stop_reason}) after ${result.minutes} minute(s): ${result.ran} ran, ${result.failed} failed, ${result.skipped} skipped.`,
      )
      if (result.failed > 0) process.exitCode = 1
      return result
    } finally {
      stop.dispose()
    }
  }
}
