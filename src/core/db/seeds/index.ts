import type {AppEnvironment} from '../../config.js'
import type {Clock} from '../../clock.js'
import {systemClock} from '../../clock.js'
import {OpsError} from '../../errors.js'
import type {Database} from '../connection.js'
import {migrationStatus} from '../migrator.js'
import {LOCKS, writeTransaction} from '../transactions.js'
import {seedDemoTenant} from './demo-tenant.js'
import {seedReferenceData, type SeedReport} from './reference-data.js'

export interface SeedOptions {
  env: AppEnvironment
  /** Seed the demo tenant even outside local/testing. */
  demo?: boolean
  clock?: Clock
}

export interface SeedResult {
  database: string
  demo: boolean
  /** Rows created or updated per table; empty when the database already held the seed data. */
  changes: SeedReport
  changed: number
}

/** DatabaseSeeder: reference data always; the demo tenant in local/testing or when asked. One transaction. */
export async function seedDatabase(db: Database, options: SeedOptions): Promise<SeedResult> {
  const status = await migrationStatus(db)
  if (status.pending.length > 0) {
    throw new OpsError('NOT_MIGRATED', `the database has ${status.pending.length} pending migration(s): run \`laundry-ops db migrate\` first`)
  }
  const clock = options.clock ?? systemClock
  const demo = options.demo === true || options.env === 'local' || options.env === 'testing'
  const changes = await writeTransaction(
    db,
    async (conn) => {
      const report = await seedReferenceData(conn, clock)
      if (demo) await seedDemoTenant(conn, clock, report)
      return report
    },
    {lock: LOCKS.seed},
  )
  const changed = Object.values(changes).reduce((n, c) => n + c.created + c.updated, 0)
  return {database: db.target.display, demo, changes, changed}
}

export {DEMO_PASSWORD, DEMO_TENANT_NAME, DEMO_USERS} from './demo-tenant.js'
