import type {Clock} from '../clock.js'
import {systemClock} from '../clock.js'
import type {Database} from '../db/connection.js'
import {interruptedBy, requireTables} from '../db/faults.js'
import {writeTransaction} from '../db/transactions.js'
import {sendWaMessage, type SendOutcome} from '../messaging/send-wa-message.js'
import type {WaProvider} from '../messaging/providers.js'
import {claimNextJob, DEFAULT_RETRY_AFTER, deleteReservedJob, failJob, type QueuedJob, releaseJob, unixSeconds} from './database-queue.js'
import {decodePayload, MalformedJobError, SEND_WA_JOB, waMessageIdOf} from './payload.js'
import type {PhpObject} from '../php/serialize.js'
import {lastQueueRestart} from './restart-signal.js'

export interface WorkerOptions {
  /** Strict priority order. */
  queues: string[]
  /** Seconds to sleep after an empty poll. */
  sleep: number
  /** Attempts before a job that throws goes to failed_jobs (0 = unlimited); a payload's maxTries wins. */
  tries: number
  /** Seconds before a job that threw is released again; element attempts-1, the last one repeats. */
  backoff: number[]
  maxJobs: number
  maxTime: number
  stopWhenEmpty: boolean
  once: boolean
  /** Seconds a job may run (0 = no limit); must stay below retryAfter. */
  timeout: number
  retryAfter: number
  /** Seconds to rest after each job. */
  rest: number
  cachePrefix: string
}

export const DEFAULT_WORKER_OPTIONS: WorkerOptions = {
  queues: ['messaging', 'default'],
  sleep: 3,
  // Laravel's default is 1, which fails every job whose worker died (the claim already counted the
  // attempt). Our send job guards itself against double sends, so a reclaimed job gets two more runs.
  tries: 3,
  backoff: [0],
  maxJobs: 0,
  maxTime: 0,
  stopWhenEmpty: false,
  once: false,
  timeout: 60,
  retryAfter: DEFAULT_RETRY_AFTER,
  rest: 0,
  cachePrefix: 'laravel_cache_',
}

export type JobEvent =
  | {type: 'processing'; job: QueuedJob; name: string}
  | {type: 'processed'; job: QueuedJob; name: string; ms: number; detail: string}
  | {type: 'released'; job: QueuedJob; name: string; ms: number; delay: number; detail: string}
  | {type: 'failed'; job: QueuedJob; name: string; ms: number; reason: string}

export type StopReason = 'empty' | 'once' | 'max_jobs' | 'max_time' | 'restart' | 'signal' | 'timeout'

/** What the WhatsApp send jobs did to their messages (a job can succeed while its message fails). */
export interface MessageTally {
  sent: number
  /** Transient errors: the message is queued again with a backoff. */
  retry_scheduled: number
  /** Permanent errors (or attempts used up): the message is `failed`; see failed_reasons. */
  failed: number
  /** Already sent, missing, or busy in another worker. */
  skipped: number
  /** Failed messages by reason code (PHONE_INVALID, PROVIDER_CONFIG_MISSING, …). */
  failed_reasons: Record<string, number>
}

/** Jobs left on the worked queues when the worker stopped. */
export interface QueueRemainder {
  ready: number
  /** Released or retried jobs whose time has not come: `--stop-when-empty` does not wait for them. */
  delayed: number
  reserved: number
  /** When the first delayed job becomes available (UTC ISO 8601), or null. */
  next_delayed_at: string | null
}

export interface WorkerResult {
  /** Jobs run to their end (whatever their message's outcome: see messages). */
  processed: number
  released: number
  /** Jobs moved to failed_jobs. */
  failed: number
  messages: MessageTally
  remaining: QueueRemainder
  stop_reason: StopReason
  /** 0 for every graceful stop; 1 when a job overran --timeout (as Laravel's worker kills itself). */
  exit_code: number
}

