import {randomBytes} from 'node:crypto'

import {isJsonObject, type JsonObject} from '../php/loose-values.js'

/** A send that failed: the reason code stored on the message, and whether a retry may help. */
export class ProviderError extends Error {
  constructor(
    readonly reasonCode: string,
    message: string,
    readonly transient: boolean,
  ) {
    super(message)
    this.name = 'ProviderError'
  }
}

export interface SendResult {
  providerMessageId: string
}

export interface WaProvider {
  readonly key: string
  healthCheck(credentials: Record<string, unknown>): Promise<{ok: boolean; message: string}>
  /**
   * Sends one text. `idempotencyKey` (`<message id>:<attempt>`) is the same when a worker that died after
   * the provider's answer is followed by another sending the same attempt: gateways that deduplicate on it
   * drop the second send.
   */
  sendText(
    toPhone: string,
    text: string,
    credentials: Record<string, unknown>,
    metadata: Record<string, unknown>,
    signal?: AbortSignal,
    idempotencyKey?: string,
  ): Promise<SendResult>
}

const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyz0123456789'

function randomAlphanumeric(length: number): string {
  const bytes = randomBytes(length)
  let out = ''
  for (const b of bytes) out += ALPHANUMERIC[b % ALPHANUMERIC.length]
  return out
}

/** Runs `work` at once; its result or its exception comes back as a promise, as the interface promises. */
function settle<T>(work: () => T): Promise<T> {
  return new Promise((resolve) => resolve(work()))
}

/** Upstream's MockWaProvider, check for check: scripted failures through metadata, then phone and body rules. */
function mockSend(toPhone: string, text: string, metadata: Record<string, unknown>): SendResult {
  const failure = typeof metadata.mock_failure === 'string' ? metadata.mock_failure.toLowerCase() : ''
  if (failure === 'transient') throw new ProviderError('NETWORK_ERROR', 'Mock transient network issue.', true)
  if (failure === 'permanent') throw new ProviderError('PHONE_INVALID', 'Mock permanent phone error.', false)
  if (!/^62\d{7,14}$/.test(toPhone)) throw new ProviderError('PHONE_INVALID', 'Destination phone number is invalid.', false)
  if (text.trim() === '') throw new ProviderError('EMPTY_MESSAGE', 'Message body is empty.', false)
  return {providerMessageId: `mock-${randomAlphanumeric(16)}`}
}

export const mockProvider: WaProvider = {
  key: 'mock',
  healthCheck() {
    return Promise.resolve({ok: true, message: 'mock provider ready'})
  },
  sendText(toPhone, text, _credentials, metadata) {
    return settle(() => mockSend(toPhone, text, metadata))
  },
}

export const HTTP_GATEWAY_DEFAULT_TIMEOUT_MS = 10_000

function gatewaySettings(credentials: Record<string, unknown>): {url: URL; token?: string; timeoutMs: number} {
  const raw = credentials.url ?? credentials.base_url
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw new ProviderError('PROVIDER_CONFIG_INVALID', 'HTTP gateway credentials need a "url".', false)
  }
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ProviderError('PROVIDER_CONFIG_INVALID', `HTTP gateway url "${raw}" is not a valid URL.`, false)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ProviderError('PROVIDER_CONFIG_INVALID', `HTTP gateway url must be http or https, not ${url.protocol}`, false)
  }
  const token = typeof credentials.token === 'string' && credentials.token !== '' ? credentials.token : undefined
  const timeout = Number(credentials.timeout_ms)
  return {url, token, timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : HTTP_GATEWAY_DEFAULT_TIMEOUT_MS}
}

/**
 * A generic WhatsApp gateway for real deployments: `POST {url}` with JSON `{to, text, metadata}`,
 * `Authorization: Bearer {token}` and `Idempotency-Key: <message id>:<attempt>`. 2xx with an id is sent; timeouts, network errors, 429 and 5xx are
 * transient (retried with backoff); other 4xx are permanent.
 */
export const httpGatewayProvider: WaProvider = {
  key: 'http',
  healthCheck(credentials) {
    try {
      const {url} = gatewaySettings(credentials)
      return Promise.resolve({ok: true, message: `gateway ${url.origin} configured`})
    } catch (error) {
      return Promise.resolve({ok: false, message: (error as Error).message})
    }
  },
  async sendText(toPhone, text, credentials, metadata, signal, idempotencyKey) {
    const {url, token, timeoutMs} = gatewaySettings(credentials)
    const timeout = AbortSignal.timeout(timeoutMs)
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout
    let response: Response
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(token ? {authorization: `Bearer ${token}`} : {}),
          ...(idempotencyKey ? {'idempotency-key': idempotencyKey} : {}),
        },
        body: JSON.stringify({to: toPhone, text, metadata}),
        signal: combined,
      })
    } catch (error) {
      if (timeout.aborted) throw new ProviderError('PROVIDER_TIMEOUT', `Gateway did not answer within ${timeoutMs} ms.`, true)
      const cause = (error as {cause?: {code?: string; message?: string}}).cause
      const why = cause?.code ?? cause?.message ?? (error as Error).message
      throw new ProviderError('NETWORK_ERROR', `Gateway unreachable (${why}).`, true)
    }
    const body = await responseObject(response)
    const detail = typeof body.message === 'string' ? `: ${body.message}` : ''
    if (response.status === 429) throw new ProviderError('RATE_LIMIT', `Gateway rate limit (HTTP 429)${detail}`, true)
    if (response.status >= 500) throw new ProviderError('NETWORK_ERROR', `Gateway error (HTTP ${response.status})${detail}`, true)
    if (response.status >= 400) {
      const code = typeof body.reason_code === 'string' ? body.reason_code : 'PROVIDER_REJECTED'
      throw new ProviderError(code, `Gateway rejected the message (HTTP ${response.status})${detail}`, false)
    }
    const id = body.message_id ?? body.id ?? body.provider_message_id
    if (typeof id !== 'string' && typeof id !== 'number') {
      throw new ProviderError('UNKNOWN_ERROR', `Gateway answered HTTP ${response.status} without a message id.`, true)
    }
    return {providerMessageId: String(id)}
  },
}

/** The answer's JSON object; any other answer (empty, not JSON, `null`, a list) reads as `{}`. */
async function responseObject(response: Response): Promise<JsonObject> {
  try {
    const parsed: unknown = JSON.parse(await response.text())
    return isJsonObject(parsed) ? parsed : {}
  } catch {
    return {}
  }
}

const REGISTRY = new Map<string, WaProvider>([
  [mockProvider.key, mockProvider],
  [httpGatewayProvider.key, httpGatewayProvider],
])

/** The driver for a provider key, matched case-insensitively; unknown keys are a permanent failure. */
export function providerFor(key: string, registry: ReadonlyMap<string, WaProvider> = REGISTRY): WaProvider {
  const provider = registry.get(key.toLowerCase())
  if (!provider) throw new ProviderError('PROVIDER_NOT_SUPPORTED', `WA provider '${key}' is not supported.`, false)
  return provider
}

export const PROVIDERS: ReadonlyMap<string, WaProvider> = REGISTRY
