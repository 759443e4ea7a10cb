/**
 * POST /api/sync/push (reference §3.6): the device's offline mutations, applied one by one, each its own
 * unit. A mutation id already in the log answers as logged (`duplicate` for an applied one, the stored
 * rejection for a rejected one) and is never applied again; otherwise the handler of its type runs, and
 * the mutation log row is written in the same transaction as the changes it made, so a mutation is
 * either applied and logged or neither. Concurrent replays of one mutation queue on a lock of (tenant,
 * mutation id) and find the first one's row; should another writer (the Laravel application) insert the
 * row in between, the unique violation answers as that row (`duplicate`), never a 500.
 *
 * A handler refuses with a ReasonError (a rejected item with `current_server_state`, null unless the
 * handler sets one: SyncRejection) or a ValidationError (payload rules: VALIDATION_FAILED with the first
 * message and no `current_server_state`); the refusal is logged as `rejected`. Anything else aborts the
 * request (500); the mutations before it stay committed and the failing one is not logged.
 */
import type {Clock} from '../clock.js'
import {toDbTimestamp} from '../clock.js'
import type {Database} from '../db/connection.js'
import {type Executor, LOCKS, lockResource, writeTransaction} from '../db/transactions.js'
import {type ErrorCode, isOpsError, ReasonError, ValidationError} from '../errors.js'
import {parseClientTime} from '../orders/times.js'
import {type SyncUser, upsertDevice} from './devices.js'
import {type QuotaSnapshot, quotaSnapshot} from './quota-snapshot.js'
import {isoUtc} from './times.js'

/** One mutation as the client sends it (after request validation). */
export interface SyncMutationInput {
  mutation_id: string
  seq?: number | null
  type: string
  outlet_id?: string | null
  entity?: {entity_type?: string | null; entity_id?: string | null} | null
  client_time?: string | null
  payload?: Record<string, unknown> | unknown[] | null
}

export interface EntityRef {
  entity_type: string
  entity_id: string
}

/** What a handler reports for an applied mutation. */
export interface MutationOutcome {
  /** The cursor of the change the ack points at (the last relevant one), or null. */
  serverCursor: number | null
  entityRefs: EntityRef[]
  /** `invoice_no_assigned`, `id_map`…; empty serialises as `[]`. */
  effects: Record<string, unknown>
  /** Work after the commit (WhatsApp enqueues). */
  afterCommit?: () => Promise<void>
}

/** What a handler gets: the transaction to write in (and only that: SQLite has one connection), the request's context. */
export interface MutationContext {
  trx: Executor
  db: Database
  user: SyncUser & {tenant_id: string}
  roleKeys: readonly string[]
  deviceId: string
  mutation: SyncMutationInput
  /** The payload as an object (`{}` when absent). */
  payload: Record<string, unknown>
  sourceChannel: string
  clock: Clock
}

export type MutationHandler = (ctx: MutationContext) => Promise<MutationOutcome>

/** A refusal with the entity's current state (status transitions: `{entity_type, entity_id, laundry_status, updated_at}`). */
export class SyncRejection extends ReasonError {
  readonly currentServerState: Record<string, unknown> | null

  constructor(code: ErrorCode, message: string, currentServerState: Record<string, unknown> | null = null) {
    super(code, message)
    this.name = 'SyncRejection'
    this.currentServerState = currentServerState
  }
}

export interface AckItem {
  mutation_id: string
  status: 'applied' | 'duplicate'
  server_cursor: number | null
  entity_refs: EntityRef[]
  effects: Record<string, unknown> | []
}

export interface RejectedItem {
  mutation_id: string
  status: 'rejected'
  reason_code: string
  message: string
  current_server_state?: Record<string, unknown> | null
}

export interface PushInput {
  user: SyncUser
  deviceId: string
  mutations: readonly SyncMutationInput[]
  /** `X-Source-Channel` lower-cased when valid, else `mobile` (reference §0.5). */
  sourceChannel: string
  roleKeys: readonly string[]
}

export interface PushAnswer {
  server_time: string
  ack: AckItem[]
  rejected: RejectedItem[]
  quota: QuotaSnapshot
}

interface MutationLogRow {
  mutation_id: string
  status: string
  reason_code: string | null
  message: string | null
  server_cursor: number | string | null
  entity_type: string | null
  entity_id: string | null
  effects: unknown
}

const SOURCE_CHANNELS = ['mobile', 'web', 'system']

