import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import Sqlite from 'better-sqlite3'
import {expect} from 'chai'

import type {ErrorDocument} from '../../src/base-command.js'
import type {Database} from '../../src/core/db/connection.js'
import type {FullOutletRow, TenantRow} from '../../src/core/db/rows.js'
import {migrate, type MigrateResult} from '../../src/core/db/migrator.js'
import {seedDatabase} from '../../src/core/db/seeds/index.js'
import type {ReconcileResult} from '../../src/core/quota/reconcile.js'
import {insertAuditEvents} from '../helpers/audit.js'
import {type CliResult, parseJson, ROOT, runCli} from '../helpers/cli.js'
import {describeEachEngine} from '../helpers/engines.js'
import {found} from '../helpers/wa.js'

/** Exit 2, nothing on stdout, exactly one `error: ` line on stderr matching `pattern`, no stack trace. */
function expectRefused(result: CliResult, args: string[], pattern: RegExp): void {
  const what = `${args.join(' ')}\n${result.stderr}`
  expect(result.code, what).to.equal(2)
  expect(result.stdout, what).to.equal('')
  expect(result.stderr.trimEnd().split('\n'), what).to.have.length(1)
  expect(result.stderr, what).to.match(/^error: /)
  expect(result.stderr, what).to.match(pattern)
}

/** Row counts of the tables a wrongly accepted value would change. */
async function snapshot(db: Database): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const table of ['audit_events', 'wa_messages', 'jobs', 'failed_jobs', 'quota_usage', 'cache_locks', 'cache']) {
    const [{n}]: Array<{n: number | string}> = await db.knex(table).count({n: '*'})
    counts[table] = Number(n)
  }
  return counts
}

