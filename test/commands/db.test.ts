import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import Sqlite from 'better-sqlite3'
import {expect} from 'chai'

import type {ErrorDocument} from '../../src/base-command.js'
import {parseDatabaseUrl} from '../../src/core/config.js'
import {openDatabase} from '../../src/core/db/connection.js'
import type {MigrateResult, MigrationStatus, RollbackResult} from '../../src/core/db/migrator.js'
import type {AccountRow} from '../../src/core/db/rows.js'
import type {SeedResult} from '../../src/core/db/seeds/index.js'
import {verifyPassword} from '../../src/core/auth/password.js'
import {type CliResult, parseJson, runCli} from '../helpers/cli.js'
import {createScratchDatabase, pgAvailable} from '../helpers/engines.js'

/** The fields of `db fresh --json` these tests read (db fresh does not export its result type). */
interface FreshDocument extends Pick<MigrateResult, 'migrated'> {
  seed: SeedResult | null
}

/** One clear line on stderr, nothing on stdout, no stack trace. */
function expectOneLineError(result: CliResult, exit: number, pattern: RegExp): void {
  expect(result.code, result.stderr).to.equal(exit)
  expect(result.stdout).to.equal('')
  const lines = result.stderr.trimEnd().split('\n')
  expect(lines, result.stderr).to.have.length(1)
  expect(lines[0]).to.match(/^error: /)
  expect(lines[0]).to.match(pattern)
  expect(result.stderr).to.not.match(/\n\s+at .+:\d+:\d+/)
}

