/**
 * Rows of the laundry tables as either driver returns them, for `knex<Row>(table)`: SQLite gives
 * booleans as 0/1 and json columns as text, PostgreSQL gives booleans and parsed json; bigint ids are
 * numbers on both (see configurePgTypes in connection.ts) and timestamps are `YYYY-MM-DD HH:MM:SS` text.
 * Where a reader needs only some columns, the interface lists those.
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

export interface JobRow {
  id: number
  queue: string
  payload: string
  attempts: number
  reserved_at: number | null
  available_at: number
  created_at: number
}

export interface FailedJobRow {
  id: number
  uuid: string
  connection: string
  queue: string
  payload: string
  exception: string
  failed_at: string
}

/** Laravel's database cache store: `value` is PHP-serialized, `expiration` a unix time. */
export interface CacheRow {
  key: string
  value: string
  expiration: number
}

export interface PlanRow {
  id: number
  key: string
  name: string
  orders_limit: number | null
  created_at: string
  updated_at: string
}

export interface QuotaUsageRow {
  id: string
  tenant_id: string
  /** `YYYY-MM`. */
  period: string
  orders_used: number
  created_at: string
  updated_at: string
}

export interface RoleRow {
  id: number
  key: string
  name: string
}

export interface TenantRow {
  id: string
  name: string
  current_plan_id: number | null
  status: string
  created_at: string
  updated_at: string
}

/** All the columns of an outlet (OutletRow lists the ones messaging reads). */
export interface FullOutletRow extends OutletRow {
  tenant_id: string
  code: string
  timezone: string
  address: string | null
  deleted_at: string | null
}

/** All the columns of a user a seed compares (UserRow lists the ones messaging reads). */
export interface AccountRow extends UserRow {
  email: string
  password: string
  status: string
  tenant_id: string | null
  deleted_at: string | null
  [column: string]: unknown
}

export interface ServiceRow {
  id: string
  tenant_id: string
  name: string
  unit_type: string
  base_price_amount: number
  active: BooleanColumn
}

export interface WaProviderRow {
  id: number
  key: string
  name: string
  active: BooleanColumn
}

/** Laravel's cache_locks: the lease rows (`expiration` a unix time). */
export interface CacheLockRow {
  key: string
  owner: string
  expiration: number
}

/** The migrations ledger. */
export interface MigrationRow {
  id: number
  migration: string
  batch: number
}

/** audit_events (reference §1.6): `metadata_json` is text on SQLite, parsed on PostgreSQL. */
export interface AuditEventRow {
  id: string
  tenant_id: string | null
  user_id: number | null
  outlet_id: string | null
  event_key: string
  channel: string
  entity_type: string | null
  entity_id: string | null
  request_id: string | null
  ip_address: string | null
  metadata_json: JsonColumn
  created_at: string
  updated_at: string
}
