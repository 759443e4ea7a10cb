import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {z} from 'zod'

import {readEnvironment} from '../config.js'
import {oneLineMessage, UsageError} from '../errors.js'
import {type CronExpression, CronSyntaxError, nextSlot, parseCron} from './cron.js'

/** One scheduled task: a laundry-ops command line run on a cron expression (UTC). */
export interface ScheduledTask {
  /** Stable name: the lease key, the slot ledger and the log file are derived from it. */
  name: string
  cron: string
  expression: CronExpression
  /** The command line after `laundry-ops`, e.g. `wa redrive --limit=100`. */
  command: string
  argv: string[]
  /** A run whose runner stopped renewing its lease is taken over after this many minutes. */
  leaseMinutes: number
  enabled: boolean
  /** `baseline` (built in, as upstream) or `file` (added or changed by the operator's schedule file). */
  source: 'baseline' | 'file'
  description?: string
}

export const DEFAULT_LEASE_MINUTES = 5

/**
 * Upstream's `routes/console.php` at cd31449 (reference/upstream-ops.md §5; SPEC §6), in UTC. The
 * artisan names the upstream application schedules are aliases of these commands.
 */
export const BASELINE: ReadonlyArray<{name: string; cron: string; command: string; upstream: string; description: string}> = [
  {name: 'wa-redrive', cron: '*/10 * * * *', command: 'wa redrive --limit=100', upstream: 'ops:wa:redrive-failed --limit=100', description: 'every 10 minutes'},
  {name: 'wa-remind', cron: '0 9 * * *', command: 'wa remind --limit=100', upstream: 'ops:wa:send-aging-reminders --limit=100', description: 'daily at 09:00'},
  {
    name: 'observe-health',
    cron: '*/15 * * * *',
    command: 'observe health --lookback-minutes=15',
    upstream: 'ops:observe:health --lookback-minutes=15',
    description: 'every 15 minutes',
  },
  {name: 'quota-reconcile', cron: '10 0 * * *', command: 'quota reconcile', upstream: 'ops:quota:reconcile', description: 'daily at 00:10'},
  {name: 'audit-archive', cron: '0 2 * * *', command: 'audit archive --days=90', upstream: 'ops:audit:archive --days=90', description: 'daily at 02:00'},
]

/**
 * Tasks of ours that the baseline carries disabled: an operator turns one on in the schedule file
 * (`{"tasks": {"db-backup": {"enabled": true}}}`), keeping its cron and command, or changes them too.
 */
export const OPTIONAL: ReadonlyArray<{name: string; cron: string; command: string; description: string}> = [
  {name: 'db-backup', cron: '30 1 * * *', command: 'db backup', description: 'daily at 01:30, disabled until enabled (needs LAUNDRY_OPS_BACKUP_RECIPIENT)'},
]

/**
 * Commands a schedule may run: the ops commands. Not the scheduler itself, not long-lived servers, and
 * nothing that drops data wholesale (`db fresh`, `queue flush`).
 */
export const SCHEDULABLE = new Set([
  'audit archive',
  'db backup',
  'db migrate',
  'db seed',
  'db status',
  'observe health',
  'queue retry',
  'queue restart',
  'queue work',
  'quota reconcile',
  'readiness check',
  'wa redrive',
  'wa remind',
])

/** Splits a command line on whitespace; single or double quotes keep spaces in one argument. */
export function splitCommandLine(line: string): string[] {
  const args: string[] = []
  let current = ''
  let quote: string | null = null
  let started = false
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = null
      else current += ch
    } else if (ch === '"' || ch === "'") {
      quote = ch
      started = true
    } else if (/\s/.test(ch)) {
      if (started) args.push(current)
      current = ''
      started = false
    } else {
      current += ch
      started = true
    }
  }
  if (quote) throw new Error(`unclosed ${quote} quote`)
  if (started) args.push(current)
  return args
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/

const TaskSchema = z
  .object({
    cron: z.string().trim().min(1).optional(),
    command: z.string().trim().min(1).optional(),
    lease_minutes: z.number().int().min(1).max(1440).optional(),
    enabled: z.boolean().optional(),
    description: z.string().optional(),
  })
  .strict()

