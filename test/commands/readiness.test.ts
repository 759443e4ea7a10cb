import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import type {ErrorDocument} from '../../src/base-command.js'
import type {Database} from '../../src/core/db/connection.js'
import type {ReadinessReport} from '../../src/core/gates/readiness.js'
import {parseJson, runCli} from '../helpers/cli.js'
import {describeEachEngine} from '../helpers/engines.js'

/** A minimal XML well-formedness check: one root, balanced and properly nested tags, quoted attributes, known entities. */
function assertWellFormedXml(xml: string): void {
  const body = xml.replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n/, '')
  expect(body, 'XML declaration').to.not.equal(xml)
  for (const amp of body.matchAll(/&/g)) {
    if (!/^&(amp|lt|gt|quot|apos);/.test(body.slice(amp.index))) throw new Error(`bad entity at ${amp.index}`)
  }
  const stack: string[] = []
  let roots = 0
  const token = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g
  for (const m of body.matchAll(token)) {
    if (m[6]) throw new Error(`stray '<' at ${m.index}`)
    if (m[5] !== undefined) {
      if (stack.length === 0 && m[5].trim() !== '') throw new Error('text outside the root')
      continue
    }
    const [, closing, name, , selfClosing] = m
    if (closing) {
      if (stack.pop() !== name) throw new Error(`</${name}> does not close the open element`)
    } else {
      if (stack.length === 0) roots++
      if (!selfClosing) stack.push(name)
    }
  }
  expect(stack, 'unclosed elements').to.deep.equal([])
  expect(roots, 'one root element').to.equal(1)
}

describeEachEngine('readiness check through the CLI', (ctx) => {
  let db: Database
  let cwd: string
  let env: Record<string, string>

  before(async () => {
    cwd = ctx.scratch.dir
    env = {DATABASE_URL: ctx.scratch.url, LAUNDRY_OPS_STORAGE: path.join(cwd, 'storage')}
    // As CI does: migrate:fresh --seed, then the gate. `db fresh` creates storage/app and storage/logs.
    const fresh = await runCli(['migrate:fresh', '--seed', '--json'], {cwd, env})
    expect(fresh.code, fresh.stderr).to.equal(0)
    db = await ctx.scratch.open()
  })

  it('passes all 17 checks after db fresh --seed: the table, then the summary line, exit 0', async () => {
    expect(existsSync(path.join(cwd, 'storage', 'app')) && existsSync(path.join(cwd, 'storage', 'logs'))).to.equal(true)
    const result = await runCli(['readiness', 'check'], {cwd, env})
    expect(result.code, result.stdout + result.stderr).to.equal(0)
    expect(result.stderr).to.equal('')
    const lines = result.stdout.trimEnd().split('\n')
    expect(lines[0]).to.match(/^Check\s+Status\s+Message$/)
    expect(lines.slice(1, -1)).to.have.length(17)
    for (const line of lines.slice(1, -1)) expect(line).to.match(/^\S+( \S+)*\s{2,}PASS\s{2,}\S/)
    expect(lines[1]).to.match(/^config\.valid\s+PASS\s+Configuration is valid/)
    expect(lines[2]).to.match(
      new RegExp(`^database\\.connection\\s+PASS\\s+Database connection is healthy \\(${ctx.dialect === 'pg' ? 'pgsql' : 'sqlite'}\\)\\.$`),
    )
    expect(lines[9]).to.match(/^scheduler\.command\.wa redrive --limit=100\s+PASS\s+Scheduled: wa redrive --limit=100$/)
    expect(lines.at(-1)).to.equal('Readiness summary: pass=17, warn=0, fail=0, strict=no')
  })

  it('--strict turns a warning into exit 1; --json stays alone on stdout; --junit writes one test case per check', async () => {
    await db.knex('wa_providers').where({key: 'mock'}).update({key: 'mock-off'})
    try {
      const junit = path.join(cwd, 'reports', 'readiness.xml') // reports/ does not exist yet, as on a CI checkout
      const strict = await runCli(['ops:readiness:check', '--strict', '--json', '--junit', junit], {cwd, env})
      expect(strict.code).to.equal(1)
      expect(strict.stderr).to.equal('')
      const json = parseJson(strict) as ReadinessReport
      expect(Object.keys(json)).to.deep.equal(['generated_at', 'checks', 'summary', 'strict'])
      expect(json.summary).to.deep.equal({pass: 16, warn: 1, fail: 0})
      expect(json.strict).to.equal(true)
      expect(json.checks.at(-1)).to.deep.equal({key: 'wa.provider.mock_seed', status: 'warn', message: 'Mock WA provider baseline not found.'})
      const xml = readFileSync(junit, 'utf8')
      assertWellFormedXml(xml)
      expect(() => assertWellFormedXml(xml.replace('</testsuite>', '</testcase></testsuite>'))).to.throw()
      expect(() => assertWellFormedXml(xml.replace('Mock WA', 'Mock & WA'))).to.throw(/bad entity/)
      expect(xml.match(/<testcase /g)).to.have.length(17)
      expect(xml).to.match(/<testsuite name="laundry-ops readiness check" tests="17" failures="1" errors="0"/)
      expect(xml).to.match(
        /<testcase classname="laundry-ops readiness check" name="wa\.provider\.mock_seed">\s*<failure type="warn" message="Mock WA provider baseline not found\.">/,
      )
      expect(xml).to.contain('name="scheduler.command.wa redrive --limit=100"')

      const lenient = await runCli(['readiness', 'check', '--json'], {cwd, env})
      expect(lenient.code).to.equal(0)
      expect(parseJson(lenient)).to.deep.include({summary: {pass: 16, warn: 1, fail: 0}, strict: false})
    } finally {
      await db.knex('wa_providers').where({key: 'mock-off'}).update({key: 'mock'})
    }
  })

  it('without the jobs table, or with a schedule file disabling a baseline task, a check fails and the exit is 1', async () => {
    await db.knex.schema.renameTable('jobs', 'jobs_hidden')
    const scheduleFile = path.join(cwd, 'laundry-ops.schedule.json')
    writeFileSync(scheduleFile, JSON.stringify({tasks: {'audit-archive': {enabled: false}}}))
    try {
      const result = await runCli(['readiness', 'check'], {cwd, env})
      expect(result.code).to.equal(1)
      expect(result.stdout).to.match(/\nqueue\.database\.jobs_table\s+FAIL\s+jobs table is missing\.\n/)
      expect(result.stdout).to.match(/\nscheduler\.command\.audit archive --days=90\s+FAIL\s+Missing schedule entry: audit archive --days=90\n/)
      expect(result.stdout.trimEnd().split('\n').at(-1)).to.equal('Readiness summary: pass=14, warn=0, fail=3, strict=no')
    } finally {
      rmSync(scheduleFile)
      await db.knex.schema.renameTable('jobs_hidden', 'jobs')
    }
  })
})

