import type {FastifyInstance} from 'fastify'

/**
 * One line per answered request on stderr: method, path (no query string), status, milliseconds, request
 * id and user id when known. Never a header, a token, a password or a body. JSON lines for log shippers;
 * a readable line when stderr is a terminal.
 */
export interface RequestLogEntry {
  time: string
  method: string
  path: string
  status: number
  ms: number
  request_id: string | null
  user_id: string | number | null
}

export interface ErrorLogEntry {
  time: string
  method: string
  path: string
  request_id: string | null
  error: {name: string; code: string | null; message: string; stack?: string}
}

export interface ApiLogger {
  request(entry: RequestLogEntry): void
  error(entry: ErrorLogEntry): void
  /** Server life-cycle notes (listening, stopping). */
  note(message: string): void
}

export interface StreamLoggerOptions {
  /** Readable lines instead of JSON. */
  human?: boolean
  write?: (line: string) => void
  /** Include stack traces of unexpected errors (DEBUG). */
  stacks?: boolean
}

/** The logger `serve` uses: stderr, readable when it is a terminal. */
export function streamLogger(options: StreamLoggerOptions = {}): ApiLogger {
  const write = options.write ?? ((line: string) => process.stderr.write(line))
  const human = options.human ?? false
  return {
    request(entry) {
      if (!human) return write(`${JSON.stringify({level: 'info', ...entry})}\n`)
      const who = entry.user_id === null ? '' : ` user=${entry.user_id}`
      const id = entry.request_id === null ? '' : ` id=${entry.request_id}`
      write(`${entry.time.slice(0, 19).replace('T', ' ')} ${entry.method} ${entry.path} ${entry.status} ${entry.ms.toFixed(1)} ms${id}${who}\n`)
    },
    error(entry) {
      const error = options.stacks ? entry.error : {...entry.error, stack: undefined}
      if (!human) return write(`${JSON.stringify({level: 'error', ...entry, error})}\n`)
      write(
        `${entry.time.slice(0, 19).replace('T', ' ')} ERROR ${entry.method} ${entry.path}: ${error.name}${error.code ? ` ${error.code}` : ''}: ${error.message}\n`,
      )
      if (error.stack) write(`${error.stack}\n`)
    },
    note(message) {
      if (!human) return write(`${JSON.stringify({level: 'info', time: new Date().toISOString(), message})}\n`)
      write(`${message}\n`)
    },
  }
}

/** A logger that drops everything (tests that do not look at the log). */
export const silentLogger: ApiLogger = {request() {}, error() {}, note() {}}

export function pathOf(url: string): string {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

export function installRequestLog(app: FastifyInstance, logger: ApiLogger): void {
  app.addHook('onResponse', (request, reply, done) => {
    logger.request({
      time: new Date().toISOString(),
      method: request.method,
      path: pathOf(request.url),
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      request_id: request.requestId || null,
      user_id: request.user?.id ?? null,
    })
    done()
  })
}
