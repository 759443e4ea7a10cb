#!/usr/bin/env node
// Start-up benchmark for the laundry-ops CLI. Node built-ins only.
//
//   node bench/startup.mjs              # table on stdout, 20 timed runs per command
//   node bench/startup.mjs --runs 50    # more runs
//   node bench/startup.mjs --json       # one JSON document instead of the table
//
// Each command is spawned as a real child process with child_process.spawnSync and timed with
// process.hrtime.bigint() around the spawn (so the figure includes process creation and exit, as a
// person at a shell sees it). Commands run interleaved, round-robin, so machine noise hits all of
// them alike: 3 warm-up rounds (not counted), then N timed rounds. Every run must exit 0.
//
// Needs a build (`npm run build`, which bundles dist/index.js and writes the oclif manifest).
// Without the manifest the script still runs and says so.

import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import process from 'node:process'
import {fileURLToPath} from 'node:url'

import {parseBenchArgs, positiveInteger} from './lib/args.mjs'

const WARMUP_ROUNDS = 3
const DEFAULT_RUNS = 20
// Targets from the spec: `--version` and `--help` no slower than `php artisan --version`
// (149 ms measured upstream on this kind of machine) and within 3x of a bare `node -e 0`.
const ARTISAN_VERSION_MS = 149
const MAX_RATIO_TO_NODE = 3

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const runJs = path.join(root, 'bin', 'run.js')
const manifestPath = path.join(root, 'oclif.manifest.json')

function usage() {
  return [
    'usage: node bench/startup.mjs [--runs N] [--json]',
    '',
    `  --runs N   timed runs per command (default ${DEFAULT_RUNS}), after ${WARMUP_ROUNDS} warm-up rounds`,
    '  --json     print the figures as one JSON document instead of a table',
  ].join('\n')
}

function fail(message) {
  process.stderr.write(`bench/startup: ${message}\n`)
  process.exit(1)
}

function parseOptions(argv) {
  const args = parseBenchArgs('startup', usage, {runs: {type: 'string', parse: positiveInteger}, json: {type: 'boolean'}}, argv)
  return {runs: args.runs ?? DEFAULT_RUNS, json: args.json ?? false}
}

/** Spawns one command, returns its wall time in ms; any non-zero exit is fatal. */
function timeRun(cmd, env) {
  const start = process.hrtime.bigint()
  const res = spawnSync(process.execPath, cmd.args, {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  })
  const end = process.hrtime.bigint()
  if (res.error || res.status !== 0 || res.signal) {
    const why = res.error ? res.error.message : res.signal ? `killed by ${res.signal}` : `exit ${res.status}`
    const out = [res.stdout?.toString().trim(), res.stderr?.toString().trim()].filter(Boolean).join('\n')
    throw new Error(`'${cmd.label}' failed (${why})${out ? `:\n${out}` : ''}`)
  }
  return Number(end - start) / 1e6
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b)
  const n = sorted.length
  const mid = Math.floor(n / 2)
  const median = n % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  // p95 by nearest rank: the smallest sample with at least 95% of samples at or below it.
  const p95 = sorted[Math.min(n, Math.ceil(0.95 * n)) - 1]
  const mean = sorted.reduce((s, x) => s + x, 0) / n
  return {mean, median, p95, min: sorted[0], max: sorted[n - 1]}
}

const round1 = (x) => Math.round(x * 10) / 10
const round2 = (x) => Math.round(x * 100) / 100

