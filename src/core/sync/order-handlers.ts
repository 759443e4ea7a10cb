/**
 * The five order mutations of sync push (reference §3.6), over the order core's inner functions
 * (src/core/orders: the same writes as the REST routes, with sync's order time, invoice step, channel and
 * wording): each checks the role, validates its payload, resolves and checks its outlet or order, writes
 * inside push's transaction, records its changes in the feed (§4.6) and returns the ack's cursor, refs and
 * effects, with the WhatsApp enqueues for after the commit. No audit rows, as upstream.
 */
import {ROLE_ACCESS_MESSAGE, type RoleKey} from '../access/roles.js'
import {toDbTimestamp, toPeriod} from '../clock.js'
import {isLaravelUuid} from '../domain/id-input.js'
import {OpsError} from '../errors.js'
import {assignInvoiceFromLease, type LeaseOutlet, validateClientInvoice} from '../invoices/leases.js'
import {
  addPaymentIn,
  assertCourierStatusAvailable,
  assignCourierIn,
  createOrderIn,
  type CustomerRecord,
  eloquentTimestamp,
  loadOrder,
  type NewOrderInput,
  type OrderEffects,
  type OrderRecord,
  parseClientTime,
  runOrderEffects,
  serializeCreatedOrder,
  serializeCreatedPayment,
  serializeOrder,
  serializeOrderItem,
  type SourceChannel,
  type StatusOptions,
  TransitionError,
  updateCourierStatusIn,
  updateLaundryStatusIn,
} from '../orders/index.js'
import {recordChange} from './changes.js'
import {accessibleOutlet} from './outlet-scope.js'
import {type MutationContext, type MutationHandler, type MutationOutcome, SyncRejection} from './push.js'
import {isoFromDb} from './times.js'

/** ORDER_CREATE's payload once validated: POST /api/orders' body with a nullable outlet_id and customer.client_id. */
export interface OrderCreatePayload extends Omit<NewOrderInput, 'outlet_id' | 'customer'> {
  outlet_id?: string | null
  customer: NewOrderInput['customer'] & {client_id?: string | null}
}

export interface OrderPaymentPayload {
  order_id?: string | null
  amount: number
  method: string
  paid_at?: string | null
  notes?: string | null
}

export interface OrderStatusPayload {
  order_id?: string | null
  status: string
}

export interface OrderAssignCourierPayload {
  order_id?: string | null
  courier_user_id: number
}

/** The payload types by mutation type; the API validates payloads with Laravel's rules and messages. */
export interface SyncPayloads {
  ORDER_CREATE: OrderCreatePayload
  ORDER_ADD_PAYMENT: OrderPaymentPayload
  ORDER_UPDATE_LAUNDRY_STATUS: OrderStatusPayload
  ORDER_UPDATE_COURIER_STATUS: OrderStatusPayload
  ORDER_ASSIGN_COURIER: OrderAssignCourierPayload
}

export type SyncMutationType = keyof SyncPayloads

/**
 * Validates a mutation's payload with Laravel's rules for its type: returns the validated payload, or
 * throws ValidationError (a rejected item: VALIDATION_FAILED with the first message).
 */
export type SyncPayloadValidator = <T extends SyncMutationType>(type: T, payload: Record<string, unknown>) => SyncPayloads[T]

/** What the order handlers need beyond push's context. */
export interface OrderHandlerOptions {
  validatePayload: SyncPayloadValidator
  /** `brand_name` of WA templates (APP_NAME). */
  brandName: string
}

function ensureSyncRole(ctx: MutationContext, allowed: readonly RoleKey[]): void {
  if (!ctx.roleKeys.some((key) => (allowed as readonly string[]).includes(key))) throw new OpsError('ROLE_ACCESS_DENIED', ROLE_ACCESS_MESSAGE)
}

