/**
 * Orders (reference §3.5, §4.1–4.4, §4.7–4.9): plain functions, no HTTP. Each mutation has an inner
 * `…In(trx, …)` that only writes inside the caller's transaction and returns the rows plus the after-commit
 * effects (WA events), which sync push reuses; and an outer REST function that opens the write transaction,
 * runs the effects (`runOrderEffects`) and writes the audit row.
 */
export * from './access.js'
export * from './create.js'
export * from './customers.js'
export * from './effects.js'
export * from './errors.js'
export * from './payments.js'
export * from './pipelines.js'
export * from './queries.js'
export * from './schedule.js'
export * from './serialize.js'
export * from './status.js'
export * from './times.js'
export * from './totals.js'
export * from './types.js'
export {consumeOrderSlot, QuotaExceeded} from '../quota/consume.js'
