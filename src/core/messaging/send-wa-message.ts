import {randomUUID} from 'node:crypto'
import os from 'node:os'
import {isDeepStrictEqual} from 'node:util'

import type {Clock} from '../clock.js'
import {toDbTimestamp, unixSeconds} from '../clock.js'
import type {Database} from '../db/connection.js'
import {describeFault} from '../db/faults.js'
import {selectRows as preparedRows} from '../db/raw.js'
import {type Executor, selectRows, singleStatement, writeTransaction} from '../db/transactions.js'
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
  /**
   * The metadata_json text as it was before the mark (null: none): a send that changes nothing else puts
   * it back byte for byte, so a clean send leaves the Laravel application's metadata exactly as it was.
   */
  original?: string | null
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

/** What the provider is given: the message's metadata without our send state. */
function providerMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
  const {[SEND_STATE_KEY]: _state, ...rest} = metadata
  return rest
}

const WORKER = `${os.hostname()}:${process.pid}`

const isDone = (status: unknown) => status === 'sent' || status === 'delivered'

async function findProviderConfig(conn: Executor, message: SendMessage): Promise<ProviderConfig | undefined> {
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
async function lockMessage(db: Database, trx: Executor, messageId: string): Promise<(WaMessageRow & {metadata_text: string | null}) | undefined> {
  if (db.dialect === 'pg') {
    const [row] = await selectRows<(WaMessageRow & {metadata_text: string | null}) | undefined>(
      trx,
      'pg',
      `select *, "metadata_json"::text as "metadata_text" from "wa_messages" where "id" = ? for update`,
      [messageId],
    )
    return row
  }
  const row = await trx<WaMessageRow>('wa_messages').where({id: messageId}).first()
  return row
    ? {...row, metadata_text: row.metadata_json === null ? null : typeof row.metadata_json === 'string' ? row.metadata_json : JSON.stringify(row.metadata_json)}
    : undefined
}

/**
 * What metadata_json becomes when the mark comes off: the text from before the mark, byte for byte, when
 * nothing else changed meanwhile (every clean send); otherwise the current document with `state` as the
 * send state (none left: the key goes).
 */
function metadataAfter(current: Record<string, unknown>, flight: InFlightAttempt, state: SendState | undefined): string | null {
  const {[SEND_STATE_KEY]: _now, ...rest} = current
  if (state === undefined && flight.original !== undefined) {
    const before = flight.original === null ? {} : readJsonObject(flight.original)
    const {[SEND_STATE_KEY]: _before, ...restBefore} = before
    if (isDeepStrictEqual(rest, restBefore)) return flight.original
  }
  const kept = state ?? {}
  return JSON.stringify(Object.keys(kept).length === 0 ? rest : {...rest, [SEND_STATE_KEY]: kept})
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

/** What the send needs of the message. */
type SendMessage = Pick<WaMessageRow, 'id' | 'tenant_id' | 'provider_id' | 'to_phone' | 'body_text'>

type Begun =
  | {kind: 'skip'; outcome: SendOutcome}
  | {
      kind: 'send'
      message: SendMessage
      metadata: Record<string, unknown>
      flight: InFlightAttempt
      possibleDuplicate: boolean
      /** The tenant's provider configuration when it was read with the message (undefined inside: none active). */
      config?: {found: ProviderConfig | undefined}
      /** The send state as found (put back if the attempt is abandoned before the provider call). */
      found?: unknown
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
      original: previous ? previous.original : message.metadata_text,
    }
    const next: SendState = {...state, in_flight: flight}
    if (previous) {
      const {original: _text, ...dead} = previous
      next.possible_duplicates = (Number(state.possible_duplicates) || 0) + 1
      next.possible_duplicate_at = now.toISOString()
      next.possible_duplicate_of = dead
    }
    const written = {...metadata, [SEND_STATE_KEY]: next}
    await trx('wa_messages')
      .where({id: messageId})
      .update({metadata_json: JSON.stringify(written), updated_at: toDbTimestamp(now)})
    return {kind: 'send', message, metadata: written, flight, possibleDuplicate: previous !== null, found: metadata[SEND_STATE_KEY]} as const
  })
}

