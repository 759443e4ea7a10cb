import {randomInt} from 'node:crypto'
import type {Knex} from 'knex'

import {recordAuditEvent} from '../audit/trail.js'
import {type Clock, toDbTimestamp, toPeriod} from '../clock.js'
import type {Database} from '../db/connection.js'
import {selectRows} from '../db/raw.js'
import {type Executor, writeTransaction} from '../db/transactions.js'
import {isLaravelUuid} from '../domain/id-input.js'
import {uuid7} from '../domain/ids.js'
import {normalizePhone} from '../domain/phone.js'
import {ReasonError} from '../errors.js'
import {phpArrayShape, phpJsonEncode} from '../php/json.js'
import {assertQuotaLeft, QuotaExceeded, readOrderQuota, takeOrderSlot} from '../quota/consume.js'
import {upsertOrderCustomer} from './customers.js'
import {runOrderEffects, waEvent} from './effects.js'
import {isUniqueViolation, orderInputError, violationText} from './errors.js'
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

const ORDER_COLUMNS = [
  'id',
  'tenant_id',
  'outlet_id',
  'customer_id',
  'invoice_no',
  'order_code',
  'is_pickup_delivery',
  'laundry_status',
  'courier_status',
  'shipping_fee_amount',
  'discount_amount',
  'total_amount',
  'paid_amount',
  'due_amount',
  'pickup',
  'delivery',
  'notes',
  'created_by',
  'updated_by',
  'source_channel',
  'created_at',
  'updated_at',
] as const
const ITEM_COLUMNS = [
  'id',
  'order_id',
  'service_id',
  'service_name_snapshot',
  'unit_type_snapshot',
  'qty',
  'weight_kg',
  'unit_price_amount',
  'subtotal_amount',
  'created_at',
  'updated_at',
] as const

/** Every column of OrderRecord: what the order insert returns. */
const ORDER_RECORD_COLUMNS = [
  ...ORDER_COLUMNS,
  'courier_user_id',
  'collection_status',
  'collection_last_contacted_at',
  'collection_next_follow_up_at',
  'collection_note',
] as const satisfies ReadonlyArray<keyof OrderRecord>
/** Compile-time: the list names every column of OrderRecord (a new one must be added above). */
type AllOrderColumns<Missing extends never> = Missing
export type OrderColumnsChecked = AllOrderColumns<Exclude<keyof OrderRecord, (typeof ORDER_RECORD_COLUMNS)[number]>>

/**
 * `insert into <table> (<columns>) values (?, …), … returning <returned>`: the rows as the database stores
 * and reads them back. The columns are named, not `*`: a prepared statement returning `*` fails once a
 * migration adds a column under a running server.
 */
function insertReturning(table: string, columns: readonly string[], rows: number, returned: readonly string[] = columns): string {
  const one = `(${columns.map(() => '?').join(', ')})`
  return `insert into ${table} (${columns.join(', ')}) values ${Array.from({length: rows}, () => one).join(', ')} returning ${returned.join(', ')}`
}
const INSERT_ORDER = insertReturning('orders', ORDER_COLUMNS, 1, ORDER_RECORD_COLUMNS)

/**
 * The item inserts: batches of 64, 32, … 1 rows, so that an order of any size runs a bounded set of SQL
 * texts (each stays prepared on PostgreSQL) with a bounded number of parameters (SQLite allows 32,766,
 * PostgreSQL 65,535): 64 × 11 = 704.
 */
const ITEM_BATCHES = [64, 32, 16, 8, 4, 2, 1].map((rows) => ({rows, sql: insertReturning('order_items', ITEM_COLUMNS, rows)}))

async function insertItemRows(trx: Executor, values: readonly unknown[], count: number): Promise<OrderItemRecord[]> {
  const rows: OrderItemRecord[] = []
  let at = 0
  for (const batch of ITEM_BATCHES) {
    while (count - at >= batch.rows) {
      const slice = values.slice(at * ITEM_COLUMNS.length, (at + batch.rows) * ITEM_COLUMNS.length) as Knex.RawBinding[]
      rows.push(...(await selectRows<OrderItemRecord>(trx, batch.sql, slice)))
      at += batch.rows
    }
  }
  return rows
}

/** A service of the tenant, active and not deleted, with its active override on one outlet (null: none). */
const PRICED_SERVICE =
  'select services.id, services.name, services.unit_type, services.base_price_amount, outlet_services.price_override_amount, ' +
  'outlet_services.id as override_id from services ' +
  'left join outlet_services on outlet_services.service_id = services.id and outlet_services.outlet_id = ? and outlet_services.active = ? ' +
  'where services.id = ? and services.tenant_id = ? and services.active = ? and services.deleted_at is null limit 1'

interface PricedService {
  id: string
  name: string
  unit_type: string
  base_price_amount: number | string
  price_override_amount: number | string | null
  override_id: string | null
}

/**
 * The writes of an order creation, inside the caller's write transaction (reference §3.5 POST /api/orders;
 * sync ORDER_CREATE §3.6 with `options`): the order_code uniqueness check, the quota check (§4.7), the phone
 * (§4.3) and customer upsert, the invoice, the items at their effective prices, the order (received;
 * pickup_pending when pickup-delivery) with its totals, and last the quota slot, so that the quota row is
 * locked only for the commit. Checks run in upstream's order and throw ValidationError / ReasonError as the
 * path words them; the caller's rollback then undoes everything, the quota increment included. No audit and
 * no WA here: the WA events are returned in `effects` for after the commit. The hot path of POST
 * /api/orders, so in fixed SQL: the rows answered are those the inserts return, not a re-read.
 */
