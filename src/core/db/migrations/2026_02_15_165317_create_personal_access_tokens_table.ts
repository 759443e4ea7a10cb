import type {Migration} from './types.js'

export const createPersonalAccessTokensTable: Migration = {
  name: '2026_02_15_165317_create_personal_access_tokens_table',
  async up(schema) {
    await schema.create('personal_access_tokens', (t) => {
      t.id()
      t.string('tokenable_type')
      t.unsignedBigInteger('tokenable_id')
      t.index(['tokenable_type', 'tokenable_id'])
      t.text('name')
      t.string('token', 64).unique()
      t.text('abilities').nullable()
      t.timestamp('last_used_at').nullable()
      t.timestamp('expires_at').nullable().index()
      t.timestamps()
    })
  },
  async down(schema) {
    await schema.dropIfExists('personal_access_tokens')
  },
}