describeEachEngine('guard rails: bad values are refused before anything runs', (ctx) => {
  let db: Database
  let env: Record<string, string>
  let cwd: string
  let storage: string

  before(async () => {
    db = await ctx.scratch.open()
    await migrate(db)
    await seedDatabase(db, {env: 'local'})
    cwd = ctx.scratch.dir
    storage = path.join(cwd, 'storage')
    env = {DATABASE_URL: ctx.scratch.url, LAUNDRY_OPS_STORAGE: storage}
    // Rows an accepted nonsense value would archive: 10 days old (a NaN cutoff matched every row on SQLite).
    await insertAuditEvents(db, 50, {now: new Date(), minDays: 10, maxDays: 11})
  })

  it('class 1: out-of-range durations, counts and thresholds are refused, never turned into nonsense dates or busy loops', async () => {
    const before = await snapshot(db)
    const cases: Array<[string[], RegExp]> = [
      [['audit', 'archive', '--days', '200000000'], /--days: Expected an integer less than or equal to 36500 but received: 200000000/],
      [['audit', 'archive', '--days', String(2 ** 53)], /--days/],
      [['queue', 'flush', '--hours', '9007199254740993'], /--hours/],
      [['observe', 'health', '--lookback-minutes', '99999999999'], /--lookback-minutes/],
      [['observe', 'health', '--wa-failure-ratio-threshold', '101'], /from 0 to 100/],
      [['observe', 'health', '--quota-usage-threshold', 'Infinity'], /from 1 to 1000/],
      [['observe', 'health', '--failed-jobs-threshold', String(2 ** 53)], /--failed-jobs-threshold/],
      [['queue', 'work', '--sleep', '2147484'], /Expected a number of seconds from 0 to 86400 but received: 2147484/],
      [['queue', 'work', '--rest', '1e10'], /--rest/],
      [['queue', 'work', '--sleep', '0x10'], /--sleep: Expected a number of seconds from 0 to 86400 but received: 0x10/],
      [['queue', 'work', '--rest', '+5'], /--rest/],
      [['observe', 'health', '--wa-failure-ratio-threshold', '1e1'], /--wa-failure-ratio-threshold/],
      [['queue', 'work', '--backoff', '1,99999999'], /--backoff 99999999 is out of range: expected seconds from 0 to 604800/],
      [['queue', 'work', '--max-time', String(2 ** 53)], /--max-time/],
      [['wa', 'redrive', '--limit', String(2 ** 53)], /--limit/],
      [['wa', 'remind', '--limit', '1000001'], /--limit/],
      [['wa', 'remind', '--as-of', '0100-01-01'], /the year must be from 1970 to 9999/],
      [['quota', 'reconcile', '0000-01'], /Invalid period '0000-01': the year must be from 1970 to 9999/],
      [['observe', 'health', '--period', '0099-12'], /the year must be from 1970 to 9999/],
      [['db', 'rollback', '--step', '1000000'], /--step/],
    ]
    for (const [args, pattern] of cases) expectRefused(await runCli(args, {cwd, env}), args, pattern)
    expect(await snapshot(db)).to.deep.equal(before)
    expect(existsSync(path.join(storage, 'app', 'audit-archives'))).to.equal(false)
  })

  it('class 2: an empty or whitespace-only value never means "no filter": refused for every filter flag and argument', async () => {
    const before = await snapshot(db)
    const cases: string[][] = [
      ['audit', 'archive', '--channel', ''],
      ['audit', 'archive', '--channel=   '],
      ['audit', 'archive', '--days=90', '--channel', '\t'],
      ['wa', 'redrive', '--tenant', ''],
      ['wa', 'redrive', '--reason', ' '],
      ['wa', 'redrive', '--reason', 'NETWORK_ERROR', '--reason', ''],
      ['wa', 'remind', '--outlet', ''],
      ['wa', 'remind', '--bucket', '  '],
      ['wa', 'remind', '--collection-status='],
      ['wa', 'remind', '--as-of', ' '],
      ['quota', 'reconcile', '--tenant', ''],
      ['quota', 'reconcile', '  '],
      ['queue', 'work', '--queue', ' '],
      ['queue', 'retry', ''],
      ['schedule', 'run', '--task', ''],
      ['schedule', 'history', '--task', ' '],
      ['observe', 'health', '--period', ''],
      ['observe', 'health', '--junit', ' '],
      ['db', 'status', '--database-url', ''],
    ]
    for (const args of cases) expectRefused(await runCli(args, {cwd, env}), args, /is empty: give a value, or leave (the flag|it) out/)
    expect(await snapshot(db)).to.deep.equal(before)
    expect(existsSync(path.join(storage, 'app', 'audit-archives'))).to.equal(false)
    const json = await runCli(['audit', 'archive', '--channel', '', '--json'], {cwd, env})
    expect(json.code).to.equal(2)
    expect((parseJson(json) as ErrorDocument).error).to.deep.include({code: 'USAGE', exit: 2})
  })

  it('class 6: on an unmigrated database every command names the missing table and the remedy, never a SQL statement', async () => {
    const empty = ctx.dialect === 'pg' ? `${ctx.scratch.url}_empty` : `sqlite:${path.join(cwd, 'empty.sqlite')}`
    if (ctx.dialect === 'pg') {
      const admin = await ctx.scratch.open()
      await admin.knex.raw(`create database "${new URL(empty).pathname.slice(1)}"`)
    } else {
      new Sqlite(path.join(cwd, 'empty.sqlite')).close()
    }
    try {
      const commands: string[][] = [
        ['audit', 'archive'],
        ['audit', 'archive', '--dry-run'],
        ['wa', 'redrive'],
        ['wa', 'remind', '--dry-run'],
        ['quota', 'reconcile'],
        ['queue', 'work', '--stop-when-empty'],
        ['queue', 'failed'],
        ['queue', 'retry', 'all'],
        ['queue', 'flush'],
        ['queue', 'restart'],
        ['schedule', 'history'],
        ['db', 'seed'],
      ]
      for (const args of commands) {
        const result = await runCli([...args, '--database-url', empty], {cwd, env})
        const what = `${args.join(' ')}\n${result.stderr}`
        expect(result.code, what).to.equal(1)
        expect(result.stderr.trimEnd().split('\n'), what).to.have.length(1)
        expect(result.stderr, what).to.match(/run `laundry-ops db migrate`/)
        expect(result.stderr, what).not.to.match(/\b(select|insert|update|delete from|pragma)\b/i)
        expect(result.stderr, what).not.to.match(/^\s+at /m)
      }
      const json = parseJson(await runCli(['quota', 'reconcile', '--json', '--database-url', empty], {cwd, env})) as ErrorDocument
      expect(json.error.code).to.equal('NOT_MIGRATED')
      expect(json.error.message).to.match(/has no orders, tenants, quota_usage tables/)
    } finally {
      if (ctx.dialect === 'pg') {
        const admin = await ctx.scratch.open()
        await admin.knex.raw(`drop database if exists "${new URL(empty).pathname.slice(1)}" with (force)`)
      }
    }
  })

  it('class 6: a table or column dropped by hand is named with its table, and the remedy does not send the operator to a db migrate that changes nothing', async () => {
    await db.knex.schema.alterTable('jobs', (t) => t.dropColumn('available_at'))
    await db.knex.schema.alterTable('quota_usage', (t) => t.dropColumn('orders_used'))
    await db.knex.schema.renameTable('cache_locks', 'cache_locks_aside')
    try {
      const cases: Array<[string[], RegExp]> = [
        [['queue', 'work', '--stop-when-empty'], /has no column jobs\.available_at:/],
        [['quota', 'reconcile'], /has no column quota_usage\.orders_used:/],
        [['quota', 'reconcile', '--dry-run'], /has no column quota_usage\.orders_used:/],
        [['observe', 'health'], /has no columns jobs\.available_at, quota_usage\.orders_used:/],
        [['audit', 'archive', '--days', '1'], /has no cache_locks table:/],
        [['schedule', 'run'], /has no cache_locks table:/],
      ]
      for (const [args, pattern] of cases) {
        const result = await runCli(args, {cwd, env})
        const what = `${args.join(' ')}\n${result.stderr}`
        expect(result.code, what).to.equal(1)
        expect(result.stderr.trimEnd().split('\n'), what).to.have.length(1)
        expect(result.stderr, what).to.match(pattern)
        expect(result.stderr, what).to.match(/the migrations ledger says every migration ran, so `laundry-ops db migrate` would change nothing/)
        expect(result.stderr, what).not.to.match(/\b(select|insert|update|delete from|pragma)\b|single-quotes|\b[a-z]\.\w+/i)
      }
      const [{n}]: Array<{n: number | string}> = await db.knex('audit_events').count({n: '*'})
      expect(Number(n)).to.equal(50)
    } finally {
      await db.knex.schema.renameTable('cache_locks_aside', 'cache_locks')
      await db.knex.schema.alterTable('quota_usage', (t) => t.integer('orders_used').unsigned().defaultTo(0))
      await db.knex.schema.alterTable('jobs', (t) => t.integer('available_at').unsigned().defaultTo(0))
    }
  })

  it('class 6: a partly migrated database (a column gone) names the column, not the statement', async () => {
    await db.knex.schema.alterTable('audit_events', (t) => t.dropColumn('channel'))
    try {
      const result = await runCli(['audit', 'archive', '--days', '1', '--channel', 'api'], {cwd, env})
      expect(result.code, result.stderr).to.equal(1)
      expect(result.stderr.trimEnd().split('\n')).to.have.length(1)
      expect(result.stderr).to.match(/has no column audit_events\.channel: .*`laundry-ops db migrate`/)
      expect(result.stderr).not.to.match(/\bselect\b/i)
      const [{n}]: Array<{n: number | string}> = await db.knex('audit_events').count({n: '*'})
      expect(Number(n)).to.equal(50)
    } finally {
      await db.knex.schema.alterTable('audit_events', (t) => t.string('channel', 20).nullable())
    }
  })

  it('an upper-case tenant or outlet id finds its row on both engines (a uuid column matched it on PostgreSQL, a text column not on SQLite)', async () => {
    const tenant = found(await db.knex<TenantRow>('tenants').first('id'), 'a tenant').id
    const outlet = found(await db.knex<FullOutletRow>('outlets').where({tenant_id: tenant}).first('id'), 'an outlet').id
    const reconcile = await runCli(['quota', 'reconcile', '--dry-run', '--json', '--tenant', tenant.toUpperCase()], {cwd, env})
    expect(reconcile.code, reconcile.stderr).to.equal(0)
    expect((parseJson(reconcile) as ReconcileResult).tenants.map((t) => t.id)).to.deep.equal([tenant])
    for (const args of [
      ['wa', 'redrive', '--dry-run', '--tenant', tenant.toUpperCase()],
      ['wa', 'remind', '--dry-run', '--tenant', tenant.toUpperCase(), '--outlet', outlet.toUpperCase()],
    ]) {
      const result = await runCli(args, {cwd, env})
      expect(result.code, `${args.join(' ')}\n${result.stderr}`).to.equal(0)
    }
  })

  it('dry_run is in the --json document of every command that has --dry-run, a real run included', async () => {
    const commands = [
      ['wa', 'redrive'],
      ['wa', 'remind'],
      ['audit', 'archive'],
      ['quota', 'reconcile'],
      ['queue', 'retry', 'all'],
      ['queue', 'flush'],
    ]
    for (const args of commands) {
      for (const dryRun of [true, false]) {
        const result = await runCli([...args, '--json', ...(dryRun ? ['--dry-run'] : [])], {cwd, env})
        expect(result.code, `${args.join(' ')}\n${result.stderr}`).to.equal(0)
        expect((parseJson(result) as {dry_run?: unknown}).dry_run, args.join(' ')).to.equal(dryRun)
      }
    }
  })
})

