import {z} from 'zod'

import {listOutletServices, listServices} from '../../core/catalog/services.js'
import type {ApiRouteModule, ApiUser} from '../app.js'
import {guard, requestRoleKeys} from '../plugins/access.js'
import {laravelBoolean, laravelUuid} from '../laravel-rules.js'

const CATALOG_ROLES = ['owner', 'admin', 'cashier'] as const

const servicesQuery = z.object({
  active: laravelBoolean().nullable().optional(),
  outlet_id: laravelUuid().nullable().optional(),
  include_deleted: laravelBoolean().nullable().optional(),
})

const outletServicesQuery = z.object({
  outlet_id: laravelUuid(),
  active: laravelBoolean().nullable().optional(),
})

/**
 * GET /api/services and GET /api/outlet-services (reference §3.10): auth:sanctum and outlet.access, then
 * the controller's role check (owner, admin, cashier), validation and its own outlet check.
 */
export const catalogRoutes: ApiRouteModule = (app, deps) => {
  const {db, clock} = deps
  const access = guard(app, deps, {outletAccess: true, roles: CATALOG_ROLES})

  app.get('/api/services', {preValidation: access, schema: {querystring: servicesQuery}}, async (request) =>
    listServices(db, {user: request.user as ApiUser, roles: await requestRoleKeys(request, deps), query: request.query}, clock),
  )

  app.get('/api/outlet-services', {preValidation: access, schema: {querystring: outletServicesQuery}}, async (request) =>
    listOutletServices(db, {user: request.user as ApiUser, roles: await requestRoleKeys(request, deps), query: request.query}, clock),
  )
}
