import {randomUUID} from 'node:crypto'

import type {FastifyInstance, FastifyRequest} from 'fastify'

import {clientAddress} from '../../core/lifecycle/trust-proxy.js'

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
  app.decorateRequest('clientIp', '')
  // Set the moment close() is called (fastify's own flag is set later, inside its onClose chain, after
  // the requests already read have run their hooks).
  let closing = false
  const close = app.close.bind(app) as (...args: unknown[]) => unknown
  ;(app as unknown as {close: (...args: unknown[]) => unknown}).close = (...args: unknown[]) => {
    closing = true
    return close(...args)
  }
  app.addHook('onRequest', (request, reply, done) => {
    // Laravel's $request->ip(): the socket's address, or the trusted proxy's X-Forwarded-For (--trust-proxy).
    request.clientIp = clientAddress(request.ip)
    if (closing) {
      // A request that arrives on a kept-alive connection while the server stops: Laravel's 503 shape.
      void reply.code(503).header('Connection', 'close').type('application/json; charset=utf-8').send({message: 'Service Unavailable'})
      return
    }
    if (isApiRoute(request)) {
      request.requestId = requestIdFrom(request.headers['x-request-id'])
      void reply.header('X-Request-Id', request.requestId)
    }
    done()
  })
}
