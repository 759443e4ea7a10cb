import cluster, {type Worker} from 'node:cluster'
import {isIPv6} from 'node:net'

import type {Clock} from '../core/clock.js'
import type {AppConfig} from '../core/config.js'
import type {Database} from '../core/db/connection.js'
import {isErrorCode, OpsError} from '../core/errors.js'
import {type BuildAppOptions, buildApp} from './app.js'
import type {ApiLogger} from './plugins/request-log.js'

/**
 * What owns the socket: listen, the graceful stop (stop accepting, let the requests in flight finish
 * within a bound, then close what is left) and `--workers N` on node:cluster. The app itself (app.ts)
 * never listens.
 */

/** How long the requests in flight get to finish once a stop is asked for. */
export const CLOSE_GRACE_MS = 10_000

export type ServerStopReason = 'signal' | 'max_time'

export interface ServeResult {
  url: string
  host: string
  port: number
  workers: number
  stop_reason: ServerStopReason
  /** Requests answered by this process (the primary of a cluster counts its workers' reports). */
  requests: number
  /** Connections still open when the grace period ended (closed forcibly). */
  forced_connections: number
}

export interface ServeOptions {
  db: Database
  config: AppConfig
  clock: Clock
  logger: ApiLogger
  host: string
  port: number
  /** Stop after this many milliseconds (a test or benchmark bound). */
  maxTimeMs?: number
  /** Aborted by the stop signals. */
  stop: AbortSignal
  closeGraceMs?: number
  /** Called once the socket listens, with the URL (the real port when port 0 was asked for). */
  onListening?: (url: string, port: number) => void
  /** The app's extra options (authenticator, routes) for the integrator. */
  app?: Partial<Omit<BuildAppOptions, 'db' | 'config' | 'clock' | 'logger'>>
}

export function serverUrl(host: string, port: number): string {
  return `http://${isIPv6(host) ? `[${host}]` : host}:${port}`
}

/** A listen failure as one clear line: the port is taken, or the host is not an address of this machine. */
export function listenError(error: unknown, host: string, port: number): OpsError {
  const code = (error as {code?: unknown}).code
  const where = `${host}:${port}`
  if (code === 'EADDRINUSE') {
    return new OpsError('PORT_IN_USE', `port ${port} is already in use on ${host}: stop what listens there, or give another --port`, {cause: error})
  }
  const why =
    code === 'EADDRNOTAVAIL'
      ? `${host} is not an address of this machine`
      : code === 'EACCES'
        ? `port ${port} needs privileges this user does not have (ports below 1024)`
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? `the host name ${host} does not resolve`
          : String((error as Error)?.message ?? error)
  return new OpsError('LISTEN_FAILED', `cannot listen on ${where}: ${why}`, {cause: error})
}

/** Resolves when `signal` aborts or `ms` pass, with which. */
function stopOrTimeout(signal: AbortSignal, ms: number | undefined): Promise<ServerStopReason> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve('signal')
    const timer = ms === undefined ? undefined : setTimeout(() => finish('max_time'), ms)
    const onAbort = () => finish('signal')
    const finish = (reason: ServerStopReason) => {
      if (timer) clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      resolve(reason)
    }
    signal.addEventListener('abort', onAbort, {once: true})
  })
}

/** One process: build, listen, wait for the stop, close gracefully (bounded). */
export async function serveApi(options: ServeOptions): Promise<ServeResult> {
  const app = await buildApp({db: options.db, config: options.config, clock: options.clock, logger: options.logger, ...options.app})
  let requests = 0
  let closing = false
  app.addHook('onResponse', (_request, _reply, done) => {
    requests++
    done()
  })
  // An answer given while stopping ends its keep-alive connection, so the stop need not wait for the client.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) void reply.header('Connection', 'close')
    done(null, payload)
  })
  let port: number
  try {
    await app.listen({host: options.host, port: options.port})
    const address = app.server.address()
    port = typeof address === 'object' && address ? address.port : options.port
  } catch (error) {
    await app.close().catch(() => {})
    throw listenError(error, options.host, options.port)
  }
  const url = serverUrl(options.host, port)
  options.onListening?.(url, port)
  const reason = await stopOrTimeout(options.stop, options.maxTimeMs)
  closing = true
  const forced = await closeGracefully(app, options.closeGraceMs ?? CLOSE_GRACE_MS)
  return {url, host: options.host, port, workers: 1, stop_reason: reason, requests, forced_connections: forced}
}

/** Stops accepting, waits for the requests in flight up to `graceMs`, then closes the rest. */
async function closeGracefully(app: Awaited<ReturnType<typeof buildApp>>, graceMs: number): Promise<number> {
  let forced = 0
  const closed = app.close()
  // A connection that was busy when the stop came is closed as soon as it is idle.
  const idle = setInterval(() => app.server.closeIdleConnections(), 100)
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), graceMs)
  })
  if ((await Promise.race([closed.then(() => 'closed' as const), late])) === 'late') {
    forced = await new Promise<number>((resolve) => app.server.getConnections((_error, count) => resolve(count ?? 0)))
    app.server.closeAllConnections()
    await closed
  }
  clearTimeout(timer)
  clearInterval(idle)
  return forced
}

// ---------------------------------------------------------------------------------------------------
// node:cluster: the primary forks N workers that share the port (each is this same command, run again);
// it restarts a worker that dies, relays a stop, and reports the port once every worker listens.

/** Messages a worker sends its primary. */
export type WorkerMessage =
  {laundryOps: 'listening'; port: number} | {laundryOps: 'failed'; code: string; message: string} | {laundryOps: 'stopped'; requests: number; forced: number}
