import type {Clock} from '../clock.js'
import {toDbTimestamp} from '../clock.js'
import type {Database} from '../db/connection.js'
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

export type SendOutcome =
  | {status: 'sent'; attempt: number; providerMessageId: string}
  | {status: 'retry'; attempt: number; code: string; delaySeconds: number}
  | {status: 'failed'; attempt: number; code: string}
  | {status: 'skipped'; reason: 'missing' | 'already_sent' | 'busy'}

export interface SendContext {
  db: Database
  clock: Clock
  /** The queue row being worked; it is deleted in the same transaction as the message update. */
  job: QueuedJob
  providers?: ReadonlyMap<string, WaProvider>
  signal?: AbortSignal
}

interface ProviderConfig {
  provider_id: number
  provider_key: string
  credentials_json: JsonColumn
}

/** The message with its tenant's active provider configuration (PostgreSQL's one-round-trip read). */
interface MessageWithConfigRow extends WaMessageRow {
  cfg_provider_id: number | null
  cfg_provider_key: string | null
  cfg_credentials: JsonColumn
}

type SendAttempt =
  {ok: true; providerMessageId: string; config: ProviderConfig} | {ok: false; code: string; message: string; retry: boolean; config?: ProviderConfig}

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

async function attemptSend(
  ctx: SendContext,
  conn: Executor,
  message: WaMessageRow,
  attempt: number,
  known?: {config: ProviderConfig | undefined},
): Promise<SendAttempt> {
  const config = known ? known.config : await findProviderConfig(conn, message)
  if (!config) return {ok: false, code: 'PROVIDER_CONFIG_MISSING', message: 'No active WhatsApp provider configuration found.', retry: false}
  try {
    const provider = providerFor(config.provider_key, ctx.providers ?? PROVIDERS)
    const result = await provider.sendText(
      message.to_phone,
      message.body_text,
      readJsonObject(config.credentials_json),
      readJsonObject(message.metadata_json),
      ctx.signal,
    )
    return {ok: true, providerMessageId: result.providerMessageId, config}
  } catch (error) {
    if (error instanceof ProviderError) {
      return {ok: false, code: error.reasonCode, message: error.message, retry: error.transient && attempt < MAX_SEND_ATTEMPTS, config}
    }
    return {ok: false, code: 'UNKNOWN_ERROR', message: (error as Error)?.message ?? String(error), retry: attempt < MAX_SEND_ATTEMPTS, config}
  }
}

/**
 * Updates the message and removes the worked job in one statement on PostgreSQL (a data-modifying CTE:
 * one round trip fewer per send), in two on SQLite; always inside the caller's transaction.
 */
async function updateMessageAndRemoveJob(ctx: SendContext, trx: Executor, messageId: string, fields: Record<string, unknown>): Promise<void> {
  if (ctx.db.dialect === 'pg') {
    const update = trx('wa_messages').where({id: messageId}).update(fields).toSQL()
    await trx.raw(`with "worked_job" as (delete from "jobs" where "id" = ?) ${update.sql}`, [ctx.job.id, ...update.bindings])
    return
  }
  await trx('jobs').where({id: ctx.job.id}).delete()
  await trx('wa_messages').where({id: messageId}).update(fields)
}

/** Writes the attempt's result, the retry job if any, and removes the worked job: one transaction. */
async function applyAttempt(ctx: SendContext, trx: Executor, messageId: string, attempt: number, result: SendAttempt): Promise<SendOutcome> {
  const now = ctx.clock.now()
  const common = {attempts: attempt, updated_by: null, source_channel: 'system', updated_at: toDbTimestamp(now)}
  if (result.ok) {
    await updateMessageAndRemoveJob(ctx, trx, messageId, {
      ...common,
      provider_id: result.config.provider_id,
      status: 'sent',
      provider_message_id: result.providerMessageId,
      last_error_code: null,
      last_error_message: null,
    })
    return {status: 'sent', attempt, providerMessageId: result.providerMessageId}
  }
  await updateMessageAndRemoveJob(ctx, trx, messageId, {
    ...common,
    ...(result.config ? {provider_id: result.config.provider_id} : {}),
    status: result.retry ? 'queued' : 'failed',
    last_error_code: result.code,
    last_error_message: result.message,
  })
  if (!result.retry) return {status: 'failed', attempt, code: result.code}
  const delaySeconds = sendBackoffSeconds(attempt)
  await pushJob(trx, {queue: MESSAGING_QUEUE, payload: sendWaJobPayload({waMessageId: messageId, now, delaySeconds}), now, delaySeconds})
  return {status: 'retry', attempt, code: result.code, delaySeconds}
}

const isDone = (status: unknown) => status === 'sent' || status === 'delivered'

/**
 * Sends one message. On PostgreSQL the message row is locked (`FOR UPDATE SKIP LOCKED`) for the whole
 * attempt, so two jobs for the same message can never both reach the provider; the update, the retry
 * job and the removal of the worked job commit together. On SQLite (one writer) the provider call runs
 * outside the write lock and the results are written in one short transaction.
 */
export async function sendWaMessage(ctx: SendContext, messageId: string): Promise<SendOutcome> {
  const {db} = ctx
  if (db.dialect === 'pg') {
    return db.knex.transaction(async (trx) => {
      // The message, locked, with the tenant's active provider configuration: one round trip.
      const [message] = await selectRows<MessageWithConfigRow | undefined>(
        trx,
        'pg',
        `select m.*, c.provider_id as "cfg_provider_id", p.key as "cfg_provider_key", c.credentials_json as "cfg_credentials"
           from "wa_messages" m
           left join lateral (
             select c.provider_id, c.credentials_json from "wa_provider_configs" c
              where c.tenant_id = m.tenant_id and c.is_active = true and (m.provider_id is null or c.provider_id = m.provider_id)
              limit 1) c on true
           left join "wa_providers" p on p.id = c.provider_id
          where m.id = ? for update of m skip locked`,
        [messageId],
      )
      if (!message) {
        const exists = await db.knex<WaMessageRow>('wa_messages').where({id: messageId}).first('id')
        if (exists) return {status: 'skipped', reason: 'busy'} as const
        await trx('jobs').where({id: ctx.job.id}).delete()
        return {status: 'skipped', reason: 'missing'} as const
      }
      if (isDone(message.status)) {
        await trx('jobs').where({id: ctx.job.id}).delete()
        return {status: 'skipped', reason: 'already_sent'} as const
      }
      const attempt = Number(message.attempts) + 1
      const config =
        message.cfg_provider_id === null || message.cfg_provider_key === null
          ? undefined
          : {provider_id: Number(message.cfg_provider_id), provider_key: message.cfg_provider_key, credentials_json: message.cfg_credentials}
      return applyAttempt(ctx, trx, messageId, attempt, await attemptSend(ctx, trx, message, attempt, {config}))
    })
  }
  const message = await db.knex<WaMessageRow>('wa_messages').where({id: messageId}).first()
  if (!message || isDone(message.status)) {
    await db.knex('jobs').where({id: ctx.job.id}).delete()
    return {status: 'skipped', reason: message ? 'already_sent' : 'missing'}
  }
  const attempt = Number(message.attempts) + 1
  const result = await attemptSend(ctx, db.knex, message, attempt)
  return writeTransaction(db, (trx) => applyAttempt(ctx, trx, messageId, attempt, result))
}
