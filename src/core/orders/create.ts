import {randomInt} from 'node:crypto'

import {recordAuditEvent} from '../audit/trail.js'
import {type Clock, toDbTimestamp, toPeriod} from '../clock.js'
import type {Database} from '../db/connection.js'
import {type Executor, writeTransaction} from '../db/transactions.js'
import {isLaravelUuid} from '../domain/id-input.js'
import {uuid7} from '../domain/ids.js'
import {normalizePhone} from '../domain/phone.js'
import {ReasonError} from '../errors.js'
import {phpJsonEncode} from '../php/json.js'
import {consumeOrderSlot, QuotaExceeded} from '../quota/consume.js'
import {upsertOrderCustomer} from './customers.js'
import {runOrderEffects, waEvent} from './effects.js'
import {isUniqueViolation, orderInputError, violationText} from './errors.js'
import {loadOrder, loadOrderItems} from './queries.js'
import {serializeCreatedOrder, serializeCustomerBrief, serializeOrderItem} from './serialize.js'
import {lineSubtotal, MAX_AMOUNT, MAX_METRIC, orderTotal, storedDecimal, unitPrice} from './totals.js'
import type {CustomerRecord, OrderActor, OrderEffects, OrderItemRecord, OrderPath, OrderRecord, OrderServiceContext, SourceChannel} from './types.js'

/** One item of a new order: a service and its qty or weight (numbers, or numeric strings as validated). */
export interface NewOrderItem {
  service_id: string
  qty?: number | string | null
  weight_kg?: number | string | null
}

/** The validated body of POST /api/orders (and of sync's ORDER_CREATE payload, outlet resolved). */
export interface NewOrderInput {
  outlet_id: string
  order_code?: string | null
  invoice_no?: string | null
  is_pickup_delivery?: boolean | null
  shipping_fee_amount?: number | null
  discount_amount?: number | null
  notes?: string | null
  pickup?: unknown
  delivery?: unknown
  customer: {name: string; phone: string; notes?: string | null}
  items: readonly NewOrderItem[]
}

/** What the invoice resolver is told: it runs inside the transaction, after the customer upsert. */
export interface InvoiceResolution {
  actor: OrderActor
  outletId: string
  /** The client's invoice_no (null when none was sent). */
  requested: string | null
  customer: CustomerRecord
}

export interface CreateOrderOptions {
  /** Error wording and codes, and WA metadata `source` (reference §3.5 vs §3.6). */
  path: OrderPath
  sourceChannel: SourceChannel
  /**
   * Sync's order time (client_time, `parseClientTime`): created_at and updated_at are overwritten with its
   * stored text, and the quota period is its `Y-m` unless `quotaPeriod` says otherwise. REST: absent (now).
   */
  orderTime?: {stored: string; period: string}
  /** The quota period to consume; default `orderTime.period`, else the current UTC `YYYY-MM`. */
  quotaPeriod?: string
  /**
   * Sync's invoice step (lease validation or assignment, reference §4.5): returns the invoice_no to store and
   * whether the server assigned it. Absent (REST): the client's invoice_no as given, or null; a duplicate in
   * the tenant is a 422.
   */
  resolveInvoiceNo?: (trx: Executor, context: InvoiceResolution) => Promise<{invoiceNo: string | null; assigned: boolean}>
}

/** The rows a creation wrote, and its after-commit effects. */
export interface CreatedOrder {
  order: OrderRecord
  customer: CustomerRecord
  /** The customer row was inserted (not found by phone). */
  customerCreated: boolean
  /** A soft-deleted customer with this phone was restored. */
  customerRestored: boolean
  items: OrderItemRecord[]
  /** The invoice resolver assigned the number (sync's `invoice_no_assigned` effect). */
  invoiceAssigned: boolean
  quota: {period: string; ordersUsed: number; ordersLimit: number | null}
  effects: OrderEffects
}

const CODE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** `'ORD-'.strtoupper(Str::random(8))` (reference §4.4). */
export function generateOrderCode(): string {
  let code = ''
  for (let i = 0; i < 8; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]
  return `ORD-${code.toUpperCase()}`
}

/** An amount or metric beyond what the columns hold (a 500 upstream): a field error on REST, VALIDATION_FAILED on sync. */
function tooLarge(path: OrderPath, field: string, message: string): Error {
  return orderInputError(path, field, message, message)
}

/** PHP's `(float)` of a validated numeric value; null when absent. */
function metricOf(value: number | string | null | undefined): number | null {
  if (value === null || value === undefined) return null
  const n = typeof value === 'number' ? value : Number(value)
  return Number.isFinite(n) ? n : null
}

const DUPLICATE_ORDER_CODE = {rest: 'The order_code has already been used in this tenant.', sync: 'order_code already exists.'}
/** upstream's duplicate REST invoice_no hit the unique index (500); ours is a 422 on the field. */
export const DUPLICATE_INVOICE_NO = 'The invoice_no has already been used in this tenant.'

