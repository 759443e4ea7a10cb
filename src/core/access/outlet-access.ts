import type {Database} from '../db/connection.js'
import type {FullOutletRow} from '../db/rows.js'
import {isLaravelUuid} from '../domain/id-input.js'
import {OpsError} from '../errors.js'
import {selectRows} from '../db/raw.js'

/** The user an access check is about. */
export interface AccessUser {
  id: number
  tenant_id: string | null
}

export const OUTLET_ACCESS_MESSAGE = 'You do not have access to the requested outlet.'

/** The user's role keys. */
export async function roleKeys(db: Database, userId: number): Promise<string[]> {
  const rows = await selectRows<{key: string}>(
    db.knex,
    'select roles.key from roles inner join user_roles on user_roles.role_id = roles.id where user_roles.user_id = ?',
    [userId],
  )
  return rows.map((r) => r.key)
}

/** Role keys the caller already read, or a way to read them once when needed (the API's per-request cache). */
export type HeldRoles = readonly string[] | (() => Promise<readonly string[]>)

/**
 * The `outlet.access` middleware (EnsureOutletAccess, reference §3.3): an outlet id the request names must
 * be an outlet of the user's tenant (soft-deleted ones count, an unknown id is denied); owners then pass,
 * anyone else needs a `user_outlets` row for it. A request that names no outlet (absent, or not a
 * non-empty string) passes unchecked.
 */
export async function ensureOutletMiddlewareAccess(db: Database, user: AccessUser, outletId: unknown, held?: HeldRoles): Promise<void> {
  if (typeof outletId !== 'string' || outletId === '') return
  // Not a UUID: no outlet has that id (PostgreSQL's uuid column would refuse the comparison itself).
  const id = isLaravelUuid(outletId) ? outletId.toLowerCase() : null
  const tenant = user.tenant_id
  if (id !== null && tenant !== null) {
    // The outlet of the tenant and the user's assignment to it, in one read.
    const [outlet] = await selectRows<{id: string; assigned: string | null}>(
      db.knex,
      'select outlets.id, user_outlets.outlet_id as assigned from outlets ' +
        'left join user_outlets on user_outlets.outlet_id = outlets.id and user_outlets.user_id = ? ' +
        'where outlets.id = ? and outlets.tenant_id = ? limit 1',
      [user.id, id, tenant],
    )
    if (outlet && (outlet.assigned !== null || (await holdsOwner(db, user, held)))) return
  }
  throw new OpsError('OUTLET_ACCESS_DENIED', OUTLET_ACCESS_MESSAGE)
}

/** `held` when the caller already read the user's role keys, else they are read here. */
async function holdsOwner(db: Database, user: AccessUser, held?: HeldRoles): Promise<boolean> {
  const keys = typeof held === 'function' ? await held() : (held ?? (await roleKeys(db, user.id)))
  return keys.includes('owner')
}

/**
 * The controllers' `ensureOutletAccess` (EnsuresApiAccess, reference §3.3): the outlet must be a
 * non-deleted outlet of the user's tenant; owners then pass, anyone else needs a `user_outlets` row.
 * Returns the outlet's id as stored. Denial: 403 OUTLET_ACCESS_DENIED.
 */
export async function ensureOutletAccess(db: Database, user: AccessUser, outletId: string, held?: readonly string[]): Promise<string> {
  const id = isLaravelUuid(outletId) ? outletId.toLowerCase() : null
  const outlet =
    id === null || user.tenant_id === null
      ? undefined
      : await db.knex<FullOutletRow>('outlets').where({id, tenant_id: user.tenant_id}).whereNull('deleted_at').first('id')
  if (outlet) {
    if (await holdsOwner(db, user, held)) return outlet.id
    if (await db.knex('user_outlets').where({user_id: user.id, outlet_id: outlet.id}).first('outlet_id')) return outlet.id
  }
  throw new OpsError('OUTLET_ACCESS_DENIED', OUTLET_ACCESS_MESSAGE)
}

/**
 * WaController's outlet check (`User::hasOutletAccess`, reference §3.3): anyone but an owner must be
 * assigned to a non-deleted outlet whose id equals the given text exactly (an upper-case spelling of an
 * assigned id is denied, as PHP's string comparison denies it). Upstream lets an owner pass for any id
 * without looking the outlet up; here the outlet must be one of the owner's tenant (an archived one
 * counts, as the skipped lookup let it), because issue 10 requires a user of one tenant to get a 403 for
 * another tenant's outlet on every route (and an unknown id was a foreign-key 500 on the template upsert).
 * Denial: 403 OUTLET_ACCESS_DENIED.
 */
export async function ensureWaOutletAccess(db: Database, user: AccessUser, outletId: string, held?: readonly string[]): Promise<void> {
  if (await holdsOwner(db, user, held)) {
    const id = isLaravelUuid(outletId) ? outletId.toLowerCase() : null
    if (id !== null && user.tenant_id !== null && (await db.knex('outlets').where({id, tenant_id: user.tenant_id}).first('id'))) return
    throw new OpsError('OUTLET_ACCESS_DENIED', OUTLET_ACCESS_MESSAGE)
  }
  const rows: Array<{id: string}> = await db
    .knex('outlets')
    .join('user_outlets', 'user_outlets.outlet_id', 'outlets.id')
    .where('user_outlets.user_id', user.id)
    .whereNull('outlets.deleted_at')
    .select('outlets.id')
  if (rows.some((row) => row.id === outletId)) return
  throw new OpsError('OUTLET_ACCESS_DENIED', OUTLET_ACCESS_MESSAGE)
}
