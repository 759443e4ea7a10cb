import {randomUUID} from 'node:crypto'

import {z} from 'zod'

import {isJsonObject} from '../php/loose-values.js'
import {type PhpObject, phpProperty, phpSerialize, phpUnserialize, type PhpValue} from '../php/serialize.js'

/** The Laravel job class that sends one WhatsApp message; its only payload is `waMessageId`. */
export const SEND_WA_JOB = 'App\\Jobs\\SendWaMessageJob'
export const CALL_QUEUED_HANDLER = 'Illuminate\\Queue\\CallQueuedHandler@call'
export const MESSAGING_QUEUE = 'messaging'

/** Laravel's queue payload envelope (Queue::createObjectPayload + delay), key order kept. */
export interface JobEnvelope {
  uuid: string
  displayName: string
  job: string
  maxTries: number | null
  maxExceptions: number | null
  failOnTimeout: boolean
  backoff: number | string | null
  timeout: number | null
  retryUntil: number | null
  data: {commandName: string; command: string; batchId: string | null}
  createdAt: number
  delay: number | null
}

export class MalformedJobError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'MalformedJobError'
  }
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0')

/** Carbon's serialize() of a UTC instant, as `->delay(now()->addSeconds(n))` leaves it in the job. */
function carbonObject(at: Date): PhpObject {
  const date = `${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())} ${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(
    at.getUTCSeconds(),
  )}.${pad(at.getUTCMilliseconds(), 3)}000`
  return {
    kind: 'object',
    className: 'Illuminate\\Support\\Carbon',
    properties: [
      ['date', date],
      ['timezone_type', 3],
      ['timezone', 'UTC'],
    ],
  }
}

/** PHP json_encode(..., JSON_UNESCAPED_UNICODE): compact, and `/` escaped as `\/`. */
export function phpJsonEncode(value: unknown): string {
  return JSON.stringify(value).replace(/\//g, '\\/')
}

/**
 * The payload Laravel writes for `SendWaMessageJob::dispatch($id)->onQueue('messaging')`, with
 * `->delay(now()->addSeconds(n))` when delayed: byte for byte the same envelope, so a Laravel worker
 * runs our jobs and ours runs Laravel's.
 */
export function sendWaJobPayload(options: {waMessageId: string; now: Date; delaySeconds?: number; uuid?: string}): string {
  const delay = options.delaySeconds && options.delaySeconds > 0 ? options.delaySeconds : null
  const properties: Array<[string, PhpValue]> = [
    ['waMessageId', options.waMessageId],
    ['queue', MESSAGING_QUEUE],
  ]
  if (delay !== null) properties.push(['delay', carbonObject(new Date(options.now.getTime() + delay * 1000))])
  const envelope: JobEnvelope = {
    uuid: options.uuid ?? randomUUID(),
    displayName: SEND_WA_JOB,
    job: CALL_QUEUED_HANDLER,
    maxTries: null,
    maxExceptions: null,
    failOnTimeout: false,
    backoff: null,
    timeout: null,
    retryUntil: null,
    data: {commandName: SEND_WA_JOB, command: phpSerialize({kind: 'object', className: SEND_WA_JOB, properties}), batchId: null},
    createdAt: Math.floor(options.now.getTime() / 1000),
    delay,
  }
  return phpJsonEncode(envelope)
}

/** A field the worker can do without: one of the wrong type reads as absent, so the default applies. */
const optionalField = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined)

/**
 * The envelope fields laundry-ops reads from a payload someone else may have written (a Laravel
 * worker, another version, a hand-edited row). The rest of the envelope is ignored.
 */
const receivedEnvelopeSchema = z.object({
  uuid: optionalField(z.string()),
  displayName: optionalField(z.string()),
  maxTries: optionalField(z.number().nullable()),
  backoff: optionalField(z.union([z.number(), z.string()]).nullable()),
  data: optionalField(z.object({commandName: optionalField(z.string()), command: optionalField(z.string())})),
})

export type ReceivedEnvelope = z.infer<typeof receivedEnvelopeSchema>

/** A payload's envelope as far as it can be read: null when the payload is not JSON, no fields when it is not an object. */
export function readEnvelope(payload: string): ReceivedEnvelope | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(payload)
  } catch {
    return null
  }
  return receivedEnvelopeSchema.parse(isJsonObject(parsed) ? parsed : {})
}

export interface DecodedJob {
  envelope: ReceivedEnvelope & {data: {commandName: string; command: string}}
  /** The unserialized `data.command` object. */
  command: PhpObject
}

/** Reads a `jobs.payload`; anything a worker cannot run raises MalformedJobError with the reason. */
export function decodePayload(payload: string): DecodedJob {
  let parsed: unknown
  try {
    parsed = JSON.parse(payload)
  } catch (error) {
    throw new MalformedJobError(`payload is not JSON (${(error as Error).message})`)
  }
  if (!isJsonObject(parsed)) throw new MalformedJobError('payload is not a JSON object')
  const envelope = receivedEnvelopeSchema.parse(parsed)
  const serialized = envelope.data?.command
  const commandName = envelope.data?.commandName
  if (serialized === undefined) throw new MalformedJobError('payload has no data.command string')
  if (commandName === undefined) throw new MalformedJobError('payload has no data.commandName string')
  let command: PhpValue
  try {
    command = phpUnserialize(serialized)
  } catch (error) {
    throw new MalformedJobError(`data.command is not PHP serialized data (${(error as Error).message})`)
  }
  if (!command || typeof command !== 'object' || Array.isArray(command) || command.kind !== 'object') {
    throw new MalformedJobError('data.command is not a serialized object')
  }
  if (command.className !== commandName) {
    throw new MalformedJobError(`data.command is a ${command.className}, but data.commandName says ${commandName}`)
  }
  return {envelope: {...envelope, data: {commandName, command: serialized}}, command}
}

/** The message id of a SendWaMessageJob command. */
export function waMessageIdOf(command: PhpObject): string {
  const id = phpProperty(command, 'waMessageId')
  if (typeof id !== 'string' || id.trim() === '') throw new MalformedJobError('SendWaMessageJob has no waMessageId')
  return id
}