/** The push's source channel: the X-Source-Channel header lower-cased when it is one of mobile, web, system; else mobile. */
export function syncSourceChannel(header: unknown): string {
  const value = typeof header === 'string' ? header.toLowerCase() : ''
  return SOURCE_CHANNELS.includes(value) ? value : 'mobile'
}

/** PHP's strtoupper: ASCII letters only. */
const phpUpper = (text: string): string => text.replace(/[a-z]+/g, (letters) => letters.toUpperCase())

function isEmptyEffects(effects: unknown): boolean {
  if (effects === null || effects === undefined) return true
  if (Array.isArray(effects)) return effects.length === 0
  return typeof effects === 'object' && Object.keys(effects).length === 0
}

/** Effects as the API serialises them: an object, or `[]` when empty (a PHP empty array). */
function effectsJson(effects: unknown): Record<string, unknown> | [] {
  if (typeof effects === 'string') effects = JSON.parse(effects) as unknown
  return isEmptyEffects(effects) || Array.isArray(effects) ? [] : (effects as Record<string, unknown>)
}

function isMutationLogConflict(error: unknown): boolean {
  const e = error as {code?: string; message?: string; constraint?: string}
  if (e?.code === '23505') return e.constraint === undefined || e.constraint.startsWith('sync_mutations')
  return /UNIQUE constraint failed: sync_mutations\./i.test(String(e?.message))
}

/** The answer for a mutation id the log holds: duplicate ack (refs from the client's `entity`, A-6) or the stored rejection. */
function answerFromLog(row: MutationLogRow, mutation: SyncMutationInput): {ack: AckItem} | {rejected: RejectedItem} {
  if (row.status === 'applied') {
    const entityType = mutation.entity?.entity_type
    const entityId = mutation.entity?.entity_id
    return {
      ack: {
        mutation_id: mutation.mutation_id,
        status: 'duplicate',
        server_cursor: row.server_cursor === null ? null : Number(row.server_cursor),
        entity_refs: entityType && entityId ? [{entity_type: entityType, entity_id: entityId}] : [],
        effects: effectsJson(row.effects),
      },
    }
  }
  return {
    rejected: {
      mutation_id: mutation.mutation_id,
      status: 'rejected',
      reason_code: row.reason_code ?? 'VALIDATION_FAILED',
      message: row.message ?? 'Mutation rejected previously.',
    },
  }
}

function lookup(conn: Executor, tenant: string, mutationId: string): Promise<MutationLogRow | undefined> {
  return conn('sync_mutations')
    .where({tenant_id: tenant, mutation_id: mutationId})
    .first('mutation_id', 'status', 'reason_code', 'message', 'server_cursor', 'entity_type', 'entity_id', 'effects')
}

/** The refusal a handler's error stands for, or null when it is not one (a fault or a bug: 500). */
function rejectionOf(error: unknown, mutationId: string): RejectedItem | null {
  if (error instanceof ValidationError) {
    return {mutation_id: mutationId, status: 'rejected', reason_code: 'VALIDATION_FAILED', message: Object.values(error.errors).flat()[0] ?? error.message}
  }
  if (isOpsError(error) && error.http < 500) {
    return {
      mutation_id: mutationId,
      status: 'rejected',
      reason_code: error.code,
      message: error.message,
      current_server_state: error instanceof SyncRejection ? error.currentServerState : null,
    }
  }
  return null
}

interface LogFields {
  status: 'applied' | 'rejected'
  reason_code?: string | null
  message?: string | null
  server_cursor?: number | null
  effects?: Record<string, unknown> | null
}

async function writeLog(
  conn: Executor,
  input: PushInput & {tenant: string; deviceId: string},
  mutation: SyncMutationInput,
  fields: LogFields,
  clock: Clock,
): Promise<void> {
  const now = toDbTimestamp(clock.now())
  await conn('sync_mutations').insert({
    tenant_id: input.tenant,
    device_id: input.deviceId,
    mutation_id: mutation.mutation_id,
    seq: mutation.seq ?? null,
    type: mutation.type,
    outlet_id: mutation.outlet_id ? mutation.outlet_id.toLowerCase() : null,
    entity_type: mutation.entity?.entity_type ?? null,
    entity_id: mutation.entity?.entity_id ?? null,
    payload_json: JSON.stringify(mutation.payload ?? []),
    // Laravel's storage of an offset-carrying time: its wall clock (reference §0.3; A-7 not changed).
    client_time: mutation.client_time ? (parseClientTime(mutation.client_time)?.stored ?? null) : null,
    status: fields.status,
    reason_code: fields.reason_code ?? null,
    message: fields.message ?? null,
    server_cursor: fields.server_cursor ?? null,
    effects: fields.status === 'applied' ? JSON.stringify(isEmptyEffects(fields.effects) ? [] : fields.effects) : null,
    processed_at: now,
    created_by: input.user.id,
    updated_by: input.user.id,
    source_channel: input.sourceChannel,
    created_at: now,
    updated_at: now,
  })
}