function main() {
  const opts = parseOptions(process.argv.slice(2))
  const notes = []

  if (!existsSync(path.join(root, 'dist', 'index.js'))) fail('dist/index.js is missing: run `npm run build` first')
  const manifest = existsSync(manifestPath)
  if (!manifest) {
    notes.push(
      'oclif.manifest.json is missing: oclif imports every command file to list them, so these figures are slower than a packed release. Run `npm run build` first for realistic figures.',
    )
  }

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'laundry-ops-bench-'))
  const databaseUrl = `sqlite:${path.join(tmp, 'bench.sqlite')}`
  // Same environment for every child, baseline included. LAUNDRY_OPS_ENV is pinned to `local` so a
  // production setting in the caller's shell cannot make `db fresh` refuse or seed differently.
  const env = {...process.env, DATABASE_URL: databaseUrl, LAUNDRY_OPS_ENV: 'local'}

  const commands = [
    {label: 'node -e 0', args: ['-e', '0'], baseline: true},
    {label: 'node bin/run.js --version', args: [runJs, '--version'], target: true},
    {label: 'node bin/run.js --help', args: [runJs, '--help'], target: true},
    {label: 'node bin/run.js db status', args: [runJs, 'db', 'status']},
  ]
  for (const c of commands) c.samples = []

  let results
  try {
    // The database `db status` reads: fresh schema and seed data, in the temp folder.
    timeRun({label: 'node bin/run.js db fresh --seed', args: [runJs, 'db', 'fresh', '--seed']}, env)

    for (let r = 0; r < WARMUP_ROUNDS; r++) for (const c of commands) timeRun(c, env)
    for (let r = 0; r < opts.runs; r++) for (const c of commands) c.samples.push(timeRun(c, env))

    const baseMedian = stats(commands.find((c) => c.baseline).samples).median
    results = commands.map((c) => {
      const s = stats(c.samples)
      return {
        command: c.label,
        mean_ms: round1(s.mean),
        median_ms: round1(s.median),
        p95_ms: round1(s.p95),
        min_ms: round1(s.min),
        max_ms: round1(s.max),
        ratio_to_node: round2(s.median / baseMedian),
        samples_ms: c.samples.map(round1),
        target: Boolean(c.target),
        _median: s.median,
        _base: baseMedian,
      }
    })
  } catch (error) {
    rmSync(tmp, {recursive: true, force: true})
    fail(error.message)
  }
  rmSync(tmp, {recursive: true, force: true})

  const targets = results
    .filter((r) => r.target)
    .map((r) => ({
      command: r.command,
      median_ms: r.median_ms,
      vs_artisan: {limit_ms: ARTISAN_VERSION_MS, pass: r._median <= ARTISAN_VERSION_MS},
      vs_node: {limit_ms: round1(MAX_RATIO_TO_NODE * r._base), ratio: r.ratio_to_node, pass: r._median <= MAX_RATIO_TO_NODE * r._base},
    }))
  for (const r of results) {
    delete r._median
    delete r._base
    delete r.target
  }

  const environment = {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: os.cpus().length,
    node_extra_ca_certs: process.env.NODE_EXTRA_CA_CERTS || null,
    node_options: process.env.NODE_OPTIONS || null,
    oclif_manifest: manifest,
  }

  if (opts.json) {
    const doc = {
      date: new Date().toISOString(),
      runs: opts.runs,
      warmup_rounds: WARMUP_ROUNDS,
      statistic_for_targets: 'median',
      environment,
      results,
      targets,
      notes,
    }
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`)
    return
  }

  const lines = []
  lines.push(`laundry-ops start-up: ${opts.runs} timed runs per command, round-robin, after ${WARMUP_ROUNDS} warm-up rounds`)
  lines.push(`node ${environment.node} (${environment.platform}), os.cpus().length = ${environment.cpus}`)
  lines.push(
    environment.node_extra_ca_certs
      ? `NODE_EXTRA_CA_CERTS is set (${environment.node_extra_ca_certs}): it adds to every Node start, baseline included`
      : 'NODE_EXTRA_CA_CERTS is not set',
  )
  if (environment.node_options) lines.push(`NODE_OPTIONS is set: ${environment.node_options}`)
  lines.push(`oclif.manifest.json: ${manifest ? 'present' : 'MISSING'}`)
  lines.push('')

  const header = ['command', 'mean ms', 'median ms', 'p95 ms', 'min ms', 'median / node -e 0']
  const rows = results.map((r) => [
    r.command,
    r.mean_ms.toFixed(1),
    r.median_ms.toFixed(1),
    r.p95_ms.toFixed(1),
    r.min_ms.toFixed(1),
    `${r.ratio_to_node.toFixed(2)}x`,
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)))
  const fmt = (row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')
  lines.push(fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt))
  lines.push('')

  lines.push(
    `Targets (median): no slower than \`php artisan --version\` (${ARTISAN_VERSION_MS} ms upstream), and within ${MAX_RATIO_TO_NODE}x of \`node -e 0\``,
  )
  for (const t of targets) {
    lines.push(
      `  ${t.command.padEnd(widths[0])}  <= ${ARTISAN_VERSION_MS} ms: ${t.vs_artisan.pass ? 'PASS' : 'FAIL'} (${t.median_ms.toFixed(1)} ms)` +
        `   <= ${MAX_RATIO_TO_NODE}x node: ${t.vs_node.pass ? 'PASS' : 'FAIL'} (${t.vs_node.ratio.toFixed(2)}x, limit ${t.vs_node.limit_ms.toFixed(1)} ms)`,
    )
  }
  for (const n of notes) lines.push('', `note: ${n}`)
  process.stdout.write(`${lines.join('\n')}\n`)
}

main()
