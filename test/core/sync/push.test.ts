/**
 * The push loop itself (src/core/sync/push.ts) with handlers written for the test, on both engines: each
 * mutation is its own unit (a handler's writes and its log row commit together or not at all, A-8), a
 * refusal is logged in its own transaction, an unexpected error aborts the push with the earlier
 * mutations kept, after-commit work runs after the commit; and, on PostgreSQL, a log row another writer
 * commits between the lookup and the insert answers `duplicate` instead of failing (A-8's unique violation).
 */
import {expect} from 'chai'

import {fixedClock} from '../../../src/core/clock.js'
import type {Database} from '../../../src/core/db/connection.js'
import {ReasonError} from '../../../src/core/errors.js'
import {recordChange} from '../../../src/core/sync/changes.js'
import {type MutationHandler, pushMutations, SyncRejection} from '../../../src/core/sync/push.js'
import {tenantFixture, type TenantFixture} from '../../helpers/api.js'
import {describeEachEngine} from '../../helpers/engines.js'

const clock = fixedClock('2026-03-01T10:00:00Z')
const DEVICE = '13131313-1313-1313-1313-131313131313'

describeEachEngine('sync push loop', {from: 'seeded'}, (ctx) => {
  let db: Database
  let fx: TenantFixture

  before(async () => {
    db = await ctx.scratch.open()
    fx = await tenantFixture(db, clock)
  })

  const user = () => ({id: fx.users.owner.id, tenant_id: fx.tenant})
  const input = (mutations: Array<{mutation_id: string; type: string}>) => ({
    user: user(),
    deviceId: DEVICE,
    mutations,
    sourceChannel: 'mobile',
    roleKeys: ['owner'],
  })
  /** A handler that records one change, then does `then` (inside the transaction). */
  const recording =
    (then: (entityId: string) => Promise<void> | void = () => {}): MutationHandler =>
    async (c) => {
      const entityId = `e-${c.mutation.mutation_id}`
      const cursor = await recordChange(c.trx, {tenantId: c.user.tenant_id, outletId: fx.outlet, entityType: 'order', entityId, data: {}}, c.clock)
      await then(entityId)
      return {serverCursor: cursor, entityRefs: [{entity_type: 'order', entity_id: entityId}], effects: {}}
    }
  const changes = (entityId: string) => db.knex('sync_changes').where({entity_id: entityId})
  const logged = (mutationId: string) => db.knex('sync_mutations').where({tenant_id: fx.tenant, mutation_id: mutationId})

  it("a refusal rolls back the handler's writes and is logged; SyncRejection carries current_server_state, other ReasonErrors null", async () => {
    const handlers = {
      STATE: recording(() => {
        throw new SyncRejection('STATUS_NOT_FORWARD', 'Cannot move laundry_status backward from washing to received.', {laundry_status: 'washing'})
      }),
      PLAIN: recording(() => {
        throw new ReasonError('PHONE_INVALID', 'Invalid phone number format.')
      }),
    }
    const answer = await pushMutations(
      db,
      input([
        {mutation_id: 'm-state', type: 'state'},
        {mutation_id: 'm-plain', type: 'plain'},
      ]),
      handlers,
      clock,
    )
    expect(answer.rejected).to.deep.equal([
      {
        mutation_id: 'm-state',
        status: 'rejected',
        reason_code: 'STATUS_NOT_FORWARD',
        message: 'Cannot move laundry_status backward from washing to received.',
        current_server_state: {laundry_status: 'washing'},
      },
      {mutation_id: 'm-plain', status: 'rejected', reason_code: 'PHONE_INVALID', message: 'Invalid phone number format.', current_server_state: null},
    ])
    expect(await changes('e-m-state')).to.have.length(0)
    expect(await logged('m-state')).to.have.length(1)
  })

  it('an unexpected error aborts the push: earlier mutations stay applied and logged, the failing one leaves no row and no log; after-commit work runs only for committed ones', async () => {
    const committed: string[] = []
    const handlers: Record<string, MutationHandler> = {
      OK: async (c) => ({...(await recording()(c)), afterCommit: () => Promise.resolve(void committed.push(c.mutation.mutation_id))}),
      BUG: recording(() => {
        throw new TypeError('a bug')
      }),
    }
    let thrown: unknown
    try {
      await pushMutations(
        db,
        input([
          {mutation_id: 'm-ok', type: 'OK'},
          {mutation_id: 'm-bug', type: 'BUG'},
          {mutation_id: 'm-after', type: 'OK'},
        ]),
        handlers,
        clock,
      )
    } catch (error) {
      thrown = error
    }
    expect(thrown).to.be.instanceOf(TypeError)
    expect(committed).to.deep.equal(['m-ok'])
    expect(await logged('m-ok')).to.have.length(1)
    expect(await changes('e-m-ok')).to.have.length(1)
    expect(await logged('m-bug')).to.have.length(0)
    expect(await changes('e-m-bug')).to.have.length(0)
    expect(await logged('m-after')).to.have.length(0)
  })

  it('A-8: a log row another writer commits between the lookup and the insert answers "duplicate" (the unique violation), and the mutation\'s own writes roll back', async function () {
    // SQLite has one writer at a time: nothing can commit inside our write transaction, so the race exists on PostgreSQL only.
    if (ctx.dialect !== 'pg') this.skip()
    const other = await ctx.scratch.open()
    try {
      const handlers = {
        RACE: recording(async () => {
          await other.knex('sync_mutations').insert({
            tenant_id: fx.tenant,
            device_id: DEVICE,
            mutation_id: 'm-race',
            type: 'RACE',
            status: 'applied',
            server_cursor: 7,
            effects: '[]',
            payload_json: '[]',
          })
        }),
      }
      const answer = await pushMutations(db, input([{mutation_id: 'm-race', type: 'RACE'}]), handlers, clock)
      expect(answer.ack).to.deep.equal([{mutation_id: 'm-race', status: 'duplicate', server_cursor: 7, entity_refs: [], effects: []}])
      expect(await changes('e-m-race')).to.have.length(0)
      expect(await logged('m-race')).to.have.length(1)
    } finally {
      await other.close()
    }
  })
})
