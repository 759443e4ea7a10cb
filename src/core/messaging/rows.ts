/**
 * Rows of the tables the messaging code reads, typed as either driver returns them: SQLite gives
 * booleans as 0/1 and json columns as text, PostgreSQL gives booleans and parsed json; bigint ids are
 * numbers on both (see configurePgTypes) and timestamps are `YYYY-MM-DD HH:MM:SS` text.
 */

/** A json column: parsed on PostgreSQL, text on SQLite; read it with readJsonObject. */
export type JsonColumn = unknown

/** A boolean column: true/false on PostgreSQL, 1/0 on SQLite. */
export type BooleanColumn = boolean | number

export interface WaMessageRow {
  id: string
  tenant_id: string
  outlet_id: string | null
  order_id: string | null
  provider_id: number | null
  template_id: string
  idempotency_key: string
  to_phone: string
  body_text: string
  status: string
  attempts: number
  last_error_code: string | null
  last_error_message: string | null
  provider_message_id: string | null
  metadata_json: JsonColumn
  created_by: number | null
  updated_by: number | null
  source_channel: string
  created_at: string
  updated_at: string
}

export interface WaProviderConfigRow {
  id: string
  tenant_id: string
  provider_id: number
  credentials_json: JsonColumn
  is_active: BooleanColumn
  created_at: string
  updated_at: string
}

export interface WaTemplateRow {
  id: string
  tenant_id: string
  outlet_id: string | null
  template_id: string
  version: number
  definition_json: JsonColumn
  created_at: string
  updated_at: string
}

/** The orders columns messaging reads (amounts are unsigned integers, Rupiah). */
export interface OrderRow {
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
  total_amount: number
  due_amount: number
  collection_status: string | null
  created_at: string
}

export interface CustomerRow {
  id: string
  tenant_id: string
  name: string
  phone_normalized: string
}

export interface OutletRow {
  id: string
  name: string
}

export interface UserRow {
  id: number
  name: string
  phone: string | null
}
