import {ReasonError, ValidationError} from '../errors.js'
import type {OrderPath} from './types.js'

/**
 * A refused status change. `current` is the status the order holds (raw: a null courier_status stays
 * null), which sync's rejection reports as `current_server_state`; the REST answer is `{reason_code,
 * message}` only.
 */
export class TransitionError extends ReasonError {
  constructor(
    code: 'INVALID_TRANSITION' | 'STATUS_NOT_FORWARD',
    message: string,
    readonly field: 'laundry_status' | 'courier_status',
    readonly current: string | null,
  ) {
    super(code, message)
    this.name = 'TransitionError'
  }
}

/** A field error on REST (Laravel's 422 `{message, errors}`), a VALIDATION_FAILED reason on sync. */
export function orderInputError(path: OrderPath, field: string, restMessage: string, syncMessage: string): Error {
  return path === 'rest' ? new ValidationError({[field]: [restMessage]}) : new ReasonError('VALIDATION_FAILED', syncMessage)
}

/** Is this a unique-index violation (PostgreSQL 23505, SQLite's UNIQUE constraint failed)? */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as {code?: string; message?: string}
  return e?.code === '23505' || /UNIQUE constraint failed/i.test(String(e?.message))
}

/** The text of a unique violation that names its index or columns (to tell order_code from invoice_no). */
export function violationText(error: unknown): string {
  const e = error as {constraint?: string; message?: string; detail?: string}
  return `${e?.constraint ?? ''} ${e?.message ?? ''} ${e?.detail ?? ''}`
}
