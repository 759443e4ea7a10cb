import {randomUUID} from 'node:crypto'

import type {FastifyInstance, FastifyRequest} from 'fastify'

/**
 * AttachRequestContext (reference §3.1): every answer of a matched `/api` route, errors included, carries
 * `X-Request-Id`: the request's own when it is usable, else a new UUIDv4. An unmatched path or a wrong
 * method never reaches it (their 404/405 carry no header), nor does `/up`.
 *
 * Upstream echoes any value; it is written to `audit_events.request_id`, a string(80) column, so a value
 * PostgreSQL would refuse (over 80 characters) or one that is not visible ASCII is replaced instead.
 */
const USABLE_REQUEST_ID = /^[\x21-\x7e]{1,80}$/

export function requestIdFrom(header: unknown): string {
  const value: unknown = Array.isArray(header) ? (header as unknown[])[0] : header
  return typeof value === 'string' && USABLE_REQUEST_ID.test(value) ? value : randomUUID()
}

/** The routes AttachRequestContext runs on: the `/api` group. */
export function isApiRoute(request: FastifyRequest): boolean {
  const url = request.routeOptions.url
  return url !== undefined && (url === '/api' || url.startsWith('/api/'))
}

export function installRequestContext(app: FastifyInstance): void {
  app.decorateRequest('requestId', '')
  app.addHook('onRequest', (request, reply, done) => {
    if (isApiRoute(request)) {
      request.requestId = requestIdFrom(request.headers['x-request-id'])
      void reply.header('X-Request-Id', request.requestId)
    }
    done()
  })
}
