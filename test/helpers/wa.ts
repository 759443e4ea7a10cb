import {toDbTimestamp, type Clock} from '../../src/core/clock.js'
import type {Database} from '../../src/core/db/connection.js'
import {migrate} from '../../src/core/db/migrator.js'
import {seedDatabase} from '../../src/core/db/seeds/index.js'
import {uuid7} from '../../src/core/domain/ids.js'
import {readJsonObject} from '../../src/core/messaging/json-column.js'
import type {CustomerRow, WaMessageRow} from '../../src/core/db/rows.js'
import type {FailedJobRow, JobRow} from '../../src/core/db/rows.js'

export interface WaTenant {
  tenantId: string
  outletId: string
  adminId: number
  mockProviderId: number
}

/** The row a test set up; a missing one is a broken setup, said as such. */
export function found<T>(row: T, what: string): NonNullable<T> {
  if (row === undefined || row === null) throw new Error(`test setup: no ${what}`)
  return row
}

export interface WaProviderOptions {
  provider?: 'mock' | 'http'
  credentials?: Record<string, unknown>
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
  const tenant = found(await db.knex<{id: string; name: string}>('tenants').where({name: 'Demo Laundry'}).first('id'), 'Demo Laundry tenant')
  const premium = await planId(db, 'premium')
  await db.knex('tenants').where({id: tenant.id}).update({current_plan_id: premium})
  const outlet = found(await db.knex<{id: string; tenant_id: string}>('outlets').where({tenant_id: tenant.id}).first('id'), 'demo outlet')
  const admin = found(await db.knex<{id: number; email: string}>('users').where({email: 'admin@demo.local'}).first('id'), 'demo admin')
  const key = options.provider ?? 'mock'
  const providerId = async () => (await db.knex<{id: number; key: string}>('wa_providers').where({key}).first('id'))?.id
  let provider = await providerId()
  if (provider === undefined) {
    await db.knex('wa_providers').insert({key, name: 'HTTP Gateway', active: true, created_at: now, updated_at: now})
    provider = found(await providerId(), `wa_providers ${key}`)
  }
  await db.knex('wa_provider_configs').where({tenant_id: tenant.id}).delete()
  await db.knex('wa_provider_configs').insert({
    id: uuid7(),
    tenant_id: tenant.id,
    provider_id: provider,
    credentials_json: JSON.stringify(options.credentials ?? {token: 'demo-token'}),
    is_active: true,
    created_at: now,
    updated_at: now,
  })
  return {tenantId: tenant.id, outletId: outlet.id, adminId: Number(admin.id), mockProviderId: Number(provider)}
}

/** A plan's id by key (`standard`, `premium`, ...). */
export async function planId(db: Database, key: string): Promise<number> {
  return found(await db.knex<{id: number; key: string}>('plans').where({key}).first('id'), `plan ${key}`).id
}

/** The one wa_messages row matching `where`. */
export async function waMessage(db: Database, where: Partial<WaMessageRow>): Promise<WaMessageRow> {
  return found(await db.knex<WaMessageRow>('wa_messages').where(where).first(), `wa_messages row ${JSON.stringify(where)}`)
}

/** A message's metadata_json as an object, whichever driver read it. */
export function metadataOf(message: WaMessageRow): Record<string, unknown> {
  return readJsonObject(message.metadata_json)
}

/** The jobs table, oldest first. */
export function queuedJobs(db: Database): Promise<JobRow[]> {
  return db.knex<JobRow>('jobs').select('*').orderBy('id')
}

/** The failed_jobs table, oldest first. */
export function failedJobs(db: Database): Promise<FailedJobRow[]> {
  return db.knex<FailedJobRow>('failed_jobs').select('*').orderBy('id')
}

export async function insertOrder(
  db: Database,
  t: WaTenant,
  clock: Clock,
  order: {code: string; phone?: string; customer?: string; pickup?: boolean; total?: number; due?: number; invoice?: string | null},
): Promise<string> {
  const now = toDbTimestamp(clock.now())
  const phone = order.phone ?? '6281233331111'
  let customer = await db.knex<CustomerRow>('customers').where({tenant_id: t.tenantId, phone_normalized: phone}).first('id')
  if (!customer) {
    customer = {id: uuid7()}
    await db
      .knex('customers')
      .insert({...customer, tenant_id: t.tenantId, name: order.customer ?? 'Pelanggan WA', phone_normalized: phone, created_at: now, updated_at: now})
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
