import {randomUUID} from 'node:crypto'

import {toDbTimestamp} from '../../src/core/clock.js'
import type {Database} from '../../src/core/db/connection.js'
import {uuid7} from '../../src/core/domain/ids.js'
import {found} from './wa.js'

/** The demo tenant of a seeded database and one of its users. */
export async function demoTenant(db: Database): Promise<{tenantId: string; userId: number}> {
  const tenant = found(await db.knex<{id: string; name: string}>('tenants').where({name: 'Demo Laundry'}).first('id'), 'Demo Laundry tenant')
  const user = found(await db.knex<{id: number; email: string}>('users').where({email: 'admin@demo.local'}).first('id'), 'demo admin')
  return {tenantId: tenant.id, userId: Number(user.id)}
}

/** A second tenant with one user (for the "other tenants are excluded" cases). */
export async function otherTenant(db: Database, name: string, at: Date): Promise<{tenantId: string; userId: number}> {
  const now = toDbTimestamp(at)
  const tenantId = uuid7()
  await db.knex('tenants').insert({id: tenantId, name, status: 'active', created_at: now, updated_at: now})
  const email = `owner-${tenantId.slice(-12)}@other.local`
  await db.knex('users').insert({tenant_id: tenantId, name: `${name} owner`, email, password: 'x', status: 'active', created_at: now, updated_at: now})
  const user = found(await db.knex<{id: number; email: string}>('users').where({email}).first('id'), email)
  return {tenantId, userId: Number(user.id)}
}

/** `seconds` before `now`, in the stored format. */
export const ago = (now: Date, seconds: number): string => toDbTimestamp(new Date(now.getTime() - seconds * 1000))

/** One AUTH_LOGIN_FAILED (or another key's) audit row as the login endpoint writes it. */
export function failedLoginRow(
  at: string,
  fields: {tenantId?: string | null; email?: string | null; ip?: string | null; eventKey?: string; metadata?: unknown},
): Record<string, unknown> {
  const metadata =
    fields.metadata !== undefined
      ? fields.metadata
      : fields.email === null
        ? {reason: 'invalid_credentials'}
        : {email: fields.email, reason: 'invalid_credentials'}
  return {
    id: randomUUID(),
    tenant_id: fields.tenantId ?? null,
    event_key: fields.eventKey ?? 'AUTH_LOGIN_FAILED',
    channel: 'api',
    request_id: randomUUID(),
    ip_address: fields.ip ?? null,
    metadata_json: typeof metadata === 'string' ? metadata : JSON.stringify(metadata),
    created_at: at,
    updated_at: at,
  }
}

/** A device of `tenant` (sync_mutations need one). */
export async function insertDevice(db: Database, tenant: {tenantId: string; userId: number}, at: string, id = randomUUID()): Promise<string> {
  await db.knex('devices').insert({id, tenant_id: tenant.tenantId, user_id: tenant.userId, last_seen_at: at, created_at: at, updated_at: at})
  return id
}

let mutationCounter = 0

/** One sync_mutations row as the push endpoint logs it. */
export function mutationRow(
  tenantId: string,
  deviceId: string,
  at: string,
  fields: {status?: 'applied' | 'rejected'; reason?: string | null; message?: string | null; type?: string; entityId?: string},
): Record<string, unknown> {
  const status = fields.status ?? 'rejected'
  return {
    tenant_id: tenantId,
    device_id: deviceId,
    mutation_id: `m-${++mutationCounter}-${randomUUID()}`,
    seq: mutationCounter,
    type: fields.type ?? 'ORDER_CREATE',
    entity_type: 'order',
    entity_id: fields.entityId ?? `ORD-${mutationCounter}`,
    payload_json: '[]',
    status,
    reason_code: status === 'rejected' ? (fields.reason === undefined ? 'VALIDATION_FAILED' : fields.reason) : null,
    message: status === 'rejected' && fields.message !== null ? (fields.message ?? 'rejected') : null,
    processed_at: at,
    created_at: at,
    updated_at: at,
  }
}