describe('guard rails: a missing SQLite database is reported, never created (class 5)', () => {
  const cwd = path.join(process.env.TMPDIR ?? '/tmp', `laundry-ops-missing-${process.pid}`)
  before(() => mkdirSync(cwd, {recursive: true}))
  after(() => rmSync(cwd, {recursive: true, force: true}))

  it('read-only commands and every --dry-run exit 1 and create no file or folder; only db migrate creates the database', async () => {
    const missing = path.join(cwd, 'nowhere', 'laundry.sqlite')
    const env = {DATABASE_URL: `sqlite:${missing}`, LAUNDRY_OPS_STORAGE: path.join(cwd, 'storage')}
    const failing: string[][] = [
      ['observe', 'health'],
      ['db', 'status'],
      ['db', 'seed'],
      ['db', 'rollback', '--dry-run'],
      ['queue', 'failed'],
      ['queue', 'flush', '--dry-run'],
      ['queue', 'retry', 'all', '--dry-run'],
      ['queue', 'restart'],
      ['audit', 'archive', '--dry-run'],
      ['wa', 'redrive', '--dry-run'],
      ['wa', 'remind', '--dry-run'],
      ['quota', 'reconcile', '--dry-run'],
      ['schedule', 'history'],
      ['schedule', 'run'],
    ]
    for (const args of failing) {
      const result = await runCli(args, {cwd, env})
      const what = `${args.join(' ')}\n${result.stderr}`
      expect(result.code, what).to.equal(1)
      expect(result.stderr, what).to.match(/^error: no SQLite database at .*nowhere\/laundry\.sqlite \(DATABASE_URL\): create it with `laundry-ops db migrate`/)
      expect(existsSync(path.dirname(missing)), what).to.equal(false)
      expect((parseJson(await runCli([...args, '--json'], {cwd, env})) as ErrorDocument).error.code, what).to.equal('DB_NOT_FOUND')
    }
    // The dry runs of the commands that create a schema say what they would do, and create nothing either.
    const fresh = await runCli(['db', 'fresh', '--dry-run', '--json'], {cwd, env})
    expect(fresh.code, fresh.stderr).to.equal(0)
    expect(parseJson(fresh)).to.deep.include({dry_run: true, dropped: []})
    const migrateDry = await runCli(['db', 'migrate', '--dry-run', '--json'], {cwd, env})
    expect(migrateDry.code, migrateDry.stderr).to.equal(0)
    expect((parseJson(migrateDry) as MigrateResult).migrated).to.have.length(13)
    expect(existsSync(path.dirname(missing))).to.equal(false)
    // DATABASE_URL=garbage is a file path: reported, not created.
    const garbage = await runCli(['observe', 'health'], {cwd, env: {DATABASE_URL: 'garbage', LAUNDRY_OPS_STORAGE: env.LAUNDRY_OPS_STORAGE}})
    expect(garbage.code).to.equal(1)
    expect(existsSync(path.join(cwd, 'garbage'))).to.equal(false)
    expect(readdirSync(cwd)).to.deep.equal([])

    const migrated = await runCli(['db', 'migrate'], {cwd, env})
    expect(migrated.code, migrated.stderr).to.equal(0)
    expect(existsSync(missing)).to.equal(true)
  })
})

