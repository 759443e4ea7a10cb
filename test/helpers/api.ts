/**
 * Fixtures for API tests: a tenant with an outlet pair, one user per role (tokens issued directly, no
 * bcrypt round trip), two services on the outlets; and the inject shorthand with a bearer token. A test
 * builds a tenant A and a tenant B of its own, so tests never depend on the demo tenant's state.
 */
import {type RoleKey} from '../../src/core/access/roles.js'
import type {ApiInstance} from '../../src/api/app.js'
import {hashPassword} from '../../src/core/auth/password.js'
import {issueToken} from '../../src/core/auth/tokens.js'
import {type Clock, toDbTimestamp, toPeriod} from '../../src/core/clock.js'
import type {Database} from '../../src/core/db/connection.js'
import type {PlanRow, RoleRow} from '../../src/core/db/rows.js'
import {uuid7} from '../../src/core/domain/ids.js'
import {found} from './wa.js'

export const ROLE_KEYS: readonly RoleKey[] = ['owner', 'admin', 'cashier', 'worker', 'courier']

export interface ApiUserFixture {
  id: number
  email: string
  token: string
}

export interface TenantFixture {
  tenant: string
  plan: string
  /** Outlet A1 (every user assigned) and A2 (only the owner assigned, as the demo seeder assigns the owner too). */
  outlet: string
  otherOutlet: string
  outletCode: string
  users: Record<RoleKey, ApiUserFixture>
  /** A `kg` service at 8000 and a `pcs` service at 5000, both active and on both outlets. */
  services: {kg: string; pcs: string}
}

let counter = 0
let cachedHash: string | undefined

/** A tenant on `plan` (default standard) with its own outlets, users, services and current-period quota row. */
export async function tenantFixture(db: Database, clock: Clock, options: {plan?: string; name?: string} = {}): Promise<TenantFixture> {
  const knex = db.knex
  const n = ++counter
  const tag = `${process.pid}-${n}-${Math.random().toString(36).slice(2, 8)}`
  const now = toDbTimestamp(clock.now())
  const planKey = options.plan ?? 'standard'
  const plan = found(await knex<PlanRow>('plans').where({key: planKey}).first('id'), `${planKey} plan`)
  const tenant = uuid7()
  await knex('tenants').insert({
    id: tenant,
    name: options.name ?? `Tenant ${tag}`,
    current_plan_id: plan.id,
    status: 'active',
    created_at: now,
    updated_at: now,
  })
  const outlet = uuid7()
  const otherOutlet = uuid7()
  const outletCode = `A${n % 100}`.slice(0, 8)
  await knex('outlets').insert([
    {id: outlet, tenant_id: tenant, name: `Outlet ${tag}`, code: outletCode, timezone: 'Asia/Jakarta', created_at: now, updated_at: now},
    {id: otherOutlet, tenant_id: tenant, name: `Second ${tag}`, code: `B${n % 100}`.slice(0, 8), timezone: 'Asia/Jakarta', created_at: now, updated_at: now},
  ])
  cachedHash ??= await hashPassword('password', 4)
  const users = {} as Record<RoleKey, ApiUserFixture>
  for (const role of ROLE_KEYS) {
    const email = `${role}-${tag}@example.test`
    const [row]: Array<{id: number}> = await knex('users')
      .insert({name: `${role} ${tag}`, email, password: cachedHash, phone: null, tenant_id: tenant, status: 'active', created_at: now, updated_at: now})
      .returning('id')
    const id = Number(row.id)
    const roleRow = found(await knex<RoleRow>('roles').where({key: role}).first('id'), `${role} role`)
    await knex('user_roles').insert({user_id: id, role_id: roleRow.id, created_at: now, updated_at: now})
    await knex('user_outlets').insert({user_id: id, outlet_id: outlet, created_at: now, updated_at: now})
    if (role === 'owner') await knex('user_outlets').insert({user_id: id, outlet_id: otherOutlet, created_at: now, updated_at: now})
    const issued = await issueToken(knex, id, 'test-device', clock)
    users[role] = {id, email, token: issued.plainTextToken}
  }
  const kg = uuid7()
  const pcs = uuid7()
  await knex('services').insert([
    {id: kg, tenant_id: tenant, name: 'Kiloan Reguler', unit_type: 'kg', base_price_amount: 8000, active: true, created_at: now, updated_at: now},
    {id: pcs, tenant_id: tenant, name: 'Cuci Satuan', unit_type: 'pcs', base_price_amount: 5000, active: true, created_at: now, updated_at: now},
  ])
  for (const o of [outlet, otherOutlet]) {
    for (const s of [kg, pcs]) {
      await knex('outlet_services').insert({
        id: uuid7(),
        outlet_id: o,
        service_id: s,
        active: true,
        price_override_amount: null,
        created_at: now,
        updated_at: now,
      })
    }
  }
  await knex('quota_usage').insert({id: uuid7(), tenant_id: tenant, period: toPeriod(clock.now()), orders_used: 0, created_at: now, updated_at: now})
  return {tenant, plan: planKey, outlet, otherOutlet, outletCode, users, services: {kg, pcs}}
}

/** `app.inject` as a user: method, url, JSON payload, extra headers. */
export function asUser(app: ApiInstance, token: string) {
  return (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    app.inject({
      method,
      url,
      headers: {authorization: `Bearer ${token}`, accept: 'application/json', ...headers},
      ...(payload === undefined ? {} : {payload: payload as object}),
    })
}