// ---------------------------------------------------------------------------------------------------
// The common case in one statement per step. A message that is queued, with no attempt in flight and
// metadata that is a JSON object (or none), is marked in flight by one UPDATE (which returns the tenant's
// provider configuration with it), and its outcome is recorded, with the worked job's removal, by one more
// statement. Anything else (a message missing, already sent, with an attempt in flight, odd metadata)
// takes the locked transactions above, which decide and write the same things.

/**
 * Marks the attempt in flight: `in_flight` of the send state set in the message's metadata, with the
 * attempt number `attempts + 1`, in the same checks as beginAttempt's common case. On PostgreSQL the
 * metadata is rewritten as jsonb (key order and spacing may change; the values do not); a document jsonb
 * refuses (a \u0000 escape) fails with a data exception and takes the transaction instead.
 */
const MARK_IN_FLIGHT: Record<Database['dialect'], string> = {
  pg: `with "marked" as (
      update "wa_messages"
         set "metadata_json" = jsonb_set(coalesce("metadata_json"::jsonb, '{}'::jsonb), '{${SEND_STATE_KEY}}',
               coalesce("metadata_json"::jsonb -> '${SEND_STATE_KEY}', '{}'::jsonb) || jsonb_build_object('in_flight', jsonb_build_object(
                 'attempt', "attempts" + 1, 'token', ?::text, 'job_id', ?::bigint, 'reserved_at', ?::bigint, 'started_at', ?::text, 'worker', ?::text,
                 'original', "metadata_json"::text)))::json,
             "updated_at" = ?
       where "id" = ? and "status" not in ('sent', 'delivered')
         and ("metadata_json" is null or (json_typeof("metadata_json") = 'object'
              and coalesce(json_typeof("metadata_json" -> '${SEND_STATE_KEY}'), 'object') = 'object'
              and coalesce(json_typeof("metadata_json" -> '${SEND_STATE_KEY}' -> 'in_flight'), 'null') = 'null'))
       returning "id", "tenant_id", "provider_id", "to_phone", "body_text", "attempts", "metadata_json")
    select "marked".*, "cfg"."provider_id" as "cfg_provider_id", "cfg"."key" as "cfg_provider_key", "cfg"."credentials_json" as "cfg_credentials_json"
      from "marked" left join lateral (
        select "c"."provider_id", "p"."key", "c"."credentials_json"
          from "wa_provider_configs" "c" join "wa_providers" "p" on "p"."id" = "c"."provider_id"
         where "c"."tenant_id" = "marked"."tenant_id" and "c"."is_active" = true
           and ("marked"."provider_id" is null or "c"."provider_id" = "marked"."provider_id")
         limit 1) "cfg" on true`,
  sqlite: `update "wa_messages"
       set "metadata_json" = json_set(coalesce("metadata_json", '{}'), '$.${SEND_STATE_KEY}.in_flight', json_object(
             'attempt', "attempts" + 1, 'token', ?, 'job_id', cast(? as integer), 'reserved_at', cast(? as integer), 'started_at', ?, 'worker', ?,
             'original', "metadata_json")),
           "updated_at" = ?
     where "id" = ? and "status" not in ('sent', 'delivered')
       and case when "metadata_json" is null then 1
                when not json_valid("metadata_json") then 0
                when json_type("metadata_json") <> 'object' then 0
                else coalesce(json_type("metadata_json", '$.${SEND_STATE_KEY}'), 'object') = 'object'
                 and coalesce(json_type("metadata_json", '$.${SEND_STATE_KEY}.in_flight'), 'null') = 'null' end
    returning "id", "tenant_id", "provider_id", "to_phone", "body_text", "attempts", "metadata_json",
      (select json_object('provider_id', "c"."provider_id", 'provider_key', "p"."key", 'credentials_json', "c"."credentials_json")
         from "wa_provider_configs" "c" join "wa_providers" "p" on "p"."id" = "c"."provider_id"
        where "c"."tenant_id" = "wa_messages"."tenant_id" and "c"."is_active" = 1
          and ("wa_messages"."provider_id" is null or "c"."provider_id" = "wa_messages"."provider_id")
        limit 1) as "cfg"`,
}

