// HTTP API benchmark for `laundry-ops serve`: requests per second and p50/p99 latency with autocannon
// (10 connections, 10 s per route, after a discarded warm-up), for GET /up, GET /api/me and
// POST /api/orders, on SQLite and PostgreSQL, with --workers 1 and 2, beside a bare node:http server
// answering a fixed JSON body, measured in the same run.
//
//   node --import tsx bench/api.ts                                 # both engines, workers 1 and 2
//   node --import tsx bench/api.ts --engines sqlite --workers 1 --duration 5
//   node --import tsx bench/api.ts --json
//
// Per engine: a throwaway database (an SQLite file in a temp folder; laundry_ops_bench_<pid> on
// LAUNDRY_OPS_BENCH_PG, dropped at the end), migrated and seeded with the demo tenant. The demo tenant is
// moved to the pro plan and the plan's orders_limit raised to 10,000,000 in that throwaway database, so
// POST /api/orders measures order creation and not the quota refusal. One token is issued by logging in
// as owner@demo.local over HTTP. The server is the built CLI, `node bin/run.js serve --port 0 --workers W`
// (run `npm run build` first); the bare server is a child process too, so neither shares the load
// generator's event loop. autocannon runs in this process: on a 2-core machine it takes one core,
// which the servers do not get (the figures are what is left for the server, the same for both).
//
// A route's round passes when every answer had the expected status (200, or 201 for POST /api/orders).

import {type ChildProcess, spawn} from 'node:child_process'
import path from 'node:path'
import process from 'node:process'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'

import autocannon from 'autocannon'

import {systemClock} from '../src/core/clock.js'
import {migrate} from '../src/core/db/migrator.js'
import {seedDatabase} from '../src/core/db/seeds/index.js'
import {engineList, integerList, parseBenchArgs, positiveInteger} from './lib/args.mjs'
import {benchFail, emitBenchmark, environment, environmentLines, fmt, pgFacts, progress, table} from './lib/bench-report.js'
import {type BenchDatabase, createBenchDatabase} from './lib/fixtures.js'

type Engine = 'sqlite' | 'pg'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const runJs = path.join(root, 'bin', 'run.js')
const TARGETS: Record<string, Partial<Record<Engine, number>>> = {
  'GET /api/me': {sqlite: 3000, pg: 1500},
  'POST /api/orders': {sqlite: 500, pg: 500},
}

interface Options {
  engines: Engine[]
  workers: number[]
  duration: number
  warmup: number
  connections: number
  json: boolean
}

function usage(): string {
  return [
    'usage: node --import tsx bench/api.ts [--engines sqlite,pg] [--workers 1,2] [--duration 10] [--warmup 3] [--connections 10] [--json]',
    '  --duration S     seconds measured per route and configuration (default 10)',
    '  --warmup S       seconds of load before each measurement, discarded (default 3)',
  ].join('\n')
}

function parseOptions(): Options {
  const values = parseBenchArgs('api', usage, {
    engines: {type: 'string', parse: engineList},
    workers: {type: 'string', parse: integerList(1)},
    duration: {type: 'string', parse: positiveInteger},
    warmup: {type: 'string', parse: positiveInteger},
    connections: {type: 'string', parse: positiveInteger},
    json: {type: 'boolean'},
  }) as Partial<Options>
  return {
    engines: values.engines ?? ['sqlite', 'pg'],
    workers: values.workers ?? [1, 2],
    duration: values.duration ?? 10,
    warmup: values.warmup ?? 3,
    connections: values.connections ?? 10,
    json: values.json === true,
  }
}

interface Server {
  url: string
  child: ChildProcess
  stop(): Promise<void>
}

