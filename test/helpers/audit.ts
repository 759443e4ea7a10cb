import {randomUUID} from 'node:crypto'

import {writeArchiveSource} from '../../src/core/audit/archive-files.js'
import {toDbTimestamp} from '../../src/core/clock.js'
import type {Database} from '../../src/core/db/connection.js'
import {databaseIdentity} from '../../src/core/db/identity.js'

/** Records `db` as the source of an archive file, as a run of `audit archive` does before creating it. */
export async function recordArchiveSource(db: Database, file: string): Promise<void> {
  const identity = await databaseIdentity(db)
  writeArchiveSource(file, {database: identity.display, fingerprint: identity.fingerprint})
}

/**
 * Inserts `count` audit events spread over the given age range (days before `now`), with ids that are
 * random v4 uuids, so id order and created_at order disagree (upstream's paging bug), and with many rows
 * sharing one created_at second.
 */
export async function insertAuditEvents(
  db: Database,
  count: number,
  options: {now: Date; minDays: number; maxDays: number; channel?: (i: number) => string; tenantId?: string | null},
): Promise<string[]> {
  const ids: string[] = []
  const span = (options.maxDays - options.minDays) * 86_400
  const rows = []
  for (let i = 0; i < count; i++) {
    const id = randomUUID()
    ids.push(id)
    // Every 7 rows share a second, and seconds are spread over the range out of id order.
    const offset = options.minDays * 86_400 + Math.floor(((i / 7) * 7919) % Math.max(1, span))
    const at = toDbTimestamp(new Date(options.now.getTime() - offset * 1000))
    rows.push({
      id,
      tenant_id: options.tenantId ?? null,
      event_key: i % 3 === 0 ? 'AUTH_LOGIN_FAILED' : 'ORDER_CREATED',
      channel: options.channel ? options.channel(i) : 'api',
      entity_type: 'order',
      entity_id: `ORD-${i}`,
      request_id: randomUUID(),
      ip_address: '10.0.0.1',
      metadata_json: JSON.stringify(i % 5 === 0 ? [] : {x: i, note: 'café/ü'}),
      created_at: at,
      updated_at: at,
    })
  }
  await db.knex.batchInsert('audit_events', rows, 500)
  return ids
}
