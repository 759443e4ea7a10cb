import type {RouteOptions} from 'fastify'
import {z} from 'zod'

import {fixedClock} from '../core/clock.js'
import type {AppConfig} from '../core/config.js'
import type {Database} from '../core/db/connection.js'
import {type ApiRouteModule, buildApp, ROUTES} from './app.js'
import {declaredAccess} from './plugins/access.js'

/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the route declarations themselves: every
 * route's zod schemas (params, querystring, body, response), its guard (bearer auth, the roles it admits,
 * outlet scope, route-model binding) and the error answers that guard and validation can give. The
 * committed copy is docs/openapi.json (`npm run openapi` writes it; a test fails when it is stale).
 */

type JsonSchema = Record<string, unknown>

interface CollectedRoute {
  method: string
  url: string
  schema: Record<string, unknown>
  hooks: unknown
}

const ERROR_RESPONSES: Record<string, {description: string; ref: string}> = {
  '401': {description: 'Unauthenticated: no bearer token, or one that names no valid token', ref: 'Message'},
  '403': {description: 'Access refused (ROLE_ACCESS_DENIED, OUTLET_ACCESS_DENIED, PLAN_FEATURE_DISABLED, USER_INACTIVE)', ref: 'Reason'},
  '404': {description: 'A route-model binding names no row (`No query results for model [...]`)', ref: 'Message'},
  '422': {description: "Validation failed (Laravel's `{message, errors}`) or a domain refusal (`{reason_code, message}`)", ref: 'ValidationOrReason'},
  '429': {description: 'A rate limit is exhausted: Retry-After says when to retry', ref: 'Reason'},
}

const COMPONENT_SCHEMAS: Record<string, JsonSchema> = {
  Message: {type: 'object', properties: {message: {type: 'string'}}, required: ['message']},
  Reason: {type: 'object', properties: {reason_code: {type: 'string'}, message: {type: 'string'}}, required: ['reason_code', 'message']},
  Validation: {
    type: 'object',
    properties: {message: {type: 'string'}, errors: {type: 'object', additionalProperties: {type: 'array', items: {type: 'string'}}}},
    required: ['message', 'errors'],
  },
  ValidationOrReason: {oneOf: [{$ref: '#/components/schemas/Validation'}, {$ref: '#/components/schemas/Reason'}]},
}

/** A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), describing what a client sends. */
function toJsonSchema(schema: unknown, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema as z.ZodType, {target: 'draft-2020-12', io, unrepresentable: 'any'}) as JsonSchema
  delete json.$schema
  return json
}

/** `/api/orders/:order` as OpenAPI's `/api/orders/{order}`. */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
}

function parameters(schema: unknown, where: 'path' | 'query'): Array<Record<string, unknown>> {
  if (schema === undefined) return []
  const json = toJsonSchema(schema, 'input')
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>
  const required = new Set((json.required as string[] | undefined) ?? [])
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: property,
  }))
}

function operation(route: CollectedRoute): Record<string, unknown> {
  const access = declaredAccess(route.hooks)
  const schema = route.schema
  const op: Record<string, unknown> = {
    operationId: `${route.method.toLowerCase()}${route.url.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
  }
  const notes: string[] = []
  if (access) {
    op.security = [{sanctum: []}]
    notes.push(access.roles ? `Roles: ${access.roles.join(', ')}.` : 'Any authenticated user.')
    if (access.outletAccess) notes.push('Outlet scope (outlet.access): the outlet the request names must be one the user may access.')
    if (access.binding) notes.push(`Binds ${access.binding} (404 when absent).`)
  }
  if (notes.length > 0) op.description = notes.join(' ')
  const params = [...parameters(schema.params, 'path'), ...parameters(schema.querystring, 'query')]
  if (params.length > 0) op.parameters = params
  if (schema.body !== undefined) {
    op.requestBody = {
      required: true,
      content: {
        'application/json': {schema: toJsonSchema(schema.body, 'input')},
        'application/x-www-form-urlencoded': {schema: toJsonSchema(schema.body, 'input')},
      },
    }
  }
  const responses: Record<string, unknown> = {}
  const declared = (schema.response ?? {}) as Record<string, unknown>
  for (const [status, body] of Object.entries(declared)) {
    responses[status] = {description: `HTTP ${status}`, content: {'application/json': {schema: toJsonSchema(body, 'output')}}}
  }
  if (Object.keys(declared).length === 0) responses['200'] = {description: 'Success'}
  const errors = access ? ['401', ...(access.roles || access.outletAccess ? ['403'] : []), ...(access.binding ? ['404'] : [])] : []
  if (schema.body !== undefined || schema.querystring !== undefined) errors.push('422')
  if (route.url === '/api/auth/login' || route.url === '/api/sync/push') errors.push('429')
  for (const status of errors) {
    const spec = ERROR_RESPONSES[status]
    responses[status] ??= {description: spec.description, content: {'application/json': {schema: {$ref: `#/components/schemas/${spec.ref}`}}}}
  }
  op.responses = responses
  return op
}

/** The document for `routes` (default: every route of the app). Builds the app without a database: route declarations never query. */
export async function openApiDocument(options: {version: string; routes?: readonly ApiRouteModule[]}): Promise<Record<string, unknown>> {
  const collected: CollectedRoute[] = []
  const app = await buildApp({
    db: {} as Database,
    config: {} as AppConfig,
    clock: fixedClock('2026-01-01T00:00:00Z'),
    routes: options.routes ?? ROUTES,
    onRoute: (route: RouteOptions) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method]
      for (const method of methods) {
        if (method === 'HEAD') continue
        collected.push({method, url: route.url, schema: (route.schema ?? {}) as Record<string, unknown>, hooks: route.preValidation})
      }
    },
  })
  await app.close()
  collected.sort((a, b) => a.url.localeCompare(b.url) || a.method.localeCompare(b.method))
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of collected) (paths[openApiPath(route.url)] ??= {})[route.method.toLowerCase()] = operation(route)
  return {
    openapi: '3.1.0',
    info: {
      title: 'laundry-ops HTTP API',
      version: options.version,
      description:
        "The Laravel laundry application's core API as `laundry-ops serve` answers it: the same paths, fields, validation messages, reason codes and statuses. Answers are JSON; every answer of a matched /api route carries X-Request-Id.",
    },
    servers: [{url: 'http://127.0.0.1:8000'}],
    components: {
      securitySchemes: {sanctum: {type: 'http', scheme: 'bearer', description: 'A Sanctum personal access token `<id>|<secret>` from POST /api/auth/login'}},
      schemas: COMPONENT_SCHEMAS,
    },
    paths,
  }
}
