import {UsageError} from '../errors.js'
import {LIMITS} from '../limits.js'

/**
 * The pure input checks of `queue work --queue` and `--backoff` (no database, no configuration): the
 * flags parse with them, so a bad value is refused at start-up and in a schedule file; workerOptionsFrom
 * checks again for other callers.
 */

/** `--queue`: a comma-separated list of queue names, none empty. */
export function parseQueueList(raw: string): string[] {
  const queues = raw.split(',').map((q) => q.trim())
  if (raw.trim() === '' || queues.some((q) => q === '')) {
    throw new UsageError('USAGE', `--queue '${raw}' is invalid: expected a comma-separated list of queue names, e.g. messaging,default`)
  }
  return queues
}

/** `--backoff`: seconds, or a comma-separated list of seconds per retry, each within LIMITS.backoffSeconds. */
export function parseBackoff(raw: string): number[] {
  if (!/^\d+(\s*,\s*\d+)*$/.test(raw.trim())) {
    throw new UsageError('USAGE', `--backoff '${raw}' is invalid: expected seconds, or a comma-separated list such as 1,5,10`)
  }
  const backoff = raw.split(',').map((v) => Number(v.trim()))
  const tooLong = backoff.find((v) => v > LIMITS.backoffSeconds.max)
  if (tooLong !== undefined) {
    throw new UsageError('USAGE', `--backoff ${tooLong} is out of range: expected seconds from 0 to ${LIMITS.backoffSeconds.max} for each retry`)
  }
  return backoff
}
