import type {Database} from '../../src/core/db/connection.js'
import {toDbTimestamp} from '../../src/core/clock.js'
import {uuid7} from '../../src/core/domain/ids.js'
import {unixSeconds} from '../../src/core/queue/database-queue.js'
import {sendWaJobPayload} from '../../src/core/queue/payload.js'

/** Queues `count` messages whose body is their own id, so the gateway can count sends per message. */
export async function queueMessages(db: Database, tenantId: string, outletId: string, count: number): Promise<string[]> {
  const now = new Date()
  const stamp = toDbTimestamp(now)
  const ids = Array.from({length: count}, () => uuid7())
  const messages = ids.map((id) => ({
    id,
    tenant_id: tenantId,
    outlet_id: outletId,
    template_id: 'WA_ORDER_DONE',
    idempotency_key: `race:${id}`,
    to_phone: '6281234567890',
    body_text: id,
    status: 'queued',
    attempts: 0,
    metadata_json: '{}',
    source_channel: 'system',
    created_at: stamp,
    updated_at: stamp,
  }))
  await db.knex.batchInsert('wa_messages', messages, 500)
  const jobs = ids.map((id) => ({
    queue: 'messaging',
    payload: sendWaJobPayload({waMessageId: id, now}),
    attempts: 0,
    reserved_at: null,
    available_at: unixSeconds(now),
    created_at: unixSeconds(now),
  }))
  await db.knex.batchInsert('jobs', jobs, 500)
  return ids
}