/** Spawns a process that prints its URL on the first line matching `pattern`, and waits for it. */
function startServer(command: string, args: string[], options: {cwd: string; env: NodeJS.ProcessEnv}, pattern: RegExp): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe']})
    let stderr = ''
    // serve logs one JSON line per request on stderr: keep only the start for error messages, drop the rest.
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 4000) stderr += chunk.toString()
    })
    const lines = createInterface({input: child.stdout})
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start in 30 s: ${stderr}`)), 30_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${command} ${args.join(' ')} exited ${code} before listening: ${stderr.trim()}`))
    })
    lines.on('line', (line) => {
      const match = pattern.exec(line)
      if (!match) return
      clearTimeout(timer)
      resolve({
        url: match[1],
        child,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done()
            child.once('exit', () => done())
            child.kill('SIGTERM')
          }),
      })
    })
  })
}

const BARE_SERVER = `
const http = require('node:http')
const body = JSON.stringify({data: {ok: true}})
const server = http.createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    res.writeHead(200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(body)})
    res.end(body)
  })
})
server.listen(0, '127.0.0.1', () => console.log('Serving on http://127.0.0.1:' + server.address().port))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
`

interface Round {
  engine: Engine | 'bare'
  workers: number
  route: string
  requestsPerSec: number
  p50: number
  p99: number
  requests: number
  unexpected: number
  errors: number
  ok: boolean
}

interface Load {
  method: 'GET' | 'POST'
  path: string
  headers?: Record<string, string>
  body?: string
  expect: number
}

