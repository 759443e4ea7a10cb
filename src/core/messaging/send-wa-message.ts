import {randomUUID} from 'node:crypto'
import os from 'node:os'

import type {Clock} from '../clock.js'
import {toDbTimestamp, unixSeconds} from '../clock.js'
import type {Database} from '../db/connection.js'
import {describeFault} from '../db/faults.js'
import {type Executor, selectRows, writeTransaction} from '../db/transactions.js'
import {type QueuedJob, pushJob} from '../queue/database-queue.js'
import {MESSAGING_QUEUE, sendWaJobPayload} from '../queue/payload.js'
import {readJsonObject} from './json-column.js'
import {PROVIDERS, ProviderError, providerFor, type WaProvider} from './providers.js'
import type {JsonColumn, WaMessageRow} from '../db/rows.js'

/** Upstream's SendWaMessageJob: at most 5 attempts per message. */
export const MAX_SEND_ATTEMPTS = 5

/** Seconds before the next attempt, by the attempt that just failed: 30, 60, 120, 240, then 300. */
export function sendBackoffSeconds(attempt: number): number {
  return [30, 60, 120, 240][attempt - 1] ?? 300
}

/**
 * The key of `wa_messages.metadata_json` where the worker keeps its send state. The Laravel application
 * reads metadata as a free-form map, so an extra key is invisible to it (no new status values).
 *
 * - `in_flight`: the attempt that is with the provider now (written and committed before the provider is
 *   called, removed in the transaction that records the outcome). A message found with one whose job is
 *   no longer held means a worker died or was cut off between the provider's answer and the commit.
 * - `possible_duplicates`: how many times a message was sent again after such an attempt (it may have gone
 *   out twice); `possible_duplicate_at` the last time. `observe health` counts these messages.
 */
export const SEND_STATE_KEY = 'laundry_ops_send'

export interface InFlightAttempt {
  attempt: number
  /** Unique per attempt: only the worker holding it may record the outcome. */
  token: string
  job_id: number
  /** The reservation of the job that made the attempt (jobs.reserved_at). */
  reserved_at: number | null
  started_at: string
  /** host:pid of the worker. */
  worker: string
}

export interface SendState {
  in_flight?: InFlightAttempt | null
  possible_duplicates?: number
  possible_duplicate_at?: string
  /** The attempt that may have gone out (the dead worker's), as found when the message was sent again. */
  possible_duplicate_of?: InFlightAttempt
}

export type SendOutcome =
  | {status: 'sent'; attempt: number; providerMessageId: string; possibleDuplicate: boolean}
  | {status: 'retry'; attempt: number; code: string; delaySeconds: number; possibleDuplicate: boolean}
  | {status: 'failed'; attempt: number; code: string; possibleDuplicate: boolean}
  | {status: 'skipped'; reason: 'missing' | 'already_sent' | 'busy'}
  /** The provider was called, but another worker took the message over before the outcome was recorded. */
  | {status: 'superseded'; attempt: number}

export interface RecordRetry {
  /** The fault that stopped the recording (DB_CONNECTION_LOST, DB_LOCKED, DISK_FULL, …). */
  code: string
  message: string
  /** Milliseconds before the next try. */
  delayMs: number
  tries: number
}

export interface SendContext {
  db: Database
  clock: Clock
  /** The queue row being worked; it is deleted in the transaction that records the outcome. */
  job: QueuedJob
  providers?: ReadonlyMap<string, WaProvider>
  /** Aborts the provider call (the job's --timeout). */
  signal?: AbortSignal
  /** DB_QUEUE_RETRY_AFTER: a job reserved longer than this belongs to a worker presumed dead. */
  retryAfter: number
  /**
   * Called when the provider has answered: from here on the job runs to its end whatever its --timeout,
   * because the outcome must be recorded (not the message sent again).
   */
  onAnswered?: () => void
  /** Called before each new try of a recording that failed on a database fault. */
  onRecordRetry?: (retry: RecordRetry) => void
  /** Stops the waits between recording tries early (they are retried at once); never stops the retries. */
  wake?: AbortSignal
}

interface ProviderConfig {
  provider_id: number
  provider_key: string
  credentials_json: JsonColumn
}

type SendAttempt =
  {ok: true; providerMessageId: string; config: ProviderConfig} | {ok: false; code: string; message: string; retry: boolean; config?: ProviderConfig}

