/**
 * Devices (reference §1.4, §3.6): the client names its install by `device_id`; the first request from a
 * device binds it to the user's tenant, and every request records who used it last and when. A device
 * bound to another tenant is refused (A-4: 403 OUTLET_ACCESS_DENIED in push and pull, where upstream
 * crashed with a 500; the claim route answers it as 422, as upstream's controller does).
 */
import type {Clock} from '../clock.js'
import {toDbTimestamp} from '../clock.js'
import type {Database} from '../db/connection.js'
import {type Executor, writeTransaction} from '../db/transactions.js'
import {ReasonError} from '../errors.js'

export const DEVICE_OTHER_TENANT_MESSAGE = 'Device is bound to another tenant.'

/** The user a sync request acts for. */
export interface SyncUser {
  id: number
  tenant_id: string | null
}

/** A device id as stored: lower-cased (ids are compared as PostgreSQL's uuid type compares them). */
export function deviceKey(deviceId: string): string {
  return deviceId.toLowerCase()
}

/**
 * Creates the device for the user's tenant, or updates user_id and last_seen_at of the tenant's device;
 * refuses a device of another tenant (OUTLET_ACCESS_DENIED, status `otherTenantStatus`). Race-free: the
 * insert ignores a concurrent one, and the update only touches a row of this tenant.
 */
export function upsertDevice(db: Database, input: {user: SyncUser; deviceId: string; otherTenantStatus?: number}, clock: Clock): Promise<string> {
  return writeTransaction(db, (trx) => upsertDeviceIn(trx, input, clock))
}

/** upsertDevice inside the caller's transaction. */
export async function upsertDeviceIn(conn: Executor, input: {user: SyncUser; deviceId: string; otherTenantStatus?: number}, clock: Clock): Promise<string> {
  const id = deviceKey(input.deviceId)
  const tenant = input.user.tenant_id
  const refuse = () => new ReasonError('OUTLET_ACCESS_DENIED', DEVICE_OTHER_TENANT_MESSAGE, {}, input.otherTenantStatus)
  if (tenant === null) throw refuse()
  const now = toDbTimestamp(clock.now())
  const existing: {tenant_id: string} | undefined = await conn('devices').where({id}).first('tenant_id')
  if (existing && existing.tenant_id !== tenant) throw refuse()
  if (!existing) {
    await conn('devices').insert({id, tenant_id: tenant, user_id: input.user.id, last_seen_at: now, created_at: now, updated_at: now}).onConflict('id').ignore()
  }
  const updated = await conn('devices').where({id, tenant_id: tenant}).update({user_id: input.user.id, last_seen_at: now, updated_at: now})
  if (Number(updated) === 0) throw refuse()
  return id
}
