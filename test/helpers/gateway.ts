import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

export interface GatewayRequest {
  to: string
  text: string
  metadata: Record<string, unknown>
  authorization?: string
  /** The Idempotency-Key header: `<message id>:<attempt>`. */
  idempotencyKey?: string
}

/** A real HTTP WhatsApp gateway on loopback that records every send and answers as the test says. */
export interface TestGateway {
  url: string
  requests: GatewayRequest[]
  /** Calls per message text (the tests put the message id in the text). */
  counts: Map<string, number>
  close(): Promise<void>
}

export type GatewayBehaviour = (
  req: GatewayRequest,
  n: number,
) => {status: number; body?: unknown; delayMs?: number} | Promise<{status: number; body?: unknown; delayMs?: number}>

export async function startGateway(behaviour: GatewayBehaviour = () => ({status: 200})): Promise<TestGateway> {
  const requests: GatewayRequest[] = []
  const counts = new Map<string, number>()
  let n = 0
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = ''
    req.on('data', (d: Buffer) => (raw += d.toString()))
    const answerRequest = async () => {
      const body = JSON.parse(raw || '{}') as {to: string; text: string; metadata?: Record<string, unknown>}
      const key = req.headers['idempotency-key']
      const entry: GatewayRequest = {
        to: body.to,
        text: body.text,
        metadata: body.metadata ?? {},
        authorization: req.headers.authorization,
        ...(typeof key === 'string' ? {idempotencyKey: key} : {}),
      }
      requests.push(entry)
      counts.set(entry.text, (counts.get(entry.text) ?? 0) + 1)
      const answer = await behaviour(entry, ++n)
      const send = () => {
        if (res.destroyed) return
        res.writeHead(answer.status, {'content-type': 'application/json'})
        res.end(JSON.stringify(answer.body ?? (answer.status < 300 ? {message_id: `gw-${n}`} : {message: 'nope'})))
      }
      if (answer.delayMs) setTimeout(send, answer.delayMs)
      else send()
    }
    req.on('end', () => {
      answerRequest().catch((error: unknown) => {
        res.destroy()
        // As loud as an exception in the test itself: mocha fails the running test on an uncaught exception.
        setImmediate(() => {
          throw error
        })
      })
    })
  })
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/send`,
    requests,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
