import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'

interface ListedTask {
  name: string
  cron: string
  command: string
  next_run: string | null
  lease_minutes: number
  enabled: boolean
  source: 'baseline' | 'file'
  description: string | null
}

export default class ScheduleList extends BaseCommand<typeof ScheduleList> {
  static hiddenAliases = ['schedule:list']
  static summary = 'List the scheduled tasks with their next run (UTC)'
  static description = `The effective schedule: the built-in baseline (upstream's five ops tasks, in UTC), changed by the operator's schedule file when there is one (LAUNDRY_OPS_SCHEDULE, or laundry-ops.schedule.json in the working directory; see docs/scheduler.md). An invalid file is refused with exit 2 and the reason. Artisan alias: \`schedule:list\`.`
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --next', '<%= config.bin %> <%= command.id %> --json']
  static flags = {
    next: Flags.boolean({description: 'sort by the next run time'}),
    at: Flags.string({hidden: true, description: 'compute next runs from this ISO 8601 time instead of now'}),
  }

  async run(): Promise<{schedule_file: string | null; timezone: 'UTC'; tasks: ListedTask[]}> {
    const [{loadCheckedSchedule}, {nextSlot}, {clockFrom}] = await Promise.all([
      import('../../core/scheduler/schedule.js'),
      import('../../core/scheduler/cron.js'),
      import('../../core/scheduler/setup.js'),
    ])
    const now = clockFrom(this.flags.at).now()
    const {tasks, file, baseline} = await loadCheckedSchedule({checkCommand: this.scheduleCommandCheck()})
    let listed: ListedTask[] = tasks.map((t) => ({
      name: t.name,
      cron: t.cron,
      command: t.command,
      next_run: t.enabled ? (nextSlot(t.expression, now)?.toISOString() ?? null) : null,
      lease_minutes: t.leaseMinutes,
      enabled: t.enabled,
      source: t.source,
      description: t.description ?? null,
    }))
    if (this.flags.next) {
      listed = [...listed].sort((a, b) => (a.next_run ?? '9999').localeCompare(b.next_run ?? '9999') || a.name.localeCompare(b.name))
    }
    if (!this.jsonEnabled()) {
      const {renderTable} = await import('../../render/table.js')
      const when = (iso: string | null, enabled: boolean) => (!enabled ? 'disabled' : iso === null ? 'never' : `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`)
      this.log(
        renderTable(
          ['Task', 'Cron (UTC)', 'Command', 'Next run', 'Lease'],
          listed.map((t) => [t.name, t.cron, `laundry-ops ${t.command}`, when(t.next_run, t.enabled), `${t.lease_minutes} min`]),
        ),
      )
      this.log(
        !file
          ? 'Schedule: built-in baseline (no schedule file)'
          : baseline
            ? `Schedule: built-in baseline changed by ${file}`
            : `Schedule: ${file} (built-in baseline off)`,
      )
    }
    return {schedule_file: file, timezone: 'UTC', tasks: listed}
  }
}
