import type {Clock} from '../../clock.js'
import {toDbTimestamp} from '../../clock.js'
import type {WaProviderRow} from '../rows.js'
import type {Executor} from '../transactions.js'

export const ROLES = [
  {key: 'owner', name: 'Owner'},
  {key: 'admin', name: 'Admin'},
  {key: 'cashier', name: 'Kasir'},
  {key: 'worker', name: 'Pekerja'},
  {key: 'courier', name: 'Kurir'},
] as const

export const PLANS = [
  {key: 'free', name: 'Gratis', orders_limit: 200},
  {key: 'standard', name: 'Standar', orders_limit: 1000},
  {key: 'premium', name: 'Premium', orders_limit: 5000},
  {key: 'pro', name: 'Pro', orders_limit: 20000},
] as const

export const MOCK_PROVIDER = {key: 'mock', name: 'Mock Provider'} as const

/** What a seeder did to one table. Seeding an already seeded database reports zeros everywhere. */
export interface TableChanges {
  created: number
  updated: number
}

export type SeedReport = Record<string, TableChanges>

export function bump(report: SeedReport, table: string, kind: keyof TableChanges): void {
  report[table] ??= {created: 0, updated: 0}
  report[table][kind]++
}

/**
 * Eloquent's `updateOrCreate` by a unique key: insert when missing, update (and touch `updated_at`)
 * only the attributes that differ, leave an identical row alone.
 */
export async function upsertByKey(
  conn: Executor,
  table: string,
  key: Record<string, unknown>,
  values: Record<string, unknown>,
  now: string,
  report: SeedReport,
): Promise<void> {
  const existing = await conn<Record<string, unknown>>(table).where(key).first()
  if (!existing) {
    await conn(table).insert({...key, ...values, created_at: now, updated_at: now})
    bump(report, table, 'created')
    return
  }
  const dirty = Object.fromEntries(Object.entries(values).filter(([column, value]) => !sameValue(existing[column], value)))
  if (Object.keys(dirty).length === 0) return
  await conn(table)
    .where(key)
    .update({...dirty, updated_at: now})
  bump(report, table, 'updated')
}

/** Compares a stored value with a seed value across drivers (SQLite booleans are 0/1, PG bigint ids numbers). */
export function sameValue(stored: unknown, wanted: unknown): boolean {
  if (typeof wanted === 'boolean') return Boolean(Number(stored)) === wanted || stored === wanted
  if (typeof wanted === 'number') return Number(stored) === wanted
  return stored === wanted
}

/** RolesAndPlansSeeder, plus the mock WA provider upstream's migration inserts. */
export async function seedReferenceData(conn: Executor, clock: Clock, report: SeedReport = {}): Promise<SeedReport> {
  const now = toDbTimestamp(clock.now())
  for (const role of ROLES) await upsertByKey(conn, 'roles', {key: role.key}, {name: role.name}, now, report)
  for (const plan of PLANS) {
    await upsertByKey(conn, 'plans', {key: plan.key}, {name: plan.name, orders_limit: plan.orders_limit}, now, report)
  }
  const provider = await conn<WaProviderRow>('wa_providers').where({key: MOCK_PROVIDER.key}).first('id')
  if (!provider) {
    await conn('wa_providers').insert({...MOCK_PROVIDER, active: true, created_at: now, updated_at: now})
    bump(report, 'wa_providers', 'created')
  }
  return report
}
