import {decimal2} from './totals.js'
import type {CustomerRecord, OrderItemRecord, OrderRecord, PaymentRecord} from './types.js'

/**
 * Eloquent's JSON of the order models, key for key and type for type (reference §0.3): a model read from
 * the database lists its columns in table order (§1.3, the MySQL order upstream ran on); a model just
 * created lists the attributes in the order the controller filled them, then `id`, `updated_at`,
 * `created_at` (HasUuids, then the timestamps), so it lacks the columns left at their defaults.
 * Datetimes are `YYYY-MM-DDTHH:MM:SS.000000Z`; qty and weight_kg are `decimal:2` strings.
 */

/** A stored UTC timestamp (`YYYY-MM-DD HH:MM:SS`) as Eloquent serialises it: `YYYY-MM-DDTHH:MM:SS.000000Z`. */
export function eloquentTimestamp(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null
  if (value instanceof Date) return `${value.toISOString().slice(0, 19)}.000000Z`
  if (typeof value !== 'string') return null
  const text = value
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})/.exec(text)
  if (m) return `${m[1]}T${m[2]}.000000Z`
  const d = /^(\d{4}-\d{2}-\d{2})$/.exec(text)
  return d ? `${d[1]}T00:00:00.000000Z` : text
}

const int = (value: unknown): number => Number(value)
const intOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value))
const bool = (value: unknown): boolean => value === true || value === 1 || value === '1' || value === 't'

/** The `array` cast of a json column: decoded (text on SQLite, already parsed on PostgreSQL), null stays null. */
export function arrayCast(value: unknown): unknown {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') {
    try {
      return JSON.parse(value) as unknown
    } catch {
      return null
    }
  }
  return value
}

/** An orders row read from the database (list, show, status answers): every column in table order. */
export function serializeOrder(row: OrderRecord): Record<string, unknown> {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    outlet_id: row.outlet_id,
    customer_id: row.customer_id,
    invoice_no: row.invoice_no ?? null,
    order_code: row.order_code,
    is_pickup_delivery: bool(row.is_pickup_delivery),
    laundry_status: row.laundry_status,
    courier_status: row.courier_status ?? null,
    courier_user_id: intOrNull(row.courier_user_id),
    shipping_fee_amount: int(row.shipping_fee_amount),
    discount_amount: int(row.discount_amount),
    total_amount: int(row.total_amount),
    paid_amount: int(row.paid_amount),
    due_amount: int(row.due_amount),
    pickup: arrayCast(row.pickup),
    delivery: arrayCast(row.delivery),
    notes: row.notes ?? null,
    created_by: intOrNull(row.created_by),
    updated_by: intOrNull(row.updated_by),
    source_channel: row.source_channel,
    collection_status: row.collection_status ?? null,
    collection_last_contacted_at: eloquentTimestamp(row.collection_last_contacted_at),
    collection_next_follow_up_at: eloquentTimestamp(row.collection_next_follow_up_at),
    collection_note: row.collection_note ?? null,
    created_at: eloquentTimestamp(row.created_at),
    updated_at: eloquentTimestamp(row.updated_at),
  }
}

/**
 * The order of POST /api/orders as upstream answers it: the model just created, its attributes in the order
 * of the controller's create() (then id, updated_at, created_at); courier_user_id and the collection_*
 * columns are absent.
 */
export function serializeCreatedOrder(row: OrderRecord): Record<string, unknown> {
  return {
    tenant_id: row.tenant_id,
    outlet_id: row.outlet_id,
    customer_id: row.customer_id,
    invoice_no: row.invoice_no ?? null,
    order_code: row.order_code,
    is_pickup_delivery: bool(row.is_pickup_delivery),
    laundry_status: row.laundry_status,
    courier_status: row.courier_status ?? null,
    shipping_fee_amount: int(row.shipping_fee_amount),
    discount_amount: int(row.discount_amount),
    total_amount: int(row.total_amount),
    paid_amount: int(row.paid_amount),
    due_amount: int(row.due_amount),
    pickup: arrayCast(row.pickup),
    delivery: arrayCast(row.delivery),
    notes: row.notes ?? null,
    created_by: intOrNull(row.created_by),
    updated_by: intOrNull(row.updated_by),
    source_channel: row.source_channel,
    id: row.id,
    updated_at: eloquentTimestamp(row.updated_at),
    created_at: eloquentTimestamp(row.created_at),
  }
}

/** An order_items row (qty and weight_kg as `decimal:2` strings). */
export function serializeOrderItem(row: OrderItemRecord): Record<string, unknown> {
  return {
    id: row.id,
    order_id: row.order_id,
    service_id: row.service_id ?? null,
    service_name_snapshot: row.service_name_snapshot,
    unit_type_snapshot: row.unit_type_snapshot,
    qty: decimal2(row.qty),
    weight_kg: decimal2(row.weight_kg),
    unit_price_amount: int(row.unit_price_amount),
    subtotal_amount: int(row.subtotal_amount),
    created_at: eloquentTimestamp(row.created_at),
    updated_at: eloquentTimestamp(row.updated_at),
  }
}

/** A payments row read from the database, in table order. */
export function serializePayment(row: PaymentRecord): Record<string, unknown> {
  return {
    id: row.id,
    order_id: row.order_id,
    amount: int(row.amount),
    method: row.method,
    paid_at: eloquentTimestamp(row.paid_at),
    notes: row.notes ?? null,
    created_by: intOrNull(row.created_by),
    updated_by: intOrNull(row.updated_by),
    source_channel: row.source_channel,
    created_at: eloquentTimestamp(row.created_at),
    updated_at: eloquentTimestamp(row.updated_at),
  }
}

/** The payment of POST /payments: the model just created (create() order, then id, updated_at, created_at). */
export function serializeCreatedPayment(row: PaymentRecord): Record<string, unknown> {
  return {
    order_id: row.order_id,
    amount: int(row.amount),
    method: row.method,
    paid_at: eloquentTimestamp(row.paid_at),
    notes: row.notes ?? null,
    created_by: intOrNull(row.created_by),
    updated_by: intOrNull(row.updated_by),
    source_channel: row.source_channel,
    id: row.id,
    updated_at: eloquentTimestamp(row.updated_at),
    created_at: eloquentTimestamp(row.created_at),
  }
}

/** `customer:id,name,phone_normalized` (create, list). */
export function serializeCustomerBrief(row: Pick<CustomerRecord, 'id' | 'name' | 'phone_normalized'> | undefined | null): Record<string, unknown> | null {
  return row ? {id: row.id, name: row.name, phone_normalized: row.phone_normalized} : null
}

/** `customer:id,name,phone_normalized,notes` (show). */
export function serializeCustomerDetail(
  row: Pick<CustomerRecord, 'id' | 'name' | 'phone_normalized' | 'notes'> | undefined | null,
): Record<string, unknown> | null {
  return row ? {id: row.id, name: row.name, phone_normalized: row.phone_normalized, notes: row.notes ?? null} : null
}

/** `courier:id,name` (list) or `courier:id,name,phone` (show, assign-courier); null when unassigned. */
export function serializeCourier(
  row: {id: number; name: string; phone?: string | null} | undefined | null,
  withPhone: boolean,
): Record<string, unknown> | null {
  if (!row) return null
  return withPhone ? {id: Number(row.id), name: row.name, phone: row.phone ?? null} : {id: Number(row.id), name: row.name}
}
