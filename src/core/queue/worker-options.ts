import {UsageError} from '../errors.js'
import {assertWithin, LIMITS} from '../limits.js'
import {DEFAULT_WORKER_OPTIONS, type WorkerOptions} from './worker.js'
import {parseBackoff, parseQueueList} from './worker-input.js'

export interface RawWorkerOptions {
  queue: string
  sleep: number
  tries: number
  backoff: string
  maxJobs: number
  maxTime: number
  stopWhenEmpty: boolean
  once: boolean
  timeout: number
  rest: number
  concurrency: number
}

/** Validates `queue work` input before anything runs; each refusal says what was expected (exit 2). */
export function workerOptionsFrom(raw: RawWorkerOptions, config: {queueRetryAfter: number; cachePrefix: string}): WorkerOptions {
  const queues = parseQueueList(raw.queue)
  const backoff = parseBackoff(raw.backoff)
  assertWithin('--sleep', raw.sleep, LIMITS.sleepSeconds, false)
  assertWithin('--rest', raw.rest, LIMITS.sleepSeconds, false)
  assertWithin('--tries', raw.tries, LIMITS.tries)
  assertWithin('--max-jobs', raw.maxJobs, LIMITS.jobs)
  assertWithin('--max-time', raw.maxTime, LIMITS.runSeconds)
  assertWithin('--timeout', raw.timeout, LIMITS.jobTimeoutSeconds)
  assertWithin('--concurrency', raw.concurrency, LIMITS.concurrency)
  if (raw.timeout > 0 && raw.timeout >= config.queueRetryAfter) {
    throw new UsageError(
      'USAGE',
      `--timeout ${raw.timeout} must be below DB_QUEUE_RETRY_AFTER (${config.queueRetryAfter} s), or a job that overruns could be claimed and run twice`,
    )
  }
  return {
    ...DEFAULT_WORKER_OPTIONS,
    queues,
    sleep: raw.sleep,
    tries: raw.tries,
    backoff,
    maxJobs: raw.maxJobs,
    maxTime: raw.maxTime,
    stopWhenEmpty: raw.stopWhenEmpty,
    once: raw.once,
    timeout: raw.timeout,
    rest: raw.rest,
    concurrency: raw.concurrency,
    retryAfter: config.queueRetryAfter,
    cachePrefix: config.cachePrefix,
  }
}
