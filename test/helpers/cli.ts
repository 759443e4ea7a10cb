import {type ChildProcess, spawn} from 'node:child_process'
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BIN = path.join(ROOT, 'bin', 'run.js')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface CliExit extends CliResult {
  signal: NodeJS.Signals | null
}

export interface CliOptions {
  cwd: string
  /** Added to the caller's environment, from which DATABASE_URL*, LAUNDRY_OPS_* and DEBUG are removed. */
  env?: Record<string, string | undefined>
}

/** The environment of a CLI child: explicit, so the caller's DATABASE_URL or LAUNDRY_OPS_* never leak in. */
function cliEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries({...process.env, NO_COLOR: '1', ...extra})) {
    if (v !== undefined && !k.startsWith('DATABASE_URL') && !k.startsWith('LAUNDRY_OPS_')) env[k] = v
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v
  delete env.DEBUG
  return env
}

/** Runs the built CLI as a child process to its end, as a user or cron would. */
export function runCli(args: string[], options: CliOptions & {timeoutMs?: number}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {cwd: options.cwd, env: cliEnv(options.env), stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, stdout, stderr})
    })
  })
}

/** A long-running CLI process (a worker, a scheduler, an archiver to kill) that the test drives. */
export interface CliProcess {
  readonly child: ChildProcess
  readonly pid: number
  readonly stdout: string
  readonly stderr: string
  /** True once the process has exited. */
  readonly done: boolean
  /**
   * The first match of `pattern` in the output (stdout and stderr by default), as soon as it appears.
   * Rejects, with the output so far, after `timeoutMs` or when the process exits without printing it.
   */
  waitFor(pattern: RegExp, options?: {stream?: 'stdout' | 'stderr' | 'both'; timeoutMs?: number}): Promise<RegExpExecArray>
  /** Sends a signal to the process, or with `group` to its whole process group (needs `detached`). */
  signal(signal: NodeJS.Signals, options?: {group?: boolean}): void
  /** The exit. After `timeoutMs` (default 60 s) the process is killed and the promise rejects with its output. */
  exited(timeoutMs?: number): Promise<CliExit>
  /** SIGKILL to the process unless it has exited (when detached: to its group, which may outlive it); resolves once it has exited. */
  kill(liveGroups?: Set<number>): Promise<void>
}

/**
 * The process groups that still have a member (Linux: /proc/<pid>/stat). A detached runner's group may
 * outlive the runner (its task); once empty, its id may be reused (pid_max is often 32768), so a group is
 * signalled after its leader exited only while it is listed here. Empty where /proc is missing.
 */
function liveProcessGroups(): Set<number> {
  const groups = new Set<number>()
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return groups
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so count from the last ')'.
      groups.add(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]))
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return groups
}

const running = new Set<CliProcess>()

/**
 * Starts `bin/run.js <args>` and leaves it running. The root hook (test/helpers/root-hooks.ts) kills
 * whatever is still running when the test that started it ends, pass or fail.
 * `detached` puts it in its own process group, so `signal(..., {group: true})` reaches its tasks too.
 */
export function startCli(args: string[], options: CliOptions & {detached?: boolean}): CliProcess {
  const detached = options.detached ?? false
  const child = spawn(process.execPath, [BIN, ...args], {cwd: options.cwd, env: cliEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'], detached})
  if (child.pid === undefined) throw new Error(`could not start ${BIN} ${args.join(' ')}`)
  const pid = child.pid
  let stdout = ''
  let stderr = ''
  let exit: CliExit | undefined
  const listeners = new Set<() => void>()
  const changed = () => {
    for (const listener of [...listeners]) listener()
  }
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString()
    changed()
  })
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
    changed()
  })
  const exitPromise = new Promise<CliExit>((resolve) => {
    child.on('close', (code, signal) => {
      exit = {code, signal, stdout, stderr}
      // A detached process stays listed: its group may hold tasks that outlive it (kill() reaps them).
      if (!detached) running.delete(proc)
      resolve(exit)
      changed()
    })
  })
  const describe = () =>
    `${args.join(' ')} (pid ${pid}${exit ? `, exit ${exit.code ?? exit.signal}` : ''})\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`

  const proc: CliProcess = {
    child,
    pid,
    get stdout() {
      return stdout
    },
    get stderr() {
      return stderr
    },
    get done() {
      return exit !== undefined
    },
    waitFor(pattern, {stream = 'both', timeoutMs = 30_000} = {}) {
      return new Promise<RegExpExecArray>((resolve, reject) => {
        const check = () => {
          const text = stream === 'stdout' ? stdout : stream === 'stderr' ? stderr : `${stdout}\n${stderr}`
          const match = pattern.exec(text)
          if (match) finish(() => resolve(match))
          else if (exit) finish(() => reject(new Error(`${pattern} never appeared before the process exited: ${describe()}`)))
        }
        const timer = setTimeout(() => finish(() => reject(new Error(`${pattern} did not appear within ${timeoutMs} ms: ${describe()}`))), timeoutMs)
        const finish = (settle: () => void) => {
          clearTimeout(timer)
          listeners.delete(check)
          settle()
        }
        listeners.add(check)
        check()
      })
    },
    signal(signal, {group = false} = {}) {
      if (exit) return
      if (group && !detached) throw new Error('signal(..., {group: true}) needs startCli(..., {detached: true})')
      if (group) process.kill(-pid, signal)
      else child.kill(signal)
    },
    async exited(timeoutMs = 60_000) {
      if (exit) return exit
      let timedOut = false
      const timer = setTimeout(() => {
        timedOut = true
        void proc.kill()
      }, timeoutMs)
      try {
        const result = await exitPromise
        if (timedOut) throw new Error(`did not exit within ${timeoutMs} ms (killed): ${describe()}`)
        return result
      } finally {
        clearTimeout(timer)
      }
    },
    async kill(liveGroups) {
      running.delete(proc)
      try {
        if (!exit) {
          if (detached) process.kill(-pid, 'SIGKILL')
          else child.kill('SIGKILL')
        } else if (detached && (liveGroups ?? liveProcessGroups()).has(pid)) {
          process.kill(-pid, 'SIGKILL')
        }
      } catch {
        // ESRCH: the process (group) is already gone.
      }
      await exitPromise
    },
  }
  running.add(proc)
  return proc
}

/** Kills every CLI process still running (root hook, after each test). */
export async function killRunningCliProcesses(): Promise<void> {
  if (running.size === 0) return
  const liveGroups = liveProcessGroups()
  await Promise.all([...running].map((proc) => proc.kill(liveGroups)))
}

// The tests read any field of a command's JSON document; `any` keeps them free of casts.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function parseJson(result: CliResult): any {
  try {
    return JSON.parse(result.stdout)
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${result.code}):\n${result.stdout}\n--- stderr ---\n${result.stderr}`)
  }
}
