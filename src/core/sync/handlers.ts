/**
 * The sync mutation types push applies, by upper-cased type (reference §3.6). A type that is not here is
 * rejected as "Unsupported mutation type: <TYPE>.".
 */
import type {MutationHandler} from './push.js'

export const SYNC_MUTATION_HANDLERS: Readonly<Record<string, MutationHandler>> = {}
