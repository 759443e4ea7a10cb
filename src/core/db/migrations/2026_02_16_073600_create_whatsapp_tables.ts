import {toDbTimestamp} from '../../clock.js'
import type {Migration} from './types.js'

export const createWhatsappTables: Migration = {
  name: '2026_02_16_073600_create_whatsapp_tables',
  async up(schema, clock) {
    await schema.create('wa_providers', (t) => {
      t.id()
      t.string('key').unique()
      t.string('name')
      t.boolean('active').default(true)
      t.timestamps()
    })
    await schema.create('wa_provider_configs', (t) => {
      t.uuid('id').primary()
      t.foreignUuid('tenant_id').constrained('tenants', 'cascade')
      t.foreignId('provider_id').constrained('wa_providers', 'cascade')
      t.json('credentials_json').nullable()
      t.boolean('is_active').default(false)
      t.timestamps()
      t.unique(['tenant_id', 'provider_id'])
      t.index(['tenant_id', 'is_active'])
    })
    await schema.create('wa_templates', (t) => {
      t.uuid('id').primary()
      t.foreignUuid('tenant_id').constrained('tenants', 'cascade')
      t.foreignUuid('outlet_id').nullable().constrained('outlets', 'set null')
      t.string('template_id', 80)
      t.unsignedInteger('version').default(1)
      t.json('definition_json')
      t.timestamps()
      t.unique(['tenant_id', 'outlet_id', 'template_id', 'version'], 'wa_templates_uniq')
      t.index(['tenant_id', 'template_id'])
    })
    await schema.create('wa_messages', (t) => {
      t.uuid('id').primary()
      t.foreignUuid('tenant_id').constrained('tenants', 'cascade')
      t.foreignUuid('outlet_id').nullable().constrained('outlets', 'set null')
      t.foreignUuid('order_id').nullable().constrained('orders', 'set null')
      t.foreignId('provider_id').nullable().constrained('wa_providers', 'set null')
      t.string('template_id', 80)
      t.string('idempotency_key', 255)
      t.string('to_phone', 20)
      t.text('body_text')
      t.string('status', 20).default('queued')
      t.unsignedTinyInteger('attempts').default(0)
      t.string('last_error_code', 80).nullable()
      t.text('last_error_message').nullable()
      t.string('provider_message_id').nullable()
      t.json('metadata_json').nullable()
      t.timestamps()
      t.unique(['tenant_id', 'idempotency_key'])
      t.index(['tenant_id', 'status', 'created_at'])
      t.index(['tenant_id', 'template_id'])
    })
    // Upstream's migration registers the mock provider itself; seeding only re-checks it.
    const now = toDbTimestamp(clock.now())
    await schema.conn('wa_providers').insert({key: 'mock', name: 'Mock Provider', active: true, created_at: now, updated_at: now})
  },
  async down(schema) {
    for (const table of ['wa_messages', 'wa_templates', 'wa_provider_configs', 'wa_providers']) await schema.dropIfExists(table)
  },
}