/** The metadata's send state, read leniently (a hand-edited value counts as none). */
export function sendStateOf(metadata: Record<string, unknown>): SendState {
  const raw = metadata[SEND_STATE_KEY]
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return {}
  const state = raw as Record<string, unknown>
  const flight = state.in_flight as Partial<InFlightAttempt> | null | undefined
  const validFlight =
    flight && typeof flight === 'object' && typeof flight.token === 'string' && typeof flight.attempt === 'number' && typeof flight.job_id === 'number'
  return {...(state as SendState), in_flight: validFlight ? (flight as InFlightAttempt) : null}
}

/** The metadata with our send state, or without the key when nothing is left to keep (a clean send). */
function withSendState(metadata: Record<string, unknown>, state: SendState): Record<string, unknown> {
  const {[SEND_STATE_KEY]: _old, ...rest} = metadata
  return Object.keys(state).length === 0 ? rest : {...rest, [SEND_STATE_KEY]: state}
}

/** What the provider is given: the message's metadata without our send state. */
function providerMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
  const {[SEND_STATE_KEY]: _state, ...rest} = metadata
  return rest
}

const WORKER = `${os.hostname()}:${process.pid}`

const isDone = (status: unknown) => status === 'sent' || status === 'delivered'

async function findProviderConfig(conn: Executor, message: WaMessageRow): Promise<ProviderConfig | undefined> {
  const query = conn('wa_provider_configs as c')
    .join('wa_providers as p', 'p.id', 'c.provider_id')
    .where('c.tenant_id', message.tenant_id)
    .where('c.is_active', true)
    .first<ProviderConfig | undefined>('c.provider_id', 'p.key as provider_key', 'c.credentials_json')
  if (message.provider_id !== null) query.where('c.provider_id', message.provider_id)
  const row = await query
  return row ? {provider_id: Number(row.provider_id), provider_key: String(row.provider_key), credentials_json: row.credentials_json} : undefined
}

/** The message, locked for the rest of the (short) transaction on PostgreSQL; SQLite's write lock is already held. */
async function lockMessage(db: Database, trx: Executor, messageId: string): Promise<WaMessageRow | undefined> {
  if (db.dialect === 'pg') {
    const [row] = await selectRows<WaMessageRow | undefined>(trx, 'pg', `select * from "wa_messages" where "id" = ? for update`, [messageId])
    return row
  }
  return trx<WaMessageRow>('wa_messages').where({id: messageId}).first()
}

/** Removes the worked job, but only while this worker still holds its reservation. */
async function removeOwnJob(trx: Executor, job: QueuedJob): Promise<void> {
  await trx('jobs').where({id: job.id, reserved_at: job.reserved_at}).delete()
}

/** Whether the job that made an attempt still holds a live reservation (its worker is presumed alive). */
async function attemptIsLive(ctx: SendContext, trx: Executor, flight: InFlightAttempt): Promise<boolean> {
  if (flight.job_id === ctx.job.id) return false // our own job, claimed again: its previous holder let go or died
  const holder = await trx('jobs').where('id', flight.job_id).first<{reserved_at: number | string | null} | undefined>('reserved_at')
  if (!holder || holder.reserved_at === null) return false
  const reservedAt = Number(holder.reserved_at)
  return reservedAt === flight.reserved_at && reservedAt > unixSeconds(ctx.clock.now()) - ctx.retryAfter
}

type Begun =
  | {kind: 'skip'; outcome: SendOutcome}
  | {
      kind: 'send'
      message: WaMessageRow
      metadata: Record<string, unknown>
      flight: InFlightAttempt
      possibleDuplicate: boolean
      /** The send state as found (put back if the attempt is abandoned before the provider call). */
      found: unknown
    }

/**
 * Step 1, one short transaction: decide whether to send, and record the attempt as in flight (committed
 * before the provider is called). A message whose attempt is in flight in a live worker is busy; one whose
 * attempt belonged to a worker that died is sent again with the same attempt number (and so the same
 * idempotency key), and marked as a possible duplicate.
 */