describe('laundry-ops db (the CLI as a child process)', function () {
  let cwd: string
  beforeEach(() => {
    cwd = mkdtempSync(path.join(tmpdir(), 'laundry-ops-cli-'))
  })
  afterEach(() => rmSync(cwd, {recursive: true, force: true}))

  it('quick start: db fresh --seed on the default SQLite file, then status shows nothing pending', async () => {
    const fresh = await runCli(['db', 'fresh', '--seed'], {cwd})
    expect(fresh.code, fresh.stderr).to.equal(0)
    expect(fresh.stdout).to.match(/13 migration\(s\) applied/)
    expect(fresh.stdout).to.match(/owner\|admin\|cashier\|worker\|courier@demo\.local/)
    const file = path.join(cwd, 'storage', 'database.sqlite')
    expect(existsSync(file)).to.equal(true)

    const status = await runCli(['db', 'status', '--json'], {cwd})
    expect(status.code).to.equal(0)
    const json = parseJson(status) as MigrationStatus
    expect(json.pending).to.deep.equal([])
    expect(json.migrations).to.have.length(13)

    const db = await openDatabase(parseDatabaseUrl(file, cwd), {create: true})
    try {
      const users = await db.knex<Pick<AccountRow, 'email' | 'password'>>('users').select('email', 'password')
      expect(users).to.have.length(5)
      for (const u of users) expect(await verifyPassword('password', u.password)).to.equal(true)
    } finally {
      await db.close()
    }

    const again = await runCli(['db', 'seed', '--json'], {cwd})
    expect(parseJson(again)).to.deep.include({changed: 0, changes: {}})
  })

  it('answers to the artisan names', async () => {
    expect((await runCli(['migrate', '--json'], {cwd})).code).to.equal(0)
    const status = await runCli(['migrate:status', '--json'], {cwd})
    expect((parseJson(status) as MigrationStatus).pending).to.deep.equal([])
    const seed = await runCli(['db:seed', '--json'], {cwd})
    expect((parseJson(seed) as SeedResult).demo).to.equal(true)
    const rollback = await runCli(['migrate:rollback', '--dry-run', '--json'], {cwd})
    expect((parseJson(rollback) as RollbackResult).rolled_back).to.have.length(13)
  })

  it('db status --pending exits 1 while a migration is pending, with the JSON document still alone on stdout', async () => {
    // An empty database (db status reports a missing file instead of creating it).
    mkdirSync(path.join(cwd, 'storage'))
    new Sqlite(path.join(cwd, 'storage', 'database.sqlite')).close()
    const result = await runCli(['db', 'status', '--pending', '--json'], {cwd})
    expect(result.code).to.equal(1)
    expect((parseJson(result) as MigrationStatus).pending).to.have.length(13)
    expect(result.stderr).to.equal('')
  })

  it('--help lists every topic, and every command has a summary and an example; --version works', async () => {
    const help = await runCli(['--help'], {cwd})
    expect(help.code).to.equal(0)
    const topics = ['audit', 'db', 'observe', 'queue', 'quota', 'readiness', 'schedule', 'wa']
    for (const topic of topics) expect(help.stdout, topic).to.match(new RegExp(`\\n  ${topic}\\s+\\S`))
    const commands: string[] = []
    for (const topic of topics) {
      const listing = await runCli([topic, '--help'], {cwd})
      for (const match of listing.stdout.matchAll(new RegExp(`^  (${topic} [a-z-]+)\\s+\\S`, 'gm'))) commands.push(match[1])
    }
    expect(commands).to.include.members([
      'db migrate',
      'db status',
      'queue work',
      'audit archive',
      'wa redrive',
      'wa remind',
      'quota reconcile',
      'readiness check',
      'schedule list',
      'schedule run',
      'schedule work',
      'observe health',
    ])
    for (const command of commands) {
      const result = await runCli([...command.split(' '), '--help'], {cwd})
      expect(result.stdout, command).to.match(new RegExp(`EXAMPLES\\n\\s+\\$ laundry-ops ${command}`))
    }
    const version = await runCli(['--version'], {cwd})
    expect(version.stdout).to.match(/^laundry-ops\/\d+\.\d+\.\d+ /)
  })

  describe('bad input: one clear line, the right exit code, nothing changed', () => {
    it('an unknown flag or command is usage (exit 2)', async () => {
      expectOneLineError(await runCli(['db', 'status', '--bogus'], {cwd}), 2, /Nonexistent flag: --bogus/)
      expectOneLineError(await runCli(['db', 'statsu'], {cwd}), 2, /unknown command "db statsu"; did you mean "db status"\?/)
      expectOneLineError(await runCli(['db', 'rollback', '--step', '-1'], {cwd}), 2, /step/)
      expect(existsSync(path.join(cwd, 'storage'))).to.equal(false)
    })

    it('DATABASE_URL=mysql://x is configuration (exit 2)', async () => {
      const result = await runCli(['db', 'migrate'], {cwd, env: {DATABASE_URL: 'mysql://x'}})
      expectOneLineError(result, 2, /DATABASE_URL='mysql:\/\/x' is not supported: expected sqlite:<path>, a file path, or postgres:\/\//)
    })

    it('keeps the exit code under --json and prints the error as the one JSON document', async () => {
      const result = await runCli(['db', 'migrate', '--json'], {cwd, env: {LAUNDRY_OPS_ENV: 'prod'}})
      expect(result.code).to.equal(2)
      expect(parseJson(result)).to.deep.equal({
        error: {code: 'CONFIG_INVALID', message: "LAUNDRY_OPS_ENV='prod' is invalid: expected one of local, testing, staging, production", exit: 2},
      })
      const unknownFlag = await runCli(['db', 'status', '--json', '--nope'], {cwd})
      expect(unknownFlag.code).to.equal(2)
      expect((parseJson(unknownFlag) as ErrorDocument).error.code).to.equal('USAGE')
    })

    it('an unreachable PostgreSQL is a runtime failure (exit 1)', async () => {
      const result = await runCli(['db', 'status'], {cwd, env: {DATABASE_URL: 'postgres://postgres@127.0.0.1:1/laundry'}})
      expectOneLineError(result, 1, /cannot reach PostgreSQL at 127\.0\.0\.1:1\/laundry \(ECONNREFUSED\)/)
    })

    it('an unwritable storage folder is a runtime failure (exit 1)', async () => {
      writeFileSync(path.join(cwd, 'not-a-folder'), '')
      const result = await runCli(['db', 'migrate'], {cwd, env: {LAUNDRY_OPS_STORAGE: path.join(cwd, 'not-a-folder', 'storage')}})
      expectOneLineError(result, 1, /cannot use folder .*not-a-folder\/storage for the SQLite database/)
    })

    it('db fresh refuses production and a non-local PostgreSQL host unless --force', async () => {
      expect((await runCli(['db', 'fresh', '--seed'], {cwd})).code).to.equal(0)
      const prod = await runCli(['db', 'fresh'], {cwd, env: {LAUNDRY_OPS_ENV: 'production'}})
      expectOneLineError(prod, 2, /refusing to drop every table with LAUNDRY_OPS_ENV=production; add --force/)
      const status = await runCli(['db', 'status', '--json'], {cwd})
      expect((parseJson(status) as MigrationStatus).pending).to.deep.equal([])
      // Refused before any connection is attempted: the .invalid host is never looked up.
      const remote = await runCli(['db', 'fresh'], {cwd, env: {DATABASE_URL: 'postgres://postgres@db.example.invalid:5432/laundry'}})
      expectOneLineError(remote, 2, /refusing to drop every table on the non-local PostgreSQL host db\.example\.invalid/)
      const migrate = await runCli(['db', 'migrate'], {cwd, env: {LAUNDRY_OPS_ENV: 'production'}})
      expectOneLineError(migrate, 2, /without --force/)
    })
  })

  describe('on PostgreSQL', () => {
    it('db fresh --seed, status, and a second seed that changes nothing', async function () {
      if (!(await pgAvailable())) this.skip()
      const scratch = await createScratchDatabase('pg')
      try {
        const env = {DATABASE_URL: scratch.url}
        const fresh = await runCli(['db', 'fresh', '--seed', '--json'], {cwd, env})
        expect(fresh.code, fresh.stderr).to.equal(0)
        const json = parseJson(fresh) as FreshDocument
        expect(json.migrated).to.have.length(13)
        expect(json.seed?.changes.users).to.deep.equal({created: 5, updated: 0})
        expect((parseJson(await runCli(['db', 'status', '--json'], {cwd, env})) as MigrationStatus).pending).to.deep.equal([])
        expect((parseJson(await runCli(['db', 'seed', '--json'], {cwd, env})) as SeedResult).changed).to.equal(0)
        // No SQLite file beside the PostgreSQL database; only the storage layout readiness requires.
        expect(existsSync(path.join(cwd, 'storage', 'database.sqlite'))).to.equal(false)
        expect(existsSync(path.join(cwd, 'storage', 'app')) && existsSync(path.join(cwd, 'storage', 'logs'))).to.equal(true)
      } finally {
        await scratch.drop()
      }
    })
  })
})
