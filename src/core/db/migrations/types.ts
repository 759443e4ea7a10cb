import type {Clock} from '../../clock.js'
import type {SchemaBuilder} from '../schema/schema-builder.js'

/** One upstream migration, under its upstream name, so the ledger reads the same to both applications. */
export interface Migration {
  name: string
  up(schema: SchemaBuilder, clock: Clock): Promise<void>
  down(schema: SchemaBuilder, clock: Clock): Promise<void>
}
