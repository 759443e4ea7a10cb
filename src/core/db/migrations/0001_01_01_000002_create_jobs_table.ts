import type {Migration} from './types.js'

export const createJobsTable: Migration = {
  name: '0001_01_01_000002_create_jobs_table',
  async up(schema) {
    await schema.create('jobs', (t) => {
      t.id()
      t.string('queue').index()
      t.longText('payload')
      t.unsignedTinyInteger('attempts')
      t.unsignedInteger('reserved_at').nullable()
      t.unsignedInteger('available_at')
      t.unsignedInteger('created_at')
    })
    await schema.create('job_batches', (t) => {
      t.string('id').primary()
      t.string('name')
      t.integer('total_jobs')
      t.integer('pending_jobs')
      t.integer('failed_jobs')
      t.longText('failed_job_ids')
      t.mediumText('options').nullable()
      t.integer('cancelled_at').nullable()
      t.integer('created_at')
      t.integer('finished_at').nullable()
    })
    await schema.create('failed_jobs', (t) => {
      t.id()
      t.string('uuid').unique()
      t.text('connection')
      t.text('queue')
      t.longText('payload')
      t.longText('exception')
      t.timestamp('failed_at').useCurrent()
    })
  },
  async down(schema) {
    await schema.dropIfExists('jobs')
    await schema.dropIfExists('job_batches')
    await schema.dropIfExists('failed_jobs')
  },
}
