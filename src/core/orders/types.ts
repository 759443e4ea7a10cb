import type {Clock} from '../clock.js'
import type {RequestMeta} from '../audit/trail.js'
import type {BooleanColumn, JsonColumn} from '../db/rows.js'
import type {TemplateId} from '../messaging/template-catalog.js'

/** `source_channel` values (reference §0.5). */
export const SOURCE_CHANNELS = ['mobile', 'web', 'system'] as const
export type SourceChannel = (typeof SOURCE_CHANNELS)[number]

/**
 * The X-Source-Channel header, lower-cased, when it is a known channel; else the path's fallback (REST
 * `web`, sync push `mobile`).
 */
export function sourceChannelFrom(header: unknown, fallback: SourceChannel): SourceChannel {
  const raw: unknown = Array.isArray(header) ? (header as unknown[])[0] : header
  if (typeof raw !== 'string') return fallback
  // A repeated header arrives joined ("mobile, web"): the first value counts.
  const lower = raw.split(',')[0].trim().toLowerCase()
  return (SOURCE_CHANNELS as readonly string[]).includes(lower) ? (lower as SourceChannel) : fallback
}

/**
 * Which caller a mutation serves: its error wording and codes differ (REST answers field errors on
 * `items` / `customer.phone` and its own messages; sync rejects with VALIDATION_FAILED / PHONE_INVALID and
 * the sync handler's messages), and WA metadata says `source: api` or `source: sync`.
 */
export type OrderPath = 'rest' | 'sync'

/** The user a mutation is done as: created_by / updated_by, and the tenant every lookup is scoped to. */
export interface OrderActor {
  id: number
  tenant_id: string
}

/** One orders row, every column (§1.3). */
export interface OrderRecord {
  id: string
  tenant_id: string
  outlet_id: string
  customer_id: string
  invoice_no: string | null
  order_code: string
  is_pickup_delivery: BooleanColumn
  laundry_status: string
  courier_status: string | null
  courier_user_id: number | null
  shipping_fee_amount: number
  discount_amount: number
  total_amount: number
  paid_amount: number
  due_amount: number
  pickup: JsonColumn
  delivery: JsonColumn
  notes: string | null
  created_by: number | null
  updated_by: number | null
  source_channel: string
  collection_status: string | null
  collection_last_contacted_at: string | null
  collection_next_follow_up_at: string | null
  collection_note: string | null
  created_at: string | null
  updated_at: string | null
}

export interface OrderItemRecord {
  id: string
  order_id: string
  service_id: string | null
  service_name_snapshot: string
  unit_type_snapshot: string
  qty: number | string | null
  weight_kg: number | string | null
  unit_price_amount: number
  subtotal_amount: number
  created_at: string | null
  updated_at: string | null
}

export interface PaymentRecord {
  id: string
  order_id: string
  amount: number
  method: string
  paid_at: string
  notes: string | null
  created_by: number | null
  updated_by: number | null
  source_channel: string
  created_at: string | null
  updated_at: string | null
}

export interface CustomerRecord {
  id: string
  tenant_id: string
  name: string
  phone_normalized: string
  notes: string | null
  created_at: string | null
  updated_at: string | null
  deleted_at: string | null
}

/** A WhatsApp message to enqueue once the mutation's transaction has committed (reference §4.8). */
export interface WaOrderEvent {
  orderId: string
  templateId: TemplateId
  /** `{event, source, actor_user_id, source_channel}` as the controllers pass it. */
  metadata: Record<string, unknown>
}

/** What a mutation leaves for after its commit: the WA events (run them with `runOrderEffects`). */
export interface OrderEffects {
  wa: WaOrderEvent[]
}

/** What the outer (REST) functions need beside the database: the clock, APP_NAME for WA, the request for audit rows. */
export interface OrderServiceContext {
  clock: Clock
  /** `brand_name` of WA templates (APP_NAME). */
  brandName: string
  /** X-Request-Id and IP for audit_events. */
  request?: RequestMeta
}
