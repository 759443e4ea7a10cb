import {Flags} from '@oclif/core'

import {DatabaseCommand} from '../../base-command.js'
import type {RunReport} from '../../core/scheduler/runner.js'

export default class ScheduleRun extends DatabaseCommand<typeof ScheduleRun> {
  static faultScope = 'progress' as const
  static hiddenAliases = ['schedule:run']
  static summary = 'Run the scheduled tasks that are due this minute (for cron, every minute)'
  static description = `Runs each task due in the current UTC minute as its own laundry-ops command, its output appended to <storage>/logs/schedule/<task>.log. Several hosts may run it in the same minute: each (task, minute) runs once, on whichever runner claims it first; a task still running from an earlier minute is skipped, and a run whose runner died is taken over once its lease (lease_minutes, default 5) expires. Exits 1 when a task that ran failed. Artisan alias: \`schedule:run\`.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json',
    '* * * * * cd /srv/laundry && npx laundry-ops schedule run >> storage/logs/schedule-run.log 2>&1',
  ]
  static flags = {
    task: Flags.string({description: 'run only this task when it is due (repeatable)', multiple: true}),
    at: Flags.string({
      hidden: true,
      description:
        'act as if the clock read this ISO 8601 time at start (tests and rehearsals on a copy of the database: the ledger rows and leases it writes are real)',
    }),
  }

  async run(): Promise<RunReport> {
    const {clockFrom, commandExecutor, describeTask, requireExistingDatabase} = await import('../../core/scheduler/setup.js')
    const clock = clockFrom(this.flags.at)
    const config = await this.loadConfig()
    const {loadCheckedSchedule} = await import('../../core/scheduler/schedule.js')
    const {tasks} = await loadCheckedSchedule({checkCommand: this.scheduleCommandCheck()})
    for (const name of this.flags.task ?? []) {
      if (!tasks.some((t) => t.name === name)) {
        const {UsageError} = await import('../../core/errors.js')
        throw new UsageError('USAGE', `--task ${name}: no such task (tasks: ${tasks.map((t) => t.name).join(', ')})`)
      }
    }
    requireExistingDatabase(config)
    const db = await this.openDatabase(config)
    const [{scheduleRun}, {installStopSignals}] = await Promise.all([import('../../core/scheduler/runner.js'), import('../../core/lifecycle/stop-signals.js')])
    const stop = installStopSignals({note: (line) => this.note(line), stopping: 'stopping the running tasks (SIGTERM), then exiting'})
    try {
      const report = await scheduleRun(db, {
        tasks,
        executor: commandExecutor(config, this.config.root),
        clock,
        cachePrefix: config.cachePrefix,
        only: this.flags.task,
        signal: stop.signal,
        onEvent: ({type, slot, report: task}) => {
          if (!this.jsonEnabled()) this.log(describeTask(slot, task, type))
        },
      })
      if (!this.jsonEnabled() && report.summary.due === 0) {
        this.log(`No scheduled tasks are due at ${report.slot.slice(0, 16).replace('T', ' ')} UTC.`)
      }
      if (report.summary.failed > 0) process.exitCode = 1
      return report
    } finally {
      stop.dispose()
    }
  }
}
