import {recordAuditEvent} from '../audit/trail.js'
import {type Clock, toDbTimestamp} from '../clock.js'
import type {Database} from '../db/connection.js'
import {type Executor, writeTransaction} from '../db/transactions.js'
import {ReasonError} from '../errors.js'
import {runOrderEffects, waEvent} from './effects.js'
import {TransitionError} from './errors.js'
import {DELIVERY_READY_LAUNDRY, validateCourierTransition, validateLaundryTransition} from './pipelines.js'
import {loadOrder, orderWithCourier} from './queries.js'
import {serializeOrder} from './serialize.js'
import type {OrderActor, OrderEffects, OrderPath, OrderRecord, OrderServiceContext, SourceChannel, WaOrderEvent} from './types.js'

/** How a status mutation is done: its path (wording, WA source) and channel. */
export interface StatusOptions {
  path: OrderPath
  sourceChannel: SourceChannel
}

export interface StatusChange {
  /** The order after the change. */
  order: OrderRecord
  /** The status before (courier: a null courier_status reads as pickup_pending). */
  from: string
  to: string
  effects: OrderEffects
}

const isPickupOrder = (order: Pick<OrderRecord, 'is_pickup_delivery'>): boolean => order.is_pickup_delivery === true || Number(order.is_pickup_delivery) === 1

const COURIER_ONLY_PICKUP = {
  rest: 'Courier status is only available for pickup-delivery orders.',
  sync: 'Courier status is only valid for pickup-delivery orders.',
}
const DELIVERY_NEEDS_READY = {
  rest: 'laundry_status must be ready before setting delivery_pending.',
  sync: 'laundry_status must be ready before delivery_pending.',
}
const ASSIGN_ONLY_PICKUP = {
  rest: 'Courier can only be assigned for pickup-delivery orders.',
  sync: 'Courier assignment is only for pickup-delivery orders.',
}
const ASSIGN_NOT_COURIER = {
  rest: 'Assigned user must be an active courier in the same tenant.',
  sync: 'Assigned user must have courier role.',
}

/** Courier status only exists for pickup-delivery orders: INVALID_TRANSITION otherwise (REST runs this before body validation). */
export function assertCourierStatusAvailable(order: OrderRecord, path: OrderPath): void {
  if (!isPickupOrder(order)) throw new TransitionError('INVALID_TRANSITION', COURIER_ONLY_PICKUP[path], 'courier_status', order.courier_status ?? null)
}

/** A courier can only be assigned to a pickup-delivery order: VALIDATION_FAILED otherwise (REST runs this before body validation). */
export function assertCourierAssignable(order: OrderRecord, path: OrderPath): void {
  if (!isPickupOrder(order)) throw new ReasonError('VALIDATION_FAILED', ASSIGN_ONLY_PICKUP[path])
}

/** Saves what changed (Eloquent's save(): nothing written, updated_at kept, when nothing is dirty). */
async function saveDirty(trx: Executor, order: OrderRecord, patch: Partial<OrderRecord>, clock: Clock): Promise<OrderRecord> {
  const dirty = Object.fromEntries(Object.entries(patch).filter(([key, value]) => (order as unknown as Record<string, unknown>)[key] !== value))
  if (Object.keys(dirty).length === 0) return order
  const updated = {...dirty, updated_at: toDbTimestamp(clock.now())}
  await trx('orders').where({id: order.id}).update(updated)
  return {...order, ...updated}
}

/**
 * The writes of a laundry status change, inside the caller's write transaction (reference §3.5, §4.1): the
 * order is read locked, the transition validated (TransitionError), the status saved with updated_by and
 * source_channel (a same-status request is accepted), and WA_LAUNDRY_READY (→ ready) or WA_ORDER_DONE
 * (→ completed, not pickup-delivery) returned as effects. Undefined when the order does not exist.
 */
