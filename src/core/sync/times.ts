/** The `+00:00` ISO-8601 form upstream's controllers build by hand (toIso8601String, reference §0.3). */
import {toDbTimestamp} from '../clock.js'

/** A stored UTC wall-clock timestamp (`YYYY-MM-DD HH:MM:SS`) as `YYYY-MM-DDTHH:MM:SS+00:00`; null stays null. */
export function isoFromDb(stored: string | null | undefined): string | null {
  if (stored === null || stored === undefined) return null
  return `${String(stored).slice(0, 19).replace(' ', 'T')}+00:00`
}

/** An instant as `YYYY-MM-DDTHH:MM:SS+00:00`. */
export function isoUtc(instant: Date): string {
  return `${toDbTimestamp(instant).replace(' ', 'T')}+00:00`
}