/** The customer's full row, as Eloquent's toArray() gives it (columns in table order). */
function customerData(row: CustomerRecord): Record<string, unknown> {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    name: row.name,
    phone_normalized: row.phone_normalized,
    notes: row.notes ?? null,
    created_at: eloquentTimestamp(row.created_at),
    updated_at: eloquentTimestamp(row.updated_at),
    deleted_at: eloquentTimestamp(row.deleted_at),
  }
}

function afterCommit(ctx: MutationContext, options: OrderHandlerOptions, effects: OrderEffects): (() => Promise<void>) | undefined {
  if (effects.wa.length === 0) return undefined
  return async () => {
    await runOrderEffects(ctx.db, effects, {clock: ctx.clock, brandName: options.brandName})
  }
}

/** The mutation's order: `entity.entity_id`, else `payload.order_id`; of the user's tenant, in an outlet the user may use. */
async function mutationOrder(ctx: MutationContext, payloadOrderId: string | null | undefined): Promise<{order: OrderRecord; outlet: LeaseOutlet}> {
  const id = ctx.mutation.entity?.entity_id ?? payloadOrderId ?? null
  if (id === null || id === '') throw new SyncRejection('VALIDATION_FAILED', 'order_id is required.')
  const order = isLaravelUuid(id) ? await loadOrder(ctx.trx, id.toLowerCase()) : undefined
  if (!order || order.tenant_id !== ctx.user.tenant_id) throw new SyncRejection('VALIDATION_FAILED', 'Order not found.')
  const outlet = await accessibleOutlet(ctx.trx, {user: ctx.user, roleKeys: ctx.roleKeys, outletId: order.outlet_id})
  return {order, outlet}
}

const channelOf = (ctx: MutationContext) => ctx.sourceChannel as SourceChannel

/** ORDER_CREATE (owner, admin, cashier). */
function orderCreate(options: OrderHandlerOptions): MutationHandler {
  return async (ctx): Promise<MutationOutcome> => {
    ensureSyncRole(ctx, ['owner', 'admin', 'cashier'])
    const payload = options.validatePayload('ORDER_CREATE', ctx.payload)
    const outletId = ctx.mutation.outlet_id ?? payload.outlet_id ?? null
    if (outletId === null) throw new SyncRejection('VALIDATION_FAILED', 'outlet_id is required.')
    const outlet = await accessibleOutlet(ctx.trx, {user: ctx.user, roleKeys: ctx.roleKeys, outletId})
    const now = ctx.clock.now()
    const parsed = ctx.mutation.client_time ? parseClientTime(ctx.mutation.client_time) : null
    const orderTime = parsed ?? {stored: toDbTimestamp(now), period: toPeriod(now), instant: now}
    const {customer: customerInput, ...order} = payload
    const input: NewOrderInput = {
      ...order,
      outlet_id: outlet.id,
      customer: {name: customerInput.name, phone: customerInput.phone, notes: customerInput.notes ?? null},
    }
    const created = await createOrderIn(ctx.trx, ctx.user, input, ctx.clock, {
      path: 'sync',
      sourceChannel: channelOf(ctx),
      orderTime: {stored: orderTime.stored, period: orderTime.period},
      resolveInvoiceNo: async (trx, resolution) => {
        const lease = {outlet, deviceId: ctx.deviceId, orderTime: orderTime.instant}
        if (resolution.requested !== null && resolution.requested !== '') {
          return {invoiceNo: await validateClientInvoice(trx, ctx.db.dialect, {...lease, invoiceNo: resolution.requested}), assigned: false}
        }
        const assigned = await assignInvoiceFromLease(trx, ctx.db.dialect, lease, ctx.clock)
        return {invoiceNo: assigned, assigned: assigned !== null}
      },
    })
    const tenantId = ctx.user.tenant_id
    for (const item of created.items) {
      await recordChange(ctx.trx, {tenantId, outletId: outlet.id, entityType: 'order_item', entityId: item.id, data: serializeOrderItem(item)}, ctx.clock)
    }
    await recordChange(
      ctx.trx,
      {tenantId, outletId: null, entityType: 'customer', entityId: created.customer.id, data: customerData(created.customer)},
      ctx.clock,
    )
    const cursor = await recordChange(
      ctx.trx,
      {tenantId, outletId: outlet.id, entityType: 'order', entityId: created.order.id, data: serializeCreatedOrder(created.order)},
      ctx.clock,
    )
    const effects: Record<string, unknown> = {}
    if (created.invoiceAssigned && created.order.invoice_no !== null) effects.invoice_no_assigned = created.order.invoice_no
    if (customerInput.client_id !== null && customerInput.client_id !== undefined) {
      effects.id_map = {customer_client_id: customerInput.client_id, customer_server_id: created.customer.id}
    }
    return {
      serverCursor: cursor,
      entityRefs: [
        {entity_type: 'order', entity_id: created.order.id},
        {entity_type: 'customer', entity_id: created.customer.id},
      ],
      effects,
      afterCommit: afterCommit(ctx, options, created.effects),
    }
  }
}

