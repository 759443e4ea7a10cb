import type {Database} from '../db/connection.js'
import type {FullOutletRow} from '../db/rows.js'
import {isLaravelUuid} from '../domain/id-input.js'
import {OpsError} from '../errors.js'

/** The user an access check is about. */
export interface AccessUser {
  id: number
  tenant_id: string | null
}

export const OUTLET_ACCESS_MESSAGE = 'You do not have access to the requested outlet.'

/** The user's role keys. */
export async function roleKeys(db: Database, userId: number): Promise<string[]> {
  const rows: Array<{key: string}> = await db
    .knex('roles')
    .join('user_roles', 'user_roles.role_id', 'roles.id')
    .where('user_roles.user_id', userId)
    .select('roles.key')
  return rows.map((r) => r.key)
}

/**
 * The `outlet.access` middleware (EnsureOutletAccess, reference §3.3): an outlet id the request names must
 * be an outlet of the user's tenant (soft-deleted ones count, an unknown id is denied); owners then pass,
 * anyone else needs a `user_outlets` row for it. A request that names no outlet (absent, or not a
 * non-empty string) passes unchecked.
 */
export async function ensureOutletMiddlewareAccess(db: Database, user: AccessUser, outletId: unknown): Promise<void> {
  if (typeof outletId !== 'string' || outletId === '') return
  // Not a UUID: no outlet has that id (PostgreSQL's uuid column would refuse the comparison itself).
  const id = isLaravelUuid(outletId) ? outletId.toLowerCase() : null
  const tenant = user.tenant_id
  if (id !== null && tenant !== null && (await db.knex<FullOutletRow>('outlets').where({id, tenant_id: tenant}).first('id'))) {
    if ((await roleKeys(db, user.id)).includes('owner')) return
    if (await db.knex('user_outlets').where({user_id: user.id, outlet_id: id}).first('outlet_id')) return
  }
  throw new OpsError('OUTLET_ACCESS_DENIED', OUTLET_ACCESS_MESSAGE)
}
