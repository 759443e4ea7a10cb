import type {Migration} from './types.js'

export const createSyncAndInvoiceLeaseTables: Migration = {
  name: '2026_02_16_061500_create_sync_and_invoice_lease_tables',
  async up(schema) {
    await schema.create('devices', (t) => {
      t.uuid('id').primary()
      t.foreignUuid('tenant_id').constrained('tenants', 'cascade')
      t.foreignId('user_id').constrained('users', 'cascade')
      t.dateTime('last_seen_at').nullable()
      t.timestamps()
      t.index(['tenant_id', 'user_id'])
    })
    await schema.create('sync_mutations', (t) => {
      t.id()
      t.foreignUuid('tenant_id').constrained('tenants', 'cascade')
      t.foreignUuid('device_id').constrained('devices', 'cascade')
      t.string('mutation_id', 64)
      t.unsignedBigInteger('seq').nullable()
      t.string('type', 60)
      t.uuid('outlet_id').nullable()
      t.string('entity_type', 50).nullable()
      t.string('entity_id', 80).nullable()
      t.json('payload_json').nullable()
      t.dateTime('client_time').nullable()
      t.string('status', 20)
      t.string('reason_code', 60).nullable()
      t.text('message').nullable()
      t.unsignedBigInteger('server_cursor').nullable()
      t.json('effects').nullable()
      t.dateTime('processed_at').nullable()
      t.timestamps()
      t.unique(['tenant_id', 'mutation_id'])
      t.index(['tenant_id', 'device_id', 'seq'])
      t.index(['tenant_id', 'status'])
    })
    await schema.create('sync_changes', (t) => {
      t.id('cursor')
      t.uuid('change_id').unique()
      t.foreignUuid('tenant_id').constrained('tenants', 'cascade')
      t.foreignUuid('outlet_id').nullable().constrained('outlets', 'set null')
      t.string('entity_type', 50)
      t.string('entity_id', 80)
      t.string('op', 20)
      t.json('data_json').nullable()
      t.timestamps()
      t.index(['tenant_id', 'cursor'])
      t.index(['tenant_id', 'outlet_id', 'cursor'])
    })
    await schema.create('invoice_leases', (t) => {
      t.uuid('lease_id').primary()
      t.foreignUuid('tenant_id').constrained('tenants', 'cascade')
      t.foreignUuid('outlet_id').constrained('outlets', 'cascade')
      t.foreignUuid('device_id').constrained('devices', 'cascade')
      t.date('date')
      t.string('prefix', 30)
      t.unsignedInteger('from_counter')
      t.unsignedInteger('to_counter')
      t.unsignedInteger('next_counter').nullable()
      t.dateTime('expires_at')
      t.timestamps()
      t.index(['tenant_id', 'outlet_id', 'date'])
      t.index(['tenant_id', 'device_id', 'date'])
    })
  },
  async down(schema) {
    for (const table of ['invoice_leases', 'sync_changes', 'sync_mutations', 'devices']) await schema.dropIfExists(table)
  },
}
