/**
 * The UAT runner against a real listening server on both engines (seeded demo data): a scenario passes with
 * its checks as evidence; a server that is not there fails it with one line naming the request.
 */
import {createServer} from 'node:http'

import {expect} from 'chai'

import {type ApiInstance, buildApp} from '../../../src/api/app.js'
import {systemClock} from '../../../src/core/clock.js'
import {loadConfig} from '../../../src/core/config.js'
import {demoAccounts, runScenario, runScenarios} from '../../../src/core/uat/runner.js'
import {uat01} from '../../../src/core/uat/scenarios/uat-01.js'
import {uat02} from '../../../src/core/uat/scenarios/uat-02.js'
import {uat03} from '../../../src/core/uat/scenarios/uat-03.js'
import {UAT_SCENARIOS} from '../../../src/core/uat/scenarios/index.js'
import {UAT_CATALOG} from '../../../src/core/uat/catalog.js'
import {uat09} from '../../../src/core/uat/scenarios/uat-09.js'
import type {Database} from '../../../src/core/db/connection.js'
import {DEFAULT_WORKER_OPTIONS, runWorker} from '../../../src/core/queue/worker.js'
import {describeEachEngine} from '../../helpers/engines.js'

describeEachEngine('UAT runner (src/core/uat) over a real socket', {from: 'seeded'}, (ctx) => {
  let app: ApiInstance
  let base: string
  let db: Database

  /** The local target's worker: sends every queued message (the mock provider), then returns. */
  const settle = async () => {
    await runWorker(db, {...DEFAULT_WORKER_OPTIONS, stopWhenEmpty: true, sleep: 0, timeout: 30}, {clock: systemClock})
  }
  /** The demo tenant on another plan (premium: WhatsApp; standard: none, as seeded). */
  const demoPlan = async (key: string) => {
    const plan = await db.knex('plans').where({key}).first<{id: number} | undefined>('id')
    await db.knex('tenants').where({name: 'Demo Laundry'}).update({current_plan_id: plan?.id})
  }

  before(async () => {
    db = await ctx.scratch.open()
    const config = loadConfig({cwd: ctx.scratch.dir, env: {}, databaseUrl: ctx.scratch.url})
    app = await buildApp({db, config, clock: systemClock})
    await app.listen({host: '127.0.0.1', port: 0})
    const address = app.server.address()
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  })
  after(async () => {
    await app?.close()
  })

  it('UAT-01 passes against the seeded demo tenant, twice (each run creates its own order), with its checks as evidence', async () => {
    for (let run = 0; run < 2; run++) {
      const outcome = await runScenario(uat01, {baseUrl: base, accounts: demoAccounts()})
      expect(outcome.status, outcome.evidence).to.equal('Pass')
      expect(outcome.requests.map((r) => `${r.method} ${r.path.split('?')[0]} ${r.status}`)).to.deep.equal([
        'POST /api/auth/login 200',
        'GET /api/outlets/allowed 200',
        'GET /api/services 200',
        'POST /api/orders 201',
      ])
      expect(outcome.evidence).to.match(/^4 requests, 8 checks: POST \/api\/auth\/login 200; .*the customer phone is normalised to 62…$/)
    }
  })

  it('UAT-01..03 pass in either order, sharing one sign-in per role', async () => {
    for (const order of [
      [uat01, uat02, uat03],
      [uat03, uat02, uat01],
    ]) {
      const outcomes = await runScenarios(order, {baseUrl: base, accounts: demoAccounts()})
      for (const outcome of outcomes) expect(outcome.status, `${outcome.id}: ${outcome.evidence}`).to.equal('Pass')
      const logins = outcomes.flatMap((o) => o.requests).filter((r) => r.path === '/api/auth/login')
      expect(logins, 'one login per role (cashier, worker)').to.have.length(2)
    }
  })

  it("all ten scenarios pass (UAT-09 sent by the run's worker through the mock provider), in catalogue order and reversed, each matching its catalogue entry", async function () {
    this.timeout(60_000)
    for (const scenario of UAT_SCENARIOS) {
      expect(UAT_CATALOG.find((c) => c.id === scenario.id)).to.deep.equal({id: scenario.id, role: scenario.role, notes: scenario.notes})
    }
    await demoPlan('premium')
    for (const order of [UAT_SCENARIOS, [...UAT_SCENARIOS].reverse()]) {
      const outcomes = await runScenarios(order, {baseUrl: base, accounts: demoAccounts(), messaging: {expect: 'sent', settle}})
      for (const outcome of outcomes) expect(outcome.status, `${outcome.id}: ${outcome.evidence}`).to.equal('Pass')
      // Every request a scenario makes is on a route it declares.
      for (const [i, outcome] of outcomes.entries()) {
        const declared = order[i].routes.map((r) => r.replace(/\{id\}/g, '[^/]+'))
        for (const request of outcome.requests) {
          const label = `${request.method} ${request.path.split('?')[0]}`
          expect(
            declared.some((r) => new RegExp(`^${r}$`).test(label)),
            `${outcome.id}: ${label} not declared`,
          ).to.equal(true)
        }
      }
    }
  })

  it('UAT-09 on the seeded standard plan is Blocked naming the plan; against a deployment (logged) it passes without a worker', async () => {
    await demoPlan('standard')
    const refused = await runScenario(uat09, {baseUrl: base, accounts: demoAccounts(), messaging: {expect: 'sent', settle}})
    expect(refused.status).to.equal('Blocked')
    expect(refused.evidence).to.equal(
      "GET /api/wa/providers answered 403 PLAN_FEATURE_DISABLED: the demo tenant's plan has no WhatsApp; put it on the premium or pro plan to run UAT-09",
    )
    await demoPlan('premium')
    const logged = await runScenario(uat09, {baseUrl: base, accounts: demoAccounts()})
    expect(logged.status, logged.evidence).to.equal('Pass')
    expect(logged.checks).to.include('the five order events are logged, once each')
    expect(logged.checks.some((c) => c.startsWith('every message was sent'))).to.equal(false)
  })

  it('fails with one evidence line naming the request when a password is wrong', async () => {
    const accounts = {...demoAccounts(), cashier: {email: 'cashier@demo.local', password: 'wrong'}}
    const outcome = await runScenario(uat01, {baseUrl: base, accounts})
    expect(outcome.status).to.equal('Fail')
    expect(outcome.evidence).to.match(/^POST \/api\/auth\/login answered 422, expected 200: \{"message":/)
    expect(outcome.evidence).not.to.include('\n')
  })
})

describe('UAT runner without a server', () => {
  it('a server that accepts and never answers fails the scenario at the request timeout, naming it', async () => {
    const sockets: Array<{destroy(): void}> = []
    const hanging = createServer(() => {})
    hanging.on('connection', (socket) => sockets.push(socket))
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve))
    const address = hanging.address()
    const port = typeof address === 'object' && address ? address.port : 0
    try {
      const outcome = await runScenario(uat01, {baseUrl: `http://127.0.0.1:${port}`, accounts: demoAccounts(), timeoutMs: 300})
      expect(outcome.status).to.equal('Fail')
      expect(outcome.evidence).to.equal(`POST /api/auth/login: no answer from http://127.0.0.1:${port} (no answer within 0.3 s)`)
    } finally {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => hanging.close(() => resolve()))
    }
  })

  it('fails with one line naming the request and the refused connection, no stack', async () => {
    // A port that was free a moment ago: nothing listens there now.
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    const port = typeof address === 'object' && address ? address.port : 0
    await new Promise<void>((resolve) => server.close(() => resolve()))
    const outcome = await runScenario(uat01, {baseUrl: `http://127.0.0.1:${port}`, accounts: demoAccounts()})
    expect(outcome.status).to.equal('Fail')
    expect(outcome.evidence).to.equal(`POST /api/auth/login: no answer from http://127.0.0.1:${port} (ECONNREFUSED)`)
  })
})
