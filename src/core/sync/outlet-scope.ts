/**
 * The sync and claim controllers' outlet check (upstream's ensureOutletAccess, reference §3.3): the outlet
 * must be a live (not soft-deleted) outlet of the user's tenant, and the user its owner or assigned to it.
 */
import type {Executor} from '../db/transactions.js'
import type {FullOutletRow} from '../db/rows.js'
import {isLaravelUuid} from '../domain/id-input.js'
import {ReasonError} from '../errors.js'
import type {LeaseOutlet} from '../invoices/leases.js'
import type {SyncUser} from './devices.js'

export const OUTLET_NOT_IN_TENANT_MESSAGE = 'Outlet not found in tenant scope.'
export const OUTLET_NOT_ASSIGNED_MESSAGE = 'You do not have access to this outlet.'

/** The outlet, or OUTLET_ACCESS_DENIED (status 403 unless `status` says otherwise: the claim route's is 422). */
export async function accessibleOutlet(
  conn: Executor,
  input: {user: SyncUser; roleKeys: readonly string[]; outletId: string; status?: number},
): Promise<LeaseOutlet> {
  const {user, outletId} = input
  const id = isLaravelUuid(outletId) ? outletId.toLowerCase() : null
  const outlet =
    id === null || user.tenant_id === null
      ? undefined
      : await conn<FullOutletRow>('outlets').where({id, tenant_id: user.tenant_id}).whereNull('deleted_at').first('id', 'tenant_id', 'code', 'timezone')
  if (!outlet) throw new ReasonError('OUTLET_ACCESS_DENIED', OUTLET_NOT_IN_TENANT_MESSAGE, {}, input.status)
  if (!input.roleKeys.includes('owner')) {
    const assigned: {outlet_id: string} | undefined = await conn('user_outlets').where({user_id: user.id, outlet_id: outlet.id}).first('outlet_id')
    if (!assigned) throw new ReasonError('OUTLET_ACCESS_DENIED', OUTLET_NOT_ASSIGNED_MESSAGE, {}, input.status)
  }
  return {id: outlet.id, tenant_id: outlet.tenant_id, code: outlet.code, timezone: outlet.timezone}
}