const FileSchema = z
  .object({
    $schema: z.string().optional(),
    /** false: start from an empty schedule instead of the baseline. */
    baseline: z.boolean().default(true),
    tasks: z.record(z.string(), TaskSchema).default({}),
  })
  .strict()

export type ScheduleFile = z.input<typeof FileSchema>

/**
 * Checks one task's command line (the words after `laundry-ops`, the command first) as that command
 * checks its own at start-up, without running it: flag names and values, arguments, the empty-value
 * refusal. Throws the command's own error. The command layer provides it (BaseCommand's
 * scheduleCommandCheck, from the command classes): core does not load command classes.
 */
export type CommandLineCheck = (argv: string[]) => Promise<void>

export interface LoadedSchedule {
  tasks: ScheduledTask[]
  /** The operator file that was read, or null when the built-in baseline runs unchanged. */
  file: string | null
  /** Whether the built-in baseline is the starting point (the file's `baseline`, default true). */
  baseline: boolean
}

/** `LAUNDRY_OPS_SCHEDULE` (environment or .env), else `laundry-ops.schedule.json` in the working directory when it exists. */
export function scheduleFilePath(cwd: string, env: NodeJS.ProcessEnv): {file: string; explicit: boolean} {
  const configured = env.LAUNDRY_OPS_SCHEDULE?.trim()
  if (configured) return {file: path.resolve(cwd, configured), explicit: true}
  return {file: path.join(cwd, 'laundry-ops.schedule.json'), explicit: false}
}

function validateCommand(line: string, where: string): string[] {
  let argv: string[]
  try {
    argv = splitCommandLine(line)
  } catch (error) {
    throw new UsageError('SCHEDULE_INVALID', `${where}: command "${line}": ${(error as Error).message}`)
  }
  const id = argv.slice(0, 2).join(' ')
  if (!SCHEDULABLE.has(id)) {
    throw new UsageError('SCHEDULE_INVALID', `${where}: command "${line}" is not a schedulable laundry-ops command (one of: ${[...SCHEDULABLE].join(', ')})`)
  }
  if (argv.includes('--json')) argv = argv.filter((a) => a !== '--json')
  return argv
}

function task(
  name: string,
  cron: string,
  command: string,
  options: {leaseMinutes?: number; enabled?: boolean; source: ScheduledTask['source']; description?: string; where: string},
): ScheduledTask {
  let expression: CronExpression
  try {
    expression = parseCron(cron)
  } catch (error) {
    if (error instanceof CronSyntaxError) throw new UsageError('SCHEDULE_INVALID', `${options.where}: ${error.message}`)
    throw error
  }
  if (nextSlot(expression, new Date(Date.UTC(2000, 0, 1))) === null) {
    throw new UsageError('SCHEDULE_INVALID', `${options.where}: cron expression "${cron}" never matches a date`)
  }
  return {
    name,
    cron: expression.source,
    expression,
    command,
    argv: validateCommand(command, options.where),
    leaseMinutes: options.leaseMinutes ?? DEFAULT_LEASE_MINUTES,
    enabled: options.enabled ?? true,
    source: options.source,
    description: options.description,
  }
}

