import {expect} from 'chai'

import type {WorkerResult} from '../../src/core/queue/worker.js'
import {parseJson, runCli} from '../helpers/cli.js'
import {describeEachEngine} from '../helpers/engines.js'
import {startGateway, type TestGateway} from '../helpers/gateway.js'
import {queueMessages} from '../helpers/queue-messages.js'
import {manualClock, premiumDemoTenant} from '../helpers/wa.js'

describeEachEngine('4 worker processes racing over the same queue [slow]', {from: 'seeded'}, (ctx) => {
  let gateway: TestGateway
  before(async () => {
    gateway = await startGateway(() => ({status: 200}))
  })
  after(() => gateway.close())

  it('send every message to the provider exactly once, and leave none unsent', async function () {
    const count = ctx.dialect === 'pg' ? 5000 : 1000
    this.timeout(180_000)
    const db = await ctx.scratch.open()
    const t = await premiumDemoTenant(db, manualClock(new Date().toISOString()), {provider: 'http', credentials: {url: gateway.url, token: 'race'}})
    const ids = await queueMessages(db, t.tenantId, t.outletId, count)
    const env = {DATABASE_URL: ctx.scratch.url}
    const workers = await Promise.all(
      [1, 2, 3, 4].map(() => runCli(['queue', 'work', '--stop-when-empty', '--sleep', '0', '--json'], {cwd: ctx.scratch.dir, env, timeoutMs: 170_000})),
    )
    for (const w of workers) expect(w.code, w.stderr).to.equal(0)
    const processed = workers.map((w) => (parseJson(w) as WorkerResult).processed)
    expect(processed.reduce((a, b) => a + b, 0)).to.equal(count)
    // Every worker took part (the race was real).
    expect(
      processed.every((n) => n > 0),
      `per worker: ${processed.join(',')}`,
    ).to.equal(true)

    expect(gateway.requests).to.have.length(count)
    const twice = [...gateway.counts].filter(([, n]) => n !== 1)
    expect(twice, 'messages sent more than once').to.deep.equal([])
    expect(ids.every((id) => gateway.counts.get(id) === 1)).to.equal(true)
    const statuses = await db.knex('wa_messages').whereIn('status', ['queued', 'failed']).count({n: '*'}).first()
    expect(Number(statuses?.n)).to.equal(0)
    expect(await db.knex('jobs').count({n: '*'}).first()).to.satisfy((r: {n: unknown}) => Number(r.n) === 0)
  })
})
