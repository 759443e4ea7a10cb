/**
 * The WhatsApp administration endpoints as upstream's WaController does them (reference §3.8): providers,
 * provider configuration, templates (catalogue defaults merged with the tenant's overrides) and the message
 * log. Plain functions over the database; the HTTP layer runs the role check and the plan gate before them
 * (`ensureWaFeatureEnabled`) and renders what they return.
 */
import {type AccessUser, ensureWaOutletAccess} from '../access/outlet-access.js'
import {recordAuditEvent, type RequestMeta} from '../audit/trail.js'
import type {Clock} from '../clock.js'
import {toDbTimestamp} from '../clock.js'
import type {Database} from '../db/connection.js'
import type {TenantRow, WaMessageRow, WaProviderConfigRow, WaProviderRow, WaTemplateRow} from '../db/rows.js'
import {writeTransaction} from '../db/transactions.js'
import {uuid7} from '../domain/ids.js'
import {planAllowsWhatsapp} from '../domain/plans.js'
import {ReasonError} from '../errors.js'
import {carbonIso8601, eloquentArray, eloquentBool, eloquentInt, phpArrayRoundTrip, phpEmptyArray} from '../php/eloquent-json.js'
import {eloquentTimestamp} from '../orders/serialize.js'
import {phpJsonEncode} from '../php/json.js'
import {phpBoolCast, phpIntCast} from '../php/loose-values.js'
import {providerFor} from './providers.js'
import {TEMPLATE_IDS, type TemplateId} from './template-catalog.js'
import {resolveTemplate} from './template-resolver.js'

export const WA_PLAN_MESSAGE = 'WhatsApp feature is available for Premium and Pro plans only.'

/** Who is asking: the user, their role keys (read once per request) and where the request came from. */
export interface WaActor extends RequestMeta {
  user: AccessUser
  roles: readonly string[]
}

/** PlanFeatureGateService::ensureWaEnabledForTenant: the tenant's current plan key must be premium or pro (any case). */
export async function ensureWaFeatureEnabled(db: Database, tenantId: string | null): Promise<void> {
  const plan =
    tenantId === null
      ? undefined
      : await db
          .knex<TenantRow>('tenants')
          .join('plans', 'plans.id', 'tenants.current_plan_id')
          .where('tenants.id', tenantId)
          .first<{key: string} | undefined>('plans.key')
  if (!planAllowsWhatsapp(plan?.key)) throw new ReasonError('PLAN_FEATURE_DISABLED', WA_PLAN_MESSAGE)
}

/** The tenant of a user that passed authentication; a user without one has nothing to administer. */
function tenantOf(user: AccessUser): string {
  if (user.tenant_id === null) throw new ReasonError('PLAN_FEATURE_DISABLED', WA_PLAN_MESSAGE)
  return user.tenant_id
}

export interface WaProviderEntry {
  id: number
  key: string
  name: string
  configured: boolean
  is_active: boolean
  credentials_set: boolean
  updated_at: string | null
}

/** GET /api/wa/providers: the active providers by id, each with the tenant's configuration state (never the credentials). */
export async function listWaProviders(db: Database, input: WaActor, _clock: Clock): Promise<{data: WaProviderEntry[]}> {
  const tenant = tenantOf(input.user)
  const providers: Array<Pick<WaProviderRow, 'id' | 'key' | 'name'>> = await db
    .knex<WaProviderRow>('wa_providers')
    .where('active', true)
    .orderBy('id')
    .select('id', 'key', 'name')
  const configs: WaProviderConfigRow[] = await db.knex<WaProviderConfigRow>('wa_provider_configs').where({tenant_id: tenant}).select('*')
  const byProvider = new Map(configs.map((config) => [Number(config.provider_id), config]))
  return {
    data: providers.map((provider) => {
      const config = byProvider.get(Number(provider.id))
      return {
        id: Number(provider.id),
        key: provider.key,
        name: provider.name,
        configured: config !== undefined,
        is_active: config ? eloquentBool(config.is_active) === true : false,
        credentials_set: config ? !phpEmptyArray(eloquentArray(config.credentials_json)) : false,
        updated_at: config ? carbonIso8601(config.updated_at) : null,
      }
    }),
  }
}