export interface WorkerDeps {
  clock?: Clock
  /** Aborted by SIGTERM / SIGINT: the job in hand finishes, then the worker stops. */
  stop?: AbortSignal
  onEvent?: (event: JobEvent) => void
  providers?: ReadonlyMap<string, WaProvider>
}

export class JobTimeoutError extends Error {}

interface HandlerContext {
  db: Database
  clock: Clock
  job: QueuedJob
  signal: AbortSignal
  providers?: ReadonlyMap<string, WaProvider>
}

/**
 * What a handler did: `done` (with `removed` when it deleted the job row in its own transaction), or
 * `release` (put the job back after `delay` seconds).
 */
type HandlerResult =
  {kind: 'done'; detail: string; removed?: boolean; send?: SendOutcome} | {kind: 'release'; delay: number; detail: string; send?: SendOutcome}

type JobHandler = (ctx: HandlerContext, command: PhpObject) => Promise<HandlerResult>

function describeSend(outcome: SendOutcome): HandlerResult {
  switch (outcome.status) {
    case 'sent':
      return {kind: 'done', removed: true, send: outcome, detail: `sent (attempt ${outcome.attempt}, ${outcome.providerMessageId})`}
    case 'retry':
      return {kind: 'done', removed: true, send: outcome, detail: `${outcome.code}: retry in ${outcome.delaySeconds}s (attempt ${outcome.attempt})`}
    case 'failed':
      return {kind: 'done', removed: true, send: outcome, detail: `${outcome.code}: message failed (attempt ${outcome.attempt})`}
    case 'skipped':
      // Another worker holds the message: come back shortly rather than wait or send twice.
      return outcome.reason === 'busy'
        ? {kind: 'release', delay: 5, send: outcome, detail: 'message busy in another worker'}
        : {kind: 'done', removed: true, send: outcome, detail: `skipped (${outcome.reason})`}
  }
}

/** The job classes this worker can run, by Laravel class name. */
export const JOB_HANDLERS: ReadonlyMap<string, JobHandler> = new Map([
  [SEND_WA_JOB, async (ctx: HandlerContext, command: PhpObject) => describeSend(await sendWaMessage(ctx, waMessageIdOf(command)))],
])

const backoffFor = (backoff: number[], attempts: number) => backoff[Math.min(attempts - 1, backoff.length - 1)] ?? 0

function payloadBackoff(value: unknown): number[] | null {
  if (typeof value === 'number') return [value]
  if (typeof value === 'string' && /^\d+(,\d+)*$/.test(value)) return value.split(',').map(Number)
  return null
}

function sleep(seconds: number, stop?: AbortSignal): Promise<void> {
  if (seconds <= 0 || stop?.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(done, seconds * 1000)
    function done() {
      clearTimeout(timer)
      stop?.removeEventListener('abort', done)
      resolve()
    }
    stop?.addEventListener('abort', done, {once: true})
  })
}

async function withTimeout<T>(seconds: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  if (seconds <= 0) return work(controller.signal)
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort()
      reject(new JobTimeoutError(`job ran longer than --timeout ${seconds}s`))
    }, seconds * 1000)
  })
  try {
    return await Promise.race([work(controller.signal), expired])
  } finally {
    clearTimeout(timer)
  }
}

