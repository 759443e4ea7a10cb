import {type Clock, toDbTimestamp} from '../clock.js'
import type {Executor} from '../db/transactions.js'
import {uuid7} from '../domain/ids.js'
import {onPostgres} from '../quota/consume.js'
import type {CustomerRecord} from './types.js'

/**
 * The order paths' customer upsert (`Customer::updateOrCreate` by tenant and normalised phone, reference
 * §3.5 step 2.3): name and notes set (notes overwritten, null when none was given). Decision A-10: a
 * soft-deleted customer with the same phone is restored (deleted_at cleared) and reused; upstream ignored it
 * and then hit the (tenant, phone) unique index with a 500. As Eloquent's save(), nothing is written (and
 * updated_at kept) when nothing changed. Runs inside the caller's write transaction.
 */
export async function upsertOrderCustomer(
  trx: Executor,
  tenantId: string,
  phone: string,
  fields: {name: string; notes: string | null},
  clock: Clock,
): Promise<{customer: CustomerRecord; created: boolean; restored: boolean}> {
  const now = toDbTimestamp(clock.now())
  const find = async () => {
    const query = trx<CustomerRecord>('customers').where({tenant_id: tenantId, phone_normalized: phone})
    return (onPostgres(trx) ? query.forUpdate() : query).first()
  }
  let existing = await find()
  if (!existing) {
    const id = uuid7(clock.now().getTime())
    await trx('customers')
      .insert({id, tenant_id: tenantId, name: fields.name, phone_normalized: phone, notes: fields.notes, created_at: now, updated_at: now})
      .onConflict(['tenant_id', 'phone_normalized'])
      .ignore()
    existing = await find()
    if (!existing) throw new Error(`customer ${tenantId}/${phone} neither inserted nor found`)
    if (existing.id === id) return {customer: existing, created: true, restored: false}
    // Another transaction inserted the same phone first: update it as updateOrCreate would have.
  }
  const patch: Partial<CustomerRecord> = {}
  if (existing.name !== fields.name) patch.name = fields.name
  if ((existing.notes ?? null) !== fields.notes) patch.notes = fields.notes
  const restored = existing.deleted_at !== null && existing.deleted_at !== undefined
  if (restored) patch.deleted_at = null
  if (Object.keys(patch).length === 0) return {customer: existing, created: false, restored: false}
  patch.updated_at = now
  await trx('customers').where({id: existing.id}).update(patch)
  return {customer: {...existing, ...patch}, created: false, restored}
}