/** The validated body of POST /api/wa/provider-config (Laravel's rules ran in the route schema). */
export interface ProviderConfigBody {
  provider_key: string
  credentials?: Record<string, unknown> | unknown[] | null
  is_active?: boolean | number | string | null
}

export interface ProviderConfigAnswer {
  data: {
    id: string
    provider_id: number
    provider_key: string
    is_active: boolean
    credentials_set: boolean
    health: {ok: boolean; message: string}
  }
}

/**
 * POST /api/wa/provider-config: the provider must exist and be active (else 422 VALIDATION_FAILED
 * "Provider is not available."); its driver's health check runs (a provider row without a driver is an
 * uncaught error, 500, as upstream); then, in one transaction, activating it deactivates the tenant's other
 * configurations, the (tenant, provider) row is created or updated, and WA_PROVIDER_CONFIG_UPDATED is
 * audited. The answer says whether credentials are set, never what they are.
 */
export async function upsertWaProviderConfig(db: Database, input: WaActor & {body: ProviderConfigBody}, clock: Clock): Promise<ProviderConfigAnswer> {
  const tenant = tenantOf(input.user)
  const {body} = input
  // MySQL's default collation compares the key case-insensitively: `MOCK` finds `mock` there, so here too.
  const provider = await db
    .knex<WaProviderRow>('wa_providers')
    .whereRaw('lower(key) = ?', [body.provider_key.toLowerCase()])
    .where('active', true)
    .orderBy('id')
    .first('id', 'key', 'name')
  if (!provider) throw new ReasonError('VALIDATION_FAILED', 'Provider is not available.')
  // `(array) ($validated['credentials'] ?? [])`, stored through the array cast: `{}` is stored as `[]`.
  const credentials = phpArrayRoundTrip(body.credentials ?? []) as Record<string, unknown> | unknown[]
  const isActive = body.is_active === null || body.is_active === undefined ? true : phpBoolCast(body.is_active)
  const health = await providerFor(provider.key).healthCheck(Array.isArray(credentials) ? {...credentials} : credentials)
  const providerId = Number(provider.id)

  const config = await writeTransaction(db, async (trx) => {
    const now = toDbTimestamp(clock.now())
    if (isActive) {
      // Eloquent's query update touches updated_at.
      await trx('wa_provider_configs').where({tenant_id: tenant}).whereNot('provider_id', providerId).update({is_active: false, updated_at: now})
    }
    const encoded = phpJsonEncode(credentials)
    const existing = await trx<WaProviderConfigRow>('wa_provider_configs').where({tenant_id: tenant, provider_id: providerId}).first()
    let id: string
    if (existing) {
      id = existing.id
      // updateOrCreate saves only a dirty model: an unchanged configuration keeps its updated_at.
      const sameCredentials = phpJsonEncode(eloquentArray(existing.credentials_json)) === encoded
      if (!sameCredentials || eloquentBool(existing.is_active) !== isActive) {
        await trx('wa_provider_configs').where({id}).update({credentials_json: encoded, is_active: isActive, updated_at: now})
      }
    } else {
      id = uuid7(clock.now().getTime())
      await trx('wa_provider_configs').insert({
        id,
        tenant_id: tenant,
        provider_id: providerId,
        credentials_json: encoded,
        is_active: isActive,
        created_at: now,
        updated_at: now,
      })
    }
    await recordAuditEvent(
      trx,
      {
        eventKey: 'WA_PROVIDER_CONFIG_UPDATED',
        tenantId: tenant,
        userId: input.user.id,
        entityType: 'wa_provider_config',
        entityId: id,
        metadata: {provider_key: provider.key, is_active: isActive},
        requestId: input.requestId,
        ip: input.ip,
      },
      clock,
    )
    return {id}
  })

  return {
    data: {
      id: config.id,
      provider_id: providerId,
      provider_key: provider.key,
      is_active: isActive,
      credentials_set: !phpEmptyArray(credentials),
      health: {ok: health.ok, message: health.message},
    },
  }
}

export interface WaTemplateEntry {
  template_id: string
  source: 'outlet' | 'tenant' | 'default'
  version: number
  definition: unknown
}

