// The WhatsApp gateway of bench/queue.ts: a real HTTP server on loopback, in its own process (so its
// timers and sockets do not compete with the bench's event loop), that answers every send 200
// {"message_id": "gw-<n>"} `--answer-ms` after the request arrived (default 100 ms; never earlier, at most
// about a millisecond later when its process is not starved), and counts the calls per message so the
// bench can check that none was sent twice.
//
//   node --import tsx bench/lib/gateway.ts [--answer-ms 100]      (started by bench/queue.ts with fork())
//
// The message is the part of the Idempotency-Key header (`<message id>:<attempt>`) before the last colon,
// or the body's `text` when the header is missing. Over the IPC channel it sends {type: 'listening', url}
// once, and answers {type: 'reset'} (forget every call) and {type: 'stats'} with GatewayStats.

import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {performance} from 'node:perf_hooks'
import process from 'node:process'

export interface GatewayStats {
  /** Requests answered since the last reset. */
  calls: number
  /** Distinct messages among them. */
  messages: number
  /** Messages that reached the gateway more than once, with their count (at most 20 listed). */
  twice: Array<[string, number]>
  twiceCount: number
  /** How late the answers were against the fixed answer time, ms (timer and event-loop lag of this process). */
  lateMs: {p50: number; p99: number; max: number}
  /** The most requests waiting for their answer at one moment. */
  maxInFlight: number
}

export type GatewayMessage = {type: 'listening'; url: string} | {type: 'stats'; stats: GatewayStats}

const arg = process.argv.indexOf('--answer-ms')
const ANSWER_MS = arg > 0 ? Number(process.argv[arg + 1]) : 100
if (!Number.isFinite(ANSWER_MS) || ANSWER_MS < 0) {
  process.stderr.write(`bench/lib/gateway: --answer-ms needs a number of milliseconds\n`)
  process.exit(2)
}

const counts = new Map<string, number>()
let late: number[] = []
let calls = 0
let seq = 0
let inFlight = 0
let maxInFlight = 0

function messageOf(key: string | undefined, body: string): string {
  if (key !== undefined) {
    const colon = key.lastIndexOf(':')
    return colon > 0 ? key.slice(0, colon) : key
  }
  try {
    return String((JSON.parse(body) as {text?: unknown}).text)
  } catch {
    return '?'
  }
}

const server = createServer((req, res) => {
  const arrived = performance.now()
  let body = ''
  req.setEncoding('utf8')
  req.on('data', (d: string) => (body += d))
  req.on('end', () => {
    const key = req.headers['idempotency-key']
    const message = messageOf(typeof key === 'string' ? key : undefined, body)
    counts.set(message, (counts.get(message) ?? 0) + 1)
    calls++
    const id = `gw-${++seq}`
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    // Timers may fire up to a millisecond early (the event loop's clock has millisecond steps): one that
    // did waits out the rest, so no answer comes before ANSWER_MS.
    const answer = () => {
      const waited = performance.now() - arrived
      if (waited < ANSWER_MS) {
        setTimeout(answer, Math.ceil(ANSWER_MS - waited))
        return
      }
      inFlight--
      late.push(waited - ANSWER_MS)
      const text = JSON.stringify({message_id: id})
      res.writeHead(200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)})
      res.end(text)
    }
    setTimeout(answer, Math.ceil(ANSWER_MS - (performance.now() - arrived)))
  })
})
// The workers' fetch keeps its connections open between sends.
server.keepAliveTimeout = 30_000

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

function stats(): GatewayStats {
  const twice = [...counts].filter(([, n]) => n !== 1)
  const sorted = [...late].sort((a, b) => a - b)
  const round = (x: number) => Math.round(x * 10) / 10
  return {
    calls,
    messages: counts.size,
    twice: twice.slice(0, 20),
    twiceCount: twice.length,
    lateMs: {p50: round(quantile(sorted, 0.5)), p99: round(quantile(sorted, 0.99)), max: round(sorted.at(-1) ?? 0)},
    maxInFlight,
  }
}

process.on('message', (m: {type?: string}) => {
  if (m.type === 'reset') {
    counts.clear()
    late = []
    calls = 0
    maxInFlight = 0
    process.send?.({type: 'stats', stats: stats()} satisfies GatewayMessage)
  } else if (m.type === 'stats') {
    process.send?.({type: 'stats', stats: stats()} satisfies GatewayMessage)
  }
})
// The bench ended (or died): so does the gateway.
process.on('disconnect', () => process.exit(0))

server.listen(0, '127.0.0.1', () => {
  const {port} = server.address() as AddressInfo
  process.send?.({type: 'listening', url: `http://127.0.0.1:${port}/send`} satisfies GatewayMessage)
})