function exceptionText(error: unknown): string {
  const e = error as Error
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(error)}\n${e?.stack?.split('\n').slice(1).join('\n') ?? ''}\n(laundry-ops queue worker)`.trim()
}

/**
 * The database queue worker, with `php artisan queue:work` semantics: strict queue priority, sleep
 * when idle, tries/backoff for jobs that throw, and a graceful stop (after the job in hand) on a stop
 * signal, `queue:restart`, --max-jobs, --max-time, --stop-when-empty or --once.
 */
export async function runWorker(db: Database, options: WorkerOptions, deps: WorkerDeps = {}): Promise<WorkerResult> {
  const clock = deps.clock ?? systemClock
  const emit = deps.onEvent ?? (() => {})
  const startedAt = Date.now()
  await requireTables(db, ['jobs', 'failed_jobs', 'cache'])
  const restartBaseline = await lastQueueRestart(db.knex, options.cachePrefix)
  const result: WorkerResult = {
    processed: 0,
    released: 0,
    failed: 0,
    messages: {sent: 0, retry_scheduled: 0, failed: 0, skipped: 0, failed_reasons: {}},
    remaining: {ready: 0, delayed: 0, reserved: 0, next_delayed_at: null},
    stop_reason: 'signal',
    exit_code: 0,
  }
  const stop = async (reason: StopReason): Promise<WorkerResult> => {
    result.stop_reason = reason
    result.remaining = await remainder(db, options.queues, clock.now())
    return result
  }

  const stopReason = async (ranJob: boolean): Promise<StopReason | null> => {
    if (deps.stop?.aborted) return 'signal'
    if ((await lastQueueRestart(db.knex, options.cachePrefix)) !== restartBaseline) return 'restart'
    if (!ranJob && (options.stopWhenEmpty || options.once)) return 'empty'
    if (options.maxTime > 0 && Date.now() - startedAt >= options.maxTime * 1000) return 'max_time'
    if (options.maxJobs > 0 && result.processed + result.failed + result.released >= options.maxJobs) return 'max_jobs'
    if (ranJob && options.once) return 'once'
    return null
  }

  const sofar = () => `${result.processed} job(s) processed, ${result.released} released and ${result.failed} failed before it`
  const restart = 'restart the worker (a supervisor does) once the database answers'
  // A fault between jobs (the claim, the restart check): no job in hand, but the report still tells the work done.
  const betweenJobs = (error: unknown): never => {
    throw interruptedBy(error, db.target, {
      done: sofar(),
      notDone: `no job was in hand (a claim cut short is claimed again after DB_QUEUE_RETRY_AFTER (${options.retryAfter} s))`,
      next: restart,
    })
  }

  for (;;) {
    if (deps.stop?.aborted) return stop('signal')
    const job = await claimNextJob(db, options.queues, clock.now(), options.retryAfter).catch(betweenJobs)
    if (job) {
      try {
        await runOne(db, job, options, {...deps, clock, emit}, result)
      } catch (error) {
        if (error instanceof JobTimeoutError) {
          // Like Laravel: the job stays reserved (and is reclaimed after retry_after); the worker exits 1.
          emit({type: 'failed', job, name: '?', ms: options.timeout * 1000, reason: error.message})
          result.exit_code = 1
          return stop('timeout')
        }
        throw interruptedBy(error, db.target, {
          done: sofar(),
          // The provider may have accepted the message before the fault: its result was not committed.
          notDone: `job #${job.id} was not finished: it stays reserved and is claimed again after DB_QUEUE_RETRY_AFTER (${options.retryAfter} s); its message is sent once more if the provider had accepted it before the fault`,
          next: restart,
        })
      }
      if (options.rest > 0) await sleep(options.rest, deps.stop)
    }
    const reason = await stopReason(Boolean(job)).catch(betweenJobs)
    if (reason) return stop(reason)
    if (!job) await sleep(options.sleep, deps.stop)
  }
}

/** The jobs of the worked queues left behind: ready, delayed (with the first one's time) and reserved. */
async function remainder(db: Database, queues: string[], now: Date): Promise<QueueRemainder> {
  const t = unixSeconds(now)
  type Counts = {ready: unknown; delayed: unknown; reserved: unknown; next_delayed: unknown}
  const [row]: Array<Partial<Counts>> = await db
    .knex('jobs')
    .whereIn('queue', queues)
    .select(db.knex.raw('sum(case when reserved_at is null and available_at <= ? then 1 else 0 end) as ready', [t]))
    .select(db.knex.raw('sum(case when reserved_at is null and available_at > ? then 1 else 0 end) as delayed', [t]))
    .select(db.knex.raw('sum(case when reserved_at is not null then 1 else 0 end) as reserved'))
    .select(db.knex.raw('min(case when reserved_at is null and available_at > ? then available_at end) as next_delayed', [t]))
  const next = row?.next_delayed === null || row?.next_delayed === undefined ? null : Number(row.next_delayed)
  return {
    ready: Number(row?.ready ?? 0),
    delayed: Number(row?.delayed ?? 0),
    reserved: Number(row?.reserved ?? 0),
    next_delayed_at: next === null ? null : new Date(next * 1000).toISOString(),
  }
}

