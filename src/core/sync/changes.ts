/**
 * The sync change feed (reference §4.6): every write a sync mutation makes is recorded as an `upsert` of
 * the entity's full row, inside the mutation's transaction; the row's auto-increment `cursor` orders the
 * feed across all tenants. REST writes do not feed it (upstream, A-5).
 */
import {randomUUID} from 'node:crypto'

import type {Clock} from '../clock.js'
import {toDbTimestamp} from '../clock.js'
import type {Executor} from '../db/transactions.js'

export type ChangeEntity = 'order' | 'order_item' | 'customer' | 'payment'

export interface ChangeInput {
  tenantId: string
  /** Null: visible in every outlet scope (customers are tenant-wide). */
  outletId: string | null
  entityType: ChangeEntity
  entityId: string
  /** The entity's row as the API serialises it at write time. */
  data: Record<string, unknown>
}

/** Records one change; returns its cursor. */
export async function recordChange(conn: Executor, change: ChangeInput, clock: Clock): Promise<number> {
  const now = toDbTimestamp(clock.now())
  const [row]: Array<{cursor: number | string} | number> = await conn('sync_changes')
    .insert({
      change_id: randomUUID(),
      tenant_id: change.tenantId,
      outlet_id: change.outletId,
      entity_type: change.entityType,
      entity_id: change.entityId,
      op: 'upsert',
      data_json: JSON.stringify(change.data),
      created_at: now,
      updated_at: now,
    })
    .returning('cursor')
  return Number(typeof row === 'object' ? row.cursor : row)
}