async function beginAttempt(ctx: SendContext, messageId: string): Promise<Begun> {
  return writeTransaction(ctx.db, async (trx) => {
    const message = await lockMessage(ctx.db, trx, messageId)
    if (!message) {
      await removeOwnJob(trx, ctx.job)
      return {kind: 'skip', outcome: {status: 'skipped', reason: 'missing'}} as const
    }
    if (isDone(message.status)) {
      await removeOwnJob(trx, ctx.job)
      return {kind: 'skip', outcome: {status: 'skipped', reason: 'already_sent'}} as const
    }
    const metadata = readJsonObject(message.metadata_json)
    const state = sendStateOf(metadata)
    const previous = state.in_flight ?? null
    if (previous && (await attemptIsLive(ctx, trx, previous))) return {kind: 'skip', outcome: {status: 'skipped', reason: 'busy'}} as const
    const now = ctx.clock.now()
    const flight: InFlightAttempt = {
      attempt: previous ? previous.attempt : Number(message.attempts) + 1,
      token: randomUUID(),
      job_id: ctx.job.id,
      reserved_at: ctx.job.reserved_at,
      started_at: now.toISOString(),
      worker: WORKER,
    }
    const next: SendState = {...state, in_flight: flight}
    if (previous) {
      next.possible_duplicates = (Number(state.possible_duplicates) || 0) + 1
      next.possible_duplicate_at = now.toISOString()
      next.possible_duplicate_of = previous
    }
    const written = {...metadata, [SEND_STATE_KEY]: next}
    await trx('wa_messages')
      .where({id: messageId})
      .update({metadata_json: JSON.stringify(written), updated_at: toDbTimestamp(now)})
    return {kind: 'send', message, metadata: written, flight, possibleDuplicate: previous !== null, found: metadata[SEND_STATE_KEY]} as const
  })
}

/** Step 2, outside any transaction: the provider call. */
async function callProvider(ctx: SendContext, message: WaMessageRow, metadata: Record<string, unknown>, attempt: number): Promise<SendAttempt> {
  const config = await findProviderConfig(ctx.db.knex, message)
  if (!config) return {ok: false, code: 'PROVIDER_CONFIG_MISSING', message: 'No active WhatsApp provider configuration found.', retry: false}
  try {
    const provider = providerFor(config.provider_key, ctx.providers ?? PROVIDERS)
    const result = await provider.sendText(
      message.to_phone,
      message.body_text,
      readJsonObject(config.credentials_json),
      providerMetadata(metadata),
      ctx.signal,
      `${message.id}:${attempt}`,
    )
    return {ok: true, providerMessageId: result.providerMessageId, config}
  } catch (error) {
    // Cut off by the job's --timeout: whether the message went out is unknown, so nothing is recorded and
    // the mark stays; the job, claimed again after retry_after, sends it as a possible duplicate.
    if (ctx.signal?.aborted) throw new Error(`the provider call was cut off by the job's --timeout`, {cause: error})
    if (error instanceof ProviderError) {
      return {ok: false, code: error.reasonCode, message: error.message, retry: error.transient && attempt < MAX_SEND_ATTEMPTS, config}
    }
    return {ok: false, code: 'UNKNOWN_ERROR', message: (error as Error)?.message ?? String(error), retry: attempt < MAX_SEND_ATTEMPTS, config}
  }
}

/**
 * Step 3, one short transaction: the outcome, the retry job if any, the removal of the worked job and of
 * the in-flight mark, together; only while the mark is still ours (another worker may have taken the
 * message over after our reservation expired).
 */
async function recordOutcome(ctx: SendContext, begun: Extract<Begun, {kind: 'send'}>, result: SendAttempt): Promise<SendOutcome> {
  const {flight, possibleDuplicate} = begun
  const attempt = flight.attempt
  const messageId = begun.message.id
  return writeTransaction(ctx.db, async (trx) => {
    const current = await lockMessage(ctx.db, trx, messageId)
    const metadata = current ? readJsonObject(current.metadata_json) : {}
    const state = sendStateOf(metadata)
    if (!current || state.in_flight?.token !== flight.token) {
      await removeOwnJob(trx, ctx.job)
      // Our own earlier try committed, and only its acknowledgement was lost with the connection.
      if (result.ok && current?.status === 'sent' && current.provider_message_id === result.providerMessageId) {
        return {status: 'sent', attempt, providerMessageId: result.providerMessageId, possibleDuplicate}
      }
      return {status: 'superseded', attempt} as const
    }
    const now = ctx.clock.now()
    const {in_flight: _done, ...kept} = state
    const common = {
      attempts: attempt,
      updated_by: null,
      source_channel: 'system',
      updated_at: toDbTimestamp(now),
      metadata_json: JSON.stringify(withSendState(metadata, kept)),
    }
    await removeOwnJob(trx, ctx.job)
    if (result.ok) {
      await trx('wa_messages')
        .where({id: messageId})
        .update({
          ...common,
          provider_id: result.config.provider_id,
          status: 'sent',
          provider_message_id: result.providerMessageId,
          last_error_code: null,
          last_error_message: null,
        })
      return {status: 'sent', attempt, providerMessageId: result.providerMessageId, possibleDuplicate}
    }
    await trx('wa_messages')
      .where({id: messageId})
      .update({
        ...common,
        ...(result.config ? {provider_id: result.config.provider_id} : {}),
        status: result.retry ? 'queued' : 'failed',
        last_error_code: result.code,
        last_error_message: result.message,
      })
    if (!result.retry) return {status: 'failed', attempt, code: result.code, possibleDuplicate}
    const delaySeconds = sendBackoffSeconds(attempt)
    await pushJob(trx, {queue: MESSAGING_QUEUE, payload: sendWaJobPayload({waMessageId: messageId, now, delaySeconds}), now, delaySeconds})
    return {status: 'retry', attempt, code: result.code, delaySeconds, possibleDuplicate}
  })
}