interface MarkedRow {
  id: string
  tenant_id: string
  provider_id: number | string | null
  to_phone: string
  body_text: string
  attempts: number | string
  metadata_json: JsonColumn
  /** PostgreSQL: the provider configuration's columns (null: none active). */
  cfg_provider_id?: number | string | null
  cfg_provider_key?: string | null
  cfg_credentials_json?: JsonColumn
  /** SQLite: the provider configuration as one JSON object (null: none active). */
  cfg?: string | null
}

function markedConfig(row: MarkedRow): ProviderConfig | undefined {
  const cfg =
    row.cfg !== undefined
      ? (JSON.parse(row.cfg ?? 'null') as {provider_id: unknown; provider_key: unknown; credentials_json: JsonColumn} | null)
      : row.cfg_provider_id === null || row.cfg_provider_id === undefined
        ? null
        : {provider_id: row.cfg_provider_id, provider_key: row.cfg_provider_key, credentials_json: row.cfg_credentials_json}
  if (!cfg) return undefined
  return {provider_id: Number(cfg.provider_id), provider_key: String(cfg.provider_key), credentials_json: cfg.credentials_json}
}

/** A data exception (SQLSTATE class 22) of PostgreSQL: the value, not the connection, was the problem. */
const isDataException = (error: unknown) => {
  const code = (error as {code?: unknown})?.code
  return typeof code === 'string' && code.startsWith('22')
}

/**
 * Step 1 in one statement, committed on its own before the provider is called; null when the message is
 * not in the common case (beginAttempt decides then).
 */
async function markInFlight(ctx: SendContext, messageId: string): Promise<Begun | null> {
  const {db, job} = ctx
  const now = ctx.clock.now()
  const flight: Omit<InFlightAttempt, 'attempt'> = {
    token: randomUUID(),
    job_id: job.id,
    reserved_at: job.reserved_at,
    started_at: now.toISOString(),
    worker: WORKER,
  }
  let rows: MarkedRow[]
  try {
    rows = await singleStatement(db, () =>
      preparedRows<MarkedRow>(db.knex, MARK_IN_FLIGHT[db.dialect], [
        flight.token,
        flight.job_id,
        flight.reserved_at,
        flight.started_at,
        flight.worker,
        toDbTimestamp(now),
        messageId,
      ]),
    )
  } catch (error) {
    if (db.dialect === 'pg' && isDataException(error)) return null
    throw error
  }
  const row = rows[0]
  if (!row) return null
  return {
    kind: 'send',
    message: {
      id: String(row.id),
      tenant_id: String(row.tenant_id),
      provider_id: row.provider_id === null ? null : Number(row.provider_id),
      to_phone: String(row.to_phone),
      body_text: String(row.body_text),
    },
    metadata: readJsonObject(row.metadata_json),
    flight: {attempt: Number(row.attempts) + 1, ...flight},
    possibleDuplicate: false,
    config: {found: markedConfig(row)},
  }
}

/**
 * Step 3 in one statement on PostgreSQL (a data-modifying CTE): the worked job removed while this worker
 * holds its reservation; the outcome written and the in-flight mark removed only while the mark is ours;
 * the retry job, if any, inserted only then. Everything commits together.
 */
const RECORD_OUTCOME_PG = `with "own_job" as (delete from "jobs" where "id" = ? and "reserved_at" is not distinct from ?::integer),
    "recorded" as (
      update "wa_messages"
         set "status" = ?, "attempts" = ?, "provider_id" = coalesce(?::bigint, "provider_id"),
             "provider_message_id" = coalesce(?::text, "provider_message_id"), "last_error_code" = ?::text, "last_error_message" = ?::text,
             "updated_by" = null, "source_channel" = 'system', "updated_at" = ?,
             "metadata_json" = case
               when ("metadata_json"::jsonb - '${SEND_STATE_KEY}') = (select case when jsonb_typeof("o") = 'object' then "o" - '${SEND_STATE_KEY}' else '{}'::jsonb end
                   from (select coalesce(("metadata_json" -> '${SEND_STATE_KEY}' -> 'in_flight' ->> 'original')::jsonb, '{}'::jsonb) as "o") as "before")
                 then ("metadata_json" -> '${SEND_STATE_KEY}' -> 'in_flight' ->> 'original')::json
               when ("metadata_json"::jsonb -> '${SEND_STATE_KEY}') - 'in_flight' = '{}'::jsonb then ("metadata_json"::jsonb - '${SEND_STATE_KEY}')::json
               else ("metadata_json"::jsonb #- '{${SEND_STATE_KEY},in_flight}')::json end
       where "id" = ? and "metadata_json" -> '${SEND_STATE_KEY}' -> 'in_flight' ->> 'token' = ?::text
       returning "id"),
    "retry_job" as (
      insert into "jobs" ("queue", "payload", "attempts", "reserved_at", "available_at", "created_at")
      select ?::text, ?::text, 0, null, ?::integer, ?::integer from "recorded" where ?::boolean)
  select count(*)::integer as "recorded" from "recorded"`

