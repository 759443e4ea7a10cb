/**
 * POST /api/sync/pull (reference §3.6): the tenant's changes after a cursor, in cursor order, for one
 * outlet (plus the tenant-wide customer changes) or, for an owner, every outlet. Access failures are 403
 * (A-4; upstream crashed with a 500): a device of another tenant and an outlet the user may not use are
 * OUTLET_ACCESS_DENIED, `all_outlets` by a non-owner ROLE_ACCESS_DENIED.
 */
import {roleKeys as readRoleKeys} from '../access/outlet-access.js'
import {ROLE_ACCESS_MESSAGE} from '../access/roles.js'
import type {Clock} from '../clock.js'
import type {Database} from '../db/connection.js'
import {ReasonError} from '../errors.js'
import {type SyncUser, upsertDevice} from './devices.js'
import {accessibleOutlet} from './outlet-scope.js'
import {type QuotaSnapshot, quotaSnapshot} from './quota-snapshot.js'
import {isoFromDb, isoUtc} from './times.js'

export const PULL_DEFAULT_LIMIT = 200
export const PULL_MAX_LIMIT = 500

export interface PullInput {
  user: SyncUser
  deviceId: string
  cursor?: number | null
  scope: {mode: 'selected_outlet'; outlet_id: string} | {mode: 'all_outlets'; outlet_id?: string | null}
  limit?: number | null
  /** The user's role keys, when the caller has read them already. */
  roleKeys?: readonly string[]
}

export interface PulledChange {
  change_id: string
  entity_type: string
  entity_id: string
  op: string
  updated_at: string | null
  data: unknown
}

export interface PullAnswer {
  server_time: string
  next_cursor: number
  has_more: boolean
  changes: PulledChange[]
  quota: QuotaSnapshot
}

interface ChangeRow {
  cursor: number | string
  change_id: string
  entity_type: string
  entity_id: string
  op: string
  data_json: string | null
  updated_at: string | null
}

function decodeData(json: unknown): unknown {
  if (json === null || json === undefined) return null
  if (typeof json !== 'string') return json
  try {
    return JSON.parse(json) as unknown
  } catch {
    return null
  }
}

export async function pullChanges(db: Database, input: PullInput, clock: Clock): Promise<PullAnswer> {
  const {user} = input
  await upsertDevice(db, {user, deviceId: input.deviceId}, clock)
  const tenant = user.tenant_id as string
  const cursor = input.cursor ?? 0
  const limit = input.limit ?? PULL_DEFAULT_LIMIT
  const keys = input.roleKeys ?? (await readRoleKeys(db, user.id))
  const query = db.knex<ChangeRow>('sync_changes').where('tenant_id', tenant).where('cursor', '>', cursor)
  if (input.scope.mode === 'selected_outlet') {
    const outlet = await accessibleOutlet(db.knex, {user, roleKeys: keys, outletId: input.scope.outlet_id})
    void query.where((scope) => void scope.whereNull('outlet_id').orWhere('outlet_id', outlet.id))
  } else if (!keys.includes('owner')) {
    throw new ReasonError('ROLE_ACCESS_DENIED', ROLE_ACCESS_MESSAGE)
  }
  const rows = await query
    .orderBy('cursor')
    .limit(limit + 1)
    .select('cursor', 'change_id', 'entity_type', 'entity_id', 'op', 'data_json', 'updated_at')
  const page = rows.slice(0, limit)
  return {
    server_time: isoUtc(clock.now()),
    next_cursor: page.length > 0 ? Number(page[page.length - 1].cursor) : cursor,
    has_more: rows.length > limit,
    changes: page.map((row) => ({
      change_id: row.change_id,
      entity_type: row.entity_type,
      entity_id: row.entity_id,
      op: row.op,
      updated_at: isoFromDb(row.updated_at),
      data: decodeData(row.data_json),
    })),
    quota: await quotaSnapshot(db, tenant, clock),
  }
}