/**
 * GET /api/wa/templates: one entry per catalogue id in catalogue order, each the newest outlet override
 * (only when `outlet_id` is given, checked with the WA outlet check), else the newest tenant override,
 * else the catalogue default at version 1 (reference §3.8, A-22).
 */
export async function listWaTemplates(db: Database, input: WaActor & {query: {outlet_id?: string | null}}, _clock: Clock): Promise<{data: WaTemplateEntry[]}> {
  const tenant = tenantOf(input.user)
  const outletId = input.query.outlet_id ?? null
  if (outletId) await ensureWaOutletAccess(db, input.user, outletId, input.roles)
  const data: WaTemplateEntry[] = []
  for (const templateId of TEMPLATE_IDS) {
    const resolved = await resolveTemplate(db.knex, tenant, outletId === null ? null : outletId.toLowerCase(), templateId)
    data.push({
      template_id: resolved.templateId,
      source: resolved.source,
      version: resolved.version,
      definition: resolved.source === 'default' ? resolved.definition : phpArrayRoundTrip(resolved.definition),
    })
  }
  return {data}
}

/** `strtoupper($templateId)` checked against the catalogue, before the body is validated: else 422 VALIDATION_FAILED "Unknown template_id.". */
export function catalogueTemplateId(raw: string): TemplateId {
  // PHP's strtoupper changes ASCII letters only.
  const upper = raw.replace(/[a-z]+/g, (letters) => letters.toUpperCase())
  const found = TEMPLATE_IDS.find((id) => id === upper)
  if (!found) throw new ReasonError('VALIDATION_FAILED', 'Unknown template_id.')
  return found
}

/** The validated body of PUT /api/wa/templates/{templateId}: the whole definition is kept, unvalidated keys included. */
export interface TemplateUpsertBody {
  outlet_id?: string | null
  definition: Record<string, unknown>
}

export interface TemplateUpsertAnswer {
  data: {id: string; template_id: string; version: number; outlet_id: string | null; definition: unknown}
}

/**
 * PUT /api/wa/templates/{templateId}: a new wa_templates row at max(version) + 1 for the tenant, template and
 * outlet (or tenant level), audited WA_TEMPLATE_UPDATED; 201. The outlet is checked with the WA outlet
 * check (an owner's outlet must be one of the tenant's: see ensureWaOutletAccess).
 */
export async function upsertWaTemplate(
  db: Database,
  input: WaActor & {templateId: string; body: TemplateUpsertBody},
  clock: Clock,
): Promise<TemplateUpsertAnswer> {
  const tenant = tenantOf(input.user)
  const templateId = catalogueTemplateId(input.templateId)
  const outletId = input.body.outlet_id ?? null
  if (outletId) await ensureWaOutletAccess(db, input.user, outletId, input.roles)
  // The array cast: what is stored (and answered) is PHP's re-encoding of the decoded definition.
  const definition = phpArrayRoundTrip(input.body.definition)
  const storedOutlet = outletId === null ? null : outletId.toLowerCase()
  const row = await writeTransaction(db, async (trx) => {
    if (db.dialect === 'pg') {
      // Versions are max + 1: concurrent upserts of one template queue here instead of colliding.
      await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`wa_templates:${tenant}:${storedOutlet ?? ''}:${templateId}`])
    }
    const scope = trx<WaTemplateRow>('wa_templates').where({tenant_id: tenant, template_id: templateId})
    if (storedOutlet === null) void scope.whereNull('outlet_id')
    else void scope.where('outlet_id', storedOutlet)
    const max = await scope.max<{version: number | string | null}>('version as version').first()
    const version = phpIntCast(max?.version ?? 0) + 1
    const now = toDbTimestamp(clock.now())
    const id = uuid7(clock.now().getTime())
    await trx('wa_templates').insert({
      id,
      tenant_id: tenant,
      outlet_id: storedOutlet,
      template_id: templateId,
      version,
      definition_json: phpJsonEncode(definition),
      created_at: now,
      updated_at: now,
    })
    await recordAuditEvent(
      trx,
      {
        eventKey: 'WA_TEMPLATE_UPDATED',
        tenantId: tenant,
        userId: input.user.id,
        outletId: storedOutlet,
        entityType: 'wa_template',
        entityId: id,
        metadata: {template_id: templateId, version},
        requestId: input.requestId,
        ip: input.ip,
      },
      clock,
    )
    return {id, version}
  })
  return {data: {id: row.id, template_id: templateId, version: row.version, outlet_id: storedOutlet, definition}}
}