/**
 * The writes of an order creation, inside the caller's write transaction (reference §3.5 POST /api/orders;
 * sync ORDER_CREATE §3.6 with `options`): the order_code uniqueness check, one quota slot (§4.7), the phone
 * (§4.3) and customer upsert, the invoice, the order (received; pickup_pending when pickup-delivery),
 * the items at their effective prices, and the totals. Throws ValidationError / ReasonError as the path
 * words them; the caller's rollback then undoes everything, the quota increment included. No audit and no
 * WA here: the WA events are returned in `effects` for after the commit.
 */
export async function createOrderIn(trx: Executor, actor: OrderActor, input: NewOrderInput, clock: Clock, options: CreateOrderOptions): Promise<CreatedOrder> {
  const {path} = options
  const tenantId = actor.tenant_id
  const now = toDbTimestamp(clock.now())

  if (input.order_code !== null && input.order_code !== undefined) {
    if (await trx('orders').where({tenant_id: tenantId, order_code: input.order_code}).first('id')) {
      throw orderInputError(path, 'order_code', DUPLICATE_ORDER_CODE.rest, DUPLICATE_ORDER_CODE.sync)
    }
  }

  const period = options.quotaPeriod ?? options.orderTime?.period ?? toPeriod(clock.now())
  let quota: {ordersUsed: number; ordersLimit: number | null}
  try {
    quota = await consumeOrderSlot(trx, tenantId, period, clock)
  } catch (error) {
    if (!(error instanceof QuotaExceeded)) throw error
    const extra = path === 'rest' ? {period: error.period, orders_limit: error.ordersLimit, orders_used: error.ordersUsed} : {}
    throw new ReasonError('QUOTA_EXCEEDED', error.message, extra)
  }

  const phone = normalizePhone(input.customer.phone)
  if (phone === null) {
    throw path === 'rest'
      ? orderInputError(path, 'customer.phone', 'Invalid phone number format.', '')
      : new ReasonError('PHONE_INVALID', 'Invalid phone number format.')
  }
  const upserted = await upsertOrderCustomer(trx, tenantId, phone, {name: input.customer.name, notes: input.customer.notes ?? null}, clock)
  const customer = upserted.customer

  let invoiceNo = input.invoice_no ?? null
  let invoiceAssigned = false
  if (options.resolveInvoiceNo) {
    const resolved = await options.resolveInvoiceNo(trx, {actor, outletId: input.outlet_id, requested: invoiceNo, customer})
    invoiceNo = resolved.invoiceNo
    invoiceAssigned = resolved.assigned
  } else if (invoiceNo !== null && (await trx('orders').where({tenant_id: tenantId, invoice_no: invoiceNo}).first('id'))) {
    throw orderInputError(path, 'invoice_no', DUPLICATE_INVOICE_NO, 'invoice_no already exists.')
  }

  const isPickup = input.is_pickup_delivery === true
  const shipping = Math.trunc(Number(input.shipping_fee_amount ?? 0))
  const discount = Math.trunc(Number(input.discount_amount ?? 0))
  for (const [field, value] of [
    ['shipping_fee_amount', shipping],
    ['discount_amount', discount],
  ] as const) {
    if (value > MAX_AMOUNT) throw tooLarge(path, field, `The ${field.replace(/_/g, ' ')} field must not be greater than ${MAX_AMOUNT}.`)
  }
  const orderId = uuid7(clock.now().getTime())
  const stamp = options.orderTime?.stored ?? now
  try {
    await trx('orders').insert({
      id: orderId,
      tenant_id: tenantId,
      outlet_id: input.outlet_id,
      customer_id: customer.id,
      invoice_no: invoiceNo,
      order_code: input.order_code ?? generateOrderCode(),
      is_pickup_delivery: isPickup,
      laundry_status: 'received',
      courier_status: isPickup ? 'pickup_pending' : null,
      shipping_fee_amount: shipping,
      discount_amount: discount,
      total_amount: 0,
      paid_amount: 0,
      due_amount: 0,
      pickup: input.pickup === null || input.pickup === undefined ? null : phpJsonEncode(input.pickup),
      delivery: input.delivery === null || input.delivery === undefined ? null : phpJsonEncode(input.delivery),
      notes: input.notes ?? null,
      created_by: actor.id,
      updated_by: actor.id,
      source_channel: options.sourceChannel,
      created_at: stamp,
      updated_at: stamp,
    })
  } catch (error) {
    // A concurrent creation took the code or invoice number between our check and this insert.
    if (!isUniqueViolation(error)) throw error
    if (violationText(error).includes('invoice_no')) throw orderInputError(path, 'invoice_no', DUPLICATE_INVOICE_NO, 'invoice_no already exists.')
    throw orderInputError(path, 'order_code', DUPLICATE_ORDER_CODE.rest, DUPLICATE_ORDER_CODE.sync)
  }

  const subtotals: number[] = []
  for (const item of input.items) {
    const service =
      typeof item.service_id === 'string' && isLaravelUuid(item.service_id)
        ? await trx('services')
            .where({id: item.service_id.toLowerCase(), tenant_id: tenantId, active: true})
            .whereNull('deleted_at')
            .first<{id: string; name: string; unit_type: string; base_price_amount: number} | undefined>('id', 'name', 'unit_type', 'base_price_amount')
        : undefined
    if (!service) {
      throw orderInputError(path, 'items', `Service ${item.service_id} is invalid for this tenant.`, `Service ${item.service_id} is invalid.`)
    }
    const override = await trx('outlet_services')
      .where({outlet_id: input.outlet_id, service_id: service.id, active: true})
      .first<{price_override_amount: number | null} | undefined>('price_override_amount')
    const price = unitPrice(
      Number(service.base_price_amount),
      override?.price_override_amount === null || override === undefined ? null : Number(override.price_override_amount),
    )
    const qty = metricOf(item.qty)
    const weight = metricOf(item.weight_kg)
    if (service.unit_type === 'kg' && !weight) {
      throw orderInputError(path, 'items', 'weight_kg is required for unit_type kg.', 'weight_kg is required for kg service.')
    }
    if (service.unit_type === 'pcs' && !qty) {
      throw orderInputError(path, 'items', 'qty is required for unit_type pcs.', 'qty is required for pcs service.')
    }
    if ((qty ?? 0) > MAX_METRIC || (weight ?? 0) > MAX_METRIC) throw tooLarge(path, 'items', `qty and weight_kg must not be greater than ${MAX_METRIC}.`)
    const metric = service.unit_type === 'kg' ? (weight ?? 0) : (qty ?? 0)
    const subtotal = lineSubtotal(metric, price)
    if (subtotal > MAX_AMOUNT) throw tooLarge(path, 'items', `An item subtotal must not be greater than ${MAX_AMOUNT}.`)
    subtotals.push(subtotal)
    await trx('order_items').insert({
      id: uuid7(clock.now().getTime()),
      order_id: orderId,
      service_id: service.id,
      service_name_snapshot: service.name,
      unit_type_snapshot: service.unit_type,
      qty: storedDecimal(qty),
      weight_kg: storedDecimal(weight),
      unit_price_amount: price,
      subtotal_amount: subtotal,
      created_at: now,
      updated_at: now,
    })
  }

  const total = orderTotal(subtotals, shipping, discount)
  if (total > MAX_AMOUNT) throw tooLarge(path, 'items', `The order total must not be greater than ${MAX_AMOUNT}.`)
  await trx('orders').where({id: orderId}).update({total_amount: total, paid_amount: 0, due_amount: total, updated_at: stamp})

  const order = await loadOrder(trx, orderId)
  if (!order) throw new Error(`order ${orderId} not found after insert`)
  const effects: OrderEffects = {wa: isPickup ? [waEvent(orderId, 'WA_PICKUP_CONFIRM', actor.id, path, options.sourceChannel)] : []}
  return {
    order,
    customer,
    customerCreated: upserted.created,
    customerRestored: upserted.restored,
    items: await loadOrderItems(trx, orderId),
    invoiceAssigned,
    quota: {period, ...quota},
    effects,
  }
}