/** Step 3's message update on SQLite (in a write transaction with the job's removal): only while the mark is ours. */
const RECORD_OUTCOME_SQLITE = `update "wa_messages"
     set "status" = ?, "attempts" = ?, "provider_id" = coalesce(?, "provider_id"), "provider_message_id" = coalesce(?, "provider_message_id"),
         "last_error_code" = ?, "last_error_message" = ?, "updated_by" = null, "source_channel" = 'system', "updated_at" = ?,
         "metadata_json" = case
           when not json_valid(coalesce(json_extract("metadata_json", '$.${SEND_STATE_KEY}.in_flight.original'), '{}'))
             then json_extract("metadata_json", '$.${SEND_STATE_KEY}.in_flight.original')
           when json_remove("metadata_json", '$.${SEND_STATE_KEY}') = (select case when json_type("o") = 'object' then json_remove("o", '$.${SEND_STATE_KEY}') else '{}' end
               from (select coalesce(json_extract("metadata_json", '$.${SEND_STATE_KEY}.in_flight.original'), '{}') as "o"))
             then json_extract("metadata_json", '$.${SEND_STATE_KEY}.in_flight.original')
           when json_remove(json_extract("metadata_json", '$.${SEND_STATE_KEY}'), '$.in_flight') = '{}' then json_remove("metadata_json", '$.${SEND_STATE_KEY}')
           else json_remove("metadata_json", '$.${SEND_STATE_KEY}.in_flight') end
   where "id" = ? and case when json_valid("metadata_json") then json_extract("metadata_json", '$.${SEND_STATE_KEY}.in_flight.token') end = ?
  returning "id"`

/** The columns step 3 writes, and the retry job it pushes, for an attempt's result. */
function outcomeFields(ctx: SendContext, attempt: number, result: SendAttempt, messageId: string) {
  const now = ctx.clock.now()
  const retry = !result.ok && result.retry ? sendBackoffSeconds(attempt) : null
  return {
    now,
    status: result.ok ? 'sent' : result.retry ? 'queued' : 'failed',
    providerId: result.config?.provider_id ?? null,
    providerMessageId: result.ok ? result.providerMessageId : null,
    errorCode: result.ok ? null : result.code,
    errorMessage: result.ok ? null : result.message,
    updatedAt: toDbTimestamp(now),
    retry:
      retry === null
        ? null
        : {
            delaySeconds: retry,
            payload: sendWaJobPayload({waMessageId: messageId, now, delaySeconds: retry}),
            availableAt: unixSeconds(now) + retry,
            createdAt: unixSeconds(now),
          },
  }
}

/** The outcome once step 3 wrote it. */
function recordedOutcome(begun: Extract<Begun, {kind: 'send'}>, result: SendAttempt, retryDelay: number | undefined): SendOutcome {
  const {attempt} = begun.flight
  const {possibleDuplicate} = begun
  if (result.ok) return {status: 'sent', attempt, providerMessageId: result.providerMessageId, possibleDuplicate}
  if (retryDelay === undefined) return {status: 'failed', attempt, code: result.code, possibleDuplicate}
  return {status: 'retry', attempt, code: result.code, delaySeconds: retryDelay, possibleDuplicate}
}

/**
 * The outcome when the in-flight mark was no longer ours: our own earlier try committed and only its
 * acknowledgement was lost (the message is sent with our provider id), or another worker took it over.
 */
