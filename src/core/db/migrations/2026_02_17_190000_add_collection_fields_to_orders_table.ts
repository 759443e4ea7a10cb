import type {Migration} from './types.js'

export const addCollectionFieldsToOrdersTable: Migration = {
  name: '2026_02_17_190000_add_collection_fields_to_orders_table',
  async up(schema) {
    await schema.table('orders', (t) => {
      t.string('collection_status', 24).nullable()
      t.dateTime('collection_last_contacted_at').nullable()
      t.dateTime('collection_next_follow_up_at').nullable()
      t.text('collection_note').nullable()
      t.index(['tenant_id', 'collection_status'], 'orders_tenant_collection_status_index')
      t.index('collection_next_follow_up_at', 'orders_collection_follow_up_at_index')
    })
    // Upstream backfill: every order with money still due enters the collection workflow as pending.
    await schema.conn('orders').whereNull('collection_status').where('due_amount', '>', 0).update({collection_status: 'pending'})
  },
  async down(schema) {
    await schema.table('orders', (t) => {
      t.dropIndex('orders_tenant_collection_status_index')
      t.dropIndex('orders_collection_follow_up_at_index')
      t.dropColumn(['collection_status', 'collection_last_contacted_at', 'collection_next_follow_up_at', 'collection_note'])
    })
  },
}
