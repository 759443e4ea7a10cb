/**
 * `uat run` as a real process (issue 11): the dry-run report (T8), the whole pack on an isolated database
 * of each engine (gone afterwards), against a separately started server with --base-url, with the server
 * down, behind a proxy that breaks one route, and interrupted with Ctrl-C.
 */
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {createServer, request as httpRequest, type Server} from 'node:http'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import Sqlite from 'better-sqlite3'
import {expect} from 'chai'
import pg from 'pg'

import {type ApiInstance, buildApp} from '../../src/api/app.js'
import {systemClock} from '../../src/core/clock.js'
import {loadConfig} from '../../src/core/config.js'
import {UAT_SCENARIOS} from '../../src/core/uat/scenarios/index.js'
import {parseJson, runCli, startCli} from '../helpers/cli.js'
import {createScratchDatabase, PG_ADMIN_URL, type ScratchDatabase} from '../helpers/engines.js'

const T8_LINES = (report: string) => report.split('\n').filter((line) => !/^- (Environment|Build\/Commit Ref): /.test(line))

async function uatDatabases(): Promise<string[]> {
  const client = new pg.Client({connectionString: PG_ADMIN_URL})
  await client.connect()
  try {
    return (await client.query<{datname: string}>("select datname from pg_database where datname like 'laundry_ops_uat_%'")).rows.map((r) => r.datname)
  } finally {
    await client.end()
  }
}

const uatFolders = () => new Set(readdirSync(tmpdir()).filter((name) => name.startsWith('laundry-ops-uat-')))

