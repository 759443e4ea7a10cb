import type {Clock} from '../clock.js'
import {toDbTimestamp} from '../clock.js'
import type {Database} from '../db/connection.js'
import {type Executor, writeTransaction} from '../db/transactions.js'
import {uuid7} from '../domain/ids.js'
import {formatRupiah} from '../domain/money.js'
import {planAllowsWhatsapp} from '../domain/plans.js'
import {MESSAGING_QUEUE, sendWaJobPayload} from '../queue/payload.js'
import {pushJob} from '../queue/database-queue.js'
import {phpStringCast} from '../php/string-conversion.js'
import {phpTrim} from '../php/trim.js'
import {renderTemplate} from './renderer.js'
import type {CustomerRow, OrderRow, OutletRow, UserRow, WaMessageRow, WaProviderConfigRow} from '../db/rows.js'
import {resolveTemplate} from './template-resolver.js'

export type {WaMessageRow} from '../db/rows.js'

export type EnqueueOutcome =
  | {status: 'enqueued'; message: WaMessageRow}
  | {status: 'existing'; message: WaMessageRow}
  | {status: 'skipped'; reason: string; detail?: string}
  /** A dry run: every check passed, and the message would be enqueued. */
  | {status: 'would_enqueue'}

export interface EnqueueContext {
  clock: Clock
  /** `brand_name` of the templates (the application's APP_NAME). */
  brandName: string
  /** Make every decision (eligibility, an existing message, rendering) but write nothing. */
  dryRun?: boolean
}

const SOURCE_CHANNELS = new Set(['mobile', 'web', 'system'])

/**
 * `metadata.idempotency_suffix` as upstream keys it: a scalar, trimmed, with `:` replaced by `-`. PHP's
 * string cast and trim, so `true` keys as "1" and `false` as no suffix, as in the Laravel application.
 */
function idempotencySuffix(metadata: Record<string, unknown>): string | null {
  const raw = metadata.idempotency_suffix
  if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') return null
  const suffix = phpTrim(phpStringCast(raw)).replace(/:/g, '-')
  return suffix === '' ? null : suffix
}

function actorUserId(metadata: Record<string, unknown>): number | null {
  const raw = metadata.actor_user_id
  if (typeof raw === 'number' && Number.isInteger(raw) && raw > 0) return raw
  if (typeof raw === 'string' && /^\d+$/.test(raw) && Number(raw) > 0) return Number(raw)
  return null
}

function sourceChannel(metadata: Record<string, unknown>): string {
  const explicit = metadata.source_channel
  if (typeof explicit === 'string' && SOURCE_CHANNELS.has(explicit)) return explicit
  const source = metadata.source
  if (source === 'sync' || source === 'mobile') return 'mobile'
  if (source === 'api' || source === 'web') return 'web'
  return 'system'
}

export function idempotencyKeyFor(
  order: {tenant_id: string; outlet_id: string},
  invoiceOrCode: string,
  templateId: string,
  metadata: Record<string, unknown>,
): string {
  const suffix = idempotencySuffix(metadata)
  return [order.tenant_id, order.outlet_id, invoiceOrCode, templateId, ...(suffix ? [suffix] : [])].join(':')
}

function isUniqueViolation(error: unknown): boolean {
  const e = error as {code?: string; message?: string}
  return e?.code === '23505' || /UNIQUE constraint failed/i.test(String(e?.message))
}

/**
 * Upstream's WaDispatchService::enqueueOrderEvent: one message per (order, template[, suffix]) ever,
 * rendered from the resolved template, inserted as `queued` together with its send job in ONE
 * transaction, so a message never exists without its job nor gets two.
 */
