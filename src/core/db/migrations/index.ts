import {createUsersTable} from './0001_01_01_000000_create_users_table.js'
import {createCacheTable} from './0001_01_01_000001_create_cache_table.js'
import {createJobsTable} from './0001_01_01_000002_create_jobs_table.js'
import {createPersonalAccessTokensTable} from './2026_02_15_165317_create_personal_access_tokens_table.js'
import {createFoundationAccessTables} from './2026_02_15_170000_create_foundation_access_tables.js'
import {addFoundationColumnsToUsersTable} from './2026_02_15_170100_add_foundation_columns_to_users_table.js'
import {createOrderCoreTables} from './2026_02_16_001700_create_order_core_tables.js'
import {createSyncAndInvoiceLeaseTables} from './2026_02_16_061500_create_sync_and_invoice_lease_tables.js'
import {createWhatsappTables} from './2026_02_16_073600_create_whatsapp_tables.js'
import {createAuditEventsTable} from './2026_02_16_103000_create_audit_events_table.js'
import {createShippingZonesTable} from './2026_02_16_120500_create_shipping_zones_table.js'
import {addAuditColumnsAndSoftDeletes} from './2026_02_16_184500_add_audit_columns_and_soft_deletes.js'
import {addCollectionFieldsToOrdersTable} from './2026_02_17_190000_add_collection_fields_to_orders_table.js'
import type {Migration} from './types.js'

/** The static migration source: upstream's 13 migrations in upstream order (names are the ledger keys). */
export const MIGRATIONS: readonly Migration[] = [
  createUsersTable,
  createCacheTable,
  createJobsTable,
  createPersonalAccessTokensTable,
  createFoundationAccessTables,
  addFoundationColumnsToUsersTable,
  createOrderCoreTables,
  createSyncAndInvoiceLeaseTables,
  createWhatsappTables,
  createAuditEventsTable,
  createShippingZonesTable,
  addAuditColumnsAndSoftDeletes,
  addCollectionFieldsToOrdersTable,
]

export type {Migration} from './types.js'
