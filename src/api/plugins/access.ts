import type {FastifyInstance, FastifyRequest, preValidationAsyncHookHandler} from 'fastify'

import {ensureOutletMiddlewareAccess, roleKeys} from '../../core/access/outlet-access.js'
import {ensureRole, type RoleKey} from '../../core/access/roles.js'
import {isLaravelUuid} from '../../core/domain/id-input.js'
import type {ApiDeps, ApiInstance, ApiUser} from '../app.js'
import {modelNotFound} from './errors.js'

/**
 * The authenticated group's middleware in upstream's order (reference §3.1): authentication (401),
 * route-model binding (404), `outlet.access` (403), then the controller's role check (403) and its checks
 * that run before validation; fastify validates the body and query after these hooks (422), and the
 * handler runs last. Every protected route takes its preValidation hooks from `guard`, so the order
 * cannot differ between routes.
 */

/** An implicit route-model binding: `{param}` loads a row by id (soft-deleted rows excluded), else 404. */
export interface Binding<Row> {
  /** The route parameter (`order` for `/api/orders/:order`). */
  param: string
  /** Laravel's model class for the 404 message (`App\\Models\\Order`). */
  model: string
  /** Loads the row by its (lower-cased UUID) id, any tenant: tenant scope is outlet.access's and the controller's. */
  load: (deps: ApiDeps, id: string) => Promise<Row | null | undefined>
  /** The bound row's outlet, which outlet.access checks first. */
  outletOf?: (row: Row) => string | null | undefined
}

export interface RouteAccess<Row = unknown> {
  bind?: Binding<Row>
  /** Run the `outlet.access` middleware. */
  outletAccess?: boolean
  /** The controller's ensureRole (absent: any authenticated user). */
  roles?: readonly RoleKey[]
  /** Controller checks that upstream runs before validation (after the role check), on the raw input. */
  beforeValidation?: (request: FastifyRequest, deps: ApiDeps) => Promise<void> | void
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The row of the route's binding (null when the route binds nothing). */
    bound: unknown
    /** The user's role keys, once a guard has read them. */
    roleKeys: readonly string[] | null
  }
}

export function installAccess(app: FastifyInstance): void {
  app.decorateRequest('bound', null)
  app.decorateRequest('roleKeys', null)
}

/** The outlet id `outlet.access` checks: the bound order's, route parameter, input `outlet_id` (body, then query), header (reference §3.3). */
function requestedOutlet(request: FastifyRequest, boundOutlet: string | null | undefined): unknown {
  if (boundOutlet !== undefined && boundOutlet !== null) return boundOutlet
  const params = (request.params ?? {}) as Record<string, unknown>
  if (params.outlet !== undefined) return params.outlet
  if (params.outlet_id !== undefined) return params.outlet_id
  const body = request.body as Record<string, unknown> | null | undefined
  const query = request.query as Record<string, unknown> | null | undefined
  const fromInput = (body && Object.hasOwn(body, 'outlet_id') ? body.outlet_id : undefined) ?? query?.outlet_id
  if (fromInput !== undefined && fromInput !== null) return fromInput
  // A repeated header arrives joined ("a, b"): the first value counts.
  const header = request.headers['x-outlet-id']
  const raw = Array.isArray(header) ? header[0] : header
  return typeof raw === 'string' ? raw.split(',')[0].trim() : raw
}

/** The user's role keys, read once per request. */
export async function requestRoleKeys(request: FastifyRequest, deps: ApiDeps): Promise<readonly string[]> {
  request.roleKeys ??= await roleKeys(deps.db, (request.user as ApiUser).id)
  return request.roleKeys
}

/** The preValidation hooks of a protected route: authenticate, bind, outlet.access, role, pre-validation checks. */
export function guard<Row>(app: ApiInstance, deps: ApiDeps, access: RouteAccess<Row> = {}): preValidationAsyncHookHandler[] {
  const hook: preValidationAsyncHookHandler = async (request) => {
    const user = request.user as ApiUser
    let boundOutlet: string | null | undefined
    if (access.bind) {
      const raw = ((request.params ?? {}) as Record<string, unknown>)[access.bind.param]
      const id = typeof raw === 'string' && isLaravelUuid(raw) ? raw.toLowerCase() : null
      const row = id === null ? null : await access.bind.load(deps, id)
      if (!row) throw modelNotFound(access.bind.model, [typeof raw === 'string' ? raw : ''])
      request.bound = row
      boundOutlet = access.bind.outletOf?.(row)
    }
    if (access.outletAccess) await ensureOutletMiddlewareAccess(deps.db, user, requestedOutlet(request, boundOutlet), () => requestRoleKeys(request, deps))
    if (access.roles) await ensureRole(deps.db, user, access.roles, await requestRoleKeys(request, deps))
    if (access.beforeValidation) await access.beforeValidation(request, deps)
  }
  // The route's access rules ride on its hook, for the OpenAPI document (src/api/openapi.ts).
  return [
    app.authenticate,
    Object.assign(hook, {access: {roles: access.roles ?? null, outletAccess: access.outletAccess === true, binding: access.bind?.model ?? null}}),
  ]
}

/** What `guard` declared for a route, read back from its hooks (null: not a guarded route). */
export interface DeclaredAccess {
  roles: readonly RoleKey[] | null
  outletAccess: boolean
  binding: string | null
}

export function declaredAccess(hooks: unknown): DeclaredAccess | null {
  const list = Array.isArray(hooks) ? hooks : [hooks]
  for (const hook of list) {
    const access = (hook as {access?: DeclaredAccess} | null)?.access
    if (access) return access
  }
  return null
}

/** The bound row of a guarded route. */
export function boundRow<Row>(request: FastifyRequest): Row {
  if (request.bound === null || request.bound === undefined) throw new Error('boundRow: the route has no binding')
  return request.bound as Row
}
