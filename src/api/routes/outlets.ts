import {allowedOutlets} from '../../core/access/allowed-outlets.js'
import type {ApiRouteModule, ApiUser} from '../app.js'
import {guard, requestRoleKeys} from '../plugins/access.js'

/** GET /api/outlets/allowed (reference §3.4): any signed-in user, through outlet.access; `{data: [outlets]}` sorted by name. */
export const outletRoutes: ApiRouteModule = (app, deps) => {
  app.get('/api/outlets/allowed', {preValidation: guard(app, deps, {outletAccess: true})}, async (request) => {
    return allowedOutlets(deps.db, request.user as ApiUser, await requestRoleKeys(request, deps))
  })
}