describe('readiness check through the CLI, without a database', () => {
  let cwd: string
  before(() => {
    cwd = mkdtempSync(path.join(tmpdir(), 'laundry-ops-readiness-cli-'))
  })
  after(() => rmSync(cwd, {recursive: true, force: true}))

  it('an unreachable database gives failed checks and exit 1, with --json one valid document alone on stdout', async () => {
    const result = await runCli(['readiness', 'check', '--json', '--database-url', 'postgres://postgres@127.0.0.1:1/x'], {cwd})
    expect(result.code).to.equal(1)
    expect(result.stderr).to.equal('')
    const json = parseJson(result) as ReadinessReport
    expect(json.checks).to.have.length(17)
    expect(json.checks[1]).to.deep.include({key: 'database.connection', status: 'fail'})
    expect(json.checks[1].message).to.match(/^Database connection failed: cannot reach PostgreSQL at 127\.0\.0\.1:1\/x \(ECONNREFUSED\)/)
    expect(json.summary.fail).to.be.greaterThan(0)
  })

  it('bad flags are usage errors (exit 2); --help has examples', async () => {
    const bad = await runCli(['readiness', 'check', '--bogus', '--json'], {cwd})
    expect(bad.code).to.equal(2)
    expect((parseJson(bad) as ErrorDocument).error.code).to.equal('USAGE')
    const help = await runCli(['readiness', 'check', '--help'], {cwd})
    expect(help.stdout).to.match(/EXAMPLES\n\s+\$ laundry-ops readiness check/)
    expect(existsSync(path.join(cwd, 'storage'))).to.equal(false)
  })
})
