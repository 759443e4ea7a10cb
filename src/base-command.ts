import {Command, Flags, type Interfaces, Parser} from '@oclif/core'

import type {AppConfig} from './core/config.js'
import {type ErrorCode, ERROR_CATALOGUE, isErrorCode, isOpsError, oneLineMessage, OpsError, UsageError} from './core/errors.js'
import {PARENT_ENV} from './core/scheduler/parent-env.js'
import type {CommandLineCheck} from './core/scheduler/schedule.js'
import type {Database} from './core/db/connection.js'
import type {ProgressOptions, ProgressReporter} from './render/progress.js'

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

export interface ErrorReport {
  code: ErrorCode
  message: string
  exit: number
}

/** What `--json` prints on stdout when a command fails. */
export interface ErrorDocument {
  error: ErrorReport
}

/** Turns anything thrown into the one-line report and the exit code of SPEC §3. */
function classify(err: unknown): ErrorReport {
  const e = err as {code?: unknown; exit?: unknown; oclif?: {exit?: number}; message?: unknown; name?: string}
  const message = oneLineMessage(err)
    // A 10 kB value echoed back would bury the message: long words are cut in the middle.
    .replace(/\S{201,}/g, (word) => `${word.slice(0, 80)}…(${word.length} characters)…${word.slice(-40)}`)
  if (e && isErrorCode(e.code) && (e.name === 'OpsError' || e.name === 'UsageError')) {
    return {code: e.code, message, exit: ERROR_CATALOGUE[e.code].exit}
  }
  if (e && typeof e === 'object' && 'parse' in e) {
    // Every oclif parse error (CLIParseError: a bad flag value, a value not in a flag's options, …) is bad
    // usage, whatever exit code oclif picked for its subclass.
    return {code: 'USAGE', message, exit: 2}
  }
  if (e?.oclif?.exit !== undefined) {
    // oclif's own parse and validation errors: bad usage.
    const exit = e.oclif.exit === 0 ? 0 : e.oclif.exit === 1 ? 1 : 2
    return {code: exit === 2 ? 'USAGE' : 'FAILED', message, exit}
  }
  return {code: 'INTERNAL', message, exit: 1}
}

/**
 * An empty or whitespace-only value is refused for every flag and argument: `--channel "$CH"` with CH
 * unset must not quietly mean "no filter" and widen what a command deletes or sends.
 */
function refuseEmptyValues(flags: Record<string, unknown>, args: Record<string, unknown>, argv: unknown[]): void {
  const blank = (v: unknown) => typeof v === 'string' && v.trim() === ''
  for (const [name, value] of Object.entries(flags)) {
    if (blank(value) || (Array.isArray(value) && value.some(blank))) {
      throw new UsageError('USAGE', `--${name} is empty: give a value, or leave the flag out`)
    }
  }
  for (const [name, value] of Object.entries(args)) {
    if (blank(value)) throw new UsageError('USAGE', `the ${name} argument is empty: give a value, or leave it out`)
  }
  if (argv.some(blank)) throw new UsageError('USAGE', 'an argument is empty: give a value, or leave it out')
}

/**
 * Parses a command line (the words after the command id) against a command class exactly as the
 * command's start-up (BaseCommand.init) does, without running it: flag names, repeated flags, flag and
 * argument values through their own parse functions (bounds, options, the pure input checks of src/flags.ts),
 * required arguments, flag relationships, then the empty-value refusal. Throws what the command would.
 */
export async function parseCommandLine(command: Command.Class, argv: string[]): Promise<void> {
  const {args, flags} = parseInput(command)
  const output = await Parser.parse(argv, {
    args,
    flags: {
      ...(command.enableJsonFlag ? {json: Flags.boolean({description: 'Format output as json.', helpGroup: 'GLOBAL'})} : {}),
      ...command.baseFlags,
      ...flags,
    },
    strict: command.strict,
  })
  refuseEmptyValues(output.flags, output.args, output.argv)
}

