import type {Migration} from './types.js'

export const addFoundationColumnsToUsersTable: Migration = {
  name: '2026_02_15_170100_add_foundation_columns_to_users_table',
  async up(schema) {
    await schema.table('users', (t) => {
      t.foreignUuid('tenant_id').nullable()
      t.string('phone').nullable()
      t.string('status').default('active')
      t.index('tenant_id')
      t.foreign('tenant_id', 'tenants', 'set null')
    })
  },
  async down(schema) {
    await schema.table('users', (t) => {
      t.dropForeign('users_tenant_id_foreign')
      t.dropIndex('users_tenant_id_index')
      t.dropColumn(['tenant_id', 'phone', 'status'])
    })
  },
}