function notOurs(
  begun: Extract<Begun, {kind: 'send'}>,
  result: SendAttempt,
  current: Pick<WaMessageRow, 'status' | 'provider_message_id'> | undefined,
): SendOutcome {
  if (result.ok && current?.status === 'sent' && current.provider_message_id === result.providerMessageId) {
    return {status: 'sent', attempt: begun.flight.attempt, providerMessageId: result.providerMessageId, possibleDuplicate: begun.possibleDuplicate}
  }
  return {status: 'superseded', attempt: begun.flight.attempt}
}

/**
 * Step 3 without a lock read: one statement on PostgreSQL, one write transaction of two or three on SQLite.
 * Null on PostgreSQL when the metadata is one jsonb refuses (recordOutcome handles it then).
 */
async function recordInOneStatement(ctx: SendContext, begun: Extract<Begun, {kind: 'send'}>, result: SendAttempt): Promise<SendOutcome | null> {
  const {db, job} = ctx
  const messageId = begun.message.id
  const f = outcomeFields(ctx, begun.flight.attempt, result, messageId)
  const update = [f.status, begun.flight.attempt, f.providerId, f.providerMessageId, f.errorCode, f.errorMessage, f.updatedAt, messageId, begun.flight.token]
  const current = (conn: Executor) => conn<WaMessageRow>('wa_messages').where({id: messageId}).first('status', 'provider_message_id')
  if (db.dialect === 'pg') {
    let rows: Array<{recorded: number}>
    try {
      rows = await preparedRows<{recorded: number}>(db.knex, RECORD_OUTCOME_PG, [
        job.id,
        job.reserved_at,
        ...update,
        MESSAGING_QUEUE,
        f.retry?.payload ?? null,
        f.retry?.availableAt ?? null,
        f.retry?.createdAt ?? null,
        f.retry !== null,
      ])
    } catch (error) {
      if (isDataException(error)) return null
      throw error
    }
    if (Number(rows[0]?.recorded) > 0) return recordedOutcome(begun, result, f.retry?.delaySeconds)
    return notOurs(begun, result, await current(db.knex))
  }
  return writeTransaction(db, async (trx) => {
    const recorded = await preparedRows(trx, RECORD_OUTCOME_SQLITE, update)
    await removeOwnJob(trx, job)
    if (recorded.length === 0) return notOurs(begun, result, await current(trx))
    if (f.retry) {
      const {delaySeconds, payload} = f.retry
      await pushJob(trx, {queue: MESSAGING_QUEUE, payload, now: f.now, delaySeconds})
    }
    return recordedOutcome(begun, result, f.retry?.delaySeconds)
  })
}

/** Step 2, outside any transaction: the provider call. */
async function callProvider(ctx: SendContext, begun: Extract<Begun, {kind: 'send'}>, config: ProviderConfig | undefined): Promise<SendAttempt> {
  const {message, metadata} = begun
  const attempt = begun.flight.attempt
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
      metadata_json: metadataAfter(metadata, state.in_flight, possibleDuplicate ? kept : undefined),
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
    const found = begun.found === undefined ? undefined : sendStateOf({[SEND_STATE_KEY]: begun.found})
    await trx('wa_messages')
      .where({id: begun.message.id})
      .update({metadata_json: metadataAfter(metadata, state.in_flight, begun.possibleDuplicate ? found : undefined)})
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
      // A possible duplicate keeps its mark in the send state: the locked transaction writes it.
      const quick = begun.possibleDuplicate ? null : await recordInOneStatement(ctx, begun, result)
      return quick ?? (await recordOutcome(ctx, begun, result))
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
  const begun = (await markInFlight(ctx, messageId)) ?? (await beginAttempt(ctx, messageId))
  if (begun.kind === 'skip') return begun.outcome
  let config: ProviderConfig | undefined
  try {
    if (ctx.signal?.aborted) throw new Error('the job ran out of time (--timeout) before the provider was called')
    config = begun.config ? begun.config.found : await findProviderConfig(ctx.db.knex, begun.message)
  } catch (error) {
    // The provider was not called (the job ran out of time while the database kept it waiting, or the
    // database failed): the mark comes off, so that the job, claimed again, is not taken for a possible duplicate.
    await abandonAttempt(ctx, begun).catch(() => {})
    throw error
  }
  const result = await callProvider(ctx, begun, config)
  ctx.onAnswered?.()
  return recordUntilCommitted(ctx, begun, result)
}
