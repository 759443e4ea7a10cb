import {type Clock, toDbTimestamp} from '../clock.js'
import {selectRows} from '../db/raw.js'
import type {Executor} from '../db/transactions.js'
import {uuid7} from '../domain/ids.js'
import type {CustomerRecord} from './types.js'

const CUSTOMER_COLUMNS = 'id, tenant_id, name, phone_normalized, notes, created_at, updated_at, deleted_at'

/**
 * The order paths' customer upsert (`Customer::updateOrCreate` by tenant and normalised phone, reference
 * §3.5 step 2.3): name and notes set (notes overwritten, null when none was given). Decision A-10: a
 * soft-deleted customer with the same phone is restored (deleted_at cleared) and reused; upstream ignored it
 * and then hit the (tenant, phone) unique index with a 500. As Eloquent's save(), nothing is written (and
 * updated_at kept) when nothing changed. Runs inside the caller's write transaction, in fixed SQL (an
 * order creation's hot path): one read for a known customer, one insert for a new one.
 */
export async function upsertOrderCustomer(
  trx: Executor,
  tenantId: string,
  phone: string,
  fields: {name: string; notes: string | null},
  clock: Clock,
): Promise<{customer: CustomerRecord; created: boolean; restored: boolean}> {
  const now = toDbTimestamp(clock.now())
  // No row lock on the read (Eloquent's updateOrCreate takes none): an order for a returning customer must
  // not queue behind every other open creation for the same phone. A change is an UPDATE, which locks the
  // row until the commit; the last writer's name and notes win, as upstream.
  const findSql = `select ${CUSTOMER_COLUMNS} from customers where tenant_id = ? and phone_normalized = ? limit 1`
  const find = async () => (await selectRows<CustomerRecord>(trx, findSql, [tenantId, phone]))[0]
  let existing = await find()
  if (!existing) {
    const [inserted] = await selectRows<CustomerRecord>(
      trx,
      'insert into customers (id, tenant_id, name, phone_normalized, notes, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?) ' +
        `on conflict (tenant_id, phone_normalized) do nothing returning ${CUSTOMER_COLUMNS}`,
      [uuid7(clock.now().getTime()), tenantId, fields.name, phone, fields.notes, now, now],
    )
    if (inserted) return {customer: inserted, created: true, restored: false}
    // Another transaction inserted the same phone first: update it as updateOrCreate would have.
    existing = await find()
    if (!existing) throw new Error(`customer ${tenantId}/${phone} neither inserted nor found`)
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