/** ORDER_ADD_PAYMENT (owner, admin, cashier): A-3, the intended behaviour (upstream's handler always crashed at cd31449). */
function orderAddPayment(options: OrderHandlerOptions): MutationHandler {
  return async (ctx): Promise<MutationOutcome> => {
    ensureSyncRole(ctx, ['owner', 'admin', 'cashier'])
    const payload = options.validatePayload('ORDER_ADD_PAYMENT', ctx.payload)
    const {order} = await mutationOrder(ctx, payload.order_id)
    const paidAt = payload.paid_at ? (parseClientTime(payload.paid_at)?.stored ?? null) : null
    const added = await addPaymentIn(
      ctx.trx,
      ctx.user,
      order.id,
      {amount: payload.amount, method: payload.method, paid_at: paidAt, notes: payload.notes ?? null},
      ctx.clock,
      {sourceChannel: channelOf(ctx)},
    )
    if (!added) throw new SyncRejection('VALIDATION_FAILED', 'Order not found.')
    const tenantId = ctx.user.tenant_id
    await recordChange(
      ctx.trx,
      {tenantId, outletId: order.outlet_id, entityType: 'payment', entityId: added.payment.id, data: serializeCreatedPayment(added.payment)},
      ctx.clock,
    )
    const cursor = await recordChange(
      ctx.trx,
      {tenantId, outletId: order.outlet_id, entityType: 'order', entityId: order.id, data: serializeOrder(added.order)},
      ctx.clock,
    )
    return {
      serverCursor: cursor,
      entityRefs: [
        {entity_type: 'payment', entity_id: added.payment.id},
        {entity_type: 'order', entity_id: order.id},
      ],
      effects: {},
      afterCommit: afterCommit(ctx, options, added.effects),
    }
  }
}

/** A refused transition as sync rejects it: the order's current status in `current_server_state`. */
function transitionRejection(error: TransitionError, order: OrderRecord): SyncRejection {
  return new SyncRejection(error.code, error.message, {
    entity_type: 'order',
    entity_id: order.id,
    [error.field]: error.current,
    updated_at: isoFromDb(order.updated_at),
  })
}

async function orderChange(ctx: MutationContext, order: OrderRecord): Promise<number> {
  return recordChange(
    ctx.trx,
    {tenantId: ctx.user.tenant_id, outletId: order.outlet_id, entityType: 'order', entityId: order.id, data: serializeOrder(order)},
    ctx.clock,
  )
}

/** The order mutation that changes one order and answers its `order` change (status changes, courier assignment). */
interface OrderUpdate<T extends 'ORDER_UPDATE_LAUNDRY_STATUS' | 'ORDER_UPDATE_COURIER_STATUS' | 'ORDER_ASSIGN_COURIER'> {
  type: T
  roles: readonly RoleKey[]
  /** Checks on the bound order before the change (a refusal thrown as a SyncRejection). */
  check?: (order: OrderRecord) => void
  /** The `…In` function of src/core/orders; undefined when the order is gone. */
  apply: (
    ctx: MutationContext,
    order: OrderRecord,
    payload: SyncPayloads[T],
    options: StatusOptions,
  ) => Promise<{order: OrderRecord; effects: OrderEffects} | undefined>
}

