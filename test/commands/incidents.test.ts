import {randomUUID} from 'node:crypto'

import {expect} from 'chai'

import type {ErrorDocument} from '../../src/base-command.js'
import type {Database} from '../../src/core/db/connection.js'
import type {FailedLoginReport} from '../../src/core/incidents/logins.js'
import type {SyncRejectReport} from '../../src/core/incidents/sync-rejects.js'
import type {WaStatusReport} from '../../src/core/incidents/wa-status.js'
import {uuid7} from '../../src/core/domain/ids.js'
import {type CliResult, parseJson, runCli} from '../helpers/cli.js'
import {describeEachEngine} from '../helpers/engines.js'
import {ago, demoTenant, failedLoginRow, insertDevice, mutationRow} from '../helpers/incidents.js'

/**
 * The incident helpers through the built binary (`npm run build` first): --json is one document and the
 * only stdout; the human output is tables and a summary line; a bad --since or an unknown tenant is exit 2,
 * under --json with the error document as the only stdout. The CLI reads the real clock: the data is
 * placed relative to it.
 */
describeEachEngine('incident helpers (CLI): audit logins, sync rejects, wa status', {from: 'seeded'}, (ctx) => {
  let db: Database
  let env: Record<string, string>
  let tenantId: string

  const run = (args: string[]): Promise<CliResult> => runCli(args, {cwd: ctx.scratch.dir, env})
  const what = (r: CliResult) => `exit ${r.code}\n${r.stdout}\n--- stderr ---\n${r.stderr}`

  before(async () => {
    db = await ctx.scratch.open()
    env = {DATABASE_URL: ctx.scratch.url}
    const demo = await demoTenant(db)
    tenantId = demo.tenantId
    const now = new Date()
    const logins = []
    for (let i = 0; i < 5; i++) logins.push(failedLoginRow(ago(now, 120 + i), {tenantId, email: 'alice@demo.local', ip: '192.0.2.7'}))
    logins.push(failedLoginRow(ago(now, 100), {tenantId: null, email: 'ghost@x.test', ip: '192.0.2.8'}))
    await db.knex('audit_events').insert(logins)
    const device = await insertDevice(db, demo, ago(now, 0))
    await db
      .knex('sync_mutations')
      .insert([
        mutationRow(tenantId, device, ago(now, 200), {reason: 'QUOTA_EXCEEDED', message: 'quota used up'}),
        mutationRow(tenantId, device, ago(now, 100), {reason: 'QUOTA_EXCEEDED', message: 'quota used up'}),
        mutationRow(tenantId, device, ago(now, 100), {status: 'applied'}),
      ])
    const message = (status: string, code: string | null) => ({
      id: uuid7(),
      tenant_id: tenantId,
      template_id: 'WA_ORDER_DONE',
      idempotency_key: randomUUID(),
      to_phone: '6281200000000',
      body_text: 'x',
      status,
      last_error_code: code,
      created_at: ago(now, 300),
      updated_at: ago(now, 60),
    })
    await db.knex('wa_messages').insert([message('queued', null), message('failed', 'NETWORK_ERROR'), message('failed', 'NETWORK_ERROR')])
  })

  it('audit logins: --json is one document, the only stdout; the human output has both tables and the summary', async () => {
    const json = await run(['audit', 'logins', '--since', '15m', '--json'])
    expect(json.code, what(json)).to.equal(0)
    expect(json.stderr).to.equal('')
    const doc = parseJson(json) as FailedLoginReport
    expect(doc.totals).to.deep.equal({events: 6, accounts: 2, ips: 2})
    expect(doc.by_ip[0]).to.include({key: '192.0.2.7', count: 5})
    expect(doc.by_account[0]).to.include({key: 'alice@demo.local', count: 5})
    const human = await run(['audit', 'logins', '--tenant', tenantId.toUpperCase()])
    expect(human.code, what(human)).to.equal(0)
    expect(human.stdout).to.match(/^Account\s+Failed\s+First seen\s+Last seen$/m)
    expect(human.stdout).to.match(/^alice@demo\.local\s+5\s/m)
    expect(human.stdout).to.match(/^192\.0\.2\.7\s+5\s/m)
    expect(human.stdout).not.to.contain('ghost@x.test')
    expect(human.stdout).to.contain('Failed login summary: events=5, accounts=1, ips=1, since=1h')
  })

  it('sync rejects: --json and the table', async () => {
    const json = await run(['sync', 'rejects', '--json', '--since', '1h'])
    expect(json.code, what(json)).to.equal(0)
    expect(json.stderr).to.equal('')
    const doc = parseJson(json) as SyncRejectReport
    expect(doc.totals).to.deep.equal({rejected: 2, applied: 1, devices: 1})
    expect(doc.reasons).to.have.length(1)
    expect(doc.reasons[0]).to.deep.include({reason_code: 'QUOTA_EXCEEDED', count: 2})
    expect(doc.reasons[0].sample).to.include({message: 'quota used up', type: 'ORDER_CREATE'})
    const human = await run(['sync', 'rejects'])
    expect(human.code, what(human)).to.equal(0)
    expect(human.stdout).to.match(/^QUOTA_EXCEEDED\s+2\s+1 \(/m)
    expect(human.stdout).to.contain('Sync reject summary: rejected=2, applied=1, rejected_ratio=66.7%, devices=1, since=1h')
  })

  it('wa status: --json and the table', async () => {
    const json = await run(['wa', 'status', '--json'])
    expect(json.code, what(json)).to.equal(0)
    expect(json.stderr).to.equal('')
    const doc = parseJson(json) as WaStatusReport
    expect(doc.window.since).to.equal('24h')
    expect(doc.tenants).to.have.length(1)
    expect(doc.tenants[0]).to.deep.include({tenant_id: tenantId, queued: 1, failed: 2, failed_by_code: [{last_error_code: 'NETWORK_ERROR', count: 2}]})
    expect(doc.tenants[0].oldest_queued_age_seconds).to.be.within(300, 400)
    const human = await run(['wa', 'status', '--since', '1w'])
    expect(human.code, what(human)).to.equal(0)
    expect(human.stdout).to.match(/^Demo Laundry \(.+\)\s+.*\s1\s+5m \d+s ago\s+2\s+NETWORK_ERROR=2$/m)
    expect(human.stdout).to.contain('WA status summary: tenants=1, queued=1, failed=2')
  })

  for (const command of [
    ['audit', 'logins'],
    ['sync', 'rejects'],
    ['wa', 'status'],
  ]) {
    it(`${command.join(' ')}: a bad --since and an unknown tenant are exit 2, with only the error document on stdout under --json`, async () => {
      for (const since of ['5x', '0h', '1.5h']) {
        const json = await run([...command, '--since', since, '--json'])
        expect(json.code, what(json)).to.equal(2)
        expect(json.stderr, what(json)).to.equal('')
        expect(parseJson(json)).to.deep.equal({
          error: {
            code: 'INVALID_DURATION',
            message: `--since '${since}' is not a duration: expected a whole number and a unit s, m, h, d or w (e.g. 15m, 1h, 2d), from 1s up to 36500d`,
            exit: 2,
          },
        })
        const human = await run([...command, `--since=${since}`])
        expect(human.code, what(human)).to.equal(2)
        expect(human.stdout).to.equal('')
        expect(human.stderr.trim().split('\n')).to.have.length(1)
        expect(human.stderr).to.match(/^error: --since '.*' is not a duration/)
      }
      const unknown = await run([...command, '--tenant', randomUUID(), '--json'])
      expect(unknown.code, what(unknown)).to.equal(2)
      expect((parseJson(unknown) as ErrorDocument).error.code).to.equal('UNKNOWN_TENANT')
      const malformed = await run([...command, '--tenant', 'not-a-uuid'])
      expect(malformed.code, what(malformed)).to.equal(2)
      expect(malformed.stdout).to.equal('')
      expect(malformed.stderr).to.contain("--tenant 'not-a-uuid' is not a tenant id: expected a UUID")
    })
  }
})
