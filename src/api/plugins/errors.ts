import {STATUS_CODES} from 'node:http'

import type {FastifyError, FastifyInstance, FastifyReply, FastifyRequest} from 'fastify'

import {describeFault, driverMessage} from '../../core/db/faults.js'
import {type ErrorCode, isOpsError, type OpsError, ReasonError, ValidationError} from '../../core/errors.js'

/** Catalogue codes the API answers as `{reason_code, message}` (reference §0.4). */
const REASON_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['USER_INACTIVE', 'OUTLET_ACCESS_DENIED', 'ROLE_ACCESS_DENIED', 'TOO_MANY_REQUESTS'])
import {pathOf, type ApiLogger} from './request-log.js'
import {LaravelValidationError, validationBody} from './validation.js'

/**
 * Every answer that is not a handler's own, shaped as the Laravel application answers under `/api`
 * (reference §0.4), always as JSON (a port answers the JSON shapes whatever the Accept header): field
 * errors 422, route not found 404, wrong method 405, body too large 413, and anything unexpected 500
 * `{"message": "Server Error"}` with no stack, SQL or driver text in the answer (the log gets the error).
 */

/** An answer a route or a plugin gives on purpose: the status, the body and any headers. */
export class HttpError extends Error {
  readonly status: number
  readonly body: Record<string, unknown>
  readonly headers: Record<string, string>

  constructor(status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) {
    super(typeof body.message === 'string' ? body.message : `HTTP ${status}`)
    this.name = 'HttpError'
    this.status = status
    this.body = body
    this.headers = headers
  }
}

/** 401 of `auth:sanctum`. */
export function unauthenticated(): HttpError {
  return new HttpError(401, {message: 'Unauthenticated.'})
}

/** 404 of a route-model binding miss: Laravel's ModelNotFoundException message (`App\Models\Order`). */
export function modelNotFound(model: string, ids: ReadonlyArray<string | number> = []): HttpError {
  const message = ids.length > 0 ? `No query results for model [${model}] ${ids.join(', ')}` : `No query results for model [${model}].`
  return new HttpError(404, {message})
}

/** A domain refusal with upstream's reason code (403/422, or 404 for DATA_NOT_FOUND). */
export function reasonError(status: number, reasonCode: string, message: string, extra: Record<string, unknown> = {}): HttpError {
  return new HttpError(status, {reason_code: reasonCode, message, ...extra})
}

/** Laravel's Router::$verbs, the order its 405 lists the supported methods in. */
const VERBS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const

/** `$request->path()`: the raw path without its outer slashes, `/` for the root. */
export function laravelPath(url: string): string {
  const trimmed = pathOf(url).replace(/^\/+|\/+$/g, '')
  return trimmed === '' ? '/' : trimmed
}

/** The Laravel message of a status it renders with its own text (HttpException with no message). */
function statusText(status: number): string {
  return status === 500 ? 'Server Error' : (STATUS_CODES[status] ?? 'Error')
}

function send(reply: FastifyReply, status: number, body: unknown, headers: Record<string, string> = {}): FastifyReply {
  return reply.code(status).headers(headers).type('application/json; charset=utf-8').send(body)
}

/** The error as the log may carry it: never the SQL statement (which holds request values) nor a body. */
function loggedError(error: unknown, fault: OpsError | null, stack: boolean): {name: string; code: string | null; message: string; stack?: string} {
  const e = (error ?? {}) as {name?: unknown; code?: unknown; message?: unknown; stack?: unknown}
  return {
    name: typeof e.name === 'string' ? e.name : 'Error',
    code: fault?.code ?? (typeof e.code === 'string' ? e.code : null),
    message: fault?.message ?? driverMessage(e),
    ...(stack && typeof e.stack === 'string' ? {stack: e.stack} : {}),
  }
}

export function installErrorHandling(app: FastifyInstance, logger: ApiLogger, options: {stacks?: boolean} = {}): void {
  const logUnexpected = (request: FastifyRequest, error: unknown, fault: OpsError | null) =>
    logger.error({
      time: new Date().toISOString(),
      method: request.method,
      path: pathOf(request.url),
      request_id: request.requestId || null,
      error: loggedError(error, fault, options.stacks === true),
    })

  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    if (error instanceof HttpError) return send(reply, error.status, error.body, error.headers)
    if (error instanceof LaravelValidationError) {
      // A route parameter that fails its schema is a binding miss in Laravel, before validation.
      if ((error as {validationContext?: string}).validationContext === 'params') {
        const model = (request.routeOptions.config as {laravelModel?: string} | undefined)?.laravelModel
        return send(reply, 404, model ? modelNotFound(model, Object.values(request.params as Record<string, string>)).body : {message: 'Not Found'})
      }
      return send(reply, 422, validationBody(error.fields))
    }
    const code = (error as FastifyError).code
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      // Laravel's ValidatePostSize is global middleware: it answers before the /api group's request context.
      reply.removeHeader('X-Request-Id')
      return send(reply, 413, {message: 'The POST data is too large.'})
    }
    if (error instanceof ValidationError) return send(reply, 422, error.body())
    if (error instanceof ReasonError) return send(reply, error.status, {reason_code: error.code, message: error.message, ...error.extra})
    // Upstream's access and limit refusals carry their reason code: {reason_code, message}.
    if (isOpsError(error) && REASON_CODES.has(error.code)) return send(reply, error.http, {reason_code: error.code, message: error.message})
    if (isOpsError(error) && error.http < 500) return send(reply, error.http, {message: error.message})
    const fault = describeFault(error)
    const status = fault ? fault.http : (error as FastifyError).statusCode
    if (typeof status === 'number' && status >= 400 && status < 500 && !isOpsError(error)) {
      // fastify's own refusals (a malformed Content-Length, a bad URL): the status with its text.
      return send(reply, status, {message: statusText(status)})
    }
    logUnexpected(request, error, fault)
    const answer = fault && fault.http >= 500 ? fault.http : 500
    return send(reply, answer, {message: statusText(answer)})
  })

  app.setNotFoundHandler((request, reply) => {
    const path = pathOf(request.url)
    const allowed = VERBS.filter((verb) => verb !== request.method && app.findRoute({method: verb, url: path}) !== null)
    if (allowed.length > 0 && request.method === 'OPTIONS') {
      return reply.code(200).header('Allow', allowed.join(',')).send('')
    }
    if (allowed.length > 0) {
      const message = `The ${request.method} method is not supported for route ${laravelPath(request.url)}. Supported methods: ${allowed.join(', ')}.`
      return send(reply, 405, {message}, {Allow: allowed.join(', ')})
    }
    return send(reply, 404, {message: `The route ${laravelPath(request.url)} could not be found.`})
  })
}
