/**
 * POST /api/invoices/range/claim after its role check and validation (reference §3.7): bind the device
 * to the user's tenant, check the outlet, claim the ranges. The controller answers a device of another
 * tenant and an outlet the user may not use as 422 OUTLET_ACCESS_DENIED (not 403), as upstream does.
 */
import type {Clock} from '../clock.js'
import type {Database} from '../db/connection.js'
import {type SyncUser, upsertDevice} from '../sync/devices.js'
import {accessibleOutlet} from '../sync/outlet-scope.js'
import {isoUtc} from '../sync/times.js'
import {type ClaimDay, type ClaimedRange, claimInvoiceRanges} from './leases.js'

export interface ClaimInput {
  user: SyncUser
  roleKeys: readonly string[]
  deviceId: string
  outletId: string
  days: readonly ClaimDay[]
}

export async function claimInvoiceRangesForDevice(db: Database, input: ClaimInput, clock: Clock): Promise<{server_time: string; ranges: ClaimedRange[]}> {
  const deviceId = await upsertDevice(db, {user: input.user, deviceId: input.deviceId, otherTenantStatus: 422}, clock)
  const outlet = await accessibleOutlet(db.knex, {user: input.user, roleKeys: input.roleKeys, outletId: input.outletId, status: 422})
  const ranges = await claimInvoiceRanges(db, {outlet, deviceId, days: input.days}, clock)
  return {server_time: isoUtc(clock.now()), ranges}
}
