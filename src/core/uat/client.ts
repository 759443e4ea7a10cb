/**
 * The UAT pack's HTTP client: real requests to a base URL (the in-process server or a deployment), each
 * recorded (method, path, status, time), and the checks a scenario makes, recorded as they pass. The first
 * failed check ends the scenario with evidence naming the request and what was expected.
 */

/** One request a scenario made. */
export interface UatRequestRecord {
  method: string
  path: string
  /** Null when no answer came (the server is down, the connection broke, the timeout passed). */
  status: number | null
  ms: number
}

/** A scenario's first failed expectation: its text is the evidence. */
export class UatCheckFailed extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UatCheckFailed'
  }
}

/**
 * A scenario that cannot run on this target (a precondition of the environment, not of the product, is
 * missing): the scenario is Blocked, with the message as evidence.
 */
export class UatBlocked extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UatBlocked'
  }
}

export interface UatAnswer<T> {
  status: number
  body: T
  /** `METHOD /path`, for check texts. */
  label: string
}

export interface UatClientOptions {
  /** Per request (ms); default 15 s. */
  timeoutMs?: number
  /** Told each request as it starts (progress display). */
  onRequest?: (label: string) => void
  /** Ctrl-C: no further request starts, and one in flight is abandoned. */
  signal?: AbortSignal
}

/** A body excerpt for evidence: one line, bounded. */
function excerpt(body: unknown): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  const line = (text ?? '').replace(/\s+/g, ' ').trim()
  return line.length > 160 ? `${line.slice(0, 157)}...` : line
}

/** A transport failure in one line: the cause's code when there is one (ECONNREFUSED), never a stack. */
function transportReason(error: unknown): string {
  const cause = (error as {cause?: {code?: string; message?: string}})?.cause
  if (cause?.code) return cause.code
  if ((error as Error)?.name === 'TimeoutError' || (error as Error)?.name === 'AbortError') return 'timed out'
  return String(cause?.message ?? (error as Error)?.message ?? error).split('\n')[0]
}

export class UatClient {
  readonly requests: UatRequestRecord[] = []
  readonly checks: string[] = []
  private readonly base: string

  constructor(
    baseUrl: string,
    private readonly options: UatClientOptions = {},
  ) {
    this.base = baseUrl.replace(/\/+$/, '')
  }

  /** One request with a JSON body (or none); the answer's JSON body (or its text when it is not JSON). */
  async call<T = Record<string, unknown>>(method: string, path: string, init: {token?: string; body?: unknown} = {}): Promise<UatAnswer<T>> {
    // Ids as `{id}`: evidence names the route, not this run's order.
    const label = `${method} ${path.split('?')[0].replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '{id}')}`
    if (this.options.signal?.aborted) throw new UatCheckFailed(`${label}: interrupted (Ctrl-C) before it was sent`)
    this.options.onRequest?.(label)
    const started = performance.now()
    const record: UatRequestRecord = {method, path, status: null, ms: 0}
    this.requests.push(record)
    // The timeout is a plain timer aborting our own controller: on Node 20, AbortSignal.any() over
    // AbortSignal.timeout() can lose the timeout once garbage collection runs (nodejs/undici#4068), which
    // left a hanging server to undici's 300 s header timeout.
    const controller = new AbortController()
    const timeoutMs = this.options.timeoutMs ?? 15_000
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, timeoutMs)
    const onInterrupt = () => controller.abort()
    this.options.signal?.addEventListener('abort', onInterrupt, {once: true})
    let response: Response
    let text: string
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          ...(init.token ? {authorization: `Bearer ${init.token}`} : {}),
          ...(init.body === undefined ? {} : {'content-type': 'application/json'}),
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: controller.signal,
      })
      text = await response.text()
    } catch (error) {
      record.ms = performance.now() - started
      if (this.options.signal?.aborted) throw new UatCheckFailed(`${label}: interrupted (Ctrl-C) while waiting for its answer`)
      const reason = timedOut ? `no answer within ${timeoutMs / 1000} s` : transportReason(error)
      throw new UatCheckFailed(`${label}: no answer from ${this.base} (${reason})`)
    } finally {
      clearTimeout(timer)
      this.options.signal?.removeEventListener('abort', onInterrupt)
    }
    record.status = response.status
    record.ms = performance.now() - started
    let body: unknown = text
    try {
      body = text === '' ? null : JSON.parse(text)
    } catch {
      // Not JSON: the text stays, for the evidence.
    }
    return {status: response.status, body: body as T, label}
  }

  /** The answer had `status`; else the scenario fails naming the request, the status and the body. */
  expectStatus<T>(answer: UatAnswer<T>, status: number): UatAnswer<T> {
    if (answer.status !== status) throw new UatCheckFailed(`${answer.label} answered ${answer.status}, expected ${status}: ${excerpt(answer.body)}`)
    this.checks.push(`${answer.label} ${status}`)
    return answer
  }

  /** A named check on values already read: `actual` must equal `expected` (deep, JSON-wise). */
  expectEqual(what: string, actual: unknown, expected: unknown): void {
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      throw new UatCheckFailed(`${what}: got ${excerpt(actual)}, expected ${excerpt(expected)}`)
    }
    this.checks.push(what)
  }
}
