import {z} from 'zod'

import {ValidationError} from '../../core/errors.js'
import type {SyncMutationType, SyncPayloadValidator, SyncPayloads} from '../../core/sync/order-handlers.js'
import {laravelRequiredObject, laravelString, laravelUuid} from '../laravel-rules.js'
import {validateInput, validationBody} from '../plugins/validation.js'
import {assignBody, createBody, paymentBody, statusBody} from './orders.js'

/**
 * The payload rules of sync's order mutations (reference §3.6): ORDER_CREATE is POST /api/orders' body with
 * a nullable outlet_id and a customer.client_id; the others are their REST bodies with a nullable order_id
 * first. A failure rejects the mutation with VALIDATION_FAILED and the first message.
 */
const orderId = {order_id: laravelUuid().nullish()}

export const SYNC_PAYLOAD_SCHEMAS = {
  ORDER_CREATE: z.object({
    ...createBody.shape,
    outlet_id: laravelUuid().nullish(),
    customer: laravelRequiredObject({
      name: laravelString(150),
      phone: laravelString(30),
      notes: laravelString().nullish(),
      client_id: laravelString(80).nullish(),
    }),
  }),
  ORDER_ADD_PAYMENT: z.object({...orderId, ...paymentBody.shape}),
  ORDER_UPDATE_LAUNDRY_STATUS: z.object({...orderId, ...statusBody.shape}),
  ORDER_UPDATE_COURIER_STATUS: z.object({...orderId, ...statusBody.shape}),
  ORDER_ASSIGN_COURIER: z.object({...orderId, ...assignBody.shape}),
} satisfies Record<SyncMutationType, z.ZodType>

// The schemas must give what the handlers take.
type Checked = {[T in SyncMutationType]: z.output<(typeof SYNC_PAYLOAD_SCHEMAS)[T]> extends SyncPayloads[T] ? true : never}
const checked: Checked = {
  ORDER_CREATE: true,
  ORDER_ADD_PAYMENT: true,
  ORDER_UPDATE_LAUNDRY_STATUS: true,
  ORDER_UPDATE_COURIER_STATUS: true,
  ORDER_ASSIGN_COURIER: true,
}
void checked

/** Validates a payload with Laravel's messages; a failure is a ValidationError (the push handler's VALIDATION_FAILED). */
export const validateSyncPayload: SyncPayloadValidator = (type, payload) => {
  const outcome = validateInput(SYNC_PAYLOAD_SCHEMAS[type], payload)
  if ('error' in outcome) throw new ValidationError(validationBody(outcome.error.fields).errors)
  return outcome.value as SyncPayloads[typeof type]
}
