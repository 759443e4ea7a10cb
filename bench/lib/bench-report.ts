// Shared by bench/archive.ts and bench/reconcile.ts: the environment facts printed with every run, number
// formatting and the markdown tables.

import {execFileSync} from 'node:child_process'
import {existsSync, readFileSync, statSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export interface BenchEnvironment {
  date: string
  node: string
  platform: string
  cores: number
  cpuModel: string
  memTotalMb: number
  loadAvg: number[]
  nodeExtraCaCerts: string | null
  commit: string
  srcChangesSinceCommit: number
  distBuiltAt: string | null
  timeTool: boolean
}

export function environment(root: string): BenchEnvironment {
  let commit = 'unknown'
  let dirty: string[] = []
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {cwd: root, encoding: 'utf8'}).trim()
    dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], {cwd: root, encoding: 'utf8'}).split('\n').filter(Boolean)
  } catch {
    // Not a git checkout (a packed copy): the commit stays unknown.
  }
  const dist = path.join(root, 'dist', 'index.js')
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memTotalMb: Math.round(os.totalmem() / 2 ** 20),
    loadAvg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    nodeExtraCaCerts: process.env.NODE_EXTRA_CA_CERTS ?? null,
    commit,
    srcChangesSinceCommit: dirty.length,
    distBuiltAt: existsSync(dist) ? statSync(dist).mtime.toISOString() : null,
    timeTool: existsSync('/usr/bin/time'),
  }
}

export function environmentLines(env: BenchEnvironment, pgVersion: string | null): string[] {
  return [
    `node ${env.node} (${env.platform}), ${env.cores} cores (${env.cpuModel}), ${env.memTotalMb} MB RAM, load average ${env.loadAvg.join(' ')} at start`,
    `NODE_EXTRA_CA_CERTS: ${env.nodeExtraCaCerts ? `set (${env.nodeExtraCaCerts})` : 'not set'}`,
    `commit ${env.commit}${env.srcChangesSinceCommit ? ` (+${env.srcChangesSinceCommit} uncommitted src/ changes)` : ''}, dist/index.js built ${env.distBuiltAt ?? 'MISSING'}`,
    `PostgreSQL: ${pgVersion ?? 'not run'}; peak RSS from ${env.timeTool ? '/usr/bin/time %M (wait4 ru_maxrss)' : '/proc/<pid>/status VmHWM, polled'}`,
  ]
}

/** The server's version and the settings that decide write and sort costs. */
export async function pgFacts(query: (sql: string) => Promise<Array<Record<string, unknown>>>): Promise<string> {
  const rows = await query(
    `select version() as v, current_setting('shared_buffers') as sb, current_setting('work_mem') as wm,
            current_setting('synchronous_commit') as sc, current_setting('max_wal_size') as mw`,
  )
  const r = rows[0]
  const version = String(r.v).split(' ').slice(0, 2).join(' ')
  return `${version} (shared_buffers ${String(r.sb)}, work_mem ${String(r.wm)}, synchronous_commit ${String(r.sc)}, max_wal_size ${String(r.mw)})`
}

export const fmt = (x: number, digits = 0) =>
  Number.isFinite(x) ? x.toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits}) : 'n/a'

export function table(headers: string[], rows: string[][], right: boolean[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`
  return [line(headers), `| ${widths.map((w, i) => (right[i] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`, ...rows.map(line)].join('\n')
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Whole-machine CPU jiffies (all cores), to tell how busy the machine was around a measurement. */
export function machineCpu(): {busy: number; total: number} {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]
  const f = line.trim().split(/\s+/).slice(1).map(Number)
  const idle = f[3] + (f[4] ?? 0)
  const total = f.reduce((a, b) => a + b, 0)
  return {busy: total - idle, total}
}

/** A benchmark's usage or setup error: one line on stderr, exit 1. */
export function benchFail(benchmark: string, message: string): never {
  process.stderr.write(`bench/${benchmark}: ${message}\n`)
  process.exit(1)
}

/**
 * The end of every benchmark: with --json one document (`benchmark`, the `command` that ran, the
 * `environment`, then the benchmark's own fields), otherwise the text report; exit 1 when a check failed.
 */
export function emitBenchmark(
  benchmark: string,
  options: {json: boolean; environment: Record<string, unknown>; fields: Record<string, unknown>; text: () => string; ok: boolean},
): void {
  if (options.json) {
    const command = `node --import tsx bench/${benchmark}.ts ${process.argv.slice(2).join(' ')}`.trim()
    process.stdout.write(`${JSON.stringify({benchmark, command, environment: options.environment, ...options.fields}, null, 2)}\n`)
  } else {
    process.stdout.write(options.text())
  }
  if (!options.ok) process.exitCode = 1
}

/** Progress goes to stderr (prefixed `# ` for humans), so --json keeps stdout to the one document. */
export function progress(json: boolean, message: string): void {
  process.stderr.write(`${json ? '' : '# '}${message}\n`)
}
