import fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  type preValidationAsyncHookHandler,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
  type RouteOptions,
} from 'fastify'
import {serializerCompiler, type ZodTypeProvider} from 'fastify-type-provider-zod'

import type {Clock} from '../core/clock.js'
import type {AppConfig} from '../core/config.js'
import type {Database} from '../core/db/connection.js'
import {installAccess} from './plugins/access.js'
import {sanctumAuthenticator} from './plugins/authentication.js'
import {installErrorHandling, unauthenticated} from './plugins/errors.js'
import {installInputNormalisation, parsePhpQuery} from './plugins/input-normalisation.js'
import {installRequestContext} from './plugins/request-context.js'
import {type ApiLogger, installRequestLog, silentLogger} from './plugins/request-log.js'
import {laravelValidatorCompiler} from './plugins/validation.js'
import {authRoutes} from './routes/auth.js'
import {billingRoutes} from './routes/billing.js'
import {catalogRoutes} from './routes/catalog.js'
import {healthRoutes} from './routes/health.js'
import {invoiceRoutes} from './routes/invoices.js'
import {orderRoutes} from './routes/orders.js'
import {outletRoutes} from './routes/outlets.js'
import {syncRoutes} from './routes/sync.js'
import {waRoutes} from './routes/wa.js'

/** The signed-in user of a request, as the authentication plugin resolves it from the bearer token. */
export interface ApiUser {
  id: number
  tenant_id: string | null
  [key: string]: unknown
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The X-Request-Id of a matched `/api` route ('' elsewhere). */
    requestId: string
    /** The client address (IPv4-mapped IPv6 as IPv4; X-Forwarded-For only from a trusted proxy): throttle keys and audit rows use it. */
    clientIp: string
    /** Set by `app.authenticate`; null until then (and on routes without it). */
    user: ApiUser | null
  }
  interface FastifyInstance {
    /**
     * `auth:sanctum` as a preValidation hook: after the body is read (413 first, as Laravel's global
     * middleware) and before params and body are validated (401 before 404 and 422, reference §3.1).
     */
    authenticate: preValidationAsyncHookHandler
  }
  interface FastifyContextConfig {
    /** The Laravel model a route parameter binds (`App\\Models\\Order`), for the 404 of a miss. */
    laravelModel?: string
  }
}

/** Resolves the user of a request (the bearer token), or null: 401. */
export type Authenticator = (request: FastifyRequest, deps: ApiDeps) => Promise<ApiUser | null>

/** What every route module gets: the database, configuration and clock of the app. */
export interface ApiDeps {
  db: Database
  config: AppConfig
  clock: Clock
  logger: ApiLogger
}

/** The app as route modules see it: zod schemas type their request and reply. */
export type ApiInstance = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>

/**
 * A route module (src/api/routes/<resource>.ts): declares its routes with their zod schemas on an
 * encapsulated scope (its own hooks stay its own); handlers call src/core, never SQL.
 */
export type ApiRouteModule = (app: ApiInstance, deps: ApiDeps) => void | Promise<void>

/** The routes, registered explicitly (the CLI is one bundle: no autoload). Add a module here. */
export const ROUTES: readonly ApiRouteModule[] = [
  healthRoutes,
  authRoutes,
  outletRoutes,
  orderRoutes,
  syncRoutes,
  invoiceRoutes,
  waRoutes,
  billingRoutes,
  catalogRoutes,
]

export interface BuildAppOptions {
  db: Database
  config: AppConfig
  clock: Clock
  logger?: ApiLogger
  /** Route modules (default ROUTES). */
  routes?: readonly ApiRouteModule[]
  /** Resolves bearer tokens (default: Sanctum's personal access tokens). */
  authenticator?: Authenticator
  /** Largest body in bytes (default API_BODY_LIMIT): 413 beyond it. */
  bodyLimit?: number
  /** Stack traces of unexpected errors in the log (never in an answer). */
  logStacks?: boolean
  /** Proxies whose X-Forwarded-For gives the client address (serve --trust-proxy); none by default. */
  trustProxy?: string[]
  /** Called for every route as it is registered (the OpenAPI generator reads the declarations this way). */
  onRoute?: (route: RouteOptions) => void
}

/** The longest path parameter the router matches (Node's default header limit bounds the request line). */
export const API_MAX_PARAM_LENGTH = 16 * 1024

/** PHP's default post_max_size (8M), the limit the Laravel application runs with: 413 beyond it. */
export const API_BODY_LIMIT = 8 * 1024 * 1024

/**
 * Builds the HTTP API on fastify 5 with zod route schemas; never listens (src/api/server.ts does).
 * Call `await app.ready()` (or inject, which does) before use, `await app.close()` after; closing the
 * app does not close `db`, which belongs to the caller.
 */
export async function buildApp(options: BuildAppOptions): Promise<ApiInstance> {
  const logger = options.logger ?? silentLogger
  const app = fastify({
    logger: false,
    bodyLimit: options.bodyLimit ?? API_BODY_LIMIT,
    // maxParamLength: find-my-way's default (100) answered a longer path parameter with its own 414
    // (`{error, code, message}`) before any route ran; upstream's binding answers 404 and the template
    // route 422. Node's request-line limit (16 KB headers) bounds a parameter anyway.
    routerOptions: {ignoreTrailingSlash: true, querystringParser: parsePhpQuery, maxParamLength: API_MAX_PARAM_LENGTH},
    // Keep-alive connections that sit idle are closed at once on shutdown; busy ones finish their request.
    forceCloseConnections: 'idle',
    // Answered by installClosing instead, in Laravel's shape.
    return503OnClosing: false,
    ...(options.trustProxy && options.trustProxy.length > 0 ? {trustProxy: options.trustProxy} : {}),
  })
  app.setValidatorCompiler(laravelValidatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  const deps: ApiDeps = {db: options.db, config: options.config, clock: options.clock, logger}

  app.decorateRequest('user', null)
  const authenticator = options.authenticator ?? sanctumAuthenticator
  app.decorate('authenticate', async (request: FastifyRequest) => {
    const user = authenticator ? await authenticator(request, deps) : null
    if (!user) throw unauthenticated()
    request.user = user
  })
  installRequestContext(app)
  installAccess(app)
  installInputNormalisation(app)
  installErrorHandling(app, logger, {stacks: options.logStacks})
  installRequestLog(app, logger)

  if (options.onRoute) app.addHook('onRoute', options.onRoute)
  for (const routes of options.routes ?? ROUTES) {
    await app.register(async (scope) => {
      await routes(scope.withTypeProvider<ZodTypeProvider>(), deps)
    })
  }
  return app
}
