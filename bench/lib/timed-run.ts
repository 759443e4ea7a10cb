// One measured child process for bench/archive.ts and bench/reconcile.ts: wall time (spawn to exit,
// process start included), peak RSS and CPU of the process (GNU time's wait4 rusage, or polling
// /proc/<pid>/status VmHWM when /usr/bin/time is missing), the CPU of the PostgreSQL backends serving a
// given database (polled from /proc), and how busy the whole machine was meanwhile (/proc/stat), so a
// figure taken while something else ran on the 2 shared cores can be recognised.

import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {machineCpu} from './bench-report.js'

const TIME = '/usr/bin/time'
const CLK_TCK = 100

export interface TimedRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  wallSeconds: number
  /** Peak resident set of the measured process, MB (2^20 bytes). */
  peakRssMb: number
  /** CPU of the measured process (user + system), seconds; NaN without /usr/bin/time. */
  cpuSeconds: number
  /** CPU of the PostgreSQL backends of `pgDatabase` while the process ran, seconds (polled, a lower bound). */
  backendCpuSeconds: number | null
  /** CPU seconds the whole machine spent busy (all cores) during the run. */
  machineBusySeconds: number
}

export interface TimedRunOptions {
  cwd: string
  env: NodeJS.ProcessEnv
  timeoutMs: number
  /** Poll the CPU of the backends connected to this PostgreSQL database. */
  pgDatabase?: string
  /** Feed this to the child's stdin (null: no stdin). */
  stdin?: string
}

function readProcStatCpu(pid: string): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // fields 14 and 15 of stat (utime, stime) are 11 and 12 after the command name
    return (Number(f[11]) + Number(f[12])) / CLK_TCK
  } catch {
    return null
  }
}

/** Backend processes of one database: process title `postgres: [<cluster>: ]<user> <database> <host> <state>`. */
function backendPids(database: string): string[] {
  const pids: string[] = []
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      if (/^postgres: (?:\S+: )?\S+ (\S+) /.exec(cmd)?.[1] === database) pids.push(pid)
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return pids
}

function readVmHwmKb(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : null
  } catch {
    return null
  }
}

export async function runTimed(argv: string[], options: TimedRunOptions): Promise<TimedRun> {
  const useTime = existsSync(TIME)
  const tmp = mkdtempSync(path.join(tmpdir(), 'laundry-ops-bench-time-'))
  const timeFile = path.join(tmp, 'time.txt')
  const [cmd, ...args] = useTime ? [TIME, '-f', '%e %M %U %S', '-o', timeFile, ...argv] : argv
  const backendCpu = new Map<string, number>()
  let polledHwmKb = 0
  const cpu0 = machineCpu()
  const t0 = process.hrtime.bigint()
  try {
    return await new Promise<TimedRun>((resolve, reject) => {
      const child = spawn(cmd, args, {cwd: options.cwd, env: options.env, stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe']})
      if (options.stdin !== undefined) child.stdin!.end(options.stdin)
      let stdout = ''
      let stderr = ''
      child.stdout!.on('data', (d) => (stdout += d))
      child.stderr!.on('data', (d) => (stderr += d))
      const poll = () => {
        if (options.pgDatabase) {
          for (const pid of backendPids(options.pgDatabase)) {
            const c = readProcStatCpu(pid)
            if (c !== null) backendCpu.set(pid, Math.max(backendCpu.get(pid) ?? 0, c))
          }
        }
        if (!useTime && child.pid) polledHwmKb = Math.max(polledHwmKb, readVmHwmKb(child.pid) ?? 0)
      }
      const poller = setInterval(poll, 100)
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)
      child.on('error', reject)
      child.on('close', (code, signal) => {
        const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9
        const cpu1 = machineCpu()
        clearInterval(poller)
        clearTimeout(timer)
        let peakRssMb = polledHwmKb / 1024
        let cpuSeconds = NaN
        if (useTime) {
          // The last line: GNU time puts "Command exited with non-zero status N" before it on failure.
          const lines = existsSync(timeFile) ? readFileSync(timeFile, 'utf8').trim().split('\n') : []
          const f = (lines.at(-1) ?? '').split(' ').map(Number)
          if (f.length === 4 && f.every(Number.isFinite)) {
            peakRssMb = f[1] / 1024
            cpuSeconds = f[2] + f[3]
          }
        }
        resolve({
          code,
          signal,
          stdout,
          stderr,
          wallSeconds,
          peakRssMb,
          cpuSeconds,
          backendCpuSeconds: options.pgDatabase ? [...backendCpu.values()].reduce((a, b) => a + b, 0) : null,
          machineBusySeconds: (cpu1.busy - cpu0.busy) / CLK_TCK,
        })
      })
    })
  } finally {
    rmSync(tmp, {recursive: true, force: true})
  }
}

/** The child environment: this one without database, laundry-ops and DEBUG settings, plus `extra`. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('DATABASE_URL') && !k.startsWith('LAUNDRY_OPS_') && k !== 'DEBUG') env[k] = v
  }
  return {...env, NO_COLOR: '1', ...extra}
}

/** One line: the exit and, for a laundry-ops `--json` error document, its code and the message's start and end. */
export function describeFailure(run: TimedRun, what: string): string {
  const clip = (m: string) => (m.length > 500 ? `${m.slice(0, 200)} ... (${m.length} characters) ... ${m.slice(-250)}` : m)
  try {
    const {error} = JSON.parse(run.stdout) as {error?: {code?: string; message?: string}}
    if (error) return `${what} exited ${run.code ?? run.signal}: ${error.code}: ${clip(String(error.message ?? ''))}`
  } catch {
    // Not a JSON document: the output's last lines below.
  }
  return `${what} exited ${run.code ?? run.signal}: ${clip((run.stdout.trim() || run.stderr.trim()).split('\n').slice(-6).join(' | '))}`
}
