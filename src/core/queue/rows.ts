/**
 * Rows of Laravel's queue and cache tables as either driver returns them (bigint ids and unix-second
 * integers are numbers on both; failed_at is `YYYY-MM-DD HH:MM:SS` text).
 */

export interface JobRow {
  id: number
  queue: string
  payload: string
  attempts: number
  reserved_at: number | null
  available_at: number
  created_at: number
}

export interface FailedJobRow {
  id: number
  uuid: string
  connection: string
  queue: string
  payload: string
  exception: string
  failed_at: string
}

/** Laravel's database cache store: `value` is PHP-serialized, `expiration` a unix time. */
export interface CacheRow {
  key: string
  value: string
  expiration: number
}
