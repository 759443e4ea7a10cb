import {recordAuditEvent} from '../audit/trail.js'
import {toDbTimestamp} from '../clock.js'
import type {Database} from '../db/connection.js'
import {writeTransaction} from '../db/transactions.js'
import {ReasonError} from '../errors.js'
import {phpArrayShape, phpJsonEncode} from '../php/json.js'
import {loadOrder} from './queries.js'
import {serializeOrder} from './serialize.js'
import {dueAmount} from './totals.js'
import type {OrderActor, OrderRecord, OrderServiceContext, SourceChannel} from './types.js'

/** The courier statuses from which a cashier may no longer edit the schedule (reference §3.5). */
export const SCHEDULE_LOCKED_COURIER_STATUSES = ['pickup_on_the_way', 'picked_up', 'at_outlet', 'delivery_pending', 'delivery_on_the_way', 'delivered'] as const

/**
 * PATCH /api/orders/{order}/schedule's cashier lock, run before validation: anyone holding the cashier role
 * (even with owner or admin beside it) is refused 422 SCHEDULE_LOCKED once the courier is on the way.
 */
export function assertScheduleEditable(order: Pick<OrderRecord, 'courier_status'>, roleKeys: readonly string[]): void {
  if (!roleKeys.includes('cashier')) return
  if ((SCHEDULE_LOCKED_COURIER_STATUSES as readonly string[]).includes(order.courier_status ?? '')) {
    throw new ReasonError('SCHEDULE_LOCKED', 'Cashier can only edit schedule before pickup_on_the_way.')
  }
}

/** The validated body; a key absent is `undefined`, a key present with null (or "") is `null`. */
export interface ScheduleInput {
  shipping_fee_amount?: number | null
  pickup?: unknown
  delivery?: unknown
  notes?: string | null
}

/**
 * PATCH /api/orders/{order}/schedule (reference §3.5): in a write transaction, the order read locked; the
 * shipping fee is the given value when the key is present (null sets 0), else the old one; total = max(old
 * total − old shipping + new shipping, 0), due = max(total − paid, 0); pickup, delivery and notes replaced
 * only when non-null; updated_by and source_channel set. Then ORDER_SCHEDULE_UPDATED {shipping_fee_amount,
 * total_amount, due_amount} and `{data: fresh order}`.
 */
export async function updateSchedule(
  db: Database,
  actor: OrderActor,
  orderId: string,
  input: ScheduleInput,
  ctx: OrderServiceContext,
  options: {sourceChannel?: SourceChannel} = {},
): Promise<{body: {data: Record<string, unknown>}; order: OrderRecord}> {
  const sourceChannel = options.sourceChannel ?? 'web'
  const saved = await writeTransaction(db, async (trx) => {
    const order = await loadOrder(trx, orderId, {lock: true})
    if (!order) throw new Error(`order ${orderId} vanished`)
    const oldShipping = Number(order.shipping_fee_amount)
    const shipping = input.shipping_fee_amount === undefined ? oldShipping : (input.shipping_fee_amount ?? 0)
    const total = Math.max(Number(order.total_amount) - oldShipping + shipping, 0)
    const patch: Record<string, unknown> = {
      shipping_fee_amount: shipping,
      total_amount: total,
      due_amount: dueAmount(total, Number(order.paid_amount)),
      updated_by: actor.id,
      source_channel: sourceChannel,
    }
    if (input.pickup !== null && input.pickup !== undefined) patch.pickup = phpJsonEncode(phpArrayShape(input.pickup))
    if (input.delivery !== null && input.delivery !== undefined) patch.delivery = phpJsonEncode(phpArrayShape(input.delivery))
    if (input.notes !== null && input.notes !== undefined) patch.notes = input.notes
    // Eloquent's save(): nothing written, updated_at kept, when nothing is dirty.
    const current = order as unknown as Record<string, unknown>
    const dirty = Object.fromEntries(
      Object.entries(patch).filter(([key, value]) => (typeof value === 'number' ? Number(current[key]) !== value : current[key] !== value)),
    )
    if (Object.keys(dirty).length > 0)
      await trx('orders')
        .where({id: order.id})
        .update({...dirty, updated_at: toDbTimestamp(ctx.clock.now())})
    return {shipping, total, due: patch.due_amount as number}
  })
  const fresh = await loadOrder(db.knex, orderId)
  if (!fresh) throw new Error(`order ${orderId} vanished`)
  await recordAuditEvent(
    db.knex,
    {
      eventKey: 'ORDER_SCHEDULE_UPDATED',
      tenantId: actor.tenant_id,
      userId: actor.id,
      outletId: fresh.outlet_id,
      channel: 'api',
      entityType: 'order',
      entityId: fresh.id,
      metadata: {shipping_fee_amount: saved.shipping, total_amount: saved.total, due_amount: saved.due},
      ...ctx.request,
    },
    ctx.clock,
  )
  return {body: {data: serializeOrder(fresh)}, order: fresh}
}
