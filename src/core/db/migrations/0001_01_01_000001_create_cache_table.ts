import type {Migration} from './types.js'

export const createCacheTable: Migration = {
  name: '0001_01_01_000001_create_cache_table',
  async up(schema) {
    await schema.create('cache', (t) => {
      t.string('key').primary()
      t.mediumText('value')
      t.integer('expiration').index()
    })
    await schema.create('cache_locks', (t) => {
      t.string('key').primary()
      t.string('owner')
      t.integer('expiration').index()
    })
  },
  async down(schema) {
    await schema.dropIfExists('cache')
    await schema.dropIfExists('cache_locks')
  },
}
