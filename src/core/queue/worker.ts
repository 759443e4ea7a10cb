import type {Clock} from '../clock.js'
import {systemClock, toDbTimestamp} from '../clock.js'
import type {Database} from '../db/connection.js'
import {describeFault, interruptedBy, requireTables} from '../db/faults.js'
import {type Executor, writeTransaction} from '../db/transactions.js'
import {readJsonObject} from '../messaging/json-column.js'
import {type RecordRetry, sendStateOf, sendWaMessage, type SendOutcome} from '../messaging/send-wa-message.js'
import type {WaProvider} from '../messaging/providers.js'
import {claimNextJob, DEFAULT_RETRY_AFTER, deleteReservedJob, failJob, type QueuedJob, releaseJob, type RestartGuard, unixSeconds} from './database-queue.js'
import {decodePayload, MalformedJobError, SEND_WA_JOB, waMessageIdOf} from './payload.js'
import type {PhpObject} from '../php/serialize.js'
import {readRestartSignal} from './restart-signal.js'

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
  /** Jobs in flight at once in this process (1 = Laravel's one job at a time). */
  concurrency: number
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
  concurrency: 1,
}

export type JobEvent =
  | {type: 'processing'; job: QueuedJob; name: string}
  | {type: 'processed'; job: QueuedJob; name: string; ms: number; detail: string}
  | {type: 'released'; job: QueuedJob; name: string; ms: number; delay: number; detail: string}
  /** `timedOut`: the job overran --timeout; it is not failed but left reserved, claimed again after retry_after. */
  | {type: 'failed'; job: QueuedJob; name: string; ms: number; reason: string; timedOut?: boolean}
  /** The provider answered but the outcome could not be committed: the recording is tried again (never the send). */
  | {type: 'recording'; job: QueuedJob; name: string; retry: RecordRetry}

export type StopReason = 'empty' | 'once' | 'max_jobs' | 'max_time' | 'restart' | 'signal' | 'timeout'

/** What the WhatsApp send jobs did to their messages (a job can succeed while its message fails). */
export interface MessageTally {
  sent: number
  /** Transient errors: the message is queued again with a backoff. */
  retry_scheduled: number
  /** Permanent errors (or attempts used up): the message is `failed`; see failed_reasons. */
  failed: number
  /** Already sent, missing, or taken over by another worker. */
  skipped: number
  /**
   * Sent again after an attempt of a worker that died or was cut off between the provider's answer and
   * the commit: these may have gone out twice (marked on the message; `observe health` counts them).
   */
  possible_duplicates: number
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
  /** Aborted by SIGTERM / SIGINT: the jobs in hand finish, then the worker stops. */
  stop?: AbortSignal
  onEvent?: (event: JobEvent) => void
  providers?: ReadonlyMap<string, WaProvider>
}

export class JobTimeoutError extends Error {
  name = 'JobTimeoutError'
  jobName = '?'
}

interface HandlerContext {
  db: Database
  clock: Clock
  job: QueuedJob
  signal: AbortSignal
  providers?: ReadonlyMap<string, WaProvider>
  retryAfter: number
  /** The job reached its point of no return (the provider answered): --timeout no longer applies. */
  onAnswered: () => void
  onRecordRetry: (retry: RecordRetry) => void
  wake?: AbortSignal
}

/**
 * What a handler did: `done` (with `removed` when it deleted the job row in its own transaction), or
 * `release` (put the job back after `delay` seconds).
 */
type HandlerResult =
  | {kind: 'done'; detail: string; removed?: boolean; send?: SendOutcome}
  | {kind: 'release'; delay: number; detail: string; send?: SendOutcome; uncounted?: boolean}

interface JobHandler {
  run(ctx: HandlerContext, command: PhpObject): Promise<HandlerResult>
  /** What the job's own data needs when the job goes to failed_jobs, in the same transaction. */
  onFail?(trx: Executor, command: PhpObject, reason: string, now: Date, job: QueuedJob): Promise<void>
}

const duplicateNote = (outcome: {possibleDuplicate: boolean}) =>
  outcome.possibleDuplicate ? '; POSSIBLE DUPLICATE: a previous attempt was left in flight (its worker died, or ran past DB_QUEUE_RETRY_AFTER)' : ''

