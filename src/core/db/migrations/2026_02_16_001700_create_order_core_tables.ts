import type {Migration} from './types.js'

export const createOrderCoreTables: Migration = {
  name: '2026_02_16_001700_create_order_core_tables',
  async up(schema) {
    await schema.create('customers', (t) => {
      t.uuid('id').primary()
      t.foreignUuid('tenant_id').constrained('tenants', 'cascade')
      t.string('name')
      t.string('phone_normalized', 20)
      t.text('notes').nullable()
      t.timestamps()
      t.unique(['tenant_id', 'phone_normalized'])
      t.index(['tenant_id', 'updated_at'])
    })
    await schema.create('services', (t) => {
      t.uuid('id').primary()
      t.foreignUuid('tenant_id').constrained('tenants', 'cascade')
      t.string('name')
      t.string('unit_type', 10)
      t.unsignedInteger('base_price_amount')
      t.boolean('active').default(true)
      t.timestamps()
      t.index(['tenant_id', 'active'])
    })
    await schema.create('outlet_services', (t) => {
      t.uuid('id').primary()
      t.foreignUuid('outlet_id').constrained('outlets', 'cascade')
      t.foreignUuid('service_id').constrained('services', 'cascade')
      t.boolean('active').default(true)
      t.unsignedInteger('price_override_amount').nullable()
      t.string('sla_override').nullable()
      t.timestamps()
      t.unique(['outlet_id', 'service_id'])
    })
    await schema.create('orders', (t) => {
      t.uuid('id').primary()
      t.foreignUuid('tenant_id').constrained('tenants', 'cascade')
      t.foreignUuid('outlet_id').constrained('outlets', 'cascade')
      t.foreignUuid('customer_id').constrained('customers', 'cascade')
      t.string('invoice_no').nullable()
      t.string('order_code', 32)
      t.boolean('is_pickup_delivery').default(false)
      t.string('laundry_status', 32).default('received')
      t.string('courier_status', 32).nullable()
      t.foreignId('courier_user_id').nullable().constrained('users', 'set null')
      t.unsignedInteger('shipping_fee_amount').default(0)
      t.unsignedInteger('discount_amount').default(0)
      t.unsignedInteger('total_amount').default(0)
      t.unsignedInteger('paid_amount').default(0)
      t.unsignedInteger('due_amount').default(0)
      t.json('pickup').nullable()
      t.json('delivery').nullable()
      t.text('notes').nullable()
      t.timestamps()
      t.unique(['tenant_id', 'order_code'])
      t.unique(['outlet_id', 'invoice_no'])
      t.index(['tenant_id', 'outlet_id', 'created_at'])
    })
    await schema.create('order_items', (t) => {
      t.uuid('id').primary()
      t.foreignUuid('order_id').constrained('orders', 'cascade')
      t.foreignUuid('service_id').nullable().constrained('services', 'set null')
      t.string('service_name_snapshot')
      t.string('unit_type_snapshot', 10)
      t.decimal('qty', 10, 2).nullable()
      t.decimal('weight_kg', 10, 2).nullable()
      t.unsignedInteger('unit_price_amount')
      t.unsignedInteger('subtotal_amount')
      t.timestamps()
      t.index('order_id')
    })
    await schema.create('payments', (t) => {
      t.uuid('id').primary()
      t.foreignUuid('order_id').constrained('orders', 'cascade')
      t.unsignedInteger('amount')
      t.string('method', 30)
      t.dateTime('paid_at')
      t.text('notes').nullable()
      t.timestamps()
      t.index(['order_id', 'paid_at'])
    })
  },
  async down(schema) {
    for (const table of ['payments', 'order_items', 'orders', 'outlet_services', 'services', 'customers']) {
      await schema.dropIfExists(table)
    }
  },
}
