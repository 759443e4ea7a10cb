import type {FastifyRequest} from 'fastify'
import {z} from 'zod'

import {
  catalogueTemplateId,
  ensureWaFeatureEnabled,
  listWaMessages,
  listWaProviders,
  listWaTemplates,
  type TemplateUpsertBody,
  upsertWaProviderConfig,
  upsertWaTemplate,
  type WaActor,
} from '../../core/messaging/wa-admin.js'
import type {ApiDeps, ApiRouteModule, ApiUser} from '../app.js'
import {guard, requestRoleKeys} from '../plugins/access.js'
import {laravelArray, laravelBoolean, laravelInteger, laravelString, laravelUuid} from '../laravel-rules.js'
import {laravelMessage} from '../plugins/validation.js'

/** The role check, then the plan gate (reference §3.8): premium and pro only, 403 PLAN_FEATURE_DISABLED. */
const planGate = async (request: FastifyRequest, deps: ApiDeps) => ensureWaFeatureEnabled(deps.db, (request.user as ApiUser).tenant_id)

const WA_ROLES = ['owner', 'admin'] as const

const providerConfigBody = z.object({
  provider_key: laravelString(40),
  credentials: laravelArray().nullable().optional(),
  is_active: laravelBoolean().nullable().optional(),
})

/** `definition.<key>` as Laravel's nested rules see it: a key of an object; a list has none. */
function member(definition: unknown, key: string): unknown {
  return definition !== null && typeof definition === 'object' && !Array.isArray(definition) ? (definition as Record<string, unknown>)[key] : undefined
}

const isPhpArray = (value: unknown) => value !== null && typeof value === 'object'
const countOf = (value: object) => (Array.isArray(value) ? value.length : Object.keys(value).length)

/**
 * `definition`: required array, kept whole (unvalidated keys included, in the order sent), with upstream's
 * nested rules: required_vars_all, required_vars_any and fallbacks nullable arrays, body_lines a required
 * non-empty array, max_length a nullable integer 100..5000.
 */
const definitionRule = z
  // `required|array` (laravelArray's custom check would not report a missing value as `required`).
  .union([z.record(z.string(), z.unknown()), z.array(z.unknown())], {
    error: (issue) => (issue.input === undefined || issue.input === null ? undefined : 'The :attribute field must be an array.'),
  })
  .superRefine((definition, ctx) => {
    for (const key of ['required_vars_all', 'required_vars_any', 'fallbacks']) {
      const value = member(definition, key)
      if (value !== undefined && value !== null && !isPhpArray(value)) {
        ctx.addIssue({code: 'custom', path: [key], message: 'The :attribute field must be an array.', input: value})
      }
    }
    const lines = member(definition, 'body_lines')
    if (lines === undefined || lines === null || (isPhpArray(lines) && countOf(lines) === 0)) {
      ctx.addIssue({code: 'custom', path: ['body_lines'], message: 'The :attribute field is required.', input: lines})
    } else if (!isPhpArray(lines)) {
      ctx.addIssue({code: 'custom', path: ['body_lines'], message: 'The :attribute field must be an array.', input: lines})
    }
    const maxLength = member(definition, 'max_length')
    if (maxLength !== undefined && maxLength !== null) {
      const outcome = z.safeParse(laravelInteger({min: 100, max: 5000}), maxLength, {error: (issue) => laravelMessage(issue)})
      if (!outcome.success) {
        for (const issue of outcome.error.issues) ctx.addIssue({code: 'custom', path: ['max_length'], message: issue.message, input: maxLength})
      }
    }
  })
  .meta({
    description:
      'The template definition (kept whole): body_lines (required, non-empty list of strings or {text, condition?, optional?}), ' +
      'required_vars_all, required_vars_any, fallbacks (nullable arrays), max_length (nullable integer 100..5000).',
  })

const templateBody = z.object({outlet_id: laravelUuid().nullable().optional(), definition: definitionRule})

const outletQuery = z.object({outlet_id: laravelUuid().nullable().optional()})

const messagesQuery = z.object({
  outlet_id: laravelUuid().nullable().optional(),
  status: z.enum(['queued', 'sent', 'delivered', 'failed']).nullable().optional(),
  limit: laravelInteger({min: 1, max: 100, nullable: true}),
})

/**
 * The WhatsApp administration routes (reference §3.8): auth:sanctum only (no outlet.access middleware),
 * then the controller's role check (owner, admin) and the plan gate, then validation.
 */
export const waRoutes: ApiRouteModule = (app, deps) => {
  const {db, clock} = deps
  const actor = async (request: FastifyRequest): Promise<WaActor> => ({
    user: request.user as ApiUser,
    roles: await requestRoleKeys(request, deps),
    requestId: request.requestId,
    ip: request.clientIp,
  })
  const gated = guard(app, deps, {roles: WA_ROLES, beforeValidation: planGate})

  app.get('/api/wa/providers', {preValidation: gated}, async (request) => listWaProviders(db, await actor(request), clock))

  app.post('/api/wa/provider-config', {preValidation: gated, schema: {body: providerConfigBody}}, async (request) =>
    upsertWaProviderConfig(db, {...(await actor(request)), body: request.body}, clock),
  )

  app.get('/api/wa/templates', {preValidation: gated, schema: {querystring: outletQuery}}, async (request) =>
    listWaTemplates(db, {...(await actor(request)), query: request.query}, clock),
  )

  app.put(
    '/api/wa/templates/:templateId',
    {
      preValidation: guard(app, deps, {
        roles: WA_ROLES,
        // The template id is checked after the plan gate and before the body is validated.
        beforeValidation: async (request, routeDeps) => {
          await planGate(request, routeDeps)
          catalogueTemplateId((request.params as {templateId: string}).templateId)
        },
      }),
      schema: {params: z.object({templateId: z.string()}), body: templateBody},
    },
    async (request, reply) => {
      const answer = await upsertWaTemplate(
        db,
        {...(await actor(request)), templateId: request.params.templateId, body: request.body as TemplateUpsertBody},
        clock,
      )
      return reply.code(201).send(answer)
    },
  )

  app.get('/api/wa/messages', {preValidation: gated, schema: {querystring: messagesQuery}}, async (request) =>
    listWaMessages(db, {...(await actor(request)), query: request.query}, clock),
  )
}