export async function createOrderIn(trx: Executor, actor: OrderActor, input: NewOrderInput, clock: Clock, options: CreateOrderOptions): Promise<CreatedOrder> {
  const {path} = options
  const tenantId = actor.tenant_id
  const now = toDbTimestamp(clock.now())

  if (input.order_code !== null && input.order_code !== undefined) {
    if ((await selectRows(trx, 'select id from orders where tenant_id = ? and order_code = ? limit 1', [tenantId, input.order_code])).length > 0) {
      throw orderInputError(path, 'order_code', DUPLICATE_ORDER_CODE.rest, DUPLICATE_ORDER_CODE.sync)
    }
  }

  const period = options.quotaPeriod ?? options.orderTime?.period ?? toPeriod(clock.now())
  const quota = await readOrderQuota(trx, tenantId, period)
  quotaRefusal(path, () => assertQuotaLeft(quota))

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
  } else if (
    invoiceNo !== null &&
    (await selectRows(trx, 'select id from orders where tenant_id = ? and invoice_no = ? limit 1', [tenantId, invoiceNo])).length > 0
  ) {
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

  const itemValues: unknown[] = []
  const subtotals: number[] = []
  // One lookup per distinct service (an order may list the same service many times).
  const priced = new Map<string, PricedService | undefined>()
  for (const item of input.items) {
    let service: PricedService | undefined
    if (typeof item.service_id === 'string' && isLaravelUuid(item.service_id)) {
      const id = item.service_id.toLowerCase()
      if (!priced.has(id)) priced.set(id, (await selectRows<PricedService>(trx, PRICED_SERVICE, [input.outlet_id, true, id, tenantId, true]))[0])
      service = priced.get(id)
    }
    if (!service) {
      throw orderInputError(path, 'items', `Service ${item.service_id} is invalid for this tenant.`, `Service ${item.service_id} is invalid.`)
    }
    const price = unitPrice(
      Number(service.base_price_amount),
      service.override_id === null || service.price_override_amount === null ? null : Number(service.price_override_amount),
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
    itemValues.push(
      uuid7(clock.now().getTime()),
      orderId,
      service.id,
      service.name,
      service.unit_type,
      storedDecimal(qty),
      storedDecimal(weight),
      price,
      subtotal,
      now,
      now,
    )
  }
  const total = orderTotal(subtotals, shipping, discount)
  if (total > MAX_AMOUNT) throw tooLarge(path, 'items', `The order total must not be greater than ${MAX_AMOUNT}.`)

  let order: OrderRecord
  try {
    const orderValues: Record<(typeof ORDER_COLUMNS)[number], unknown> = {
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
      total_amount: total,
      paid_amount: 0,
      due_amount: total,
      pickup: input.pickup === null || input.pickup === undefined ? null : phpJsonEncode(phpArrayShape(input.pickup)),
      delivery: input.delivery === null || input.delivery === undefined ? null : phpJsonEncode(phpArrayShape(input.delivery)),
      notes: input.notes ?? null,
      created_by: actor.id,
      updated_by: actor.id,
      source_channel: options.sourceChannel,
      created_at: stamp,
      updated_at: stamp,
    }
    ;[order] = await selectRows<OrderRecord>(
      trx,
      INSERT_ORDER,
      ORDER_COLUMNS.map((column) => orderValues[column] as Knex.RawBinding),
    )
  } catch (error) {
    // A concurrent creation took the code or invoice number between our check and this insert.
    if (!isUniqueViolation(error)) throw error
    if (violationText(error).includes('invoice_no')) throw orderInputError(path, 'invoice_no', DUPLICATE_INVOICE_NO, 'invoice_no already exists.')
    throw orderInputError(path, 'order_code', DUPLICATE_ORDER_CODE.rest, DUPLICATE_ORDER_CODE.sync)
  }
  const items = (await insertItemRows(trx, itemValues, input.items.length)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))

  const ordersUsed = await quotaRefusal(path, () => takeOrderSlot(trx, quota, clock))
  const effects: OrderEffects = {wa: isPickup ? [waEvent(orderId, 'WA_PICKUP_CONFIRM', actor.id, path, options.sourceChannel)] : []}
  return {
    order,
    customer,
    customerCreated: upserted.created,
    customerRestored: upserted.restored,
    items,
    invoiceAssigned,
    quota: {period, ordersUsed, ordersLimit: quota.limit},
    effects,
  }
}

/** QuotaExceeded as the path answers it: QUOTA_EXCEEDED, with period, orders_limit and orders_used on REST. */
function quotaRefusal<T>(path: OrderPath, check: () => T): T {
  const refuse = (error: unknown): never => {
    if (!(error instanceof QuotaExceeded)) throw error
    const extra = path === 'rest' ? {period: error.period, orders_limit: error.ordersLimit, orders_used: error.ordersUsed} : {}
    throw new ReasonError('QUOTA_EXCEEDED', error.message, extra)
  }
  try {
    const result = check()
    return result instanceof Promise ? (result.catch(refuse) as T) : result
  } catch (error) {
    return refuse(error)
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
