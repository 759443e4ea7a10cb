import type {Database} from '../db/connection.js'
import type {Executor} from '../db/transactions.js'
import {onPostgres} from '../quota/consume.js'
import {serializeCourier, serializeCustomerBrief, serializeCustomerDetail, serializeOrder, serializeOrderItem, serializePayment} from './serialize.js'
import type {CustomerRecord, OrderActor, OrderItemRecord, OrderRecord, PaymentRecord} from './types.js'

/** One order by id (any tenant: callers scope it); `lock` reads it FOR UPDATE on PostgreSQL. */
export async function loadOrder(conn: Executor, id: string, options: {lock?: boolean} = {}): Promise<OrderRecord | undefined> {
  const query = conn<OrderRecord>('orders').where({id})
  return (options.lock && onPostgres(conn) ? query.forUpdate() : query).first()
}

/** The items of an order, in the order they were written. */
export async function loadOrderItems(conn: Executor, orderId: string): Promise<OrderItemRecord[]> {
  return conn<OrderItemRecord>('order_items').where({order_id: orderId}).orderBy('id', 'asc')
}

/** The payments of an order, in the order they were written. */
export async function loadPayments(conn: Executor, orderId: string): Promise<PaymentRecord[]> {
  return conn<PaymentRecord>('payments').where({order_id: orderId}).orderBy('id', 'asc')
}

async function courierOf(conn: Executor, userId: number | null): Promise<{id: number; name: string; phone: string | null} | undefined> {
  if (userId === null || userId === undefined) return undefined
  return conn('users').where({id: userId}).whereNull('deleted_at').first<{id: number; name: string; phone: string | null} | undefined>('id', 'name', 'phone')
}

/** GET /api/orders/{order}: the order with customer (id, name, phone_normalized, notes), items, payments and courier (id, name, phone). */
export async function orderDetail(conn: Executor, order: OrderRecord): Promise<Record<string, unknown>> {
  const customer = await conn<CustomerRecord>('customers')
    .where({id: order.customer_id})
    .whereNull('deleted_at')
    .first('id', 'name', 'phone_normalized', 'notes')
  return {
    ...serializeOrder(order),
    customer: serializeCustomerDetail(customer),
    items: (await loadOrderItems(conn, order.id)).map(serializeOrderItem),
    payments: (await loadPayments(conn, order.id)).map(serializePayment),
    courier: serializeCourier(await courierOf(conn, order.courier_user_id), true),
  }
}

/** Relations exclude soft-deleted customers and users, as Eloquent's SoftDeletes scope does (the key is then null). */

/** The order with its courier (id, name, phone), as assign-courier answers. */
export async function orderWithCourier(conn: Executor, order: OrderRecord): Promise<Record<string, unknown>> {
  return {...serializeOrder(order), courier: serializeCourier(await courierOf(conn, order.courier_user_id), true)}
}

/** The order with its payments, as POST /payments answers under `order`. */
export async function orderWithPayments(conn: Executor, order: OrderRecord): Promise<Record<string, unknown>> {
  return {...serializeOrder(order), payments: (await loadPayments(conn, order.id)).map(serializePayment)}
}

/** GET /api/orders/{order} (reference §3.5): `{data: order detail}`. Access is the caller's (binding, outlet.access). */
export async function showOrder(db: Database, order: OrderRecord): Promise<{data: Record<string, unknown>}> {
  return {data: await orderDetail(db.knex, order)}
}

/**
 * GET /api/orders (reference §3.5): the tenant's orders of one outlet, newest `created_at` first (then
 * newest id, so ties keep one order), at most `limit` (default 30), each with customer (id, name,
 * phone_normalized) and courier (id, name) or null.
 */
export async function listOrders(
  db: Database,
  actor: OrderActor,
  query: {outlet_id: string; limit?: number | null},
): Promise<{data: Array<Record<string, unknown>>}> {
  const limit = query.limit ?? 30
  const orders = await db
    .knex<OrderRecord>('orders')
    .where({tenant_id: actor.tenant_id, outlet_id: query.outlet_id.toLowerCase()})
    .orderBy([
      {column: 'created_at', order: 'desc'},
      {column: 'id', order: 'desc'},
    ])
    .limit(limit)
  const customerIds = [...new Set(orders.map((o) => o.customer_id))]
  const courierIds = [...new Set(orders.map((o) => o.courier_user_id).filter((id): id is number => id !== null))]
  const customers = new Map(
    (customerIds.length
      ? await db.knex<CustomerRecord>('customers').whereIn('id', customerIds).whereNull('deleted_at').select('id', 'name', 'phone_normalized')
      : []
    ).map((c) => [c.id, c]),
  )
  const couriers = new Map(
    (courierIds.length
      ? await db.knex('users').whereIn('id', courierIds).whereNull('deleted_at').select<Array<{id: number; name: string}>>('id', 'name')
      : []
    ).map((u) => [Number(u.id), u]),
  )
  return {
    data: orders.map((o) => ({
      ...serializeOrder(o),
      customer: serializeCustomerBrief(customers.get(o.customer_id)),
      courier: serializeCourier(o.courier_user_id === null ? undefined : couriers.get(Number(o.courier_user_id)), false),
    })),
  }
}