/** Takes our in-flight mark off a message whose provider was never called. */
async function abandonAttempt(ctx: SendContext, begun: Extract<Begun, {kind: 'send'}>): Promise<void> {
  await writeTransaction(ctx.db, async (trx) => {
    const current = await lockMessage(ctx.db, trx, begun.message.id)
    if (!current) return
    const metadata = readJsonObject(current.metadata_json)
    const state = sendStateOf(metadata)
    if (state.in_flight?.token !== begun.flight.token) return
    const {[SEND_STATE_KEY]: _ours, ...rest} = metadata
    const restored = begun.found === undefined ? rest : {...rest, [SEND_STATE_KEY]: begun.found}
    await trx('wa_messages')
      .where({id: begun.message.id})
      .update({metadata_json: JSON.stringify(restored)})
  })
}

/** Faults a later try may get past: the recording is retried for these, never the send. */
const RETRIED_FAULTS = new Set(['DB_CONNECTION_LOST', 'DB_TIMEOUT', 'DB_LOCKED', 'DB_UNREACHABLE', 'DISK_FULL', 'STORAGE_UNWRITABLE'])
const FIRST_RETRY_MS = 200
const MAX_RETRY_MS = 5000

function pause(ms: number, wake?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      wake?.removeEventListener('abort', done)
      resolve()
    }
    if (wake?.aborted) return done()
    wake?.addEventListener('abort', done, {once: true})
  })
}

/**
 * Records the outcome until it is committed. The provider has answered: sending again is what this must
 * never cause, so a fault (the database stopped, locked, full, a session cut) is waited out and the
 * recording tried again, for as long as it takes; the job stays in this worker's hands meanwhile.
 */
async function recordUntilCommitted(ctx: SendContext, begun: Extract<Begun, {kind: 'send'}>, result: SendAttempt): Promise<SendOutcome> {
  let delay = FIRST_RETRY_MS
  for (let tries = 1; ; tries++) {
    try {
      return await recordOutcome(ctx, begun, result)
    } catch (error) {
      const fault = describeFault(error, ctx.db.target)
      if (!fault || !RETRIED_FAULTS.has(fault.code)) throw error
      ctx.onRecordRetry?.({code: fault.code, message: fault.message, delayMs: delay, tries})
      await pause(delay, ctx.wake)
      delay = Math.min(MAX_RETRY_MS, delay * 2)
    }
  }
}

/**
 * Sends one message in three steps, none of which holds a transaction or a lock across the provider call:
 * (1) mark the attempt in flight and commit; (2) call the provider, with the idempotency key
 * `<message id>:<attempt>`; (3) record the outcome, retried (never the send) until it commits. Two jobs
 * for one message never both reach the provider while their workers live: the second finds the first's
 * mark and is put back (`busy`).
 */
export async function sendWaMessage(ctx: SendContext, messageId: string): Promise<SendOutcome> {
  const begun = await beginAttempt(ctx, messageId)
  if (begun.kind === 'skip') return begun.outcome
  if (ctx.signal?.aborted) {
    // The job ran out of time (--timeout) while the database kept it waiting: the provider is not called,
    // and the mark comes off so that the job, claimed again, is not taken for a possible duplicate.
    await abandonAttempt(ctx, begun).catch(() => {})
    throw new Error('the job ran out of time before the provider was called')
  }
  const result = await callProvider(ctx, begun.message, begun.metadata, begun.flight.attempt)
  ctx.onAnswered?.()
  return recordUntilCommitted(ctx, begun, result)
}
