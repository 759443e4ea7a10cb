import {OpsError} from '../errors.js'
import type {AccessUser} from '../access/outlet-access.js'
import type {Database} from '../db/connection.js'
import type {OrderRecord} from './types.js'

export const ORDER_ACCESS_MESSAGE = 'You do not have access to the requested order.'

/**
 * OrderController::ensureOrderAccess (reference §3.3): the order must be of the user's tenant, and the user
 * an owner or assigned to the order's outlet (the outlet.access middleware usually refuses first).
 */
export async function ensureOrderAccess(
  db: Database,
  user: AccessUser,
  order: Pick<OrderRecord, 'tenant_id' | 'outlet_id'>,
  roleKeys: readonly string[],
): Promise<void> {
  if (user.tenant_id === null || order.tenant_id !== user.tenant_id) throw new OpsError('OUTLET_ACCESS_DENIED', ORDER_ACCESS_MESSAGE)
  if (roleKeys.includes('owner')) return
  if (await db.knex('user_outlets').where({user_id: user.id, outlet_id: order.outlet_id}).first('outlet_id')) return
  throw new OpsError('OUTLET_ACCESS_DENIED', ORDER_ACCESS_MESSAGE)
}
