import {chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import type {Database} from '../../../src/core/db/connection.js'
import {MIGRATIONS} from '../../../src/core/db/migrations/index.js'
import type {MigrationRow, WaProviderRow} from '../../../src/core/db/rows.js'
import {readinessCheck, type ReadinessReport} from '../../../src/core/gates/readiness.js'
import {gateFailed} from '../../../src/core/gates/report.js'
import {ensureStorageFolders} from '../../../src/core/storage/layout.js'
import {checkCommandLine as checkCommand} from '../../helpers/command-line.js'
import {describeEachEngine} from '../../helpers/engines.js'
import {found} from '../../helpers/wa.js'

const BASELINE_COMMANDS = [
  'wa redrive --limit=100',
  'wa remind --limit=100',
  'observe health --lookback-minutes=15',
  'quota reconcile',
  'audit archive --days=90',
]

const byKey = (report: ReadinessReport, key: string) => {
  const check = report.checks.find((c) => c.key === key)
  if (!check) throw new Error(`no check ${key} in ${JSON.stringify(report.checks)}`)
  return check
}

describeEachEngine('readiness check', {from: 'seeded'}, (ctx) => {
  let db: Database
  let cwd: string
  let storage: string
  let env: Record<string, string>
  const run = (extra: {env?: Record<string, string>; cwd?: string; strict?: boolean} = {}) =>
    readinessCheck({cwd: extra.cwd ?? cwd, env: {...env, ...extra.env}, strict: extra.strict ?? false, checkCommand})

  before(async () => {
    db = await ctx.scratch.open()
    cwd = ctx.scratch.dir
    storage = path.join(cwd, 'storage')
    ensureStorageFolders(storage)
    env = {DATABASE_URL: ctx.scratch.url, LAUNDRY_OPS_STORAGE: storage}
  })

  it('a freshly seeded database passes all 17 checks, in upstream order with upstream keys and messages', async () => {
    const report = await run()
    expect(Object.keys(report)).to.deep.equal(['generated_at', 'checks', 'summary', 'strict'])
    expect(report.generated_at).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/)
    expect(report.checks).to.deep.equal([
      {key: 'config.valid', status: 'pass', message: 'Configuration is valid (env=local, schedule: baseline).'},
      {key: 'database.connection', status: 'pass', message: `Database connection is healthy (${ctx.dialect === 'pg' ? 'pgsql' : 'sqlite'}).`},
      {key: 'database.migrations.pending', status: 'pass', message: 'No pending migrations.'},
      {key: 'database.migrations.unknown', status: 'pass', message: 'Every migration in the ledger is known to laundry-ops.'},
      {key: 'database.schema', status: 'pass', message: 'Every table and column of the laundry schema exists (34 tables).'},
      {key: 'queue.connection.mode', status: 'pass', message: "QUEUE_CONNECTION uses 'database'."},
      {key: 'queue.database.jobs_table', status: 'pass', message: 'jobs table exists.'},
      {key: 'queue.failed_jobs.table', status: 'pass', message: 'failed_jobs table exists.'},
      ...BASELINE_COMMANDS.map((cmd) => ({key: `scheduler.command.${cmd}`, status: 'pass', message: `Scheduled: ${cmd}`})),
      {key: 'scheduler.lock_tables', status: 'pass', message: 'cache and cache_locks tables exist.'},
      {key: 'filesystem.storage/app', status: 'pass', message: `Writable: ${path.join(storage, 'app')}`},
      {key: 'filesystem.storage/logs', status: 'pass', message: `Writable: ${path.join(storage, 'logs')}`},
      {key: 'wa.provider.mock_seed', status: 'pass', message: 'Mock WA provider baseline exists.'},
    ])
    expect(report.summary).to.deep.equal({pass: 17, warn: 0, fail: 0})
    expect(gateFailed(report.summary, true)).to.equal(false)
  })

  it('without the jobs table its check fails; without failed_jobs its own check warns (as upstream) and the schema check fails', async () => {
    await db.knex.schema.renameTable('jobs', 'jobs_hidden')
    try {
      const report = await run()
      expect(byKey(report, 'queue.database.jobs_table')).to.deep.include({status: 'fail', message: 'jobs table is missing.'})
      expect(byKey(report, 'database.schema')).to.deep.include({status: 'fail', message: 'Missing table jobs: run `laundry-ops db migrate`.'})
      expect(report.summary).to.deep.equal({pass: 15, warn: 0, fail: 2})
      expect(gateFailed(report.summary, report.strict)).to.equal(true)
    } finally {
      await db.knex.schema.renameTable('jobs_hidden', 'jobs')
    }
    await db.knex.schema.renameTable('failed_jobs', 'failed_jobs_hidden')
    try {
      const lenient = await run()
      expect(byKey(lenient, 'queue.failed_jobs.table')).to.deep.include({
        status: 'warn',
        message: 'failed_jobs table missing; failure diagnostics may be limited.',
      })
      expect(byKey(lenient, 'database.schema')).to.deep.include({status: 'fail', message: 'Missing table failed_jobs: run `laundry-ops db migrate`.'})
      expect(lenient.summary).to.deep.equal({pass: 15, warn: 1, fail: 1})
      expect(gateFailed(lenient.summary, lenient.strict)).to.equal(true)
    } finally {
      await db.knex.schema.renameTable('failed_jobs_hidden', 'failed_jobs')
    }
  })

  it('without cache_locks the scheduler cannot run: scheduler.lock_tables fails', async () => {
    await db.knex.schema.renameTable('cache_locks', 'cache_locks_hidden')
    try {
      const report = await run()
      expect(byKey(report, 'scheduler.lock_tables')).to.deep.include({
        status: 'fail',
        message: 'cache_locks table is missing: `schedule run` cannot record its slots and leases.',
      })
      expect(report.summary.fail).to.equal(2)
    } finally {
      await db.knex.schema.renameTable('cache_locks_hidden', 'cache_locks')
    }
  })

  it('the mock WA provider: missing row warns, missing table fails', async () => {
    const mock = found(await db.knex<WaProviderRow>('wa_providers').where({key: 'mock'}).first(), 'mock WA provider')
    await db.knex('wa_providers').where({key: 'mock'}).update({key: 'mock-hidden'})
    try {
      expect(byKey(await run(), 'wa.provider.mock_seed')).to.deep.include({status: 'warn', message: 'Mock WA provider baseline not found.'})
    } finally {
      await db.knex('wa_providers').where({id: mock.id}).update({key: 'mock'})
    }
    await db.knex.schema.renameTable('wa_providers', 'wa_providers_hidden')
    try {
      expect(byKey(await run(), 'wa.provider.mock_seed')).to.deep.include({status: 'fail', message: 'wa_providers table is missing.'})
    } finally {
      await db.knex.schema.renameTable('wa_providers_hidden', 'wa_providers')
    }
  })

  it('the schema itself: a missing table or column fails database.schema even when the ledger says nothing is pending; unknown migrations warn', async () => {
    await db.knex.schema.renameTable('audit_events', 'audit_events_hidden')
    await db.knex.schema.alterTable('orders', (t) => t.dropColumn('collection_note'))
    await db.knex('migrations').insert({migration: '2026_03_01_000000_added_by_the_laravel_app', batch: 9})
    try {
      const report = await run()
      expect(byKey(report, 'database.migrations.pending')).to.deep.include({status: 'pass'})
      expect(byKey(report, 'database.schema')).to.deep.include({
        status: 'fail',
        message: 'Missing table audit_events, column orders.collection_note: run `laundry-ops db migrate`.',
      })
      expect(byKey(report, 'database.migrations.unknown')).to.deep.include({
        status: 'warn',
        message: 'The ledger holds 1 migration(s) laundry-ops does not know: 2026_03_01_000000_added_by_the_laravel_app',
      })
      expect(gateFailed(report.summary, false)).to.equal(true)
    } finally {
      await db.knex('migrations').where({migration: '2026_03_01_000000_added_by_the_laravel_app'}).delete()
      await db.knex.schema.alterTable('orders', (t) => t.text('collection_note').nullable())
      await db.knex.schema.renameTable('audit_events_hidden', 'audit_events')
    }
    expect(byKey(await run(), 'database.schema')).to.deep.include({status: 'pass'})
  })

  it('pending migrations are listed as upstream (first 3, then " ..."); a missing ledger fails', async () => {
    const names = MIGRATIONS.map((m) => m.name)
    const rows = await db.knex<MigrationRow>('migrations').whereIn('migration', names.slice(-4)).select('*')
    await db.knex('migrations').whereIn('migration', names.slice(-4)).delete()
    try {
      expect(byKey(await run(), 'database.migrations.pending')).to.deep.include({
        status: 'fail',
        message: `Pending migrations: ${names.slice(-4, -1).join(', ')} ...`,
      })
      await db.knex('migrations').insert(rows.filter((r) => r.migration !== names.at(-1)))
      expect(byKey(await run(), 'database.migrations.pending')).to.deep.include({status: 'fail', message: `Pending migrations: ${names.at(-1)}`})
    } finally {
      await db.knex('migrations').whereIn('migration', names.slice(-4)).delete()
      await db.knex('migrations').insert(rows)
    }
    await db.knex.schema.renameTable('migrations', 'migrations_hidden')
    try {
      expect(byKey(await run(), 'database.migrations.pending')).to.deep.include({status: 'fail', message: 'Migrations table is missing.'})
    } finally {
      await db.knex.schema.renameTable('migrations_hidden', 'migrations')
    }
    expect((await run()).summary.fail).to.equal(0)
  })

  it('storage folders: missing, not a folder, and not writable (even for root) fail their checks', async () => {
    const other = mkdtempSync(path.join(tmpdir(), 'laundry-ops-readiness-'))
    try {
      const missing = await run({env: {LAUNDRY_OPS_STORAGE: other}})
      expect(byKey(missing, 'filesystem.storage/app')).to.deep.include({status: 'fail', message: `Directory missing: ${path.join(other, 'app')}`})
      expect(byKey(missing, 'filesystem.storage/logs')).to.deep.include({status: 'fail', message: `Directory missing: ${path.join(other, 'logs')}`})
      expect(existsSync(path.join(other, 'app'))).to.equal(false) // the gate creates nothing
      // A regular file where the folder should be (upstream's is_dir is false: "missing").
      writeFileSync(path.join(other, 'app'), '')
      mkdirSync(path.join(other, 'logs'))
      // A folder no one can write in, root included (sysfs refuses new files; access(2) alone says yes to root).
      const unwritable = existsSync('/sys/kernel') ? '/sys/kernel' : null
      if (unwritable) {
        rmSync(path.join(other, 'logs'), {recursive: true})
        symlinkSync(unwritable, path.join(other, 'logs'))
      } else {
        chmodSync(path.join(other, 'logs'), 0o555)
      }
      const report = await run({env: {LAUNDRY_OPS_STORAGE: other}})
      expect(byKey(report, 'filesystem.storage/app')).to.deep.include({status: 'fail', message: `Directory missing: ${path.join(other, 'app')}`})
      expect(byKey(report, 'filesystem.storage/logs')).to.deep.include({status: 'fail', message: `Not writable: ${path.join(other, 'logs')}`})
      expect(report.summary).to.deep.equal({pass: 15, warn: 0, fail: 2})
      if (process.getuid?.() !== 0) {
        // Permission bits count for everyone but root.
        rmSync(path.join(other, 'logs'))
        mkdirSync(path.join(other, 'logs'), {mode: 0o555})
        expect(byKey(await run({env: {LAUNDRY_OPS_STORAGE: other}}), 'filesystem.storage/logs').status).to.equal('fail')
      }
    } finally {
      rmSync(other, {recursive: true, force: true})
    }
  })

  it('the schedule: a disabled baseline task fails its check, a changed command line that still contains it passes, an invalid file fails config.valid', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'laundry-ops-readiness-'))
    try {
      writeFileSync(
        path.join(dir, 'laundry-ops.schedule.json'),
        JSON.stringify({tasks: {'wa-remind': {enabled: false}, 'quota-reconcile': {command: 'quota reconcile --dry-run'}}}),
      )
      const report = await run({cwd: dir})
      expect(byKey(report, 'config.valid')).to.deep.include({
        status: 'pass',
        message: `Configuration is valid (env=local, schedule: ${path.join(dir, 'laundry-ops.schedule.json')}).`,
      })
      expect(byKey(report, 'scheduler.command.wa remind --limit=100')).to.deep.include({
        status: 'fail',
        message: 'Missing schedule entry: wa remind --limit=100',
      })
      expect(byKey(report, 'scheduler.command.quota reconcile')).to.deep.include({status: 'pass', message: 'Scheduled: quota reconcile'})
      expect(report.summary).to.deep.equal({pass: 16, warn: 0, fail: 1})

      writeFileSync(path.join(dir, 'laundry-ops.schedule.json'), JSON.stringify({baseline: false, tasks: {}}))
      expect((await run({cwd: dir})).summary).to.deep.equal({pass: 12, warn: 0, fail: 5})

      writeFileSync(path.join(dir, 'laundry-ops.schedule.json'), '{"tasks": {"x": {"cron": "61 * * * *", "command": "quota reconcile"}}}')
      const invalid = await run({cwd: dir})
      expect(invalid.checks[0].key).to.equal('config.valid')
      expect(invalid.checks[0].status).to.equal('fail')
      expect(invalid.checks[0].message).to.match(/^Schedule is invalid: .*laundry-ops\.schedule\.json: task "x"/)
      for (const cmd of BASELINE_COMMANDS) {
        expect(byKey(invalid, `scheduler.command.${cmd}`)).to.deep.include({
          status: 'fail',
          message: 'Not checked: the schedule is invalid (see config.valid).',
        })
      }
      expect(byKey(invalid, 'database.connection').status).to.equal('pass')

      // A flag value the command would refuse at start-up fails config.valid too (not exit 2 every minute).
      writeFileSync(path.join(dir, 'laundry-ops.schedule.json'), '{"tasks": {"quota-reconcile": {"command": "quota reconcile 2026-13"}}}')
      expect(byKey(await run({cwd: dir}), 'config.valid')).to.deep.include({
        status: 'fail',
        message: `Schedule is invalid: ${path.join(dir, 'laundry-ops.schedule.json')}: task "quota-reconcile": command "quota reconcile 2026-13": Invalid period format. Use YYYY-MM (month 01-12); got '2026-13'.`,
      })
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('QUEUE_CONNECTION: database or unset passes; sync warns as upstream; another backend warns (our worker serves the database queue only)', async () => {
    expect(byKey(await run({env: {QUEUE_CONNECTION: 'database'}}), 'queue.connection.mode').status).to.equal('pass')
    expect(byKey(await run({env: {QUEUE_CONNECTION: 'sync'}}), 'queue.connection.mode')).to.deep.include({
      status: 'warn',
      message: 'QUEUE_CONNECTION is sync. Use async worker backend for staging/production.',
    })
    const dir = mkdtempSync(path.join(tmpdir(), 'laundry-ops-readiness-'))
    try {
      writeFileSync(path.join(dir, '.env'), 'QUEUE_CONNECTION=redis\n')
      const report = await run({cwd: dir})
      expect(byKey(report, 'queue.connection.mode').status).to.equal('warn')
      expect(byKey(report, 'queue.connection.mode').message).to.match(/^QUEUE_CONNECTION is 'redis', but laundry-ops serves only the 'database' queue/)
      expect(gateFailed(report.summary, false)).to.equal(false)
      expect(gateFailed(report.summary, true)).to.equal(true)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

describe('readiness check without a usable database', () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'laundry-ops-readiness-'))
    ensureStorageFolders(path.join(dir, 'storage'))
  })
  after(() => rmSync(dir, {recursive: true, force: true}))

  const dbKeys = [
    'database.connection',
    'database.migrations.pending',
    'database.migrations.unknown',
    'database.schema',
    'queue.database.jobs_table',
    'queue.failed_jobs.table',
    'scheduler.lock_tables',
    'wa.provider.mock_seed',
  ]

  it('an unreachable PostgreSQL gives failed database checks, not an error', async () => {
    const report = await readinessCheck({cwd: dir, env: {DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x'}, strict: false, checkCommand})
    expect(report.checks).to.have.length(17)
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.key)).to.deep.equal(dbKeys)
    expect(report.checks[1].message).to.match(/^Database connection failed: cannot reach PostgreSQL at 127\.0\.0\.1:1\/x \(ECONNREFUSED\)/)
    expect(report.checks[2].message).to.equal('Not checked: no database connection.')
    expect(report.summary).to.deep.equal({pass: 9, warn: 0, fail: 8})
  })

  it('a missing SQLite file is reported and not created', async () => {
    const report = await readinessCheck({cwd: dir, env: {}, strict: false, checkCommand})
    expect(report.checks[1].message).to.match(
      /^Database connection failed: no SQLite database at .*storage\/database\.sqlite \(the default under LAUNDRY_OPS_STORAGE\): create it with/,
    )
    expect(existsSync(path.join(dir, 'storage', 'database.sqlite'))).to.equal(false)
  })

  it('an invalid configuration fails config.valid and everything that depends on it', async () => {
    const report = await readinessCheck({cwd: dir, env: {DATABASE_URL: 'mysql://x'}, strict: false, checkCommand})
    expect(report.checks[0]).to.deep.equal({
      key: 'config.valid',
      status: 'fail',
      message: "Configuration is invalid: DATABASE_URL='mysql://x' is not supported: expected sqlite:<path>, a file path, or postgres://…",
    })
    expect(report.checks[1].message).to.equal('Database connection failed: the configuration is invalid (see config.valid).')
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.key)).to.deep.equal([
      'config.valid',
      ...dbKeys.slice(0, 7),
      'filesystem.storage/app',
      'filesystem.storage/logs',
      'wa.provider.mock_seed',
    ])
  })
})
