import type {Migration} from './types.js'

export const createFoundationAccessTables: Migration = {
  name: '2026_02_15_170000_create_foundation_access_tables',
  async up(schema) {
    await schema.create('plans', (t) => {
      t.id()
      t.string('key').unique()
      t.string('name')
      t.unsignedInteger('orders_limit')
      t.timestamps()
    })
    await schema.create('tenants', (t) => {
      t.uuid('id').primary()
      t.string('name')
      t.foreignId('current_plan_id').nullable().constrained('plans', 'set null')
      t.string('status').default('active')
      t.timestamps()
    })
    await schema.create('outlets', (t) => {
      t.uuid('id').primary()
      t.foreignUuid('tenant_id').constrained('tenants', 'cascade')
      t.string('name')
      t.string('code', 8)
      t.string('timezone').default('Asia/Jakarta')
      t.text('address').nullable()
      t.timestamps()
      t.unique(['tenant_id', 'code'])
    })
    await schema.create('roles', (t) => {
      t.id()
      t.string('key').unique()
      t.string('name')
      t.timestamps()
    })
    await schema.create('user_roles', (t) => {
      t.id()
      t.foreignId('user_id').constrained('users', 'cascade')
      t.foreignId('role_id').constrained('roles', 'cascade')
      t.timestamps()
      t.unique(['user_id', 'role_id'])
    })
    await schema.create('user_outlets', (t) => {
      t.id()
      t.foreignId('user_id').constrained('users', 'cascade')
      t.foreignUuid('outlet_id').constrained('outlets', 'cascade')
      t.timestamps()
      t.unique(['user_id', 'outlet_id'])
    })
    await schema.create('tenant_subscriptions', (t) => {
      t.uuid('id').primary()
      t.foreignUuid('tenant_id').constrained('tenants', 'cascade')
      t.foreignId('plan_id').constrained('plans', 'cascade')
      t.string('period', 7)
      t.dateTime('starts_at')
      t.dateTime('ends_at')
      t.string('status').default('active')
      t.timestamps()
      t.unique(['tenant_id', 'period'])
    })
    await schema.create('quota_usage', (t) => {
      t.uuid('id').primary()
      t.foreignUuid('tenant_id').constrained('tenants', 'cascade')
      t.string('period', 7)
      t.unsignedInteger('orders_used').default(0)
      t.timestamps()
      t.unique(['tenant_id', 'period'])
    })
  },
  async down(schema) {
    for (const table of ['quota_usage', 'tenant_subscriptions', 'user_outlets', 'user_roles', 'roles', 'outlets', 'tenants', 'plans']) {
      await schema.dropIfExists(table)
    }
  },
}
