import {z} from 'zod'

import {login, logout, me} from '../../core/auth/session.js'
import {hitThrottle} from '../../core/auth/throttle.js'
import {phpStringCast} from '../../core/php/string-conversion.js'
import type {ApiRouteModule} from '../app.js'
import {guard} from '../plugins/access.js'
import {sanctumUser} from '../plugins/authentication.js'
import {HttpError} from '../plugins/errors.js'

/** PHP's strtolower: ASCII letters only (the throttle key is built as upstream builds it). */
const phpLower = (text: string): string => text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase())

/** `(string) $request->input('email', 'unknown')`: the default only when the field is absent; PHP's string cast otherwise (an array is "Array"). */
function throttleEmail(input: Record<string, unknown>): string {
  if (!Object.hasOwn(input, 'email')) return 'unknown'
  const email = input.email
  if (email === null || typeof email === 'string' || typeof email === 'number' || typeof email === 'boolean') return phpStringCast(email)
  return 'Array'
}

/**
 * POST /api/auth/login (throttle:auth-login), POST /api/auth/logout and GET /api/me (reference §3.4). The
 * login body is validated by core (Laravel's rules and messages), so the route takes any body.
 */
export const authRoutes: ApiRouteModule = (app, deps) => {
  const {db, config, clock} = deps
  app.post('/api/auth/login', {schema: {body: z.unknown(), querystring: z.unknown()}}, async (request, reply) => {
    // Laravel's input(): the query string and the body, the body winning.
    const input: Record<string, unknown> = {...(request.query as Record<string, unknown>), ...(request.body as Record<string, unknown>)}
    // throttle:auth-login, 10 a minute per strtolower((string) input('email', 'unknown'))|IP; every request
    // counts, whatever its outcome. The key is the Laravel application's, so both count on the same rows.
    const key = `${phpLower(throttleEmail(input))}|${request.clientIp}`
    const decision = await hitThrottle(db, config.cachePrefix, {limiter: 'auth-login', key, maxAttempts: 10, decaySeconds: 60}, clock)
    if (!decision.allowed) {
      // Upstream's custom answer sends no Retry-After; we do (issue 10), with Laravel's X-RateLimit-* headers.
      throw new HttpError(
        429,
        {reason_code: 'TOO_MANY_REQUESTS', message: 'Too many login attempts. Please try again later.'},
        {
          'Retry-After': String(decision.retryAfter),
          'X-RateLimit-Limit': String(decision.limit),
          'X-RateLimit-Remaining': '0',
          'X-RateLimit-Reset': String(decision.resetAt),
        },
      )
    }
    void reply.headers({'X-RateLimit-Limit': String(decision.limit), 'X-RateLimit-Remaining': String(decision.remaining)})
    return login(db, {body: input, requestId: request.requestId, ip: request.clientIp}, clock)
  })

  app.post('/api/auth/logout', {preValidation: app.authenticate}, async (request) => {
    return logout(db, {auth: sanctumUser(request).auth, requestId: request.requestId, ip: request.clientIp}, clock)
  })

  app.get('/api/me', {preValidation: guard(app, deps, {outletAccess: true})}, async (request) => {
    return me(db, sanctumUser(request).auth, clock)
  })
}