async function cannon(url: string, load: Load, seconds: number, connections: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${url}${load.path}`,
    method: load.method,
    headers: {accept: 'application/json', ...(load.body ? {'content-type': 'application/json'} : {}), ...load.headers},
    body: load.body,
    connections,
    duration: seconds,
  })
}

async function measure(url: string, load: Load, opts: Options): Promise<Omit<Round, 'engine' | 'workers' | 'route'>> {
  await cannon(url, load, opts.warmup, opts.connections)
  const result = await cannon(url, load, opts.duration, opts.connections)
  const byStatus = result.statusCodeStats
  const expected = byStatus?.[String(load.expect)]?.count ?? 0
  const total = Object.values(byStatus ?? {}).reduce((sum, s) => sum + s.count, 0)
  const unexpected = total - expected
  return {
    requestsPerSec: expected / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: total,
    unexpected,
    errors: result.errors + result.timeouts,
    ok: unexpected === 0 && result.errors === 0 && result.timeouts === 0 && expected > 0,
  }
}

async function prepare(bench: BenchDatabase): Promise<void> {
  const clock = systemClock
  await migrate(bench.db)
  await seedDatabase(bench.db, {env: 'local', clock})
  const knex = bench.db.knex
  const pro = await knex('plans').where({key: 'pro'}).first<{id: number} | undefined>('id')
  if (!pro) throw new Error('plan pro is missing after seeding')
  await knex('plans').where({id: pro.id}).update({orders_limit: 10_000_000})
  await knex('tenants').where({name: 'Demo Laundry'}).update({current_plan_id: pro.id})
  await knex('tenant_subscriptions').update({plan_id: pro.id})
}

async function login(url: string): Promise<string> {
  const response = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: {'content-type': 'application/json', accept: 'application/json'},
    body: JSON.stringify({email: 'owner@demo.local', password: 'password', device_name: 'bench'}),
  })
  const body = (await response.json()) as {access_token?: string}
  if (response.status !== 200 || !body.access_token) throw new Error(`login answered ${response.status}: ${JSON.stringify(body)}`)
  return body.access_token
}

async function orderBody(bench: BenchDatabase): Promise<string> {
  const knex = bench.db.knex
  const outlet = await knex('outlets').where({code: 'BL'}).first<{id: string} | undefined>('id')
  const service = await knex('services').where({name: 'Cuci Satuan'}).first<{id: string} | undefined>('id')
  if (!outlet || !service) throw new Error('the demo outlet or service is missing')
  return JSON.stringify({
    outlet_id: outlet.id,
    customer: {name: 'Bench Customer', phone: '081234567890'},
    items: [{service_id: service.id, qty: 2}],
  })
}

async function main(): Promise<void> {
  const opts = parseOptions()
  const env = environment(root)
  const rounds: Round[] = []
  let pgVersion: string | null = null
  const log = (message: string) => progress(opts.json, message)

  log('bare node:http server')
  const bare = await startServer(process.execPath, ['-e', BARE_SERVER], {cwd: root, env: process.env}, /^Serving on (\S+)/)
  try {
    for (const route of ['GET /up (bare)', 'POST /api/orders (bare)']) {
      const method = route.startsWith('POST') ? 'POST' : 'GET'
      const result = await measure(bare.url, {method, path: '/', body: method === 'POST' ? '{"a":1}' : undefined, expect: 200}, opts)
      rounds.push({engine: 'bare', workers: 1, route, ...result})
    }
  } finally {
    await bare.stop()
  }

  for (const engine of opts.engines) {
    log(`${engine}: creating the database, migrating, seeding`)
    const bench = await createBenchDatabase(engine)
    try {
      await prepare(bench)
      if (engine === 'pg') pgVersion = await pgFacts(async (sql) => (await bench.db.knex.raw<{rows: Array<Record<string, unknown>>}>(sql)).rows)
      const body = await orderBody(bench)
      for (const workers of opts.workers) {
        log(`${engine}: serve --workers ${workers}`)
        const server = await startServer(
          process.execPath,
          [runJs, 'serve', '--port', '0', '--workers', String(workers)],
          {cwd: bench.dir, env: {...process.env, DATABASE_URL: bench.url, APP_ENV: 'local', LOG_LEVEL: 'error'}},
          /^Serving on (\S+)/,
        )
        try {
          const token = await login(server.url)
          const auth = {authorization: `Bearer ${token}`}
          const loads: Array<[string, Load]> = [
            ['GET /up', {method: 'GET', path: '/up', expect: 200}],
            ['GET /api/me', {method: 'GET', path: '/api/me', headers: auth, expect: 200}],
            ['POST /api/orders', {method: 'POST', path: '/api/orders', headers: auth, body, expect: 201}],
          ]
          for (const [route, load] of loads) {
            log(`${engine}: --workers ${workers}: ${route}`)
            rounds.push({engine, workers, route, ...(await measure(server.url, load, opts))})
          }
        } finally {
          await server.stop()
        }
      }
    } finally {
      await bench.db.close().catch(() => {})
      await bench.drop()
    }
  }

  const verdict = (round: Round): string => {
    const target = round.engine === 'bare' ? undefined : TARGETS[round.route]?.[round.engine]
    if (!round.ok) return 'FAIL (unexpected answers)'
    if (target === undefined) return ''
    return round.requestsPerSec >= target ? `>= ${fmt(target)}: met` : `>= ${fmt(target)}: NOT met`
  }
  const ok = rounds.every((r) => r.ok)
  emitBenchmark('api', {
    json: opts.json,
    environment: {...env, pgVersion},
    fields: {options: opts, rounds: rounds.map((r) => ({...r, target: verdict(r)})), ok},
    ok,
    text: () =>
      [
        'bench/api: laundry-ops serve against a bare node:http server, autocannon',
        ...environmentLines(env, pgVersion),
        `${opts.connections} connections, ${opts.duration} s measured after ${opts.warmup} s of warm-up, per route`,
        '',
        table(
          ['engine', 'workers', 'route', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'unexpected', 'target'],
          rounds.map((r) => [
            r.engine,
            String(r.workers),
            r.route,
            fmt(r.requestsPerSec),
            fmt(r.p50, 1),
            fmt(r.p99, 1),
            fmt(r.requests),
            fmt(r.unexpected + r.errors),
            verdict(r),
          ]),
          [false, true, false, true, true, true, true, true, false],
        ),
        '',
      ].join('\n'),
  })
}

main().catch((error: unknown) => benchFail('api', error instanceof Error ? error.message : String(error)))
