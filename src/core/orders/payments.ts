import {recordAuditEvent} from '../audit/trail.js'
import {type Clock, toDbTimestamp} from '../clock.js'
import type {Database} from '../db/connection.js'
import {type Executor, writeTransaction} from '../db/transactions.js'
import {uuid7} from '../domain/ids.js'
import {loadOrder, loadPayments, orderWithPayments} from './queries.js'
import {serializeCreatedPayment} from './serialize.js'
import {dueAmount, MAX_AMOUNT} from './totals.js'
import {ValidationError} from '../errors.js'
import type {OrderActor, OrderEffects, OrderRecord, OrderServiceContext, PaymentRecord, SourceChannel} from './types.js'

/** The validated body of POST /payments (and sync's ORDER_ADD_PAYMENT payload). */
export interface NewPaymentInput {
  amount: number
  method: string
  /** The stored paid_at text (`parseClientTime(raw).stored`), or null/absent for now. */
  paid_at?: string | null
  notes?: string | null
}

export interface AddedPayment {
  payment: PaymentRecord
  /** The order after the recalculation. */
  order: OrderRecord
  /** Payments never trigger WA (reference §4.8): always empty. */
  effects: OrderEffects
}

/**
 * The writes of a payment, inside the caller's write transaction (reference §3.5 POST /payments): the order
 * row is locked (PostgreSQL FOR UPDATE; SQLite's write transaction holds the database), the payment
 * inserted, paid re-summed from every payment of the order and due = max(total − paid, 0) written with
 * updated_by and source_channel. No overpayment guard, no status guard, collection_status untouched.
 * Returns undefined when the order does not exist.
 */
export async function addPaymentIn(
  trx: Executor,
  actor: OrderActor,
  orderId: string,
  input: NewPaymentInput,
  clock: Clock,
  options: {sourceChannel: SourceChannel},
): Promise<AddedPayment | undefined> {
  const order = await loadOrder(trx, orderId, {lock: true})
  if (!order) return undefined
  // Beyond the integer columns upstream's insert or update failed with a 500; ours is a 422 on amount.
  const tooLarge = new ValidationError({amount: [`The amount field must not be greater than ${MAX_AMOUNT}.`]})
  if (Number(input.amount) > MAX_AMOUNT || Number(order.paid_amount) + Number(input.amount) > MAX_AMOUNT) throw tooLarge
  const now = toDbTimestamp(clock.now())
  const payment: PaymentRecord = {
    id: uuid7(clock.now().getTime()),
    order_id: order.id,
    amount: Math.trunc(Number(input.amount)),
    method: input.method,
    paid_at: input.paid_at ?? now,
    notes: input.notes ?? null,
    created_by: actor.id,
    updated_by: actor.id,
    source_channel: options.sourceChannel,
    created_at: now,
    updated_at: now,
  }
  await trx('payments').insert(payment)
  const paid = (await loadPayments(trx, order.id)).reduce((sum, p) => sum + Number(p.amount), 0)
  const due = dueAmount(Number(order.total_amount), paid)
  await trx('orders')
    .where({id: order.id})
    .update({paid_amount: paid, due_amount: due, updated_by: actor.id, source_channel: options.sourceChannel, updated_at: now})
  const updated = await loadOrder(trx, order.id)
  return {payment, order: updated ?? order, effects: {wa: []}}
}

/**
 * POST /api/orders/{order}/payments (reference §3.5): `addPaymentIn` in one write transaction, then the
 * PAYMENT_ADDED audit row. Returns the 201 body `{data: payment, order: order + payments}`.
 */
export async function addPayment(
  db: Database,
  actor: OrderActor,
  orderId: string,
  input: NewPaymentInput,
  ctx: OrderServiceContext,
  options: {sourceChannel?: SourceChannel} = {},
): Promise<{body: {data: Record<string, unknown>; order: Record<string, unknown>}; added: AddedPayment}> {
  const added = await writeTransaction(db, (trx) => addPaymentIn(trx, actor, orderId, input, ctx.clock, {sourceChannel: options.sourceChannel ?? 'web'}))
  if (!added) throw new Error(`order ${orderId} vanished`)
  await recordAuditEvent(
    db.knex,
    {
      eventKey: 'PAYMENT_ADDED',
      tenantId: actor.tenant_id,
      userId: actor.id,
      outletId: added.order.outlet_id,
      channel: 'api',
      entityType: 'payment',
      entityId: added.payment.id,
      metadata: {order_id: added.order.id, amount: added.payment.amount, method: added.payment.method},
      ...ctx.request,
    },
    ctx.clock,
  )
  // Upstream's $order->fresh(['payments']): the order and its payments both read after the commit, so they agree.
  const fresh = await loadOrder(db.knex, orderId)
  if (!fresh) throw new Error(`order ${orderId} vanished`)
  return {body: {data: serializeCreatedPayment(added.payment), order: await orderWithPayments(db.knex, fresh)}, added}
}
