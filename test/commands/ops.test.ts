import {existsSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import type {ErrorDocument} from '../../src/base-command.js'
import type {Database} from '../../src/core/db/connection.js'
import type {TenantRow} from '../../src/core/db/rows.js'
import type {ObserveReport} from '../../src/core/gates/observe-health.js'
import {parseJson, runCli} from '../helpers/cli.js'
import {describeEachEngine} from '../helpers/engines.js'
import {insertAuditEvents} from '../helpers/audit.js'

describeEachEngine('ops commands through the CLI', {from: 'seeded'}, (ctx) => {
  let db: Database
  let env: Record<string, string>
  let cwd: string

  before(async () => {
    db = await ctx.scratch.open()
    cwd = ctx.scratch.dir
    env = {DATABASE_URL: ctx.scratch.url, LAUNDRY_OPS_STORAGE: path.join(cwd, 'storage')}
  })

  it('refuses bad input with exit 2, one line, and changes nothing', async () => {
    const quotaBefore = await db.knex('quota_usage').select('*').orderBy('id')
    const cases: Array<[string[], RegExp]> = [
      [['quota', 'reconcile', '2026-13'], /Invalid period format\. Use YYYY-MM \(month 01-12\); got '2026-13'\./],
      [['quota', 'reconcile', '2026-2'], /got '2026-2'/],
      [['ops:quota:reconcile', 'abc'], /got 'abc'/],
      [['quota', 'reconcile', '--tenant', '0195f3a0-0000-7000-8000-00000000ffff'], /no such tenant/],
      [['wa', 'remind', '--as-of', '2026-02-30'], /Invalid --as-of '2026-02-30'\. Use a real date as YYYY-MM-DD\./],
      [['wa', 'remind', '--bucket', 'd99'], /Invalid bucket option\(s\): d99/],
      [['wa', 'redrive', '--reason', 'NOPE'], /unknown reason code\(s\): NOPE/],
      [['wa', 'redrive', '--limit', '0'], /limit/],
      [['audit', 'archive', '--chunk', '5'], /chunk/],
      [['audit', 'archive', '--chunk', '20000'], /--chunk: Expected an integer less than or equal to 10000 but received: 20000/],
      [['audit', 'archive', '--days', '-1'], /days/],
    ]
    for (const [args, pattern] of cases) {
      const result = await runCli(args, {cwd, env})
      expect(result.code, args.join(' ')).to.equal(2)
      expect(result.stdout, args.join(' ')).to.equal('')
      expect(result.stderr.trim().split('\n'), args.join(' ')).to.have.length(1)
      expect(result.stderr, args.join(' ')).to.match(pattern)
    }
    const json = await runCli(['quota', 'reconcile', '2026-13', '--json'], {cwd, env})
    expect(json.code).to.equal(2)
    expect((parseJson(json) as ErrorDocument).error.code).to.equal('INVALID_PERIOD')
    expect(await db.knex('quota_usage').select('*').orderBy('id')).to.deep.equal(quotaBefore)
    expect(existsSync(path.join(cwd, 'storage', 'app', 'audit-archives'))).to.equal(false)
  })

  it('prints the upstream summary lines, under the artisan names too', async () => {
    await insertAuditEvents(db, 120, {now: new Date(), minDays: 100, maxDays: 110})
    const dry = await runCli(['ops:audit:archive', '--dry-run'], {cwd, env})
    expect(dry.stdout).to.equal('Archive summary: matched=120, archived=120, deleted=120, dry_run=yes\n')
    const spaced = await runCli(['ops', 'audit', 'archive', '--days', '90'], {cwd, env})
    expect(spaced.code, spaced.stderr).to.equal(0)
    const [summary, file] = spaced.stdout.trimEnd().split('\n')
    expect(summary).to.equal('Archive summary: matched=120, archived=120, deleted=120, dry_run=no')
    expect(file).to.match(/^Archive file: .*\/storage\/app\/audit-archives\/audit-events-\d{8}-\d{6}\.jsonl$/)
    expect(existsSync(file.replace('Archive file: ', ''))).to.equal(true)
    const none = await runCli(['audit', 'archive'], {cwd, env})
    expect(none.stdout).to.equal('No audit events matched for archive.\n')

    const redrive = await runCli(['ops:wa:redrive-failed'], {cwd, env})
    expect(redrive.stdout).to.equal('No failed WA messages matched for redrive.\n')
    const remind = await runCli(['ops:wa:send-aging-reminders', '--as-of', '2026-02-17', '--dry-run'], {cwd, env})
    expect(remind.stdout).to.equal('Aging reminder summary: processed=0, enqueued=0, skipped=0, dry_run=yes, as_of=2026-02-17, already_sent=0\n')
    const reconcile = await runCli(['quota', 'reconcile', '2026-02'], {cwd, env})
    const tenant = await db.knex<TenantRow>('tenants').first()
    expect(reconcile.stdout).to.equal(
      `Tenant Demo Laundry (${tenant?.id}) -> 0\nQuota reconcile summary: period=2026-02, tenants=1, updated=0, dry_run=no, created=1, unchanged=0\n`,
    )
  })

  it('observe health: --strict turns a warning into exit 1, --json stays alone on stdout, --junit is written', async () => {
    const quiet = await runCli(['observe', 'health', '--json'], {cwd, env})
    expect(quiet.code, quiet.stderr).to.equal(0)
    expect((parseJson(quiet) as ObserveReport).summary).to.deep.equal({pass: 6, warn: 0, fail: 0})
    await db.knex('jobs').insert(Array.from({length: 3}, () => ({queue: 'default', payload: '{}', attempts: 0, available_at: 0, created_at: 0})))
    const junit = path.join(cwd, 'reports', 'observe.xml')
    const {mkdirSync, readFileSync} = await import('node:fs')
    mkdirSync(path.dirname(junit), {recursive: true})
    const strict = await runCli(['ops:observe:health', '--queue-backlog-threshold', '2', '--strict', '--json', '--junit', junit], {cwd, env})
    expect(strict.code).to.equal(1)
    expect((parseJson(strict) as ObserveReport).summary).to.deep.equal({pass: 5, warn: 1, fail: 0})
    const xml = readFileSync(junit, 'utf8')
    expect(xml.match(/<testcase /g)).to.have.length(6)
    expect(xml).to.match(/tests="6" failures="1"/)
    expect(xml).to.match(/<testcase classname="laundry-ops observe health" name="queue\.backlog\.default">\s*<failure type="warn"/)
    const lenient = await runCli(['observe', 'health', '--queue-backlog-threshold', '2'], {cwd, env})
    expect(lenient.code).to.equal(0)
    expect(lenient.stdout).to.match(/queue\.backlog\.default\s+WARN\s+default backlog=3 \(threshold=2\)\./)
    expect(lenient.stdout.trimEnd().split('\n').at(-1)).to.equal('Observability summary: pass=5, warn=1, fail=0, strict=no')
    const bad = await runCli(['observe', 'health', '--period', '2026-2', '--json'], {cwd, env})
    expect(bad.code).to.equal(2)
    expect((parseJson(bad) as ErrorDocument).error.code).to.equal('INVALID_PERIOD')
    await db.knex('jobs').delete()
    // The database down: exit 1, and the CI report step still finds a JUnit file (in a new folder) saying why.
    const downJunit = path.join(cwd, 'reports-down', 'observe.xml')
    const down = await runCli(['observe', 'health', '--json', '--junit', downJunit], {cwd, env: {...env, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x'}})
    expect(down.code).to.equal(1)
    expect((parseJson(down) as ErrorDocument).error.code).to.equal('DB_UNREACHABLE')
    expect(readFileSync(downJunit, 'utf8')).to.match(
      /tests="1" failures="1"[\s\S]*name="database\.connection">\s*<failure type="fail" message="[^"]*127\.0\.0\.1:1/,
    )
  })
})