function lockMutation(trx: Executor, db: Database, tenant: string, mutationId: string): Promise<void> {
  return lockResource(trx, db.dialect, LOCKS.syncMutation, `sync-mutation:${tenant}:${mutationId}`)
}

/** Applies the device's mutations in order; see the module comment. `handlers` maps upper-cased types to their handler. */
export async function pushMutations(db: Database, input: PushInput, handlers: Readonly<Record<string, MutationHandler>>, clock: Clock): Promise<PushAnswer> {
  const deviceId = await upsertDevice(db, {user: input.user, deviceId: input.deviceId}, clock)
  const tenant = input.user.tenant_id as string
  const user = {...input.user, tenant_id: tenant}
  const context = {...input, tenant, deviceId}
  const ack: AckItem[] = []
  const rejected: RejectedItem[] = []
  const answer = (outcome: {ack: AckItem} | {rejected: RejectedItem}) => ('ack' in outcome ? ack.push(outcome.ack) : rejected.push(outcome.rejected))

  for (const mutation of input.mutations) {
    const type = phpUpper(mutation.type)
    const handler = Object.hasOwn(handlers, type) ? handlers[type] : undefined
    let refusal: RejectedItem | null = null
    let afterCommit: (() => Promise<void>) | undefined
    try {
      const outcome = await writeTransaction(db, async (trx) => {
        await lockMutation(trx, db, tenant, mutation.mutation_id)
        const logged = await lookup(trx, tenant, mutation.mutation_id)
        if (logged) return answerFromLog(logged, mutation)
        if (!handler) throw new SyncRejection('VALIDATION_FAILED', `Unsupported mutation type: ${type}.`)
        const payload = mutation.payload && !Array.isArray(mutation.payload) ? mutation.payload : {}
        const applied = await handler({trx, db, user, roleKeys: input.roleKeys, deviceId, mutation, payload, sourceChannel: input.sourceChannel, clock})
        const effects: Record<string, unknown> | [] = isEmptyEffects(applied.effects) ? [] : applied.effects
        await writeLog(trx, context, mutation, {status: 'applied', server_cursor: applied.serverCursor, effects: applied.effects}, clock)
        afterCommit = applied.afterCommit
        const item: AckItem = {
          mutation_id: mutation.mutation_id,
          status: 'applied',
          server_cursor: applied.serverCursor,
          entity_refs: applied.entityRefs,
          effects,
        }
        return {ack: item}
      })
      answer(outcome)
    } catch (error) {
      if (isMutationLogConflict(error)) {
        const logged = await lookup(db.knex, tenant, mutation.mutation_id)
        if (!logged) throw error
        answer(answerFromLog(logged, mutation))
        continue
      }
      refusal = rejectionOf(error, mutation.mutation_id)
      if (!refusal) throw error
    }
    if (afterCommit) await afterCommit()
    if (refusal) answer(await logRejection(db, context, mutation, refusal, clock))
  }

  return {server_time: isoUtc(clock.now()), ack, rejected, quota: await quotaSnapshot(db, tenant, clock)}
}

/** Logs a refusal (its own transaction: the handler's writes were rolled back); a concurrent log row of the same id wins. */
async function logRejection(
  db: Database,
  context: PushInput & {tenant: string; deviceId: string},
  mutation: SyncMutationInput,
  refusal: RejectedItem,
  clock: Clock,
): Promise<{ack: AckItem} | {rejected: RejectedItem}> {
  try {
    return await writeTransaction(db, async (trx) => {
      await lockMutation(trx, db, context.tenant, mutation.mutation_id)
      const logged = await lookup(trx, context.tenant, mutation.mutation_id)
      if (logged) return answerFromLog(logged, mutation)
      await writeLog(trx, context, mutation, {status: 'rejected', reason_code: refusal.reason_code, message: refusal.message}, clock)
      return {rejected: refusal}
    })
  } catch (error) {
    if (!isMutationLogConflict(error)) throw error
    const logged = await lookup(db.knex, context.tenant, mutation.mutation_id)
    if (!logged) throw error
    return answerFromLog(logged, mutation)
  }
}
