import {Flags} from '@oclif/core'

import {DatabaseCommand} from '../../base-command.js'
import type {SeedResult} from '../../core/db/seeds/index.js'

export default class DbSeed extends DatabaseCommand<typeof DbSeed> {
  static faultScope = 'transaction' as const
  static summary = 'Seed roles, plans and the mock WA provider; in local/testing also the demo tenant'
  static description = `Reference data (roles owner/admin/cashier/worker/courier, plans free/standard/premium/pro, WA provider \`mock\`) is always seeded. The demo tenant "Demo Laundry" (outlet BL, services "Kiloan Reguler" and "Cuci Satuan", the current quota period and five accounts owner|admin|cashier|worker|courier@demo.local with password \`password\`) is seeded when LAUNDRY_OPS_ENV is local or testing, or with --demo. Seeding twice changes nothing.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    'LAUNDRY_OPS_ENV=staging <%= config.bin %> <%= command.id %> --demo',
    '<%= config.bin %> <%= command.id %> --json',
  ]
  static flags = {
    demo: Flags.boolean({description: 'seed the demo tenant and accounts whatever LAUNDRY_OPS_ENV says'}),
    force: Flags.boolean({description: 'allow seeding with LAUNDRY_OPS_ENV=production'}),
  }

  async run(): Promise<SeedResult> {
    const config = await this.loadConfig()
    const {assertProductionForced} = await import('../../core/db/guards.js')
    assertProductionForced(config, this.flags.force, 'seed the database')
    const db = await this.openDatabase(config)
    const {seedDatabase} = await import('../../core/db/seeds/index.js')
    const result = await seedDatabase(db, {env: config.env, demo: this.flags.demo})
    if (!this.jsonEnabled()) renderSeed(this, result)
    return result
  }
}

export function renderSeed(cmd: {log(message: string): void}, result: SeedResult): void {
  if (result.changed === 0) {
    cmd.log(`Seed data already in place (${result.demo ? 'reference and demo data' : 'reference data'}); nothing changed.`)
    return
  }
  for (const [table, c] of Object.entries(result.changes)) {
    cmd.log(`  ${table.padEnd(22)} created ${c.created}, updated ${c.updated}`)
  }
  cmd.log(`Seeded ${result.demo ? 'reference and demo data' : 'reference data'} into ${result.database}.`)
  if (result.demo) cmd.log('Demo accounts: owner|admin|cashier|worker|courier@demo.local, password "password".')
}
