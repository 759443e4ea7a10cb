/**
 * `serve` as a real process on a real socket: it listens (port 0: the printed port), answers GET /up,
 * logs each request on stderr, stops on SIGTERM with exit 0, runs N cluster workers on one port and
 * restarts one that dies, refuses a taken port with one line and exit 1, and bad flags with exit 2.
 */
import {readFileSync} from 'node:fs'
import {createServer, type Server} from 'node:net'

import {expect} from 'chai'

import {runCli, startCli, type CliProcess} from '../helpers/cli.js'
import {createScratchDatabase, describeEachEngine, type ScratchDatabase} from '../helpers/engines.js'

const LISTENING = /^Serving on (http:\/\/127\.0\.0\.1:(\d+))( \(\d+ workers\))?$/m

/** The JSON request-log lines of a process's stderr. */
function requestLog(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => 'status' in entry)
}

/** The child processes of `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim()
  return text === '' ? [] : text.split(/\s+/).map(Number)
}

function occupiedPort(): Promise<{server: Server; port: number}> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      resolve({server, port: typeof address === 'object' && address ? address.port : 0})
    })
  })
}

describe('serve (real processes) [slow]', function () {
  this.timeout(60_000)
  let scratch: ScratchDatabase
  const env = () => ({DATABASE_URL: scratch.url})

  before(async () => {
    scratch = await createScratchDatabase('sqlite', {from: 'migrated'})
  })
  after(async () => {
    await scratch?.drop()
  })

  async function serve(args: string[]): Promise<{proc: CliProcess; url: string}> {
    const proc = startCli(['serve', '--port', '0', ...args], {cwd: scratch.dir, env: env()})
    const match = await proc.waitFor(LISTENING, {stream: 'stdout'})
    return {proc, url: match[1]}
  }

  it('listens on the printed port, answers GET /up and /api 404s, logs each request as a JSON line, and exits 0 on SIGTERM', async () => {
    const {proc, url} = await serve([])
    const up = await fetch(`${url}/up`)
    expect(up.status).to.equal(200)
    expect(await up.text()).to.include('Application up')
    const missing = await fetch(`${url}/api/orders-nope?token=zzz`, {headers: {authorization: 'Bearer 1|topsecret'}})
    expect(missing.status).to.equal(404)
    expect(await missing.json()).to.deep.equal({message: 'The route api/orders-nope could not be found.'})
    proc.signal('SIGTERM')
    const exit = await proc.exited(20_000)
    expect(exit.code, exit.stderr).to.equal(0)
    expect(exit.stdout.trim().split('\n')).to.have.length(1)
    const log = requestLog(exit.stderr)
    expect(log.map((entry) => [entry.method, entry.path, entry.status])).to.deep.equal([
      ['GET', '/up', 200],
      ['GET', '/api/orders-nope', 404],
    ])
    expect(exit.stderr).not.to.match(/topsecret|zzz/)
    expect(exit.stderr).to.include('SIGTERM received: finishing the requests in flight, then stopping')
    expect(exit.stderr).to.match(/Server stopped \(signal\): 2 request\(s\) answered\./)
  })

  it('does not wait on idle keep-alive connections when it stops, and --max-time stops it by itself', async () => {
    const {proc, url} = await serve(['--max-time', '30'])
    // fetch keeps its connection open (keep-alive) after the answer.
    expect((await fetch(`${url}/up`)).status).to.equal(200)
    const started = Date.now()
    proc.signal('SIGTERM')
    const exit = await proc.exited(20_000)
    expect(exit.code, exit.stderr).to.equal(0)
    expect(Date.now() - started).to.be.below(5_000)

    const bounded = startCli(['serve', '--port', '0', '--max-time', '1'], {cwd: scratch.dir, env: env()})
    const done = await bounded.exited(20_000)
    expect(done.code, done.stderr).to.equal(0)
    expect(done.stderr).to.match(/Server stopped \(max_time\)/)
  })

  it('--workers 2 serves one port from two processes, restarts a worker that dies, and stops them all on SIGTERM', async () => {
    const {proc, url} = await serve(['--workers', '2'])
    expect(proc.stdout).to.match(/\(2 workers\)/)
    const workers = childrenOf(proc.pid)
    expect(workers).to.have.length(2)
    const answers = await Promise.all(Array.from({length: 20}, () => fetch(`${url}/up`, {headers: {connection: 'close'}}).then((r) => r.status)))
    expect(answers).to.deep.equal(Array.from({length: 20}, () => 200))

    process.kill(workers[0], 'SIGKILL')
    await proc.waitFor(new RegExp(`worker ${workers[0]} was killed by SIGKILL: starting another`), {stream: 'stderr'})
    for (let i = 0; i < 50 && childrenOf(proc.pid).length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 100))
    expect(childrenOf(proc.pid)).to.have.length(2)
    expect((await fetch(`${url}/up`, {headers: {connection: 'close'}})).status).to.equal(200)

    proc.signal('SIGTERM')
    const exit = await proc.exited(20_000)
    expect(exit.code, exit.stderr).to.equal(0)
    expect(exit.stderr).to.match(/Server stopped \(signal\): \d+ request\(s\) answered\./)
  })

  it('a port in use is one error line and exit 1, with one process or a cluster', async () => {
    const {server, port} = await occupiedPort()
    try {
      for (const extra of [[], ['--workers', '2']]) {
        const result = await runCli(['serve', '--port', String(port), ...extra], {cwd: scratch.dir, env: env(), timeoutMs: 30_000})
        expect(result.code, `${extra.join(' ')}: ${result.stderr}`).to.equal(1)
        expect(result.stdout).to.equal('')
        expect(result.stderr).to.equal(`error: port ${port} is already in use on 127.0.0.1: stop what listens there, or give another --port\n`)
      }
    } finally {
      server.close()
    }
  })

  it('refuses bad flag values with exit 2 before listening, and a missing database with exit 1', async () => {
    for (const args of [
      ['--port', '70000'],
      ['--port', '-1'],
      ['--workers', '0'],
      ['--workers', '65'],
      ['--host', 'not a host'],
      ['--host', '0'],
      ['--max-time', '0'],
    ]) {
      const result = await runCli(['serve', ...args], {cwd: scratch.dir, env: env()})
      expect(result.code, args.join(' ')).to.equal(2)
      expect(result.stderr.trim().split('\n'), args.join(' ')).to.have.length(1)
      expect(result.stderr).to.match(/^error: /)
    }
    const missing = await runCli(['serve', '--port', '0', '--database-url', 'sqlite:nope.sqlite'], {cwd: scratch.dir, env: env()})
    expect(missing.code).to.equal(1)
    expect(missing.stderr).to.match(/^error: .*nope\.sqlite/)
  })

  it('--worker runs the queue worker beside the server and stops it with the server', async () => {
    const {proc, url} = await serve(['--worker'])
    await proc.waitFor(/Queue worker: processing jobs from the \[messaging, default\] queue\(s\)\./, {stream: 'stderr'})
    expect((await fetch(`${url}/up`)).status).to.equal(200)
    proc.signal('SIGTERM')
    const exit = await proc.exited(20_000)
    expect(exit.code, exit.stderr).to.equal(0)
    expect(exit.stderr).to.match(/Queue worker: Worker stopped \(signal\)/)
  })
})

describeEachEngine("serve: two processes on one database share the login throttle and each other's tokens [slow]", {from: 'seeded'}, (ctx) => {
  it('the 11th login attempt for one email inside the minute is 429 whichever process answers; a token issued by one authenticates on the other', async function () {
    this.timeout(90_000)
    const env = {DATABASE_URL: ctx.scratch.url}
    const procs = [startCli(['serve', '--port', '0'], {cwd: ctx.scratch.dir, env}), startCli(['serve', '--port', '0'], {cwd: ctx.scratch.dir, env})]
    try {
      const urls = await Promise.all(procs.map(async (proc) => (await proc.waitFor(LISTENING, {stream: 'stdout'}))[1]))
      const login = (url: string, password: string) =>
        fetch(`${url}/api/auth/login`, {
          method: 'POST',
          headers: {'content-type': 'application/json'},
          body: JSON.stringify({email: 'owner@demo.local', password}),
        })
      const statuses: number[] = []
      for (let i = 0; i < 10; i++) statuses.push((await login(urls[i % 2], 'wrong-password')).status)
      expect(statuses).to.deep.equal(Array.from({length: 10}, () => 422))
      for (const url of urls) {
        const refused = await login(url, 'password')
        expect(refused.status).to.equal(429)
        expect(Number(refused.headers.get('retry-after'))).to.be.within(1, 60)
      }
      // Another email has its own budget: log in on one server, use the token on the other.
      const ok = await fetch(`${urls[0]}/api/auth/login`, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: JSON.stringify({email: 'admin@demo.local', password: 'password'}),
      })
      expect(ok.status).to.equal(200)
      const {access_token: token} = (await ok.json()) as {access_token: string}
      const me = await fetch(`${urls[1]}/api/me`, {headers: {authorization: `Bearer ${token}`}})
      expect(me.status).to.equal(200)
      expect(((await me.json()) as {data: {user: {email: string}}}).data.user.email).to.equal('admin@demo.local')
    } finally {
      for (const proc of procs) proc.signal('SIGTERM')
      for (const proc of procs) expect((await proc.exited(20_000)).code).to.equal(0)
    }
  })
})

describeEachEngine('serve: SIGTERM while a request waits on the database [slow]', {from: 'seeded'}, (ctx) => {
  it('the request in flight completes (200 and its token row), then the process exits 0', async function () {
    this.timeout(90_000)
    const db = await ctx.scratch.open()
    const proc = startCli(['serve', '--port', '0'], {cwd: ctx.scratch.dir, env: {DATABASE_URL: ctx.scratch.url}})
    const lock = await db.knex.transaction()
    let released = false
    try {
      const url = (await proc.waitFor(LISTENING, {stream: 'stdout'}))[1]
      // Hold the audit table: the login's AUTH_LOGIN_SUCCESS row cannot be written until the lock goes.
      if (ctx.dialect === 'pg') await lock.raw('lock table audit_events in exclusive mode')
      else await lock.raw("insert into cache (key, value, expiration) values ('sigterm-test-lock', 'x', 0)")
      const login = fetch(`${url}/api/auth/login`, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: JSON.stringify({email: 'owner@demo.local', password: 'password', device_name: 'sigterm-test'}),
      })
      if (ctx.dialect === 'pg') {
        // Until the server's insert is seen waiting on the lock.
        let waiting = false
        for (let i = 0; i < 200 && !waiting; i++) {
          const {rows} = await db.knex.raw<{rows: Array<{n: string}>}>(
            "select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
          )
          waiting = Number(rows[0].n) > 0
          if (!waiting) await new Promise((resolve) => setTimeout(resolve, 50))
        }
        expect(waiting, "the server's insert waits on the lock").to.equal(true)
      } else {
        // better-sqlite3 waits on busy_timeout synchronously: the bcrypt check first, then the wait.
        await new Promise((resolve) => setTimeout(resolve, 2_000))
      }
      proc.signal('SIGTERM')
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(proc.done, 'the server waits for the request in flight').to.equal(false)
      await lock.rollback()
      released = true
      const res = await login
      expect(res.status).to.equal(200)
      const body = (await res.json()) as {access_token: string}
      expect(body.access_token).to.match(/^\d+\|/)
      const id = Number(body.access_token.split('|')[0])
      expect(await db.knex('personal_access_tokens').where({id}).first('name')).to.deep.equal({name: 'sigterm-test'})
      const exit = await proc.exited(20_000)
      expect(exit.code, exit.stderr).to.equal(0)
    } finally {
      if (!released) await lock.rollback().catch(() => {})
      if (!proc.done) proc.signal('SIGKILL')
    }
  })
})