export async function enqueueOrderEvent(
  db: Database,
  orderId: string,
  templateId: string,
  variables: Record<string, unknown>,
  metadata: Record<string, unknown>,
  ctx: EnqueueContext,
  conn: Executor = db.knex,
): Promise<EnqueueOutcome> {
  const order = await conn<OrderRow>('orders').where({id: orderId}).first()
  if (!order) return {status: 'skipped', reason: 'order_not_found'}
  const tenant = await conn('tenants')
    .leftJoin('plans', 'plans.id', 'tenants.current_plan_id')
    .where('tenants.id', order.tenant_id)
    .first<{id: string; plan_key: string | null} | undefined>('tenants.id', 'plans.key as plan_key')
  if (!tenant) return {status: 'skipped', reason: 'tenant_not_found'}
  if (!planAllowsWhatsapp(tenant.plan_key)) return {status: 'skipped', reason: 'plan_not_eligible', detail: tenant.plan_key ?? 'none'}
  // Eloquent relations skip soft-deleted rows: an archived customer gets no message, an archived
  // outlet or courier fills no template variable.
  const customer = await conn<CustomerRow>('customers').where({id: order.customer_id}).whereNull('deleted_at').first('name', 'phone_normalized')
  const outlet = await conn<OutletRow>('outlets').where({id: order.outlet_id}).whereNull('deleted_at').first('name')
  const courier = order.courier_user_id
    ? await conn<UserRow>('users').where({id: order.courier_user_id}).whereNull('deleted_at').first('name', 'phone')
    : undefined
  const toPhone = customer?.phone_normalized ?? ''
  const invoiceOrCode = order.invoice_no ? order.invoice_no : order.order_code
  if (toPhone === '') return {status: 'skipped', reason: 'missing_phone'}
  if (invoiceOrCode === '') return {status: 'skipped', reason: 'missing_invoice_and_code'}

  const key = idempotencyKeyFor(order, invoiceOrCode, templateId, metadata)
  const existing = await conn<WaMessageRow>('wa_messages').where({tenant_id: order.tenant_id, idempotency_key: key}).first()
  if (existing) return {status: 'existing', message: existing}

  let rendered: {body_text: string}
  let template: Awaited<ReturnType<typeof resolveTemplate>>
  try {
    template = await resolveTemplate(conn, order.tenant_id, order.outlet_id, templateId)
    rendered = renderTemplate(template.definition, {
      brand_name: ctx.brandName,
      customer_name: customer?.name ?? 'Pelanggan',
      customer_display_name: customer?.name ?? null,
      to_phone: toPhone,
      invoice_no: order.invoice_no ?? null,
      order_code: order.order_code ?? null,
      outlet_name: outlet?.name ?? null,
      laundry_status: order.laundry_status ?? null,
      courier_status: order.courier_status ?? null,
      is_pickup_delivery: Boolean(Number(order.is_pickup_delivery)) || order.is_pickup_delivery === true,
      total_amount: formatRupiah(Number(order.total_amount)),
      total_amount_numeric: Number(order.total_amount),
      due_amount: formatRupiah(Number(order.due_amount)),
      due_amount_numeric: Number(order.due_amount),
      courier_name: courier?.name ?? null,
      courier_phone: courier?.phone ?? null,
      ...variables,
    })
  } catch (error) {
    return {status: 'skipped', reason: 'render_failed', detail: (error as Error).message}
  }

  if (ctx.dryRun) return {status: 'would_enqueue'}
  const provider = await conn<WaProviderConfigRow>('wa_provider_configs')
    .where({tenant_id: order.tenant_id, is_active: true})
    .orderBy('updated_at', 'desc')
    .first('provider_id')
  const now = ctx.clock.now()
  const stamp = toDbTimestamp(now)
  const actor = actorUserId(metadata)
  const row: WaMessageRow = {
    id: uuid7(now.getTime()),
    tenant_id: order.tenant_id,
    outlet_id: order.outlet_id,
    order_id: order.id,
    provider_id: provider ? Number(provider.provider_id) : null,
    template_id: templateId,
    idempotency_key: key,
    to_phone: toPhone,
    body_text: rendered.body_text,
    status: 'queued',
    attempts: 0,
    last_error_code: null,
    last_error_message: null,
    provider_message_id: null,
    metadata_json: JSON.stringify({...metadata, template_source: template.source, template_version: template.version}),
    created_by: actor,
    updated_by: actor,
    source_channel: sourceChannel(metadata),
    created_at: stamp,
    updated_at: stamp,
  }
  const insert = async (trx: Executor) => {
    await trx('wa_messages').insert(row)
    await pushJob(trx, {queue: MESSAGING_QUEUE, payload: sendWaJobPayload({waMessageId: row.id, now}), now})
  }
  try {
    // Inside a caller's transaction the caller owns atomicity; otherwise we open our own.
    if (conn === db.knex) await writeTransaction(db, insert)
    else await insert(conn)
  } catch (error) {
    if (!isUniqueViolation(error)) throw error
    const raced = await db.knex<WaMessageRow>('wa_messages').where({tenant_id: order.tenant_id, idempotency_key: key}).first()
    if (raced) return {status: 'existing', message: raced}
    throw error
  }
  return {status: 'enqueued', message: row}
}
