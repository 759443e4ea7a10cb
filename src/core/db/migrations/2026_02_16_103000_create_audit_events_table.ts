import type {Migration} from './types.js'

export const createAuditEventsTable: Migration = {
  name: '2026_02_16_103000_create_audit_events_table',
  async up(schema) {
    await schema.create('audit_events', (t) => {
      t.uuid('id').primary()
      t.foreignUuid('tenant_id').nullable().constrained('tenants', 'set null')
      t.foreignId('user_id').nullable().constrained('users', 'set null')
      t.foreignUuid('outlet_id').nullable().constrained('outlets', 'set null')
      t.string('event_key', 80)
      t.string('channel', 20).default('api')
      t.string('entity_type', 80).nullable()
      t.string('entity_id', 80).nullable()
      t.string('request_id', 80).nullable()
      t.string('ip_address', 45).nullable()
      t.json('metadata_json').nullable()
      t.timestamps()
      t.index(['tenant_id', 'event_key', 'created_at'])
      t.index(['entity_type', 'entity_id'])
      t.index('request_id')
    })
  },
  async down(schema) {
    await schema.dropIfExists('audit_events')
  },
}