export async function updateLaundryStatusIn(
  trx: Executor,
  actor: OrderActor,
  orderId: string,
  status: string,
  clock: Clock,
  options: StatusOptions,
): Promise<StatusChange | undefined> {
  const order = await loadOrder(trx, orderId, {lock: true})
  if (!order) return undefined
  const from = order.laundry_status
  const verdict = validateLaundryTransition(from, status)
  if (!verdict.ok) throw new TransitionError(verdict.code, verdict.message, 'laundry_status', from)
  const saved = await saveDirty(trx, order, {laundry_status: status, updated_by: actor.id, source_channel: options.sourceChannel}, clock)
  const wa: WaOrderEvent[] = []
  if (status === 'ready') wa.push(waEvent(order.id, 'WA_LAUNDRY_READY', actor.id, options.path, options.sourceChannel))
  if (status === 'completed' && !isPickupOrder(order)) wa.push(waEvent(order.id, 'WA_ORDER_DONE', actor.id, options.path, options.sourceChannel))
  return {order: saved, from, to: status, effects: {wa}}
}

/**
 * The writes of a courier status change, inside the caller's write transaction: pickup-delivery only
 * (INVALID_TRANSITION), current = courier_status or pickup_pending, the courier pipeline (TransitionError),
 * delivery_pending only once laundry is ready or completed; then saved, with WA_PICKUP_OTW,
 * WA_DELIVERY_OTW or WA_ORDER_DONE (→ delivered) as effects. Undefined when the order does not exist.
 */
export async function updateCourierStatusIn(
  trx: Executor,
  actor: OrderActor,
  orderId: string,
  status: string,
  clock: Clock,
  options: StatusOptions,
): Promise<StatusChange | undefined> {
  const order = await loadOrder(trx, orderId, {lock: true})
  if (!order) return undefined
  assertCourierStatusAvailable(order, options.path)
  const from = order.courier_status ?? 'pickup_pending'
  const verdict = validateCourierTransition(from, status)
  if (!verdict.ok) throw new TransitionError(verdict.code, verdict.message, 'courier_status', order.courier_status ?? null)
  if (status === 'delivery_pending' && !DELIVERY_READY_LAUNDRY.includes(order.laundry_status)) {
    throw new TransitionError('INVALID_TRANSITION', DELIVERY_NEEDS_READY[options.path], 'courier_status', order.courier_status ?? null)
  }
  const saved = await saveDirty(trx, order, {courier_status: status, updated_by: actor.id, source_channel: options.sourceChannel}, clock)
  const wa: WaOrderEvent[] = []
  if (status === 'pickup_on_the_way') wa.push(waEvent(order.id, 'WA_PICKUP_OTW', actor.id, options.path, options.sourceChannel))
  if (status === 'delivery_on_the_way') wa.push(waEvent(order.id, 'WA_DELIVERY_OTW', actor.id, options.path, options.sourceChannel))
  if (status === 'delivered') wa.push(waEvent(order.id, 'WA_ORDER_DONE', actor.id, options.path, options.sourceChannel))
  return {order: saved, from, to: status, effects: {wa}}
}

export interface CourierAssignment {
  order: OrderRecord
  courierUserId: number
  effects: OrderEffects
}

/**
 * The writes of a courier assignment, inside the caller's write transaction: pickup-delivery only, and the
 * user must be of the actor's tenant, not soft-deleted, and hold the courier role (status and outlet are not
 * checked, A-13 as upstream); VALIDATION_FAILED otherwise. Sets courier_user_id (with updated_by and
 * source_channel). Undefined when the order does not exist.
 */
export async function assignCourierIn(
  trx: Executor,
  actor: OrderActor,
  orderId: string,
  courierUserId: number,
  clock: Clock,
  options: StatusOptions,
): Promise<CourierAssignment | undefined> {
  const order = await loadOrder(trx, orderId, {lock: true})
  if (!order) return undefined
  assertCourierAssignable(order, options.path)
  const courier =
    Number.isSafeInteger(courierUserId) && courierUserId > 0
      ? await trx('users')
          .join('user_roles', 'user_roles.user_id', 'users.id')
          .join('roles', 'roles.id', 'user_roles.role_id')
          .where({'users.id': courierUserId, 'users.tenant_id': actor.tenant_id, 'roles.key': 'courier'})
          .whereNull('users.deleted_at')
          .first<{id: number} | undefined>('users.id')
      : undefined
  if (!courier) throw new ReasonError('VALIDATION_FAILED', ASSIGN_NOT_COURIER[options.path])
  const saved = await saveDirty(trx, order, {courier_user_id: courierUserId, updated_by: actor.id, source_channel: options.sourceChannel}, clock)
  return {order: saved, courierUserId, effects: {wa: []}}
}

