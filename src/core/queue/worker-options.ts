import {UsageError} from '../errors.js'
import {assertWithin, LIMITS} from '../limits.js'
import {DEFAULT_WORKER_OPTIONS, type WorkerOptions} from './worker.js'

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
}

/** Validates `queue work` input before anything runs; each refusal says what was expected (exit 2). */
export function workerOptionsFrom(raw: RawWorkerOptions, config: {queueRetryAfter: number; cachePrefix: string}): WorkerOptions {
  const queues = raw.queue.split(',').map((q) => q.trim())
  if (raw.queue.trim() === '' || queues.some((q) => q === '')) {
    throw new UsageError('USAGE', `--queue '${raw.queue}' is invalid: expected a comma-separated list of queue names, e.g. messaging,default`)
  }
  if (!/^\d+(\s*,\s*\d+)*$/.test(raw.backoff.trim())) {
    throw new UsageError('USAGE', `--backoff '${raw.backoff}' is invalid: expected seconds, or a comma-separated list such as 1,5,10`)
  }
  const backoff = raw.backoff.split(',').map((v) => Number(v.trim()))
  const tooLong = backoff.find((v) => v > LIMITS.backoffSeconds.max)
  if (tooLong !== undefined) {
    throw new UsageError('USAGE', `--backoff ${tooLong} is out of range: expected seconds from 0 to ${LIMITS.backoffSeconds.max} for each retry`)
  }
  assertWithin('--sleep', raw.sleep, LIMITS.sleepSeconds, false)
  assertWithin('--rest', raw.rest, LIMITS.sleepSeconds, false)
  assertWithin('--tries', raw.tries, LIMITS.tries)
  assertWithin('--max-jobs', raw.maxJobs, LIMITS.jobs)
  assertWithin('--max-time', raw.maxTime, LIMITS.runSeconds)
  assertWithin('--timeout', raw.timeout, LIMITS.jobTimeoutSeconds)
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
    retryAfter: config.queueRetryAfter,
    cachePrefix: config.cachePrefix,
  }
}