/**
 * One handler for the order updates: role, payload, the bound order, `check`, then `apply` in the push's
 * transaction (a refused transition rejected with the order's current state), the `order` change, and the
 * WA effects after the commit.
 */
function orderUpdateHandler<T extends 'ORDER_UPDATE_LAUNDRY_STATUS' | 'ORDER_UPDATE_COURIER_STATUS' | 'ORDER_ASSIGN_COURIER'>(
  options: OrderHandlerOptions,
  update: OrderUpdate<T>,
): MutationHandler {
  return async (ctx): Promise<MutationOutcome> => {
    ensureSyncRole(ctx, update.roles)
    const payload = options.validatePayload(update.type, ctx.payload)
    const {order} = await mutationOrder(ctx, payload.order_id)
    update.check?.(order)
    let result
    try {
      result = await update.apply(ctx, order, payload, {path: 'sync', sourceChannel: channelOf(ctx)})
    } catch (error) {
      if (error instanceof TransitionError) throw transitionRejection(error, order)
      throw error
    }
    if (!result) throw new SyncRejection('VALIDATION_FAILED', 'Order not found.')
    const cursor = await orderChange(ctx, result.order)
    return {
      serverCursor: cursor,
      entityRefs: [{entity_type: 'order', entity_id: order.id}],
      effects: {},
      afterCommit: afterCommit(ctx, options, result.effects),
    }
  }
}

/** ORDER_UPDATE_LAUNDRY_STATUS (owner, admin, worker). */
const LAUNDRY_STATUS: OrderUpdate<'ORDER_UPDATE_LAUNDRY_STATUS'> = {
  type: 'ORDER_UPDATE_LAUNDRY_STATUS',
  roles: ['owner', 'admin', 'worker'],
  apply: (ctx, order, payload, opts) => updateLaundryStatusIn(ctx.trx, ctx.user, order.id, payload.status, ctx.clock, opts),
}

/** ORDER_UPDATE_COURIER_STATUS (owner, admin, courier; any courier of the tenant, not only the assigned one). */
const COURIER_STATUS: OrderUpdate<'ORDER_UPDATE_COURIER_STATUS'> = {
  type: 'ORDER_UPDATE_COURIER_STATUS',
  roles: ['owner', 'admin', 'courier'],
  check: (order) => {
    try {
      assertCourierStatusAvailable(order, 'sync')
    } catch (error) {
      // Not a pickup-delivery order: INVALID_TRANSITION without a current state (there is no courier pipeline).
      if (error instanceof TransitionError) throw new SyncRejection(error.code, error.message)
      throw error
    }
  },
  apply: (ctx, order, payload, opts) => updateCourierStatusIn(ctx.trx, ctx.user, order.id, payload.status, ctx.clock, opts),
}

/** ORDER_ASSIGN_COURIER (owner, admin). */
const ASSIGN_COURIER: OrderUpdate<'ORDER_ASSIGN_COURIER'> = {
  type: 'ORDER_ASSIGN_COURIER',
  roles: ['owner', 'admin'],
  apply: (ctx, order, payload, opts) => assignCourierIn(ctx.trx, ctx.user, order.id, payload.courier_user_id, ctx.clock, opts),
}

/** The five order mutation handlers, by type. */
export function orderMutationHandlers(options: OrderHandlerOptions): Record<SyncMutationType, MutationHandler> {
  return {
    ORDER_CREATE: orderCreate(options),
    ORDER_ADD_PAYMENT: orderAddPayment(options),
    ORDER_UPDATE_LAUNDRY_STATUS: orderUpdateHandler(options, LAUNDRY_STATUS),
    ORDER_UPDATE_COURIER_STATUS: orderUpdateHandler(options, COURIER_STATUS),
    ORDER_ASSIGN_COURIER: orderUpdateHandler(options, ASSIGN_COURIER),
  }
}
