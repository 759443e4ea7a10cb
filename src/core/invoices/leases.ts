/**
 * The invoice lease service (reference §4.5): devices claim counter ranges per outlet and outlet-local
 * date, so that offline clients can number invoices `<OUTLET>-<yymmdd>-<NNNN>` without colliding; the
 * server validates a client's number against the device's leases, or assigns one from them.
 *
 * Upstream serialises claims with `SELECT MAX(to_counter) … FOR UPDATE`, which PostgreSQL refuses (an
 * aggregate cannot be locked). Here every claim and every assignment first takes a lock on the
 * (outlet, date) pair: a transaction-scoped advisory lock on PostgreSQL, and on SQLite the write
 * transaction itself (BEGIN IMMEDIATE: one writer at a time), so two claims never read the same maximum.
 */
import {randomUUID} from 'node:crypto'

import type {Clock} from '../clock.js'
import {toDbTimestamp} from '../clock.js'
import type {Database, Dialect} from '../db/connection.js'
import {type Executor, LOCKS, lockResource, writeTransaction} from '../db/transactions.js'
import {ReasonError} from '../errors.js'
import {addDays, invoiceDatePart, localDate} from './outlet-time.js'

/** The highest counter of an outlet and date: invoice numbers have four digits. */
export const MAX_INVOICE_COUNTER = 9999

/** The outlet a lease is for: its code makes the prefix, its timezone the business date. */
export interface LeaseOutlet {
  id: string
  tenant_id: string
  code: string
  timezone: string | null
}

export interface ClaimDay {
  /** `YYYY-MM-DD`, the outlet-local business date (as the client sends it). */
  date: string
  count: number
}

/** One claimed range, as POST /api/invoices/range/claim answers it (keys in upstream's order). */
export interface ClaimedRange {
  lease_id: string
  outlet_id: string
  date: string
  prefix: string
  from: number
  to: number
  expires_at: string
}

export interface InvoiceLeaseRow {
  lease_id: string
  tenant_id: string
  outlet_id: string
  device_id: string
  date: string
  prefix: string
  from_counter: number
  to_counter: number
  next_counter: number | null
  expires_at: string
  created_at: string | null
  updated_at: string | null
}

export const INVOICE_COUNTER_OVERFLOW_MESSAGE = 'Invoice counter exceeded 9999 for this outlet and date.'

/** `<OUTLETCODE>-<yymmdd>-`: everything of an invoice number up to its counter. */
export function invoicePrefix(outletCode: string, date: string): string {
  return `${outletCode.toUpperCase()}-${invoiceDatePart(date)}-`
}

/** The invoice number of a counter: the prefix and the counter padded to four digits. */
export function invoiceNumber(prefix: string, counter: number): string {
  return `${prefix}${String(counter).padStart(4, '0')}`
}

/**
 * The `date` column as each engine holds it: Laravel writes `YYYY-MM-DD 00:00:00` into SQLite's text
 * column (rows the Laravel application wrote must match too), PostgreSQL has a real date.
 */
function storedDate(dialect: Dialect, date: string): string {
  return dialect === 'sqlite' ? `${date} 00:00:00` : date
}

function leaseDateValues(dialect: Dialect, date: string): string[] {
  return dialect === 'sqlite' ? [date, `${date} 00:00:00`] : [date]
}

/** Takes the (outlet, date) lease lock; callers run inside a write transaction. */
export function lockLeaseDay(conn: Executor, dialect: Dialect, outletId: string, date: string): Promise<void> {
  return lockResource(conn, dialect, LOCKS.invoiceLease, `invoice-lease:${outletId}:${date}`)
}

/**
 * Claims a range per requested day for `deviceId` at `outlet`, in one transaction: the range starts after
 * the highest counter any device holds for that outlet and date, and is cut at 9999 without an error; a
 * day whose counter is already at 9999 refuses the whole claim (INVOICE_COUNTER_OVERFLOW, nothing stored).
 * `expires_at` is the date plus two days at 23:59:59 on the outlet's clock, stored as that wall-clock text
 * and echoed with `+00:00`, as upstream does (§0.3); it is informational, never checked.
 */
export async function claimInvoiceRanges(
  db: Database,
  input: {outlet: LeaseOutlet; deviceId: string; days: readonly ClaimDay[]},
  clock: Clock,
): Promise<ClaimedRange[]> {
  const {outlet, deviceId, days} = input
  return writeTransaction(db, async (trx) => {
    // One lock per distinct date, taken in date order so that two multi-day claims cannot deadlock.
    for (const date of [...new Set(days.map((day) => day.date))].sort()) await lockLeaseDay(trx, db.dialect, outlet.id, date)
    const now = toDbTimestamp(clock.now())
    const ranges: ClaimedRange[] = []
    for (const day of days) {
      const count = Math.max(1, Math.trunc(day.count))
      const top = await trx('invoice_leases')
        .where({tenant_id: outlet.tenant_id, outlet_id: outlet.id})
        .whereIn('date', leaseDateValues(db.dialect, day.date))
        .max<{max_to: number | string | null}>('to_counter as max_to')
        .first()
      const from = Number(top?.max_to ?? 0) + 1
      if (from > MAX_INVOICE_COUNTER) throw new ReasonError('INVOICE_COUNTER_OVERFLOW', INVOICE_COUNTER_OVERFLOW_MESSAGE)
      const to = Math.min(from + count - 1, MAX_INVOICE_COUNTER)
      const prefix = invoicePrefix(outlet.code, day.date)
      const expires = `${addDays(day.date, 2)} 23:59:59`
      const leaseId = randomUUID()
      await trx('invoice_leases').insert({
        lease_id: leaseId,
        tenant_id: outlet.tenant_id,
        outlet_id: outlet.id,
        device_id: deviceId,
        date: storedDate(db.dialect, day.date),
        prefix,
        from_counter: from,
        to_counter: to,
        next_counter: from,
        expires_at: expires,
        created_at: now,
        updated_at: now,
      })
      ranges.push({lease_id: leaseId, outlet_id: outlet.id, date: day.date, prefix, from, to, expires_at: `${expires.replace(' ', 'T')}+00:00`})
    }
    return ranges
  })
}

