import type {Migration} from './types.js'

export const createShippingZonesTable: Migration = {
  name: '2026_02_16_120500_create_shipping_zones_table',
  async up(schema) {
    await schema.create('shipping_zones', (t) => {
      t.uuid('id').primary()
      t.foreignUuid('tenant_id').constrained('tenants', 'cascade')
      t.foreignUuid('outlet_id').constrained('outlets', 'cascade')
      t.string('name', 120)
      t.decimal('min_distance_km', 8, 2).nullable()
      t.decimal('max_distance_km', 8, 2).nullable()
      t.unsignedInteger('fee_amount')
      t.unsignedInteger('eta_minutes').nullable()
      t.boolean('active').default(true)
      t.text('notes').nullable()
      t.timestamps()
      t.index(['tenant_id', 'outlet_id', 'active'])
      t.unique(['outlet_id', 'name'])
    })
  },
  async down(schema) {
    await schema.dropIfExists('shipping_zones')
  },
}