function describeSend(outcome: SendOutcome): HandlerResult {
  switch (outcome.status) {
    case 'sent':
      return {kind: 'done', removed: true, send: outcome, detail: `sent (attempt ${outcome.attempt}, ${outcome.providerMessageId})${duplicateNote(outcome)}`}
    case 'retry':
      return {
        kind: 'done',
        removed: true,
        send: outcome,
        detail: `${outcome.code}: retry in ${outcome.delaySeconds}s (attempt ${outcome.attempt})${duplicateNote(outcome)}`,
      }
    case 'failed':
      return {kind: 'done', removed: true, send: outcome, detail: `${outcome.code}: message failed (attempt ${outcome.attempt})${duplicateNote(outcome)}`}
    case 'superseded':
      return {
        kind: 'done',
        removed: true,
        send: outcome,
        detail: `sent (attempt ${outcome.attempt}), but another worker took the message over before the outcome was recorded`,
      }
    case 'skipped':
      // Another worker holds the message: come back shortly rather than wait or send twice.
      return outcome.reason === 'busy'
        ? {kind: 'release', delay: 5, send: outcome, detail: 'message busy in another worker', uncounted: true}
        : {kind: 'done', removed: true, send: outcome, detail: `skipped (${outcome.reason})`}
  }
}

/**
 * A send job that goes to failed_jobs fails its message too (UNKNOWN_ERROR, which `wa redrive` requeues by
 * default): a message must never stay `queued` without a job. An attempt still marked in flight stays on
 * the message, so the send that follows a redrive is marked as a possible duplicate.
 */
async function failMessageOfJob(trx: Executor, command: PhpObject, reason: string, now: Date, job: QueuedJob): Promise<void> {
  // Not while another job's attempt is in flight (a duplicate job failing beside the one sending): that
  // job records the outcome.
  const message = await trx('wa_messages')
    .where({id: waMessageIdOf(command)})
    .first<{metadata_json: unknown} | undefined>('metadata_json')
  const flight = message ? sendStateOf(readJsonObject(message.metadata_json)).in_flight : null
  if (flight && flight.job_id !== job.id) {
    const holder = await trx('jobs').where('id', flight.job_id).first<{reserved_at: number | string | null} | undefined>('reserved_at')
    if (holder && holder.reserved_at !== null && Number(holder.reserved_at) === flight.reserved_at) return
  }
  await trx('wa_messages')
    .where({id: waMessageIdOf(command), status: 'queued'})
    .update({
      status: 'failed',
      last_error_code: 'UNKNOWN_ERROR',
      last_error_message: `The send job failed in the queue worker: ${reason}`.slice(0, 2000),
      updated_at: toDbTimestamp(now),
    })
}

