import type {Database} from './connection.js'
import {selectRows} from './transactions.js'

/**
 * Every table and column the laundry migrations create (the upstream schema at cd31449, 13 migrations),
 * for `readiness check`: a database can say "nothing pending" in its ledger and still lack a table
 * (dropped by hand, restored from a partial dump). test/core/expected-schema.test.ts keeps this list
 * equal to what the migrations create on both engines.
 */
export const EXPECTED_TABLES: Readonly<Record<string, readonly string[]>> = {
  audit_events: [
    'id',
    'tenant_id',
    'user_id',
    'outlet_id',
    'event_key',
    'channel',
    'entity_type',
    'entity_id',
    'request_id',
    'ip_address',
    'metadata_json',
    'created_at',
    'updated_at',
  ],
  cache: ['key', 'value', 'expiration'],
  cache_locks: ['key', 'owner', 'expiration'],
  customers: ['id', 'tenant_id', 'name', 'phone_normalized', 'notes', 'created_at', 'updated_at', 'deleted_at'],
  devices: ['id', 'tenant_id', 'user_id', 'last_seen_at', 'created_at', 'updated_at'],
  failed_jobs: ['id', 'uuid', 'connection', 'queue', 'payload', 'exception', 'failed_at'],
  invoice_leases: [
    'lease_id',
    'tenant_id',
    'outlet_id',
    'device_id',
    'date',
    'prefix',
    'from_counter',
    'to_counter',
    'next_counter',
    'expires_at',
    'created_at',
    'updated_at',
  ],
  job_batches: ['id', 'name', 'total_jobs', 'pending_jobs', 'failed_jobs', 'failed_job_ids', 'options', 'cancelled_at', 'created_at', 'finished_at'],
  jobs: ['id', 'queue', 'payload', 'attempts', 'reserved_at', 'available_at', 'created_at'],
  migrations: ['id', 'migration', 'batch'],
  order_items: [
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
  ],
  orders: [
    'id',
    'tenant_id',
    'outlet_id',
    'customer_id',
    'invoice_no',
    'order_code',
    'is_pickup_delivery',
    'laundry_status',
    'courier_status',
    'courier_user_id',
    'shipping_fee_amount',
    'discount_amount',
    'total_amount',
    'paid_amount',
    'due_amount',
    'pickup',
    'delivery',
    'notes',
    'created_at',
    'updated_at',
    'created_by',
    'updated_by',
    'source_channel',
    'collection_status',
    'collection_last_contacted_at',
    'collection_next_follow_up_at',
    'collection_note',
  ],
  outlet_services: ['id', 'outlet_id', 'service_id', 'active', 'price_override_amount', 'sla_override', 'created_at', 'updated_at'],
  outlets: ['id', 'tenant_id', 'name', 'code', 'timezone', 'address', 'created_at', 'updated_at', 'deleted_at'],
  password_reset_tokens: ['email', 'token', 'created_at'],
  payments: ['id', 'order_id', 'amount', 'method', 'paid_at', 'notes', 'created_at', 'updated_at', 'created_by', 'updated_by', 'source_channel'],
  personal_access_tokens: ['id', 'tokenable_type', 'tokenable_id', 'name', 'token', 'abilities', 'last_used_at', 'expires_at', 'created_at', 'updated_at'],
  plans: ['id', 'key', 'name', 'orders_limit', 'created_at', 'updated_at'],
  quota_usage: ['id', 'tenant_id', 'period', 'orders_used', 'created_at', 'updated_at'],
  roles: ['id', 'key', 'name', 'created_at', 'updated_at'],
  services: ['id', 'tenant_id', 'name', 'unit_type', 'base_price_amount', 'active', 'created_at', 'updated_at', 'deleted_at'],
  sessions: ['id', 'user_id', 'ip_address', 'user_agent', 'payload', 'last_activity'],
  shipping_zones: [
    'id',
    'tenant_id',
    'outlet_id',
    'name',
    'min_distance_km',
    'max_distance_km',
    'fee_amount',
    'eta_minutes',
    'active',
    'notes',
    'created_at',
    'updated_at',
  ],
  sync_changes: ['cursor', 'change_id', 'tenant_id', 'outlet_id', 'entity_type', 'entity_id', 'op', 'data_json', 'created_at', 'updated_at'],
  sync_mutations: [
    'id',
    'tenant_id',
    'device_id',
    'mutation_id',
    'seq',
    'type',
    'outlet_id',
    'entity_type',
    'entity_id',
    'payload_json',
    'client_time',
    'status',
    'reason_code',
    'message',
    'server_cursor',
    'effects',
    'processed_at',
    'created_at',
    'updated_at',
    'created_by',
    'updated_by',
    'source_channel',
  ],
  tenant_subscriptions: ['id', 'tenant_id', 'plan_id', 'period', 'starts_at', 'ends_at', 'status', 'created_at', 'updated_at'],
  tenants: ['id', 'name', 'current_plan_id', 'status', 'created_at', 'updated_at'],
  user_outlets: ['id', 'user_id', 'outlet_id', 'created_at', 'updated_at'],
  user_roles: ['id', 'user_id', 'role_id', 'created_at', 'updated_at'],
  users: ['id', 'name', 'email', 'email_verified_at', 'password', 'remember_token', 'created_at', 'updated_at', 'tenant_id', 'phone', 'status', 'deleted_at'],
  wa_messages: [
    'id',
    'tenant_id',
    'outlet_id',
    'order_id',
    'provider_id',
    'template_id',
    'idempotency_key',
    'to_phone',
    'body_text',
    'status',
    'attempts',
    'last_error_code',
    'last_error_message',
    'provider_message_id',
    'metadata_json',
    'created_at',
    'updated_at',
    'created_by',
    'updated_by',
    'source_channel',
  ],
  wa_provider_configs: ['id', 'tenant_id', 'provider_id', 'credentials_json', 'is_active', 'created_at', 'updated_at'],
  wa_providers: ['id', 'key', 'name', 'active', 'created_at', 'updated_at'],
  wa_templates: ['id', 'tenant_id', 'outlet_id', 'template_id', 'version', 'definition_json', 'created_at', 'updated_at'],
}

export interface SchemaGaps {
  missingTables: string[]
  /** `table.column` */
  missingColumns: string[]
}

/** The tables and columns of EXPECTED_TABLES (or of `only` of them) that the database lacks, read in one query. */
export async function findSchemaGaps(db: Database, only?: readonly string[]): Promise<SchemaGaps> {
  const rows =
    db.dialect === 'pg'
      ? await selectRows<{table_name: string; column_name: string}>(
          db.knex,
          'pg',
          'select table_name, column_name from information_schema.columns where table_schema = current_schema()',
        )
      : await selectRows<{table_name: string; column_name: string}>(
          db.knex,
          'sqlite',
          "select m.name as table_name, p.name as column_name from sqlite_master m join pragma_table_info(m.name) p where m.type = 'table'",
        )
  const present = new Map<string, Set<string>>()
  for (const row of rows) {
    const columns = present.get(row.table_name) ?? new Set<string>()
    columns.add(row.column_name)
    present.set(row.table_name, columns)
  }
  const missingTables: string[] = []
  const missingColumns: string[] = []
  for (const table of only ?? Object.keys(EXPECTED_TABLES)) {
    const columns = EXPECTED_TABLES[table] ?? []
    const have = present.get(table)
    if (!have) {
      missingTables.push(table)
      continue
    }
    for (const column of columns) if (!have.has(column)) missingColumns.push(`${table}.${column}`)
  }
  return {missingTables, missingColumns}
}