/** The validated query of GET /api/wa/messages. */
export interface MessagesQuery {
  outlet_id?: string | null
  status?: string | null
  limit?: number | string | null
}

/** A wa_messages row as Eloquent serialises it (columns in table order), with its provider. */
export interface WaMessageEntry {
  id: string
  tenant_id: string
  outlet_id: string | null
  order_id: string | null
  provider_id: number | null
  template_id: string
  idempotency_key: string
  to_phone: string
  body_text: string
  status: string
  attempts: number
  last_error_code: string | null
  last_error_message: string | null
  provider_message_id: string | null
  metadata_json: unknown
  created_at: string | null
  updated_at: string | null
  created_by: number | null
  updated_by: number | null
  source_channel: string
  provider: {id: number; key: string; name: string} | null
}

export const MESSAGES_DEFAULT_LIMIT = 30

/**
 * GET /api/wa/messages: the tenant's messages newest first (limit 1..100, default 30), filtered by outlet
 * (checked with the WA outlet check) and status; a non-owner without an outlet filter sees only messages of
 * outlets assigned to them, never those without an outlet (reference §3.8, A-22).
 */
export async function listWaMessages(db: Database, input: WaActor & {query: MessagesQuery}, _clock: Clock): Promise<{data: WaMessageEntry[]}> {
  const tenant = tenantOf(input.user)
  const {query} = input
  const outletId = query.outlet_id ?? null
  if (outletId) await ensureWaOutletAccess(db, input.user, outletId, input.roles)
  const select = db.knex<WaMessageRow>('wa_messages').where('tenant_id', tenant)
  if (outletId) void select.where('outlet_id', outletId.toLowerCase())
  if (query.status) void select.where('status', query.status)
  if (!input.roles.includes('owner') && !outletId) {
    void select.whereIn('outlet_id', db.knex('user_outlets').where('user_id', input.user.id).select('outlet_id'))
  }
  const limit = query.limit === null || query.limit === undefined ? MESSAGES_DEFAULT_LIMIT : phpIntCast(query.limit)
  // latest('created_at'); the id (UUIDv7, time-ordered) breaks ties in a stable order.
  const rows: WaMessageRow[] = await select
    .orderBy([
      {column: 'created_at', order: 'desc'},
      {column: 'id', order: 'desc'},
    ])
    .limit(limit)
    .select('*')
  const providerIds = [
    ...new Set(
      rows
        .map((row) => row.provider_id)
        .filter((id): id is number => id !== null && id !== undefined)
        .map(Number),
    ),
  ]
  const providers: Array<Pick<WaProviderRow, 'id' | 'key' | 'name'>> =
    providerIds.length === 0 ? [] : await db.knex<WaProviderRow>('wa_providers').whereIn('id', providerIds).select('id', 'key', 'name')
  const byId = new Map(providers.map((p) => [Number(p.id), {id: Number(p.id), key: p.key, name: p.name}]))
  return {
    data: rows.map((row) => ({
      id: row.id,
      tenant_id: row.tenant_id,
      outlet_id: row.outlet_id,
      order_id: row.order_id,
      provider_id: eloquentInt(row.provider_id),
      template_id: row.template_id,
      idempotency_key: row.idempotency_key,
      to_phone: row.to_phone,
      body_text: row.body_text,
      status: row.status,
      attempts: Number(row.attempts),
      last_error_code: row.last_error_code,
      last_error_message: row.last_error_message,
      provider_message_id: row.provider_message_id,
      metadata_json: eloquentArray(row.metadata_json),
      created_at: eloquentTimestamp(row.created_at),
      updated_at: eloquentTimestamp(row.updated_at),
      created_by: eloquentInt(row.created_by),
      updated_by: eloquentInt(row.updated_by),
      source_channel: row.source_channel,
      provider: row.provider_id === null || row.provider_id === undefined ? null : (byId.get(Number(row.provider_id)) ?? null),
    })),
  }
}
