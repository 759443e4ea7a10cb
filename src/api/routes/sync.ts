import type {preValidationAsyncHookHandler} from 'fastify'
import {z} from 'zod'

import {hitThrottle} from '../../core/auth/throttle.js'
import {parseClientTime} from '../../core/orders/index.js'
import {orderMutationHandlers} from '../../core/sync/order-handlers.js'
import {pullChanges} from '../../core/sync/pull.js'
import {pushMutations, syncSourceChannel} from '../../core/sync/push.js'
import {phpStringCast} from '../../core/php/string-conversion.js'
import type {ApiRouteModule, ApiUser} from '../app.js'
import {laravelArray, laravelDate, laravelRequiredList, laravelInteger, laravelString, laravelUuid} from '../laravel-rules.js'
import {guard, requestRoleKeys} from '../plugins/access.js'
import {HttpError} from '../plugins/errors.js'
import {validateSyncPayload} from './sync-payloads.js'

/** SyncController::push's rules (reference §3.6). */
export const syncPushBody = z.object({
  device_id: laravelUuid(),
  last_known_server_cursor: laravelInteger({min: 0, nullable: true}),
  mutations: laravelRequiredList(
    z.object({
      mutation_id: laravelString(64),
      seq: laravelInteger({min: 0, nullable: true}),
      type: laravelString(60),
      outlet_id: laravelUuid().nullish(),
      entity: z
        .object({
          entity_type: laravelString(50).nullish(),
          entity_id: laravelString(80).nullish(),
        })
        .nullish(),
      client_time: laravelDate((value) => parseClientTime(value) !== null).nullish(),
      payload: laravelArray().nullish(),
    }),
  ),
})

const SELECTED_OUTLET_REQUIRED = 'The :attribute field is required when scope.mode is selected_outlet.'

/** SyncController::pull's rules (reference §3.6). */
export const syncPullBody = z.object({
  device_id: laravelUuid(),
  cursor: laravelInteger({min: 0, nullable: true}),
  scope: z
    .object({
      mode: z.enum(['selected_outlet', 'all_outlets']),
      outlet_id: laravelUuid().nullish(),
    })
    .superRefine((scope, ctx) => {
      if (scope.mode === 'selected_outlet' && (scope.outlet_id === undefined || scope.outlet_id === null)) {
        ctx.addIssue({code: 'custom', path: ['outlet_id'], message: SELECTED_OUTLET_REQUIRED, input: scope.outlet_id})
      }
    }),
  limit: laravelInteger({min: 1, max: 500, nullable: true}),
})

/** `(string) $request->input('device_id', 'unknown')`: the default only when the field is absent. */
function throttleDevice(input: Record<string, unknown>): string {
  if (!Object.hasOwn(input, 'device_id')) return 'unknown'
  const value = input.device_id
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return phpStringCast(value)
  return 'Array'
}

/**
 * POST /api/sync/push (auth:sanctum, throttle:sync-push) and POST /api/sync/pull (auth:sanctum), reference
 * §3.6; the work is core's (src/core/sync).
 */
export const syncRoutes: ApiRouteModule = (app, deps) => {
  const {db, config, clock} = deps
  const handlers = orderMutationHandlers({validatePayload: validateSyncPayload, brandName: config.appName})

  // throttle:sync-push, 180 a minute per user id|device_id input|IP, after authentication (the middleware
  // order) and before validation; every request that passes counts. Laravel's X-RateLimit-* headers ride
  // on every answer it lets through, a 422 included.
  const syncPushThrottle: preValidationAsyncHookHandler = async (request, reply) => {
    const input: Record<string, unknown> = {...(request.query as Record<string, unknown>), ...(request.body as Record<string, unknown> | null)}
    const user = request.user as ApiUser
    const key = `${user.id}|${throttleDevice(input)}|${request.clientIp}`
    const decision = await hitThrottle(db, config.cachePrefix, {limiter: 'sync-push', key, maxAttempts: 180, decaySeconds: 60}, clock)
    if (!decision.allowed) {
      throw new HttpError(
        429,
        {reason_code: 'TOO_MANY_REQUESTS', message: 'Too many sync requests. Please retry shortly.'},
        {
          'Retry-After': String(decision.retryAfter),
          'X-RateLimit-Limit': String(decision.limit),
          'X-RateLimit-Remaining': '0',
          'X-RateLimit-Reset': String(decision.resetAt),
        },
      )
    }
    void reply.headers({'X-RateLimit-Limit': String(decision.limit), 'X-RateLimit-Remaining': String(decision.remaining)})
  }

  app.post('/api/sync/push', {schema: {body: syncPushBody}, preValidation: [...guard(app, deps), syncPushThrottle]}, async (request) => {
    const body = request.body
    return pushMutations(
      db,
      {
        user: request.user as ApiUser,
        deviceId: body.device_id,
        mutations: body.mutations,
        sourceChannel: syncSourceChannel(request.headers['x-source-channel']),
        roleKeys: await requestRoleKeys(request, deps),
      },
      handlers,
      clock,
    )
  })

  app.post('/api/sync/pull', {schema: {body: syncPullBody}, preValidation: guard(app, deps)}, async (request) => {
    const body = request.body
    const scope = body.scope.mode === 'selected_outlet' ? {mode: body.scope.mode, outlet_id: body.scope.outlet_id as string} : {mode: body.scope.mode}
    return pullChanges(
      db,
      {
        user: request.user as ApiUser,
        deviceId: body.device_id,
        cursor: body.cursor,
        scope,
        limit: body.limit,
        roleKeys: await requestRoleKeys(request, deps),
      },
      clock,
    )
  })
}