/**
 * POST /api/orders (reference §3.5): `createOrderIn` in one write transaction, then WA_PICKUP_CONFIRM for a
 * pickup-delivery order and the ORDER_CREATED audit row. Returns the 201 body `{data: order + customer +
 * items}` and the rows.
 */
export async function createOrder(
  db: Database,
  actor: OrderActor,
  input: NewOrderInput,
  ctx: OrderServiceContext,
  options: Partial<CreateOrderOptions> = {},
): Promise<{body: {data: Record<string, unknown>}; created: CreatedOrder}> {
  const opts: CreateOrderOptions = {path: 'rest', sourceChannel: 'web', ...options}
  const created = await writeTransaction(db, (trx) => createOrderIn(trx, actor, input, ctx.clock, opts))
  await runOrderEffects(db, created.effects, ctx)
  const {order} = created
  await recordAuditEvent(
    db.knex,
    {
      eventKey: 'ORDER_CREATED',
      tenantId: actor.tenant_id,
      userId: actor.id,
      outletId: order.outlet_id,
      channel: 'api',
      entityType: 'order',
      entityId: order.id,
      metadata: {
        order_code: order.order_code,
        invoice_no: order.invoice_no ?? null,
        total_amount: Number(order.total_amount),
        is_pickup_delivery: order.is_pickup_delivery === true || Number(order.is_pickup_delivery) === 1,
      },
      ...ctx.request,
    },
    ctx.clock,
  )
  return {
    body: {data: {...serializeCreatedOrder(order), customer: serializeCustomerBrief(created.customer), items: created.items.map(serializeOrderItem)}},
    created,
  }
}