/**
 * A REST order mutation end to end: `inner` (one of the `…In` functions) in a write transaction, its WA
 * effects after the commit, then the audit row `eventKey` with `metadata` of the result. The order was
 * bound (and its access checked) before, so an order gone in between is an internal error.
 */
export async function runOrderMutation<R extends {order: OrderRecord; effects: OrderEffects}>(
  db: Database,
  actor: OrderActor,
  orderId: string,
  ctx: OrderServiceContext,
  sourceChannel: SourceChannel | undefined,
  inner: (trx: Executor, options: StatusOptions) => Promise<R | undefined>,
  audit: {eventKey: string; metadata: (result: R) => Record<string, unknown>},
): Promise<R> {
  const options: StatusOptions = {path: 'rest', sourceChannel: sourceChannel ?? 'web'}
  const result = await writeTransaction(db, (trx) => inner(trx, options))
  if (!result) throw new Error(`order ${orderId} vanished`)
  await runOrderEffects(db, result.effects, ctx)
  await recordAuditEvent(
    db.knex,
    {
      eventKey: audit.eventKey,
      tenantId: actor.tenant_id,
      userId: actor.id,
      outletId: result.order.outlet_id,
      channel: 'api',
      entityType: 'order',
      entityId: result.order.id,
      metadata: audit.metadata(result),
      ...ctx.request,
    },
    ctx.clock,
  )
  return result
}

const fromTo = (change: StatusChange) => ({from: change.from, to: change.to})

/** POST /api/orders/{order}/status/laundry: `updateLaundryStatusIn` in a write transaction, WA after commit, ORDER_LAUNDRY_STATUS_UPDATED {from, to}; `{data: order}`. */
export async function updateLaundryStatus(
  db: Database,
  actor: OrderActor,
  orderId: string,
  status: string,
  ctx: OrderServiceContext,
  options: {sourceChannel?: SourceChannel} = {},
): Promise<{body: {data: Record<string, unknown>}; change: StatusChange}> {
  const change = await runOrderMutation(
    db,
    actor,
    orderId,
    ctx,
    options.sourceChannel,
    (trx, opts) => updateLaundryStatusIn(trx, actor, orderId, status, ctx.clock, opts),
    {eventKey: 'ORDER_LAUNDRY_STATUS_UPDATED', metadata: fromTo},
  )
  return {body: {data: serializeOrder(change.order)}, change}
}

/** POST /api/orders/{order}/status/courier: `updateCourierStatusIn` in a write transaction, WA after commit, ORDER_COURIER_STATUS_UPDATED {from, to}; `{data: order}`. */
export async function updateCourierStatus(
  db: Database,
  actor: OrderActor,
  orderId: string,
  status: string,
  ctx: OrderServiceContext,
  options: {sourceChannel?: SourceChannel} = {},
): Promise<{body: {data: Record<string, unknown>}; change: StatusChange}> {
  const change = await runOrderMutation(
    db,
    actor,
    orderId,
    ctx,
    options.sourceChannel,
    (trx, opts) => updateCourierStatusIn(trx, actor, orderId, status, ctx.clock, opts),
    {eventKey: 'ORDER_COURIER_STATUS_UPDATED', metadata: fromTo},
  )
  return {body: {data: serializeOrder(change.order)}, change}
}

/** POST /api/orders/{order}/assign-courier: `assignCourierIn` in a write transaction, ORDER_COURIER_ASSIGNED {courier_user_id}; `{data: order + courier}`. */
export async function assignCourier(
  db: Database,
  actor: OrderActor,
  orderId: string,
  courierUserId: number,
  ctx: OrderServiceContext,
  options: {sourceChannel?: SourceChannel} = {},
): Promise<{body: {data: Record<string, unknown>}; assignment: CourierAssignment}> {
  const assignment = await runOrderMutation(
    db,
    actor,
    orderId,
    ctx,
    options.sourceChannel,
    (trx, opts) => assignCourierIn(trx, actor, orderId, courierUserId, ctx.clock, opts),
    {eventKey: 'ORDER_COURIER_ASSIGNED', metadata: () => ({courier_user_id: courierUserId})},
  )
  return {body: {data: await orderWithCourier(db.knex, assignment.order)}, assignment}
}
