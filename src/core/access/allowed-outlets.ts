import type {Database} from '../db/connection.js'
import type {FullOutletRow} from '../db/rows.js'
import type {AccessUser} from './outlet-access.js'

export interface AllowedOutletEntry {
  id: string
  tenant_id: string
  name: string
  code: string
  timezone: string
}

/**
 * GET /api/outlets/allowed (reference §3.4, allowedOutletIds §3.3): an owner gets every non-deleted outlet
 * of the tenant, anyone else the non-deleted outlets assigned to them; sorted by name.
 */
export async function allowedOutlets(db: Database, user: AccessUser, roleKeys: readonly string[]): Promise<{data: AllowedOutletEntry[]}> {
  if (user.tenant_id === null) return {data: []}
  const query = db.knex<FullOutletRow>('outlets').where('outlets.tenant_id', user.tenant_id).whereNull('outlets.deleted_at')
  if (!roleKeys.includes('owner')) {
    query.whereIn('outlets.id', db.knex('user_outlets').where('user_id', user.id).select('outlet_id'))
  }
  const rows: AllowedOutletEntry[] = await query
    // Upstream's MySQL collation sorts names case-insensitively; the exact name breaks ties.
    .orderByRaw('lower(outlets.name) asc, outlets.name asc')
    .select('outlets.id', 'outlets.tenant_id', 'outlets.name', 'outlets.code', 'outlets.timezone')
  return {data: rows.map((o) => ({id: o.id, tenant_id: o.tenant_id, name: o.name, code: o.code, timezone: o.timezone}))}
}
