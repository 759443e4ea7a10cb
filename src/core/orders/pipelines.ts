import {type ErrorCode} from '../errors.js'

/**
 * The status pipelines of upstream's OrderStatusTransitionValidator (reference §4.1): each pipeline moves
 * one step forward at a time; staying in the same status is allowed (a no-op that is still saved).
 */
export const LAUNDRY_STATUSES = ['received', 'washing', 'drying', 'ironing', 'ready', 'completed'] as const
export const COURIER_STATUSES = [
  'pickup_pending',
  'pickup_on_the_way',
  'picked_up',
  'at_outlet',
  'delivery_pending',
  'delivery_on_the_way',
  'delivered',
] as const

export type LaundryStatus = (typeof LAUNDRY_STATUSES)[number]
export type CourierStatus = (typeof COURIER_STATUSES)[number]

/** The laundry statuses that let the courier set `delivery_pending`. */
export const DELIVERY_READY_LAUNDRY: readonly string[] = ['ready', 'completed']

/** A refused transition: the reason code and upstream's message. */
export interface TransitionRefusal {
  ok: false
  code: Extract<ErrorCode, 'INVALID_TRANSITION' | 'STATUS_NOT_FORWARD'>
  message: string
}

export type TransitionVerdict = {ok: true} | TransitionRefusal

function validate(field: 'laundry_status' | 'courier_status', pipeline: readonly string[], current: string, next: string): TransitionVerdict {
  const from = pipeline.indexOf(current)
  const to = pipeline.indexOf(next)
  if (from < 0 || to < 0) return {ok: false, code: 'INVALID_TRANSITION', message: `Unknown ${field} transition.`}
  if (from === to) return {ok: true}
  if (to === from + 1) return {ok: true}
  if (to <= from) return {ok: false, code: 'STATUS_NOT_FORWARD', message: `Cannot move ${field} backward from ${current} to ${next}.`}
  return {ok: false, code: 'INVALID_TRANSITION', message: `Cannot move ${field} from ${current} to ${next}.`}
}

/** validateLaundry(current, next): same status or the single successor passes; backward is STATUS_NOT_FORWARD, a skip or an unknown status INVALID_TRANSITION. */
export function validateLaundryTransition(current: string, next: string): TransitionVerdict {
  return validate('laundry_status', LAUNDRY_STATUSES, current, next)
}

/** validateCourier(current, next), as validateLaundryTransition on the courier pipeline (a null current is the caller's `pickup_pending`). */
export function validateCourierTransition(current: string, next: string): TransitionVerdict {
  return validate('courier_status', COURIER_STATUSES, current, next)
}
