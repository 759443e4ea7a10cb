import type {Clock} from '../clock.js'
import type {Database} from '../db/connection.js'
import {enqueueOrderEvent, type EnqueueOutcome} from '../messaging/dispatch.js'
import type {TemplateId} from '../messaging/template-catalog.js'
import type {OrderEffects, OrderPath, SourceChannel, WaOrderEvent} from './types.js'

/** The WA `event` names the controllers put in metadata, by template. */
const EVENT_OF: Partial<Record<TemplateId, string>> = {
  WA_PICKUP_CONFIRM: 'order_created',
  WA_PICKUP_OTW: 'courier_pickup_otw',
  WA_LAUNDRY_READY: 'laundry_ready',
  WA_DELIVERY_OTW: 'courier_delivery_otw',
}

/** One WA event as the REST controller (`source: api`) or the sync handler (`source: sync`) enqueues it. */
export function waEvent(
  orderId: string,
  templateId: TemplateId,
  actorId: number,
  path: OrderPath,
  sourceChannel: SourceChannel,
  event = EVENT_OF[templateId] ?? 'order_done',
): WaOrderEvent {
  return {orderId, templateId, metadata: {event, source: path === 'rest' ? 'api' : 'sync', actor_user_id: actorId, source_channel: sourceChannel}}
}

/**
 * Runs a mutation's after-commit effects: each WA event through `enqueueOrderEvent` (its own transaction;
 * the message stays `queued` on the `messaging` queue until a worker sends it). As upstream, a failure to
 * enqueue never undoes or fails the order operation: it is reported in the outcomes, not thrown.
 */
export async function runOrderEffects(db: Database, effects: OrderEffects, ctx: {clock: Clock; brandName: string}): Promise<EnqueueOutcome[]> {
  const outcomes: EnqueueOutcome[] = []
  for (const event of effects.wa) {
    try {
      outcomes.push(await enqueueOrderEvent(db, event.orderId, event.templateId, {}, event.metadata, {clock: ctx.clock, brandName: ctx.brandName}))
    } catch (error) {
      outcomes.push({status: 'skipped', reason: 'dispatch_failed', detail: (error as Error).message})
    }
  }
  return outcomes
}