const INVOICE_PATTERN = /^([A-Z0-9]{2,8})-(\d{6})-(\d{4})$/

/** An invoice number's parts (case-insensitive: the number is upper-cased first), or null when it does not parse. */
export function parseInvoiceNumber(invoiceNo: string): {outletCode: string; datePart: string; counter: number} | null {
  const match = INVOICE_PATTERN.exec(invoiceNo.toUpperCase())
  return match ? {outletCode: match[1], datePart: match[2], counter: Number(match[3])} : null
}

export interface DeviceInvoiceInput {
  outlet: LeaseOutlet
  deviceId: string
  /** The order's time; its date on the outlet's clock is the invoice date. */
  orderTime: Date
}

function refuse(message: string): ReasonError {
  return new ReasonError('INVOICE_RANGE_INVALID', message)
}

/**
 * Checks a client's invoice number for a sync ORDER_CREATE, in upstream's order, each failure
 * INVOICE_RANGE_INVALID: it parses; its outlet code is the outlet's; its date is the order's date on the
 * outlet's clock; a lease of this device for that outlet and date covers its counter (expired leases
 * count); no order of the outlet has this exact number. Returns the number as the client wrote it (not
 * upper-cased); the lease's next_counter does not move.
 */
export async function validateClientInvoice(conn: Executor, dialect: Dialect, input: DeviceInvoiceInput & {invoiceNo: string}): Promise<string> {
  const {outlet, deviceId, orderTime, invoiceNo} = input
  const parsed = parseInvoiceNumber(invoiceNo)
  if (!parsed) throw refuse('Invalid invoice format.')
  if (parsed.outletCode !== outlet.code.toUpperCase()) throw refuse('Invoice outlet code does not match outlet.')
  const date = localDate(orderTime, outlet.timezone)
  if (parsed.datePart !== invoiceDatePart(date)) throw refuse('Invoice date does not match order date.')
  const lease: {lease_id: string} | undefined = await conn('invoice_leases')
    .where({tenant_id: outlet.tenant_id, outlet_id: outlet.id, device_id: deviceId})
    .whereIn('date', leaseDateValues(dialect, date))
    .where('from_counter', '<=', parsed.counter)
    .where('to_counter', '>=', parsed.counter)
    .first('lease_id')
  if (!lease) throw refuse('Invoice number is outside the claimed lease range.')
  const used: {id: string} | undefined = await conn('orders').where({outlet_id: outlet.id, invoice_no: invoiceNo}).first('id')
  if (used) throw refuse('Invoice number has been used.')
  return invoiceNo
}

/**
 * Assigns the next free number from this device's earliest-created lease for the outlet and the order's
 * outlet-local date that still has counters left (locked), skipping numbers an order of the outlet already
 * holds, and advances its next_counter. Null (the invoice stays pending) when the device has no such
 * lease, or when that lease runs out during the walk (next_counter then passes to_counter; a second lease
 * is not tried in the same call, as upstream).
 */
export async function assignInvoiceFromLease(conn: Executor, dialect: Dialect, input: DeviceInvoiceInput, clock: Clock): Promise<string | null> {
  const {outlet, deviceId, orderTime} = input
  const date = localDate(orderTime, outlet.timezone)
  await lockLeaseDay(conn, dialect, outlet.id, date)
  const query = conn<InvoiceLeaseRow>('invoice_leases')
    .where({tenant_id: outlet.tenant_id, outlet_id: outlet.id, device_id: deviceId})
    .whereIn('date', leaseDateValues(dialect, date))
    .where('next_counter', '<=', conn.ref('to_counter'))
    .orderBy('created_at')
    .orderBy('from_counter')
    .first()
  const lease = dialect === 'pg' ? await query.forUpdate() : await query
  if (!lease) return null
  const next = Number(lease.next_counter)
  const to = Number(lease.to_counter)
  const used = new Set(
    (await conn('orders').where({outlet_id: outlet.id}).where('invoice_no', 'like', `${lease.prefix}%`).select<Array<{invoice_no: string}>>('invoice_no')).map(
      (row) => row.invoice_no,
    ),
  )
  const now = toDbTimestamp(clock.now())
  for (let counter = next; counter <= to; counter++) {
    const candidate = invoiceNumber(lease.prefix, counter)
    if (used.has(candidate)) continue
    await conn('invoice_leases')
      .where({lease_id: lease.lease_id})
      .update({next_counter: counter + 1, updated_at: now})
    return candidate
  }
  await conn('invoice_leases')
    .where({lease_id: lease.lease_id})
    .update({next_counter: to + 1, updated_at: now})
  return null
}
