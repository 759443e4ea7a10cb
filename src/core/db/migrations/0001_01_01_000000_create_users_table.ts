import type {Migration} from './types.js'

export const createUsersTable: Migration = {
  name: '0001_01_01_000000_create_users_table',
  async up(schema) {
    await schema.create('users', (t) => {
      t.id()
      t.string('name')
      t.string('email').unique()
      t.timestamp('email_verified_at').nullable()
      t.string('password')
      t.string('remember_token', 100).nullable()
      t.timestamps()
    })
    await schema.create('password_reset_tokens', (t) => {
      t.string('email').primary()
      t.string('token')
      t.timestamp('created_at').nullable()
    })
    await schema.create('sessions', (t) => {
      t.string('id').primary()
      t.foreignId('user_id').nullable().index()
      t.string('ip_address', 45).nullable()
      t.text('user_agent').nullable()
      t.longText('payload')
      t.integer('last_activity').index()
    })
  },
  async down(schema) {
    await schema.dropIfExists('users')
    await schema.dropIfExists('password_reset_tokens')
    await schema.dropIfExists('sessions')
  },
}