/** What a command's start-up parses: its own flags and args (shared by init and parseCommandLine). */
function parseInput(command: Command.Class) {
  return {args: command.args ?? {}, baseFlags: command.baseFlags, enableJsonFlag: command.enableJsonFlag, flags: command.flags ?? {}, strict: command.strict}
}

/**
 * The check of a schedule task's command line (`wa redrive --limit=100`, as split by the schedule):
 * parseCommandLine with the command's class, looked up by `find` (oclif's config in the CLI).
 */
export function commandLineCheck(find: (id: string) => Promise<Command.Class | undefined>): CommandLineCheck {
  return async (argv) => {
    const id = argv.slice(0, 2).join(':')
    const command = await find(id)
    if (!command) throw new Error(`laundry-ops has no command ${argv.slice(0, 2).join(' ')}`)
    await parseCommandLine(command, argv.slice(2))
  }
}

/**
 * A task started by `schedule run` stops (SIGTERM, so it ends gracefully) when its runner dies: a
 * SIGKILLed runner must not leave a task running whose lease nobody renews (another runner takes the
 * lease over once it expires, and the two would overlap).
 */
function watchScheduler(): void {
  const parent = Number(process.env[PARENT_ENV])
  if (!Number.isInteger(parent) || parent <= 0) return
  if (process.ppid !== parent) {
    process.kill(process.pid, 'SIGTERM')
    return
  }
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer)
      process.kill(process.pid, 'SIGTERM')
    }
  }, 1000)
  timer.unref()
}