/** A port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return typeof address === 'object' && address ? address.port : 0
}

describe('uat run (real processes) [slow]', function () {
  this.timeout(120_000)
  let scratch: ScratchDatabase

  before(async () => {
    scratch = await createScratchDatabase('sqlite', {from: 'seeded'})
  })
  after(async () => {
    await scratch?.drop()
  })

  it("--dry-run writes upstream's report (T8) but for the environment and build lines, runs nothing, exits 0", async () => {
    const result = await runCli(['uat', 'run', '--dry-run', '--date', '2026-02-16', '--environment', 'testing', '--output', 'storage/uat-test-dryrun.md'], {
      cwd: scratch.dir,
    })
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.equal('UAT report generated: storage/uat-test-dryrun.md\nSummary: total=10, pass=0, fail=0, blocked=10, overall=BLOCKED\n')
    const report = readFileSync(path.join(scratch.dir, 'storage', 'uat-test-dryrun.md'), 'utf8')
    const t8 = readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'uat-t8-dryrun.md'), 'utf8')
    expect(T8_LINES(report)).to.deep.equal(T8_LINES(t8).map((l) => l.replace('- `php artisan ops:uat:run --seed-demo`', '- `laundry-ops uat run --seed-demo`')))
    expect(report).to.match(/^- Build\/Commit Ref: `laundry-ops \d+\.\d+\.\d+[^`]*`$/m)
    const bad = await runCli(['uat', 'run', '--dry-run', '--date', '2026/02/16'], {cwd: scratch.dir})
    expect(bad.code).to.equal(2)
    expect(bad.stderr).to.include('Invalid --date value "2026/02/16". Use format YYYY-MM-DD.')
  })

  it('--seed-demo migrates and seeds the configured database first (the demo accounts stay), then runs on an isolated one', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'uat-seed-demo-'))
    try {
      const result = await runCli(['uat', 'run', '--seed-demo', '--scenario', 'UAT-01'], {cwd: folder, timeoutMs: 60_000})
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout.split('\n')[0]).to.equal('Demo accounts seeded.')
      expect(result.stdout).to.include('Summary: total=1, pass=1, fail=0, blocked=0, overall=PASS')
      const seeded = new Sqlite(path.join(folder, 'storage', 'database.sqlite'), {readonly: true})
      try {
        const row = seeded.prepare("select count(*) as n from users where email like '%@demo.local'").get() as {n: number}
        expect(row.n).to.equal(5)
        // The scenario ran elsewhere: the configured database holds no order of it.
        expect((seeded.prepare('select count(*) as n from orders').get() as {n: number}).n).to.equal(0)
      } finally {
        seeded.close()
      }
      const dry = await runCli(['uat', 'run', '--seed-demo', '--dry-run', '--database-url', 'sqlite:nothing-here.sqlite'], {cwd: folder})
      expect(dry.code, dry.stderr).to.equal(0)
      expect(dry.stderr).to.include('--seed-demo skipped: --dry-run touches no database')
      expect(existsSync(path.join(folder, 'nothing-here.sqlite'))).to.equal(false)
    } finally {
      rmSync(folder, {recursive: true, force: true})
    }
  })

  it('runs the ten scenarios on an isolated SQLite database (removed afterwards): 10 of 10, the report, --json and --junit', async () => {
    const before = uatFolders()
    const result = await runCli(['uat', 'run', '--json', '--junit', 'reports/uat.xml', '--date', '2026-12-02'], {cwd: scratch.dir, timeoutMs: 60_000})
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stderr).to.equal('')
    const doc = parseJson(result) as {
      summary: Record<string, unknown>
      target: {kind: string; engine: string}
      scenarios: Array<{id: string; status: string}>
      report: string
    }
    expect(doc.summary).to.include({total: 10, passed: 10, failed: 0, blocked: 0, overall: 'PASS', decision: 'GO with Conditions'})
    expect(doc.target).to.include({kind: 'isolated', engine: 'sqlite'})
    expect(doc.scenarios.map((s) => s.id)).to.deep.equal(UAT_SCENARIOS.map((s) => s.id))
    expect(doc.report).to.equal(path.join(scratch.dir, 'docs', 'uat-reports', 'UAT-20261202-automated-pack.md'))
    expect(readFileSync(doc.report, 'utf8')).to.include('- Overall status: `PASS`')
    const junit = readFileSync(path.join(scratch.dir, 'reports', 'uat.xml'), 'utf8')
    expect(junit).to.include('tests="10" failures="0"')
    expect([...uatFolders()].filter((f) => !before.has(f))).to.deep.equal([])
  })

  it('runs the ten scenarios on an isolated PostgreSQL database named laundry_ops_uat_<timestamp>_<random>, dropped afterwards', async () => {
    const before = await uatDatabases()
    const result = await runCli(['uat', 'run'], {
      cwd: scratch.dir,
      env: {DATABASE_URL: `${PG_ADMIN_URL.replace(/\/[^/]*$/, '/postgres')}`},
      timeoutMs: 60_000,
    })
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.match(/^Using isolated test database: laundry_ops_uat_\d{14}_\d{4}$/m)
    expect(result.stdout).to.match(/^Dropped isolated test database: laundry_ops_uat_\d{14}_\d{4}$/m)
    expect(result.stdout).to.include('Summary: total=10, pass=10, fail=0, blocked=0, overall=PASS')
    expect(await uatDatabases()).to.deep.equal(before)
  })

  describe('against a server of its own (--base-url)', () => {
    let app: ApiInstance
    let base: string
    let proxy: Server
    let proxyUrl: string

    before(async () => {
      const db = await scratch.open()
      // UAT-09 needs a plan with WhatsApp: the deployment's demo tenant on premium.
      const premium = await db.knex('plans').where({key: 'premium'}).first<{id: number} | undefined>('id')
      await db.knex('tenants').where({name: 'Demo Laundry'}).update({current_plan_id: premium?.id})
      app = await buildApp({db, config: loadConfig({cwd: scratch.dir, env: {}, databaseUrl: scratch.url}), clock: systemClock})
      await app.listen({host: '127.0.0.1', port: 0})
      const address = app.server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      base = `http://127.0.0.1:${port}`
      // A proxy that answers 500 on one route (POST /api/orders/{id}/payments) and forwards everything else.
      proxy = createServer((req, res) => {
        if (req.method === 'POST' && /^\/api\/orders\/[^/]+\/payments$/.test(req.url ?? '')) {
          req.resume()
          res.writeHead(500, {'content-type': 'application/json'}).end('{"message":"Server Error"}')
          return
        }
        const upstream = httpRequest({host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers}, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
        })
        req.pipe(upstream)
      })
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
      const proxyAddress = proxy.address()
      proxyUrl = `http://127.0.0.1:${typeof proxyAddress === 'object' && proxyAddress ? proxyAddress.port : 0}`
    })
    after(async () => {
      await new Promise<void>((resolve) => proxy?.close(() => resolve()))
      await app?.close()
    })

    it('passes 10 of 10 against the running server (UAT-09: the messages logged)', async () => {
      const result = await runCli(['uat', 'run', '--base-url', base, '--json'], {cwd: scratch.dir, timeoutMs: 60_000})
      expect(result.code, result.stdout.slice(0, 2000)).to.equal(0)
      const doc = parseJson(result) as {summary: {passed: number}; target: {kind: string; base_url: string}}
      expect(doc.summary.passed).to.equal(10)
      expect(doc.target).to.deep.equal({kind: 'deployment', base_url: base})
    })

    it('behind a proxy that breaks one route: exactly the scenarios that use it fail, and their evidence names it', async () => {
      const result = await runCli(['uat', 'run', '--base-url', proxyUrl, '--json'], {cwd: scratch.dir, timeoutMs: 60_000})
      expect(result.code).to.equal(1)
      const doc = parseJson(result) as {scenarios: Array<{id: string; status: string; evidence: string}>}
      const users = UAT_SCENARIOS.filter((s) => s.routes.includes('POST /api/orders/{id}/payments')).map((s) => s.id)
      expect(users).to.deep.equal(['UAT-02', 'UAT-07'])
      expect(doc.scenarios.filter((s) => s.status === 'Fail').map((s) => s.id)).to.deep.equal(users)
      for (const s of doc.scenarios.filter((x) => x.status === 'Fail')) {
        expect(s.evidence).to.match(/^POST \/api\/orders\/\{id\}\/payments answered 500, expected 201: \{"message":"Server Error"\}$/)
      }
    })
  })

  it('with the server down: every scenario Fail with one evidence line, exit 1, no stack trace', async () => {
    const port = await closedPort()
    const result = await runCli(['uat', 'run', '--base-url', `http://127.0.0.1:${port}`], {cwd: scratch.dir, timeoutMs: 60_000})
    expect(result.code).to.equal(1)
    expect(result.stdout).to.include('Summary: total=10, pass=0, fail=10, blocked=0, overall=FAIL')
    expect(result.stderr).not.to.match(/\n\s+at /)
    const report = readFileSync(
      path.join(scratch.dir, 'docs', 'uat-reports', `UAT-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-automated-pack.md`),
      'utf8',
    )
    const rows = report.split('\n').filter((line) => line.startsWith('| UAT-'))
    expect(rows).to.have.length(10)
    for (const row of rows) expect(row).to.include(`| Fail | POST /api/auth/login: no answer from http://127.0.0.1:${port} (ECONNREFUSED) |`)
  })

  it('Ctrl-C in the middle: the isolated database and the server are gone, the exit code is non-zero', async () => {
    const before = uatFolders()
    const proc = startCli(['uat', 'run'], {cwd: scratch.dir})
    await proc.waitFor(/UAT-03/, {stream: 'stderr', timeoutMs: 30_000})
    proc.signal('SIGINT')
    const exit = await proc.exited(30_000)
    expect(exit.code, exit.stderr).to.equal(1)
    expect(exit.stderr).to.include('SIGINT: stopping the UAT pack')
    expect(exit.stdout).to.match(/Summary: total=10, pass=\d+, fail=\d+, blocked=\d+/)
    expect(exit.stdout).not.to.include('overall=PASS')
    expect([...uatFolders()].filter((f) => !before.has(f))).to.deep.equal([])
    // The same on PostgreSQL: the isolated database is dropped.
    const databases = await uatDatabases()
    const onPg = startCli(['uat', 'run'], {cwd: scratch.dir, env: {DATABASE_URL: PG_ADMIN_URL.replace(/\/[^/]*$/, '/postgres')}})
    await onPg.waitFor(/UAT-03/, {stream: 'stderr', timeoutMs: 30_000})
    onPg.signal('SIGINT')
    const pgExit = await onPg.exited(30_000)
    expect(pgExit.code, pgExit.stderr).to.equal(1)
    expect(pgExit.stdout).to.match(/^Dropped isolated test database: laundry_ops_uat_/m)
    expect(await uatDatabases()).to.deep.equal(databases)
  })
})
