import {Flags} from '@oclif/core'

import {boundedInteger, checkedString} from '../flags.js'
import {assertListenHost} from '../core/lifecycle/listen-host.js'
import {parseTrustProxy} from '../core/lifecycle/trust-proxy.js'
import {LIMITS} from '../core/limits.js'
import {DatabaseCommand} from '../base-command.js'
import type {ServeResult} from '../api/server.js'
import {describeStop} from './queue/work.js'

/** The tables every API route reads (the schema check at start-up, as the queue worker's). */
const API_TABLES = ['users', 'personal_access_tokens', 'cache', 'jobs']

export default class Serve extends DatabaseCommand<typeof Serve> {
  static faultScope = 'progress' as const
  // A server's output is its request log (JSON lines on stderr): there is no result document to print.
  static enableJsonFlag = false
  static summary = 'Serve the HTTP API the mobile and web clients use (as php artisan serve)'
  static description = `The embedded HTTP API on fastify 5: the Laravel application's routes, fields, validation messages, reason codes and error shapes (GET /up, auth, orders, offline sync, invoice leases, WhatsApp, billing, services; docs/openapi.json lists them). Prints "Serving on http://HOST:PORT" on stdout once it listens (the real port with --port 0), then one log line per request on stderr: JSON, or readable when stderr is a terminal (method, path, status, ms, request id, user id; never a token, password or body). SIGTERM or SIGINT stops accepting, lets the requests in flight finish (up to 10 s), closes the database and exits 0; a second signal exits 1 at once. --workers N runs N processes on the port (node:cluster); the primary restarts a worker that dies. --worker also runs the queue worker (queue work's defaults) in this process, for local use. Behind a reverse proxy, --trust-proxy names the proxies whose X-Forwarded-For gives the client address (throttle keys, audit rows). Artisan alias: \`serve\`.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --host 0.0.0.0 --port 8080 --workers 2',
    '<%= config.bin %> <%= command.id %> --port 0 --worker   # any free port (printed), with a queue worker',
    '<%= config.bin %> <%= command.id %> --trust-proxy 127.0.0.1   # behind nginx on this host: X-Forwarded-For names the client',
  ]
  static flags = {
    host: checkedString(assertListenHost)({description: 'address to listen on (0.0.0.0 for every interface)', default: '127.0.0.1'}),
    port: boundedInteger(LIMITS.port, {description: 'port to listen on; 0 = any free port, printed', default: 8000}),
    workers: boundedInteger(LIMITS.serveWorkers, {description: 'processes serving the port (node:cluster); 1 = this process only', default: 1}),
    worker: Flags.boolean({description: 'also run a queue worker (queue work with its defaults) in this process'}),
    'trust-proxy': checkedString(parseTrustProxy)({
      description:
        "proxies whose X-Forwarded-For names the client (throttle keys, audit rows): addresses, CIDR ranges or loopback/linklocal/uniquelocal, comma-separated; none by default, as Laravel's TrustProxies",
    }),
    'db-connections': boundedInteger(LIMITS.dbConnections, {
      description: 'PostgreSQL connections per process (each of --workers opens its own pool); SQLite always uses one',
      default: 10,
    }),
    'max-time': boundedInteger({...LIMITS.runSeconds, min: 1}, {description: 'stop after this many seconds, as on SIGTERM (tests, benchmarks)'}),
  }

  private reportedToPrimary = false

  protected async catch(err: Error & {exitCode?: number}): Promise<void> {
    if (this.reportedToPrimary) {
      process.exitCode = 1
      return
    }
    return super.catch(err)
  }

  async run(): Promise<ServeResult> {
    const cluster = (await import('node:cluster')).default
    const server = await import('../api/server.js')
    // A worker of `--workers N` listens for its primary's stop from the start (a stop may come early).
    const fromPrimary = cluster.isWorker ? server.primaryStopSignal() : undefined
    const config = await this.loadConfig()
    const db = await this.openDatabase(config, {poolMax: this.flags['db-connections']})
    const [{requireTables}, {installStopSignals}, {streamLogger}] = await Promise.all([
      import('../core/db/faults.js'),
      import('../core/lifecycle/stop-signals.js'),
      import('../api/plugins/request-log.js'),
    ])
    await requireTables(db, API_TABLES)
    const {systemClock} = await import('../core/clock.js')
    const human = process.stderr.isTTY === true
    const logger = streamLogger({human, stacks: Boolean(process.env.DEBUG)})
    const maxTimeMs = this.flags['max-time'] === undefined ? undefined : this.flags['max-time'] * 1000
    const {host, port, workers} = this.flags
    const trustProxy = this.flags['trust-proxy'] ? parseTrustProxy(this.flags['trust-proxy']) : undefined
    const app = trustProxy ? {trustProxy} : undefined

    if (fromPrimary) {
      // A worker of `--workers N`: the primary starts it (this same command line) and asks it to stop.
      const stop = installStopSignals({note: (line) => logger.note(line), stopping: 'finishing the requests in flight, then stopping'})
      try {
        const result = await server.serveApi({
          db,
          config,
          clock: systemClock,
          logger,
          host,
          port,
          stop: server.eitherSignal(stop.signal, fromPrimary),
          app,
          onListening: (_url, real) => server.tellPrimary({laundryOps: 'listening', port: real}),
        })
        server.tellPrimary({laundryOps: 'stopped', requests: result.requests, forced: result.forced_connections})
        return result
      } catch (error) {
        const e = error as {code?: unknown; message?: unknown}
        server.tellPrimary({laundryOps: 'failed', code: typeof e.code === 'string' ? e.code : 'FAILED', message: String(e.message ?? error)})
        // The primary reports it, once for the cluster.
        this.reportedToPrimary = true
        throw error
      } finally {
        stop.dispose()
        // The primary's message listener would keep the worker alive.
        process.disconnect?.()
      }
    }

    const stop = installStopSignals({note: (line) => this.note(line), stopping: 'finishing the requests in flight, then stopping'})
    const onListening = (url: string) => {
      this.log(`Serving on ${url}${workers > 1 ? ` (${workers} workers)` : ''}`)
    }
    const queue = this.flags.worker ? this.startQueueWorker(db, config, stop.signal) : undefined
    try {
      const result =
        workers > 1
          ? await server.runClusterPrimary({host, port, workers, maxTimeMs, stop: stop.signal, logger, onListening})
          : await server.serveApi({db, config, clock: systemClock, logger, host, port, maxTimeMs, stop: stop.signal, onListening, app})
      this.note(
        `Server stopped (${result.stop_reason}): ${result.requests} request(s) answered` +
          (result.forced_connections > 0 ? `, ${result.forced_connections} connection(s) closed after the grace period` : '') +
          '.',
      )
      return result
    } finally {
      stop.dispose()
      await queue?.finish()
    }
  }

  /** `--worker`: the queue worker beside the server, stopped with it. */
  private startQueueWorker(
    db: Parameters<typeof import('../core/queue/worker.js').runWorker>[0],
    config: Awaited<ReturnType<Serve['loadConfig']>>,
    serverStop: AbortSignal,
  ): {finish(): Promise<void>} {
    const stop = new AbortController()
    const onStop = () => stop.abort()
    serverStop.addEventListener('abort', onStop, {once: true})
    const running = (async () => {
      const [{runWorker}, {workerOptionsFrom}] = await Promise.all([import('../core/queue/worker.js'), import('../core/queue/worker-options.js')])
      const options = workerOptionsFrom(
        {
          queue: 'messaging,default',
          sleep: 3,
          tries: 3,
          backoff: '0',
          maxJobs: 0,
          maxTime: 0,
          stopWhenEmpty: false,
          once: false,
          timeout: 60,
          rest: 0,
          concurrency: 1,
        },
        config,
      )
      this.note(`Queue worker: processing jobs from the [${options.queues.join(', ')}] queue(s).`)
      const result = await runWorker(db, options, {
        stop: stop.signal,
        onEvent: (event) => {
          if (event.type === 'processed') this.note(`queue: ${event.name} #${event.job.id} ${event.ms} ms ${event.detail} DONE`)
          else if (event.type === 'released') this.note(`queue: ${event.name} #${event.job.id} ${event.detail}, again in ${event.delay}s RELEASED`)
          else if (event.type === 'failed') this.note(`queue: ${event.name} #${event.job.id} ${event.reason} FAIL`)
        },
      })
      this.note(
        `Queue worker: ${describeStop(result)}${result.stop_reason === 'restart' ? ' The server keeps serving; restart serve to run the new code.' : ''}`,
      )
    })().catch((error: unknown) => {
      // The queue worker's fault does not take the server down: it is reported, the server keeps serving.
      process.stderr.write(`error: the queue worker stopped: ${(error as Error).message}\n`)
    })
    return {
      async finish() {
        stop.abort()
        serverStop.removeEventListener('abort', onStop)
        await running
      },
    }
  }
}
