import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'

import {expect} from 'chai'

import {httpGatewayProvider, ProviderError, providerFor} from '../../../src/core/messaging/providers.js'
import {startGateway, type TestGateway} from '../../helpers/gateway.js'

async function sendError(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise
  } catch (error) {
    expect(error).to.be.instanceOf(ProviderError)
    return error as ProviderError
  }
  throw new Error('expected a ProviderError')
}

describe('HTTP gateway provider (against a real server on loopback)', () => {
  let gateway: TestGateway
  const behaviours: Record<string, {status: number; body?: unknown; delayMs?: number}> = {
    ok: {status: 200, body: {message_id: 'gw-123'}},
    okNumeric: {status: 201, body: {id: 42}},
    down: {status: 503, body: {message: 'maintenance'}},
    limited: {status: 429},
    rejected: {status: 400, body: {message: 'bad number'}},
    coded: {status: 422, body: {reason_code: 'PHONE_INVALID', message: 'not on WhatsApp'}},
    noId: {status: 200, body: {}},
    slow: {status: 200, delayMs: 1500},
  }
  before(async () => {
    gateway = await startGateway((req) => behaviours[req.text] ?? {status: 200})
  })
  after(() => gateway.close())

  const creds = () => ({url: gateway.url, token: 'secret-token', timeout_ms: 500})

  it('posts {to, text, metadata} with the bearer token and the idempotency key, and returns the gateway id', async () => {
    const result = await httpGatewayProvider.sendText('6281234567890', 'ok', creds(), {event: 'order_created'}, undefined, 'msg-1:2')
    expect(result).to.deep.equal({providerMessageId: 'gw-123'})
    expect(gateway.requests.at(-1)).to.deep.equal({
      to: '6281234567890',
      text: 'ok',
      metadata: {event: 'order_created'},
      authorization: 'Bearer secret-token',
      idempotencyKey: 'msg-1:2',
    })
    expect(await httpGatewayProvider.sendText('6281234567890', 'okNumeric', creds(), {})).to.deep.equal({providerMessageId: '42'})
  })

  it('treats 5xx, 429, a timeout and an unreachable gateway as transient', async () => {
    expect(await sendError(httpGatewayProvider.sendText('62812', 'down', creds(), {}))).to.deep.include({reasonCode: 'NETWORK_ERROR', transient: true})
    expect(await sendError(httpGatewayProvider.sendText('62812', 'limited', creds(), {}))).to.deep.include({reasonCode: 'RATE_LIMIT', transient: true})
    const slow = await sendError(httpGatewayProvider.sendText('62812', 'slow', creds(), {}))
    expect(slow).to.deep.include({reasonCode: 'PROVIDER_TIMEOUT', transient: true})
    expect(slow.message).to.equal('Gateway did not answer within 500 ms.')
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const {port} = probe.address() as AddressInfo
        probe.close(() => resolve(port))
      })
    })
    const closed = await sendError(httpGatewayProvider.sendText('62812', 'ok', {url: `http://127.0.0.1:${closedPort}/send`}, {}))
    expect(closed).to.deep.include({reasonCode: 'NETWORK_ERROR', transient: true})
    expect(closed.message).to.match(/ECONNREFUSED/)
    expect(await sendError(httpGatewayProvider.sendText('62812', 'noId', creds(), {}))).to.deep.include({reasonCode: 'UNKNOWN_ERROR', transient: true})
  })

  it('treats other 4xx as permanent, keeping a reason code the gateway gives', async () => {
    const rejected = await sendError(httpGatewayProvider.sendText('62812', 'rejected', creds(), {}))
    expect(rejected).to.deep.include({reasonCode: 'PROVIDER_REJECTED', transient: false})
    expect(rejected.message).to.equal('Gateway rejected the message (HTTP 400): bad number')
    expect(await sendError(httpGatewayProvider.sendText('62812', 'coded', creds(), {}))).to.deep.include({reasonCode: 'PHONE_INVALID', transient: false})
  })

  it('reads a JSON null answer as an empty one: a 4xx stays permanent, a 2xx has no id', async () => {
    // The test gateway helper never answers a bare `null`, so this one does.
    const server = createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        res.writeHead(req.url === '/rejected' ? 400 : 200, {'content-type': 'application/json'})
        res.end('null')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      const rejected = await sendError(httpGatewayProvider.sendText('62812', 'x', {url: `${base}/rejected`}, {}))
      expect(rejected).to.deep.include({reasonCode: 'PROVIDER_REJECTED', transient: false})
      expect(rejected.message).to.equal('Gateway rejected the message (HTTP 400)')
      const noId = await sendError(httpGatewayProvider.sendText('62812', 'x', {url: `${base}/ok`}, {}))
      expect(noId).to.deep.include({reasonCode: 'UNKNOWN_ERROR', transient: true})
      expect(noId.message).to.equal('Gateway answered HTTP 200 without a message id.')
    } finally {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  it('refuses a configuration without a usable url, permanently', async () => {
    expect(await sendError(httpGatewayProvider.sendText('62812', 'ok', {}, {}))).to.deep.include({reasonCode: 'PROVIDER_CONFIG_INVALID', transient: false})
    expect(await sendError(httpGatewayProvider.sendText('62812', 'ok', {url: 'ftp://x'}, {}))).to.deep.include({reasonCode: 'PROVIDER_CONFIG_INVALID'})
    expect(await httpGatewayProvider.healthCheck({})).to.deep.equal({ok: false, message: 'HTTP gateway credentials need a "url".'})
  })

  it('resolves drivers by key case-insensitively; an unknown key is PROVIDER_NOT_SUPPORTED', () => {
    expect(providerFor('MOCK').key).to.equal('mock')
    expect(providerFor('Http').key).to.equal('http')
    expect(() => providerFor('mpwa')).to.throw("WA provider 'mpwa' is not supported.")
  })
})