/** Builds the effective schedule from the baseline and an operator file's content (already parsed JSON). */
export function buildSchedule(content: unknown, file = 'schedule file'): ScheduledTask[] {
  // JSON.parse keeps "__proto__" as an own key, which a record schema would silently drop.
  const rawTasks = (content as {tasks?: unknown} | null)?.tasks
  if (rawTasks && typeof rawTasks === 'object') {
    for (const name of Object.keys(rawTasks)) {
      if (!NAME.test(name)) {
        throw new UsageError('SCHEDULE_INVALID', `${file}: task "${name}": a task name is 1-64 of a-z, 0-9, '.', '_', '-' and starts with a letter or digit`)
      }
    }
  }
  const result = FileSchema.safeParse(content)
  if (!result.success) {
    const issue = result.error.issues[0]
    const at = issue.path.length > 0 ? ` at ${issue.path.map(String).join('.')}` : ''
    throw new UsageError('SCHEDULE_INVALID', `${file}${at}: ${issue.message}`)
  }
  const parsed = result.data
  const tasks = new Map<string, ScheduledTask>()
  if (parsed.baseline) {
    for (const b of BASELINE) {
      tasks.set(b.name, task(b.name, b.cron, b.command, {source: 'baseline', description: b.description, where: `baseline ${b.name}`}))
    }
    for (const o of OPTIONAL) {
      tasks.set(o.name, task(o.name, o.cron, o.command, {source: 'baseline', enabled: false, description: o.description, where: `baseline ${o.name}`}))
    }
  }
  for (const [name, entry] of Object.entries(parsed.tasks)) {
    const where = `${file}: task "${name}"`
    if (!NAME.test(name)) {
      throw new UsageError('SCHEDULE_INVALID', `${where}: a task name is 1-64 of a-z, 0-9, '.', '_', '-' and starts with a letter or digit`)
    }
    const base = tasks.get(name)
    if (!base && (entry.cron === undefined || entry.command === undefined)) {
      throw new UsageError('SCHEDULE_INVALID', `${where}: a new task needs "cron" and "command" (baseline tasks: ${BASELINE.map((b) => b.name).join(', ')})`)
    }
    tasks.set(
      name,
      task(name, entry.cron ?? base!.cron, entry.command ?? base!.command, {
        leaseMinutes: entry.lease_minutes ?? base?.leaseMinutes,
        enabled: entry.enabled ?? base?.enabled,
        source: 'file',
        description: entry.description ?? base?.description,
        where,
      }),
    )
  }
  return [...tasks.values()]
}

/**
 * Reads the effective schedule: the baseline, changed by the operator's file when there is one. Checks
 * the file's shape, names, cron expressions and that each command is a schedulable one; the command
 * lines themselves are checked by loadCheckedSchedule.
 */
export function loadSchedule(options: {cwd?: string; env?: NodeJS.ProcessEnv} = {}): LoadedSchedule {
  const cwd = options.cwd ?? process.cwd()
  // LAUNDRY_OPS_SCHEDULE may come from .env, like every other setting.
  const env = readEnvironment(cwd, options.env ?? process.env)
  const {file, explicit} = scheduleFilePath(cwd, env)
  if (!existsSync(file)) {
    if (explicit) throw new UsageError('SCHEDULE_INVALID', `LAUNDRY_OPS_SCHEDULE='${file}': no such file`)
    return {tasks: buildSchedule({}, 'baseline'), file: null, baseline: true}
  }
  let content: unknown
  try {
    content = JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''))
  } catch (error) {
    throw new UsageError('SCHEDULE_INVALID', `${file}: ${(error as Error).message}`)
  }
  const baseline = (content as {baseline?: unknown} | null)?.baseline !== false
  return {tasks: buildSchedule(content, file), file, baseline}
}

/**
 * Every task's command line (disabled tasks too) through `check`, as the command would check it at
 * start-up: the first refused one is SCHEDULE_INVALID naming the file, the task, the command line and the
 * command's own reason (`--limit: Expected an integer greater than or equal to 1 but received: 0`), so a
 * bad value is refused when the file is read rather than failing every minute with exit 2.
 */
export async function checkTaskCommands(schedule: LoadedSchedule, check: CommandLineCheck): Promise<void> {
  for (const t of schedule.tasks) {
    try {
      await check(t.argv)
    } catch (error) {
      const where = t.source === 'baseline' ? `baseline ${t.name}` : `${schedule.file ?? 'schedule file'}: task "${t.name}"`
      throw new UsageError('SCHEDULE_INVALID', `${where}: command "${t.command}": ${oneLineMessage(error)}`)
    }
  }
}

/** loadSchedule, then every task's command line checked (checkTaskCommands): what the commands read. */
export async function loadCheckedSchedule(options: {cwd?: string; env?: NodeJS.ProcessEnv; checkCommand: CommandLineCheck}): Promise<LoadedSchedule> {
  const schedule = loadSchedule(options)
  await checkTaskCommands(schedule, options.checkCommand)
  return schedule
}
