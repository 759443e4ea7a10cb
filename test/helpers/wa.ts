import {toDbTimestamp, type Clock} from '../../src/core/clock.js'
import type {Database} from '../../src/core/db/connection.js'
import {migrate} from '../../src/core/db/migrator.js'
import {seedDatabase} from '../../src/core/db/seeds/index.js'
import {uuid7} from '../../src/core/domain/ids.js'

export interface WaTenant {
  tenantId: string
  outletId: string
  adminId: number
  mockProviderId: number
}

export interface WaProviderOptions {
  provider?: 'mock' | 'http'
  credentials?: Record<string, unknown>
}

/** The row a lookup by natural key must find, typed by the caller. */
async function found<T>(what: string, query: PromiseLike<unknown>): Promise<T> {
  const row = (await query) as T | undefined
  if (row === undefined) throw new Error(`${what} not found: is the database seeded with the demo tenant?`)
  return row
}

/** Migrates and seeds (demo tenant, on `clock`), then premiumDemoTenant: the WaApiTest setup on an empty database. */
export async function premiumTenantWithMock(db: Database, clock: Clock, options: WaProviderOptions = {}): Promise<WaTenant> {
  await migrate(db)
  await seedDatabase(db, {env: 'local', clock})
  return premiumDemoTenant(db, clock, options)
}

/**
 * On a database already seeded with the demo tenant (a scratch database `from: 'seeded'`): the demo
 * tenant moved to the premium plan with the mock provider (or the HTTP gateway) configured and active.
 */
export async function premiumDemoTenant(db: Database, clock: Clock, options: WaProviderOptions = {}): Promise<WaTenant> {
  const now = toDbTimestamp(clock.now())
  const tenant = await found<{id: string}>('tenant Demo Laundry', db.knex('tenants').where({name: 'Demo Laundry'}).first())
  const premium = await found<{id: number}>('plan premium', db.knex('plans').where({key: 'premium'}).first())
  await db.knex('tenants').where({id: tenant.id}).update({current_plan_id: premium.id})
  const outlet = await found<{id: string}>('outlet of Demo Laundry', db.knex('outlets').where({tenant_id: tenant.id}).first())
  const admin = await found<{id: number | string}>('user admin@demo.local', db.knex('users').where({email: 'admin@demo.local'}).first())
  const key = options.provider ?? 'mock'
  const existing = (await db.knex('wa_providers').where({key}).first()) as {id: number | string} | undefined
  if (!existing) {
    await db.knex('wa_providers').insert({key, name: 'HTTP Gateway', active: true, created_at: now, updated_at: now})
  }
  const provider = existing ?? (await found<{id: number | string}>(`provider ${key}`, db.knex('wa_providers').where({key}).first()))
  await db.knex('wa_provider_configs').where({tenant_id: tenant.id}).delete()
  await db.knex('wa_provider_configs').insert({
    id: uuid7(),
    tenant_id: tenant.id,
    provider_id: provider.id,
    credentials_json: JSON.stringify(options.credentials ?? {token: 'demo-token'}),
    is_active: true,
    created_at: now,
    updated_at: now,
  })
  return {tenantId: tenant.id, outletId: outlet.id, adminId: Number(admin.id), mockProviderId: Number(provider.id)}
}

export async function insertOrder(
  db: Database,
  t: WaTenant,
  clock: Clock,
  order: {code: string; phone?: string; customer?: string; pickup?: boolean; total?: number; due?: number; invoice?: string | null},
): Promise<string> {
  const now = toDbTimestamp(clock.now())
  const phone = order.phone ?? '6281233331111'
  let customer = (await db.knex('customers').where({tenant_id: t.tenantId, phone_normalized: phone}).first()) as {id: string} | undefined
  if (!customer) {
    const row = {id: uuid7(), tenant_id: t.tenantId, name: order.customer ?? 'Pelanggan WA', phone_normalized: phone, created_at: now, updated_at: now}
    await db.knex('customers').insert(row)
    customer = row
  }
  const id = uuid7()
  await db.knex('orders').insert({
    id,
    tenant_id: t.tenantId,
    outlet_id: t.outletId,
    customer_id: customer.id,
    invoice_no: order.invoice ?? null,
    order_code: order.code,
    is_pickup_delivery: order.pickup ?? false,
    courier_status: order.pickup ? 'pickup_pending' : null,
    total_amount: order.total ?? 19000,
    due_amount: order.due ?? order.total ?? 19000,
    created_by: t.adminId,
    updated_by: t.adminId,
    source_channel: 'web',
    created_at: now,
    updated_at: now,
  })
  return id
}

/** A message inserted by hand, as WaApiTest W5 does. */
export async function insertMessage(
  db: Database,
  t: WaTenant,
  clock: Clock,
  message: {id?: string; key?: string; toPhone?: string; body?: string; metadata?: Record<string, unknown>},
): Promise<string> {
  const now = toDbTimestamp(clock.now())
  const id = message.id ?? uuid7()
  await db.knex('wa_messages').insert({
    id,
    tenant_id: t.tenantId,
    outlet_id: t.outletId,
    template_id: 'WA_PICKUP_CONFIRM',
    idempotency_key: message.key ?? `${t.tenantId}:${t.outletId}:MANUAL-${id}:WA_PICKUP_CONFIRM`,
    to_phone: message.toPhone ?? '6281234567890',
    body_text: message.body ?? 'Pesan percobaan',
    status: 'queued',
    attempts: 0,
    created_by: t.adminId,
    updated_by: t.adminId,
    source_channel: 'web',
    metadata_json: JSON.stringify(message.metadata ?? {}),
    created_at: now,
    updated_at: now,
  })
  return id
}

/** A clock the test moves by hand. */
export function manualClock(start: string): Clock & {advance(seconds: number): void; set(iso: string): void} {
  let ms = Date.parse(start)
  return {
    now: () => new Date(ms),
    advance(seconds: number) {
      ms += seconds * 1000
    },
    set(iso: string) {
      ms = Date.parse(iso)
    },
  }
}