/** The job classes this worker can run, by Laravel class name. */
export const JOB_HANDLERS: ReadonlyMap<string, JobHandler> = new Map([
  [
    SEND_WA_JOB,
    {
      run: async (ctx: HandlerContext, command: PhpObject) => describeSend(await sendWaMessage(ctx, waMessageIdOf(command))),
      onFail: failMessageOfJob,
    },
  ],
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

/**
 * Runs `work` under a deadline of `seconds` (0 = none). `work` may disarm it (its point of no return):
 * then it runs to its end whatever the time.
 */
async function withTimeout<T>(seconds: number, work: (signal: AbortSignal, disarm: () => void) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  if (seconds <= 0) return work(controller.signal, () => {})
  let timer: NodeJS.Timeout | undefined
  let expire: (error: Error) => void = () => {}
  const expired = new Promise<never>((_, reject) => {
    expire = reject
  })
  timer = setTimeout(() => {
    controller.abort()
    expire(new JobTimeoutError(`job ran longer than --timeout ${seconds}s`))
  }, seconds * 1000)
  const disarm = () => {
    clearTimeout(timer)
    timer = undefined
  }
  try {
    return await Promise.race([work(controller.signal, disarm), expired])
  } finally {
    clearTimeout(timer)
  }
}

function exceptionText(error: unknown): string {
  const e = error as Error
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(error)}\n${e?.stack?.split('\n').slice(1).join('\n') ?? ''}\n(laundry-ops queue worker)`.trim()
}

/** A job that cannot be given back: its provider answered and the outcome could not be recorded. */
class AnsweredJobError extends Error {
  constructor(
    readonly job: QueuedJob,
    readonly original: unknown,
  ) {
    super((original as Error)?.message ?? String(original))
  }
}

/**
 * The database queue worker, with `php artisan queue:work` semantics: strict queue priority, sleep
 * when idle, tries/backoff for jobs that throw, and a graceful stop (after the jobs in hand) on a stop
 * signal, `queue:restart`, --max-jobs, --max-time, --stop-when-empty or --once. With `concurrency` N
 * it keeps up to N jobs in flight, each claimed, run and committed on its own.
 */
export async function runWorker(db: Database, options: WorkerOptions, deps: WorkerDeps = {}): Promise<WorkerResult> {
  const clock = deps.clock ?? systemClock
  const emit = deps.onEvent ?? (() => {})
  const startedAt = Date.now()
  const concurrency = Math.max(1, options.concurrency ?? 1)
  await requireTables(db, ['jobs', 'failed_jobs', 'cache'])
  const restartBaseline = await readRestartSignal(db.knex, options.cachePrefix)
  // Every claim checks the restart signal in its own statement: it takes no job once the signal's row
  // holds another value than this one.
  let restartGuard: RestartGuard = {key: restartBaseline.key, value: restartBaseline.value}
  const result: WorkerResult = {
    processed: 0,
    released: 0,
    failed: 0,
    messages: {sent: 0, retry_scheduled: 0, failed: 0, skipped: 0, possible_duplicates: 0, failed_reasons: {}},
    remaining: {ready: 0, delayed: 0, reserved: 0, next_delayed_at: null},
    stop_reason: 'signal',
    exit_code: 0,
  }

  let claimed = 0
  const stopReason = (): StopReason | null => {
    if (deps.stop?.aborted) return 'signal'
    if (options.maxTime > 0 && Date.now() - startedAt >= options.maxTime * 1000) return 'max_time'
    if (options.maxJobs > 0 && claimed >= options.maxJobs) return 'max_jobs'
    if (options.once && claimed > 0) return 'once'
    return null
  }
  /**
   * After a claim that took nothing: was it the restart signal? `restart` when its time changed; `rewritten`
   * when the row was written again with the time the worker started with (Laravel compares times, so that
   * is no restart: the guard takes the new value and the claim is tried again); `none` otherwise.
   */
  const restartCheck = async (): Promise<'restart' | 'rewritten' | 'none'> => {
    const signal = await readRestartSignal(db.knex, options.cachePrefix)
    if (signal.value === restartGuard.value) return 'none'
    if (signal.time !== restartBaseline.time) return 'restart'
    restartGuard = {key: signal.key, value: signal.value}
    return 'rewritten'
  }

  const sofar = () => `${result.processed} job(s) processed, ${result.released} released and ${result.failed} failed before it`
  const restart = 'restart the worker (a supervisor does) once the database answers'

  const inFlight = new Set<Promise<void>>()
  /**
   * The first fault and what was in hand: nothing more is claimed, the jobs in hand finish, then it is
   * reported with the counts of every job that ended.
   */
  let fault: {error: unknown; notDone: string} | null = null
  let reason: StopReason | null = null
  const anyDone = () => Promise.race(inFlight)

  const start = (job: QueuedJob) => {
    const running: Promise<void> = runOne(db, job, options, {...deps, clock, emit}, result)
      .catch((error: unknown) => {
        if (error instanceof JobTimeoutError) {
          // Like Laravel: the job stays reserved (and is reclaimed after retry_after); the worker exits 1.
          emit({type: 'failed', job, name: error.jobName, ms: options.timeout * 1000, reason: error.message, timedOut: true})
          result.exit_code = 1
          reason ??= 'timeout'
          return
        }
        if (fault !== null) return
        const answered = error instanceof AnsweredJobError
        fault = {
          error: answered ? error.original : error,
          notDone: answered
            ? `job #${job.id}'s message was accepted by the provider but its outcome could not be recorded: the job stays reserved and is claimed again after DB_QUEUE_RETRY_AFTER (${options.retryAfter} s), and its message, sent once more, is marked as a possible duplicate`
            : `job #${job.id} was not finished: it stays reserved and is claimed again after DB_QUEUE_RETRY_AFTER (${options.retryAfter} s)`,
        }
      })
      .finally(() => inFlight.delete(running))
    inFlight.add(running)
  }

  for (;;) {
    while (inFlight.size >= concurrency) await anyDone()
    if (fault !== null || reason !== null) break
    try {
      reason = stopReason()
      if (reason) break
      const job = await claimNextJob(db, options.queues, clock.now(), options.retryAfter, restartGuard)
      if (job) {
        claimed++
        start(job)
        if (options.rest > 0) {
          // --rest is a pause after each job: with one job at a time, after it ends.
          if (concurrency === 1) await anyDone()
          await sleep(options.rest, deps.stop)
        }
        continue
      }
      // Nothing claimed: the queues are empty, or `queue:restart` was signalled (the claim checks it).
      const check = await restartCheck()
      if (check === 'restart') {
        reason = 'restart'
        break
      }
      if (check === 'rewritten') continue
    } catch (error) {
      // A fault between jobs (the claim, the restart check): the jobs in hand still finish.
      fault = {error, notDone: `no job was in hand (a claim cut short is claimed again after DB_QUEUE_RETRY_AFTER (${options.retryAfter} s))`}
      break
    }
    // No job available now.
    if (options.stopWhenEmpty || options.once) {
      if (inFlight.size === 0) {
        reason = 'empty'
        break
      }
      // A job in hand may put a new one on the queue: look again once one ends.
      await anyDone()
      continue
    }
    await Promise.race([sleep(options.sleep, deps.stop), ...(inFlight.size > 0 ? [anyDone()] : [])])
  }
  await Promise.all(inFlight)
  if (fault !== null) {
    const {error, notDone} = fault
    throw interruptedBy(error, db.target, {done: sofar(), notDone, next: restart}) as Error
  }
  result.stop_reason = reason ?? 'signal'
  result.remaining = await remainder(db, options.queues, clock.now())
  return result
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
  if ('possibleDuplicate' in send && send.possibleDuplicate) m.possible_duplicates++
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
    case 'superseded':
      m.skipped++
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
  const fail = async (exception: string, reason: string) => {
    await failJob(db, job, exception, clock.now(), handler.onFail ? (trx) => handler.onFail!(trx, decoded.command, reason, clock.now(), job) : undefined)
    result.failed++
    emit({type: 'failed', job, name, ms: Date.now() - started, reason})
  }
  const maxTries = decoded.envelope.maxTries ?? options.tries
  if (maxTries > 0 && job.attempts > maxTries) {
    const reason = `${name} has been attempted too many times (${job.attempts - 1} of ${maxTries}).`
    await fail(`MaxAttemptsExceededException: ${reason}\n(laundry-ops queue worker)`, reason)
    return
  }
  emit({type: 'processing', job, name})
  let answered = false
  try {
    const outcome = await withTimeout(options.timeout, (signal, disarm) =>
      handler.run(
        {
          db,
          clock,
          job,
          signal,
          providers: deps.providers,
          retryAfter: options.retryAfter,
          onAnswered: () => {
            answered = true
            disarm()
          },
          onRecordRetry: (retry) => emit({type: 'recording', job, name, retry}),
          wake: deps.stop,
        },
        decoded.command,
      ),
    )
    if (outcome.kind === 'release') {
      // A bounce off a message another worker is sending does not use up one of the job's tries.
      const again = outcome.uncounted ? {...job, attempts: Math.max(0, job.attempts - 1)} : job
      await writeTransaction(db, (trx) => releaseJob(trx, again, outcome.delay, clock.now()))
      result.released++
      emit({type: 'released', job, name, ms: Date.now() - started, delay: outcome.delay, detail: outcome.detail})
      return
    }
    if (!outcome.removed) await deleteReservedJob(db.knex, job)
    result.processed++
    tally(result, outcome.send)
    emit({type: 'processed', job, name, ms: Date.now() - started, detail: outcome.detail})
  } catch (error) {
    if (error instanceof JobTimeoutError) {
      error.jobName = name
      throw error
    }
    // The provider answered: giving the job back (or failing it) would send the message again.
    if (answered) throw new AnsweredJobError(job, error)
    if (maxTries > 0 && job.attempts >= maxTries) {
      await fail(exceptionText(error), (error as Error).message)
      return
    }
    const delay = backoffFor(payloadBackoff(decoded.envelope.backoff) ?? options.backoff, job.attempts)
    // Delete and re-insert in one transaction: a fault between the two must not lose the job.
    await writeTransaction(db, (trx) => releaseJob(trx, job, delay, clock.now()))
    result.released++
    // A database fault reads as its plain one-line report, not the driver's text with the SQL in it.
    const detail = describeFault(error, db.target)?.message ?? (error as Error)?.message ?? String(error)
    emit({type: 'released', job, name, ms: Date.now() - started, delay, detail})
  }
}