function tally(result: WorkerResult, send: SendOutcome | undefined): void {
  if (!send) return
  const m = result.messages
  switch (send.status) {
    case 'sent':
      m.sent++
      return
    case 'retry':
      m.retry_scheduled++
      return
    case 'failed':
      m.failed++
      m.failed_reasons[send.code] = (m.failed_reasons[send.code] ?? 0) + 1
      return
    case 'skipped':
      if (send.reason !== 'busy') m.skipped++
      return
  }
}

async function runOne(
  db: Database,
  job: QueuedJob,
  options: WorkerOptions,
  deps: WorkerDeps & {clock: Clock; emit: (event: JobEvent) => void},
  result: WorkerResult,
): Promise<void> {
  const {clock, emit} = deps
  const started = Date.now()
  let name = '?'
  let decoded: ReturnType<typeof decodePayload>
  try {
    decoded = decodePayload(job.payload)
    name = decoded.envelope.displayName ?? decoded.envelope.data.commandName
  } catch (error) {
    const reason = error instanceof MalformedJobError ? error.message : String(error)
    await failJob(db, job, `MalformedJobError: ${reason}\n(laundry-ops queue worker)`, clock.now())
    result.failed++
    emit({type: 'failed', job, name, ms: Date.now() - started, reason})
    return
  }
  const handler = JOB_HANDLERS.get(decoded.envelope.data.commandName)
  if (!handler) {
    const reason = `laundry-ops cannot run ${decoded.envelope.data.commandName} (it runs: ${[...JOB_HANDLERS.keys()].join(', ')})`
    await failJob(db, job, `UnknownJobError: ${reason}\n(laundry-ops queue worker)`, clock.now())
    result.failed++
    emit({type: 'failed', job, name, ms: Date.now() - started, reason})
    return
  }
  const maxTries = decoded.envelope.maxTries ?? options.tries
  if (maxTries > 0 && job.attempts > maxTries) {
    const reason = `${name} has been attempted too many times (${job.attempts - 1} of ${maxTries}).`
    await failJob(db, job, `MaxAttemptsExceededException: ${reason}\n(laundry-ops queue worker)`, clock.now())
    result.failed++
    emit({type: 'failed', job, name, ms: Date.now() - started, reason})
    return
  }
  emit({type: 'processing', job, name})
  try {
    const outcome = await withTimeout(options.timeout, (signal) => handler({db, clock, job, signal, providers: deps.providers}, decoded.command))
    if (outcome.kind === 'release') {
      await writeTransaction(db, (trx) => releaseJob(trx, job, outcome.delay, clock.now()))
      result.released++
      emit({type: 'released', job, name, ms: Date.now() - started, delay: outcome.delay, detail: outcome.detail})
      return
    }
    if (!outcome.removed) await deleteReservedJob(db.knex, job)
    result.processed++
    tally(result, outcome.send)
    emit({type: 'processed', job, name, ms: Date.now() - started, detail: outcome.detail})
  } catch (error) {
    if (error instanceof JobTimeoutError) throw error
    if (maxTries > 0 && job.attempts >= maxTries) {
      await failJob(db, job, exceptionText(error), clock.now())
      result.failed++
      emit({type: 'failed', job, name, ms: Date.now() - started, reason: (error as Error).message})
      return
    }
    const delay = backoffFor(payloadBackoff(decoded.envelope.backoff) ?? options.backoff, job.attempts)
    // Delete and re-insert in one transaction: a fault between the two must not lose the job.
    await writeTransaction(db, (trx) => releaseJob(trx, job, delay, clock.now()))
    result.released++
    emit({type: 'released', job, name, ms: Date.now() - started, delay, detail: (error as Error).message})
  }
}
