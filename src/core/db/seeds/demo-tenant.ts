import type {Clock} from '../../clock.js'
import {toDbTimestamp, toPeriod, utcMonthBounds} from '../../clock.js'
import {OpsError} from '../../errors.js'
import {uuid7} from '../../domain/ids.js'
import {hashPassword, verifyPassword} from '../../auth/password.js'
import type {AccountRow, FullOutletRow, PlanRow, RoleRow, ServiceRow, TenantRow} from '../rows.js'
import type {Executor} from '../transactions.js'
import {bump, sameValue, type SeedReport} from './reference-data.js'

export const DEMO_TENANT_NAME = 'Demo Laundry'
export const DEMO_PASSWORD = 'password'
export const DEMO_OUTLET = {code: 'BL', name: 'Outlet Utama', timezone: 'Asia/Jakarta', address: 'Alamat demo outlet'} as const
export const DEMO_USERS = [
  {email: 'owner@demo.local', name: 'Demo Owner', phone: '628111111111', role: 'owner'},
  {email: 'admin@demo.local', name: 'Demo Admin', phone: '628111111112', role: 'admin'},
  {email: 'cashier@demo.local', name: 'Demo Cashier', phone: '628111111113', role: 'cashier'},
  {email: 'worker@demo.local', name: 'Demo Worker', phone: '628111111114', role: 'worker'},
  {email: 'courier@demo.local', name: 'Demo Courier', phone: '628111111115', role: 'courier'},
] as const
export const DEMO_SERVICES = [
  {name: 'Kiloan Reguler', unit_type: 'kg', base_price_amount: 8000},
  {name: 'Cuci Satuan', unit_type: 'pcs', base_price_amount: 5000},
] as const

/**
 * DemoTenantSeeder: the demo tenant, outlet BL, five accounts (password `password`), two services on the
 * outlet, the current period's subscription and quota row. Idempotent: rows are looked up by their natural
 * keys and only changed when they differ, so a second run changes nothing.
 */
export async function seedDemoTenant(conn: Executor, clock: Clock, report: SeedReport = {}): Promise<SeedReport> {
  const at = clock.now()
  const now = toDbTimestamp(at)
  const standard = await conn<PlanRow>('plans').where({key: 'standard'}).first()
  if (!standard) throw new OpsError('SEED_FAILED', 'plan "standard" is missing: seed the reference data first')

  let tenant = await conn<TenantRow>('tenants').where({name: DEMO_TENANT_NAME}).orderBy('created_at').first()
  if (!tenant) {
    tenant = {id: uuid7(at.getTime()), name: DEMO_TENANT_NAME, current_plan_id: standard.id, status: 'active', created_at: now, updated_at: now}
    await conn<TenantRow>('tenants').insert(tenant)
    bump(report, 'tenants', 'created')
  } else if (tenant.current_plan_id === null) {
    await conn('tenants').where({id: tenant.id}).update({current_plan_id: standard.id, updated_at: now})
    bump(report, 'tenants', 'updated')
  }

  let outlet = await conn<FullOutletRow>('outlets').where({tenant_id: tenant.id, code: DEMO_OUTLET.code}).first()
  if (!outlet) {
    const created = {id: uuid7(at.getTime()), tenant_id: tenant.id, ...DEMO_OUTLET, created_at: now, updated_at: now}
    await conn('outlets').insert(created)
    outlet = {...created, deleted_at: null}
    bump(report, 'outlets', 'created')
  } else if (outlet.deleted_at !== null) {
    await conn('outlets').where({id: outlet.id}).update({deleted_at: null, updated_at: now})
    bump(report, 'outlets', 'updated')
  }

  // One hash serves every account this run creates or repairs; verifying it once covers them all.
  let freshHash: string | undefined
  const verified = new Map<string, boolean>()
  const demoHash = async () => (freshHash ??= await hashPassword(DEMO_PASSWORD))
  const acceptsDemoPassword = async (hash: string) => {
    if (!verified.has(hash)) verified.set(hash, await verifyPassword(DEMO_PASSWORD, hash))
    return verified.get(hash)!
  }

  for (const account of DEMO_USERS) {
    const wanted = {name: account.name, phone: account.phone, status: 'active', tenant_id: tenant.id}
    const user = await conn<AccountRow>('users').where({email: account.email}).first()
    let userId: number
    if (!user) {
      const [inserted]: Array<{id: number} | number> = await conn('users')
        .insert({...wanted, email: account.email, password: await demoHash(), created_at: now, updated_at: now})
        .returning('id')
      userId = Number(typeof inserted === 'object' ? inserted.id : inserted)
      bump(report, 'users', 'created')
    } else {
      userId = user.id
      const dirty: Record<string, unknown> = Object.fromEntries(Object.entries(wanted).filter(([column, value]) => !sameValue(user[column], value)))
      if (user.deleted_at !== null) dirty.deleted_at = null
      if (!(await acceptsDemoPassword(String(user.password)))) dirty.password = await demoHash()
      if (Object.keys(dirty).length > 0) {
        await conn('users')
          .where({id: userId})
          .update({...dirty, updated_at: now})
        bump(report, 'users', 'updated')
      }
    }
    const role = await conn<RoleRow>('roles').where({key: account.role}).first()
    if (!role) throw new OpsError('SEED_FAILED', `role "${account.role}" is missing: seed the reference data first`)
    if (!(await conn('user_roles').where({user_id: userId, role_id: role.id}).first('id'))) {
      await conn('user_roles').insert({user_id: userId, role_id: role.id, created_at: now, updated_at: now})
      bump(report, 'user_roles', 'created')
    }
    if (!(await conn('user_outlets').where({user_id: userId, outlet_id: outlet.id}).first('id'))) {
      await conn('user_outlets').insert({user_id: userId, outlet_id: outlet.id, created_at: now, updated_at: now})
      bump(report, 'user_outlets', 'created')
    }
  }

  for (const service of DEMO_SERVICES) {
    let row = await conn<ServiceRow>('services').where({tenant_id: tenant.id, name: service.name}).first()
    if (!row) {
      row = {id: uuid7(at.getTime()), tenant_id: tenant.id, ...service, active: true}
      await conn('services').insert({...row, created_at: now, updated_at: now})
      bump(report, 'services', 'created')
    }
    if (!(await conn('outlet_services').where({outlet_id: outlet.id, service_id: row.id}).first('id'))) {
      await conn('outlet_services').insert({
        id: uuid7(at.getTime()),
        outlet_id: outlet.id,
        service_id: row.id,
        active: true,
        created_at: now,
        updated_at: now,
      })
      bump(report, 'outlet_services', 'created')
    }
  }

  const period = toPeriod(at)
  if (!(await conn('tenant_subscriptions').where({tenant_id: tenant.id, period}).first('id'))) {
    const {start, end} = utcMonthBounds(at)
    await conn('tenant_subscriptions').insert({
      id: uuid7(at.getTime()),
      tenant_id: tenant.id,
      plan_id: standard.id,
      period,
      starts_at: toDbTimestamp(start),
      ends_at: toDbTimestamp(end),
      status: 'active',
      created_at: now,
      updated_at: now,
    })
    bump(report, 'tenant_subscriptions', 'created')
  }
  if (!(await conn('quota_usage').where({tenant_id: tenant.id, period}).first('id'))) {
    await conn('quota_usage').insert({id: uuid7(at.getTime()), tenant_id: tenant.id, period, orders_used: 0, created_at: now, updated_at: now})
    bump(report, 'quota_usage', 'created')
  }
  return report
}