describeEachEngine('guard rails: the safety check reads the host the driver connects to (class 3)', (ctx) => {
  it('db fresh refuses a remote host given by ?host= or PGHOST, and every connection error names the host really used', async () => {
    const cwd = ctx.scratch.dir
    if (ctx.dialect === 'sqlite') {
      // An SQLite file is always on this machine: PG* variables do not make it remote.
      const local = await runCli(['db', 'fresh', '--dry-run', '--json'], {cwd, env: {DATABASE_URL: ctx.scratch.url, PGHOST: 'replica.internal'}})
      expect(local.code, local.stderr).to.equal(0)
      expect(parseJson(local)).to.deep.include({dry_run: true})
      return
    }
    const url = new URL(ctx.scratch.url)
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{DATABASE_URL: `${ctx.scratch.url}?host=db.example.com`}, /non-local PostgreSQL host db\.example\.com/],
      [{DATABASE_URL: `postgres://postgres@127.0.0.1${url.pathname}?host=10.1.2.3&port=6432`}, /non-local PostgreSQL host 10\.1\.2\.3/],
      [{DATABASE_URL: `postgres://postgres@${url.pathname}`, PGHOST: 'replica.internal'}, /non-local PostgreSQL host replica\.internal/],
    ]
    for (const [env, pattern] of cases) {
      const result = await runCli(['db', 'fresh'], {cwd, env})
      expect(result.code, result.stderr).to.equal(2)
      expect(result.stderr).to.match(pattern)
      expect((parseJson(await runCli(['db', 'fresh', '--json'], {cwd, env})) as ErrorDocument).error.code).to.equal('REFUSED_REMOTE')
    }
    // A socket folder is this machine: allowed (and here it connects).
    const socket = await runCli(['db', 'fresh', '--dry-run'], {
      cwd,
      env: {DATABASE_URL: `postgres://postgres@db.example.com${url.pathname}?host=/var/run/postgresql`},
    })
    expect(socket.code, socket.stderr).to.equal(0)
    // The error names the host and port the driver tried, not the URL's authority.
    const unreachable = await runCli(['db', 'status'], {cwd, env: {DATABASE_URL: `postgres://postgres@127.0.0.1:5432${url.pathname}?port=1`}})
    expect(unreachable.code).to.equal(1)
    expect(unreachable.stderr).to.match(/cannot reach PostgreSQL at 127\.0\.0\.1:1\//)
  })
})