/** Messages the primary sends its workers: a graceful stop (idempotent, unlike a second signal). */
export type PrimaryMessage = {laundryOps: 'stop'}

function isWorkerMessage(message: unknown): message is WorkerMessage {
  return typeof message === 'object' && message !== null && typeof (message as {laundryOps?: unknown}).laundryOps === 'string'
}

/** In a cluster worker: an AbortSignal the primary's stop message aborts. */
export function primaryStopSignal(): AbortSignal {
  const stop = new AbortController()
  process.on('message', (message: unknown) => {
    if (typeof message === 'object' && message !== null && (message as PrimaryMessage).laundryOps === 'stop') stop.abort()
  })
  return stop.signal
}

/** Aborted when either signal is (AbortSignal.any without its dependence on garbage collection in Node 20). */
export function eitherSignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  const both = new AbortController()
  const abort = () => both.abort()
  if (a.aborted || b.aborted) abort()
  a.addEventListener('abort', abort, {once: true})
  b.addEventListener('abort', abort, {once: true})
  return both.signal
}

/** In a cluster worker: tells the primary what happened (listening, a start-up failure, the final count). */
export function tellPrimary(message: WorkerMessage): void {
  process.send?.(message)
}

export interface ClusterOptions {
  host: string
  port: number
  workers: number
  maxTimeMs?: number
  stop: AbortSignal
  logger: ApiLogger
  onListening?: (url: string, port: number) => void
  /** Restarts allowed within RESTART_WINDOW_MS before the primary gives up (a worker that cannot run). */
  maxRestarts?: number
}

const RESTART_WINDOW_MS = 60_000
const RESTART_DELAY_MS = 500

/** The primary of `--workers N`: resolves when every worker has stopped, or rejects when they cannot start. */
export function runClusterPrimary(options: ClusterOptions): Promise<ServeResult> {
  return new Promise<ServeResult>((resolve, reject) => {
    const maxRestarts = options.maxRestarts ?? options.workers * 5
    const live = new Set<Worker>()
    const listening = new Set<Worker>()
    const restarts: number[] = []
    let port: number | undefined
    let up = false
    let stopping: ServerStopReason | undefined
    let failure: OpsError | undefined
    let requests = 0
    let forced = 0
    let maxTimer: NodeJS.Timeout | undefined

    const askToStop = (worker: Worker) => {
      if (worker.isConnected()) worker.send({laundryOps: 'stop'} satisfies PrimaryMessage)
      else worker.process.kill('SIGTERM')
    }
    const stopAll = (reason: ServerStopReason) => {
      if (stopping) return
      stopping = reason
      if (maxTimer) clearTimeout(maxTimer)
      // A worker still starting is asked once it listens (a message before its listener would be lost).
      for (const worker of listening) askToStop(worker)
      if (live.size === 0) return finish()
      // Whatever has not stopped when the requests' grace period is long over is killed.
      setTimeout(() => {
        for (const worker of live) worker.process.kill('SIGKILL')
      }, CLOSE_GRACE_MS + 5_000).unref()
    }
    const finish = () => {
      options.stop.removeEventListener('abort', onAbort)
      if (failure) return reject(failure)
      const p = port ?? options.port
      resolve({
        url: serverUrl(options.host, p),
        host: options.host,
        port: p,
        workers: options.workers,
        stop_reason: stopping ?? 'signal',
        requests,
        forced_connections: forced,
      })
    }
    const onAbort = () => stopAll('signal')
    options.stop.addEventListener('abort', onAbort, {once: true})

    const fork = () => {
      const worker = cluster.fork()
      live.add(worker)
      worker.on('message', (message: unknown) => {
        if (!isWorkerMessage(message)) return
        if (message.laundryOps === 'listening') {
          listening.add(worker)
          if (stopping) return askToStop(worker)
          port ??= message.port
          if (!up && listening.size === options.workers) {
            up = true
            options.onListening?.(serverUrl(options.host, port), port)
            if (options.maxTimeMs !== undefined) maxTimer = setTimeout(() => stopAll('max_time'), options.maxTimeMs)
          }
        } else if (message.laundryOps === 'failed') {
          // Before the cluster is up, a start-up failure (port in use, database gone) is the cluster's:
          // stop, report it once. Later it is one worker's: noted, and the worker is started again.
          if (up) return options.logger.note(`worker ${worker.process.pid} failed: ${message.message}`)
          failure ??= new OpsError(isErrorCode(message.code) ? message.code : 'FAILED', message.message)
          stopAll('signal')
        } else {
          requests += message.requests
          forced += message.forced
        }
      })
      worker.on('exit', (code, signal) => {
        live.delete(worker)
        listening.delete(worker)
        if (stopping) {
          if (live.size === 0) finish()
          return
        }
        const now = Date.now()
        restarts.push(now)
        while (restarts.length > 0 && restarts[0] < now - RESTART_WINDOW_MS) restarts.shift()
        if (restarts.length > maxRestarts) {
          failure ??= new OpsError(
            'FAILED',
            `the server workers keep dying (${restarts.length} restarts within a minute, the last with ${signal ?? `exit ${code}`}): stopping`,
          )
          stopAll('signal')
          return
        }
        options.logger.note(`worker ${worker.process.pid} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}: starting another`)
        setTimeout(() => {
          if (!stopping) fork()
        }, RESTART_DELAY_MS).unref()
      })
    }
    for (let i = 0; i < options.workers; i++) fork()
  })
}
