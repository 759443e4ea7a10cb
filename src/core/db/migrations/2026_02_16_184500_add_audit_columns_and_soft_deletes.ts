import type {Migration} from './types.js'

const AUDITED = ['payments', 'sync_mutations', 'wa_messages'] as const

export const addAuditColumnsAndSoftDeletes: Migration = {
  name: '2026_02_16_184500_add_audit_columns_and_soft_deletes',
  async up(schema) {
    for (const table of ['users', 'outlets', 'customers', 'services']) {
      await schema.table(table, (t) => t.softDeletes())
    }
    await schema.table('orders', (t) => {
      t.foreignId('created_by').nullable().constrained('users', 'set null')
      t.foreignId('updated_by').nullable().constrained('users', 'set null')
      t.string('source_channel', 20).default('system')
      t.index('outlet_id', 'orders_outlet_id_index')
      t.dropUnique('orders_outlet_id_invoice_no_unique')
      t.unique(['tenant_id', 'invoice_no'])
    })
    for (const table of AUDITED) {
      await schema.table(table, (t) => {
        t.foreignId('created_by').nullable().constrained('users', 'set null')
        t.foreignId('updated_by').nullable().constrained('users', 'set null')
        t.string('source_channel', 20).default('system')
      })
    }
  },
  async down(schema) {
    for (const table of [...AUDITED].reverse()) {
      await schema.table(table, (t) => {
        t.dropForeign(`${table}_created_by_foreign`)
        t.dropForeign(`${table}_updated_by_foreign`)
        t.dropColumn(['created_by', 'updated_by', 'source_channel'])
      })
    }
    await schema.table('orders', (t) => {
      t.dropUnique('orders_tenant_id_invoice_no_unique')
      t.unique(['outlet_id', 'invoice_no'])
      t.dropIndex('orders_outlet_id_index')
      t.dropForeign('orders_created_by_foreign')
      t.dropForeign('orders_updated_by_foreign')
      t.dropColumn(['created_by', 'updated_by', 'source_channel'])
    })
    for (const table of ['services', 'customers', 'outlets', 'users']) {
      await schema.table(table, (t) => t.dropColumn('deleted_at'))
    }
  },
}
