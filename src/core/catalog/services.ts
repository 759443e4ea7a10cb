/**
 * The service catalogue reads of the API (reference §3.10): GET /api/services (ServiceCatalogController)
 * and GET /api/outlet-services (OutletServiceController). The routes run the role check (owner, admin,
 * cashier) and validation; these functions do the rest.
 */
import {type AccessUser, ensureOutletAccess} from '../access/outlet-access.js'
import {ensureRole} from '../access/roles.js'
import type {Clock} from '../clock.js'
import type {Database} from '../db/connection.js'
import {eloquentBool, eloquentInt} from '../php/eloquent-json.js'
import {eloquentTimestamp} from '../orders/serialize.js'
import {phpBoolCast} from '../php/loose-values.js'

/** Laravel's `boolean` rule's values (already validated): true, false, 1, 0, "1", "0". */
type LaravelBoolean = boolean | number | string

export interface ServicesQuery {
  active?: LaravelBoolean | null
  outlet_id?: string | null
  include_deleted?: LaravelBoolean | null
}

export interface ServiceEntry {
  id: string
  tenant_id: string
  name: string
  unit_type: string
  base_price_amount: number
  active: boolean
  effective_price_amount: number
  outlet_override: {id: string; active: boolean; price_override_amount: number | null; sla_override: string | null} | null
}

interface ServiceDbRow {
  id: string
  tenant_id: string
  name: string
  unit_type: string
  base_price_amount: number | string
  active: boolean | number
}

interface OutletServiceDbRow {
  id: string
  outlet_id: string
  service_id: string
  active: boolean | number
  price_override_amount: number | string | null
  sla_override: string | null
  created_at: string | null
  updated_at: string | null
}

export interface ServicesInput {
  user: AccessUser
  roles: readonly string[]
  query: ServicesQuery
}

/**
 * GET /api/services: the tenant's services by name, filtered by `active` when the key is present (a null
 * value filters on false, as upstream's `(bool)` of it does); with `outlet_id` (checked: tenant, not
 * archived, assignment) each carries that outlet's override, whose price counts even when the override row
 * is inactive (reference §3.10). `include_deleted` adds archived services and needs owner or admin (403
 * ROLE_ACCESS_DENIED otherwise, checked after the outlet).
 */
export async function listServices(db: Database, input: ServicesInput, _clock: Clock): Promise<{data: ServiceEntry[]}> {
  const {user, query} = input
  const outletId = query.outlet_id ?? null
  const includeDeleted = phpBoolCast(query.include_deleted ?? false)
  const outlet = outletId ? await ensureOutletAccess(db, user, outletId, input.roles) : null
  if (includeDeleted) await ensureRole(db, user, ['owner', 'admin'], input.roles)
  const select = db.knex('services').where('tenant_id', user.tenant_id ?? '')
  if (!includeDeleted) void select.whereNull('deleted_at')
  if (Object.hasOwn(query, 'active')) void select.where('active', phpBoolCast(query.active))
  // MySQL orders names by its case-insensitive collation; the id keeps equal names in a stable order.
  const services: ServiceDbRow[] = await select
    .orderByRaw('lower(name) asc')
    .orderBy('name')
    .orderBy('id')
    .select('id', 'tenant_id', 'name', 'unit_type', 'base_price_amount', 'active')
  const overrides = new Map<string, OutletServiceDbRow>()
  if (outlet !== null) {
    const rows = await db.knex<OutletServiceDbRow>('outlet_services').where('outlet_id', outlet).select('*')
    for (const row of rows) overrides.set(row.service_id, row)
  }
  return {
    data: services.map((service) => {
      const override = overrides.get(service.id)
      const base = Number(service.base_price_amount)
      const overridePrice = eloquentInt(override?.price_override_amount)
      return {
        id: service.id,
        tenant_id: service.tenant_id,
        name: service.name,
        unit_type: service.unit_type,
        base_price_amount: base,
        active: eloquentBool(service.active) === true,
        effective_price_amount: overridePrice ?? base,
        outlet_override: override
          ? {id: override.id, active: eloquentBool(override.active) === true, price_override_amount: overridePrice, sla_override: override.sla_override}
          : null,
      }
    }),
  }
}

export interface OutletServiceEntry {
  id: string
  outlet_id: string
  service_id: string
  active: boolean
  price_override_amount: number | null
  sla_override: string | null
  created_at: string | null
  updated_at: string | null
  service: {id: string; tenant_id: string; name: string; unit_type: string; base_price_amount: number; active: boolean} | null
}

export interface OutletServicesInput {
  user: AccessUser
  roles: readonly string[]
  query: {outlet_id: string; active?: LaravelBoolean | null}
}

/**
 * GET /api/outlet-services: the outlet's rows (outlet checked: tenant, not archived, assignment) by
 * created_at, each with its service (archived services included, as the relation is withTrashed), filtered
 * by `active` when the key is present.
 */
export async function listOutletServices(db: Database, input: OutletServicesInput, _clock: Clock): Promise<{data: OutletServiceEntry[]}> {
  const {user, query} = input
  const outlet = await ensureOutletAccess(db, user, query.outlet_id, input.roles)
  const select = db.knex('outlet_services').where('outlet_id', outlet)
  if (Object.hasOwn(query, 'active')) void select.where('active', phpBoolCast(query.active))
  const rows = (await select.orderBy('created_at').orderBy('id').select('*')) as OutletServiceDbRow[]
  const serviceIds = [...new Set(rows.map((row) => row.service_id))]
  const services: ServiceDbRow[] =
    serviceIds.length === 0
      ? []
      : await db.knex('services').whereIn('id', serviceIds).select('id', 'tenant_id', 'name', 'unit_type', 'base_price_amount', 'active')
  const byId = new Map(services.map((s) => [s.id, s]))
  return {
    data: rows.map((row) => {
      const service = byId.get(row.service_id)
      return {
        id: row.id,
        outlet_id: row.outlet_id,
        service_id: row.service_id,
        active: eloquentBool(row.active) === true,
        price_override_amount: eloquentInt(row.price_override_amount),
        sla_override: row.sla_override,
        created_at: eloquentTimestamp(row.created_at),
        updated_at: eloquentTimestamp(row.updated_at),
        service: service
          ? {
              id: service.id,
              tenant_id: service.tenant_id,
              name: service.name,
              unit_type: service.unit_type,
              base_price_amount: Number(service.base_price_amount),
              active: eloquentBool(service.active) === true,
            }
          : null,
      }
    }),
  }
}
