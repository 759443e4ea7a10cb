import {z} from 'zod'

import {billingQuota} from '../../core/billing/quota.js'
import type {ApiRouteModule, ApiUser} from '../app.js'
import {guard} from '../plugins/access.js'
import {laravelYearMonth} from '../laravel-rules.js'

/** GET /api/billing/quota (reference §3.9): auth:sanctum, owner or admin, `period` a nullable `Y-m`. */
export const billingRoutes: ApiRouteModule = (app, deps) => {
  const {db, clock} = deps
  app.get(
    '/api/billing/quota',
    {preValidation: guard(app, deps, {roles: ['owner', 'admin']}), schema: {querystring: z.object({period: laravelYearMonth().nullable().optional()})}},
    async (request) => billingQuota(db, {user: request.user as ApiUser, query: request.query}, clock),
  )
}
