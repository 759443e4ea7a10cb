import type {FastifyRequest} from 'fastify'

import {type Authenticated, authenticateToken, bearerToken} from '../../core/auth/tokens.js'
import type {ApiDeps, ApiUser} from '../app.js'

/** The signed-in user of a Sanctum-authenticated request, with the token it came with (logout revokes that one). */
export interface SanctumUser extends ApiUser {
  auth: Authenticated
}

/**
 * `auth:sanctum`: the bearer token (`<id>|<secret>`, or a bare secret) names a personal access token of an
 * existing account, whoever issued it (this server or the Laravel application). Its last_used_at is
 * updated as Sanctum does. Null: the route answers 401.
 */
export async function sanctumAuthenticator(request: FastifyRequest, deps: ApiDeps): Promise<SanctumUser | null> {
  const auth = await authenticateToken(deps.db, bearerToken(request.headers.authorization), deps.clock)
  if (!auth) return null
  // Read with the token: the guard's role checks and the routes use these (requestRoleKeys).
  request.roleKeys = auth.roleKeys
  return {...auth.user, auth}
}

/** The authenticated user of a route that ran `app.authenticate` (SanctumUser when the default authenticator is in use). */
export function sanctumUser(request: FastifyRequest): SanctumUser {
  const user = request.user as SanctumUser | null
  if (!user?.auth) throw new Error('sanctumUser: the route did not run app.authenticate with the Sanctum authenticator')
  return user
}