describe("guard rails: whatever oclif's parser refuses is bad usage (exit 2)", () => {
  interface ManifestFlag {
    name: string
    type: 'option' | 'boolean'
    multiple?: boolean
    hidden?: boolean
  }
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
    commands: Record<string, {id: string; flags: Record<string, ManifestFlag>}>
  }

  it('a flag given twice, a flag without its value and an unknown flag exit 2 with USAGE for every command, before any database is opened', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'laundry-ops-parse-'))
    // No database at all: a refusal that came after opening one would say DB_NOT_FOUND (exit 1).
    const env = {DATABASE_URL: path.join(cwd, 'none.sqlite'), LAUNDRY_OPS_STORAGE: path.join(cwd, 'storage')}
    let driven = 0
    try {
      for (const command of Object.values(manifest.commands)) {
        if (command.id === 'help') continue
        const words = command.id.split(':')
        const flag = Object.values(command.flags).find((f) => f.type === 'option' && !f.multiple && !f.hidden && f.name !== 'database-url')
        // `serve` has no --json: its refusal is the one `error:` line on stderr.
        const json = 'json' in command.flags ? ['--json'] : []
        const cases: string[][] = [[...words, '--no-such-flag-here', ...json]]
        if (flag) cases.push([...words, `--${flag.name}`, 'x', `--${flag.name}`, 'x', ...json], [...words, ...json, `--${flag.name}`])
        for (const args of cases) {
          const result = await runCli(args, {cwd, env})
          const what = `${args.join(' ')}\n${result.stdout}${result.stderr}`
          expect(result.code, what).to.equal(2)
          if (json.length > 0) {
            expect((parseJson(result) as ErrorDocument).error, what).to.deep.include({code: 'USAGE', exit: 2})
          } else {
            expect(result.stdout, what).to.equal('')
            expect(result.stderr.trimEnd().split('\n'), what).to.have.length(1)
            expect(result.stderr, what).to.match(/^error: /)
          }
          driven++
        }
      }
      expect(driven).to.be.greaterThan(30)
      expect(readdirSync(cwd)).to.deep.equal([])
    } finally {
      rmSync(cwd, {recursive: true, force: true})
    }
  })
})