/**
 * Shared behaviour of every command: `--json` (one document on stdout, nothing else), exit codes
 * 0/1/2 kept under `--json`, errors as one clear line on stderr (stack only with DEBUG), logs on stderr.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static enableJsonFlag = true

  protected flags!: CommandFlags<T>
  protected args!: CommandArgs<T>

  public async init(): Promise<void> {
    await super.init()
    const {args, argv, flags} = await this.parse(parseInput(this.ctor)).catch((error: unknown) => {
      // Whatever oclif's parser refuses (a repeated flag, a missing value, an unknown flag…) is bad usage,
      // exit 2, whatever exit code oclif gave that error; our own flag parsers throw UsageErrors already.
      if (error instanceof Error && !isOpsError(error) && ('oclif' in error || 'parse' in error)) throw new UsageError('USAGE', error.message)
      throw error
    })
    refuseEmptyValues(flags, args, argv)
    this.flags = flags as CommandFlags<T>
    this.args = args as CommandArgs<T>
    watchScheduler()
  }

  /**
   * The check of a schedule file's command lines (core/scheduler/schedule.ts): each task's command line
   * parsed as that command's start-up would (parseCommandLine), with the command classes oclif loaded.
   */
  protected scheduleCommandCheck(): CommandLineCheck {
    return commandLineCheck(async (id) => this.config.findCommand(id)?.load())
  }

  /** Plain JSON: no colour codes, whatever the terminal. */
  logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
  }

  /** Progress and notes: stderr, silent under --json. */
  protected note(message: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`${message}\n`)
  }

  /**
   * This run's progress display on stderr (render/progress.ts): live on a terminal, plain lines every
   * LAUNDRY_OPS_PROGRESS_INTERVAL_MS otherwise, nothing under --json or --quiet. Call its end(), also
   * when the work fails.
   */
  protected async progress(options: Omit<ProgressOptions, 'json' | 'quiet' | 'intervalMs'>, config: {progressIntervalMs: number}): Promise<ProgressReporter> {
    const {progressReporter} = await import('./render/progress.js')
    const quiet = (this.flags as {quiet?: boolean}).quiet === true
    return progressReporter({...options, json: this.jsonEnabled(), quiet, intervalMs: config.progressIntervalMs})
  }

  protected catch(err: Error & {exitCode?: number}): Promise<void> {
    const report = classify(err)
    process.exitCode = report.exit
    if (this.jsonEnabled()) {
      this.logJson({error: report} satisfies ErrorDocument)
    } else {
      const hint = report.code === 'USAGE' ? ` (see: ${this.config.bin} ${this.id?.replace(/:/g, ' ')} --help)` : ''
      process.stderr.write(`error: ${report.message}${hint}\n`)
    }
    if (process.env.DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`)
    return Promise.resolve()
  }
}

/**
 * What a command changes, for the one-line report of a fault that stops it (a connection lost, a
 * server-side timeout, a full disk, a lock timeout): `reads` changes nothing; `transaction` changes
 * everything in one transaction (rolled back on a fault); `progress` commits as it goes, and its core
 * function reports what was done itself (interruptedBy).
 */
export type FaultScope = 'reads' | 'transaction' | 'progress'

/** Commands that work on the database: `--database-url`, configuration loading, and closing the pool. */
export abstract class DatabaseCommand<T extends typeof Command> extends BaseCommand<T> {
  static baseFlags = {
    'database-url': Flags.string({
      description: 'database to use: sqlite:<path>, a file path, or postgres://user@host:port/db (overrides DATABASE_URL)',
      helpGroup: 'GLOBAL',
    }),
  }

  /** Every database command says what a fault leaves behind (a test checks each declares it). */
  static faultScope: FaultScope | undefined

  private database?: Database

  /** Validated configuration (SPEC §2), with --database-url applied. */
  protected async loadConfig(): Promise<AppConfig> {
    const {loadConfig} = await import('./core/config.js')
    return loadConfig({databaseUrl: (this.flags as {'database-url'?: string})['database-url']})
  }

  /** Does this run only read? A command whose faultScope is 'reads', or any command run with --dry-run. */
  protected readsOnly(): boolean {
    const scope = (this.ctor as unknown as {faultScope?: FaultScope}).faultScope
    return scope === 'reads' || (this.flags as {'dry-run'?: boolean})['dry-run'] === true
  }

  /**
   * Opens the configured database. A missing SQLite file is reported (DB_NOT_FOUND), not created, unless
   * `create` (the commands that create a schema). A run that only reads (readsOnly) opens it read-only:
   * nothing is written to the file (no journal mode switch, no header on an empty file), and a write
   * would fail instead of changing data.
   */
  protected async openDatabase(config: AppConfig, options: {create?: boolean; poolMax?: number; sqliteBusyTimeoutMs?: number} = {}): Promise<Database> {
    const {openDatabase} = await import('./core/db/connection.js')
    const readOnly = this.readsOnly()
    this.database = await openDatabase(config.database, {
      create: options.create === true && !readOnly,
      readOnly,
      poolMax: options.poolMax,
      sqliteBusyTimeoutMs: options.sqliteBusyTimeoutMs,
    })
    return this.database
  }

  protected async catch(err: Error & {exitCode?: number}): Promise<void> {
    if (!(err instanceof OpsError) && !('oclif' in err) && !('parse' in err)) {
      const {describeFault, nextStep} = await import('./core/db/faults.js')
      const fault = describeFault(err, this.database?.target)
      if (fault) {
        const scope = (this.ctor as unknown as {faultScope?: FaultScope}).faultScope
        const command = `\`${this.config.bin} ${this.id?.replace(/:/g, ' ')}\``
        const dryRun = (this.flags as Record<string, unknown> | undefined)?.['dry-run'] === true
        const done = dryRun
          ? 'nothing was changed (--dry-run)'
          : scope === 'reads'
            ? 'nothing was changed (this command only reads)'
            : scope === 'transaction'
              ? 'nothing was changed (its transaction was rolled back)'
              : // A command that commits as it goes reports its own progress; a fault it did not report
                // came before or between its steps: what it committed stays, and a rerun carries on.
                'what it committed before the fault stays committed, and a rerun carries on from there'
        // A write refused by a read-only connection is a bug, reported as one: its message says nothing changed.
        if (fault.code === 'INTERNAL') return super.catch(fault)
        const next = nextStep(fault.code, command)
        return super.catch(new OpsError(fault.code, [fault.message, done, next].filter(Boolean).join('; '), {cause: err}))
      }
    }
    return super.catch(err)
  }

  protected async finally(err: Error | undefined): Promise<void> {
    await this.database?.close().catch(() => {})
    await super.finally(err)
  }
}
