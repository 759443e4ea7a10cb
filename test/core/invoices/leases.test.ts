/**
 * The invoice lease service (reference §4.5) on both engines: claims (counters per outlet and date across
 * devices, the 9999 cut and overflow), the client invoice checks in upstream's order, and assignment from
 * the device's earliest lease with used numbers skipped; plus the outlet-local date helpers.
 */
import {expect} from 'chai'

import {fixedClock} from '../../../src/core/clock.js'
import type {Database} from '../../../src/core/db/connection.js'
import {writeTransaction} from '../../../src/core/db/transactions.js'
import {uuid7} from '../../../src/core/domain/ids.js'
import {isOpsError} from '../../../src/core/errors.js'
import {
  assignInvoiceFromLease,
  claimInvoiceRanges,
  type InvoiceLeaseRow,
  type LeaseOutlet,
  parseInvoiceNumber,
  validateClientInvoice,
} from '../../../src/core/invoices/leases.js'
import {addDays, isCalendarDate, localDate} from '../../../src/core/invoices/outlet-time.js'
import {tenantFixture} from '../../helpers/api.js'
import {describeEachEngine} from '../../helpers/engines.js'

const clock = fixedClock('2026-03-01T10:00:00Z')
const DEVICE = '11111111-1111-1111-1111-111111111111'
const OTHER_DEVICE = '22222222-2222-2222-2222-222222222222'

describe('invoice dates and numbers', () => {
  it("localDate is the outlet's calendar date (Asia/Jakarta is UTC+7; a missing zone is Jakarta)", () => {
    expect(localDate(new Date('2026-03-01T16:59:59Z'), 'Asia/Jakarta')).to.equal('2026-03-01')
    expect(localDate(new Date('2026-03-01T17:00:00Z'), 'Asia/Jakarta')).to.equal('2026-03-02')
    expect(localDate(new Date('2026-03-01T17:00:00Z'), null)).to.equal('2026-03-02')
    expect(localDate(new Date('2026-03-01T17:00:00Z'), 'UTC')).to.equal('2026-03-01')
  })
  it('isCalendarDate takes only real dates written YYYY-MM-DD; addDays crosses months and leap days', () => {
    expect(isCalendarDate('2026-02-28')).to.equal(true)
    expect(isCalendarDate('2028-02-29')).to.equal(true)
    for (const bad of ['2026-02-29', '2026-13-01', '2026-1-01', '26-01-01', '2026-01-01 00:00:00', '']) expect(isCalendarDate(bad), bad).to.equal(false)
    expect(addDays('2026-02-27', 2)).to.equal('2026-03-01')
    expect(addDays('2028-02-28', 1)).to.equal('2028-02-29')
    expect(addDays('2026-12-31', 2)).to.equal('2027-01-02')
  })
  it('parseInvoiceNumber: 2-8 letters or digits, 6 digits, 4 digits, case-insensitive', () => {
    expect(parseInvoiceNumber('bl-260215-0042')).to.deep.equal({outletCode: 'BL', datePart: '260215', counter: 42})
    for (const bad of ['B-260215-0042', 'ABCDEFGHI-260215-0042', 'BL-26021-0042', 'BL-260215-042', 'BL_260215_0042', 'BL-260215-0042 ']) {
      expect(parseInvoiceNumber(bad), bad).to.equal(null)
    }
  })
})

describeEachEngine('invoice lease service', {from: 'seeded'}, (ctx) => {
  let db: Database
  let outlet: LeaseOutlet
  let tenant: string
  let customer: string

  before(async () => {
    db = await ctx.scratch.open()
    const fx = await tenantFixture(db, clock)
    tenant = fx.tenant
    outlet = {id: fx.outlet, tenant_id: fx.tenant, code: fx.outletCode.toLowerCase(), timezone: 'Asia/Jakarta'}
    for (const id of [DEVICE, OTHER_DEVICE]) await db.knex('devices').insert({id, tenant_id: tenant, user_id: fx.users.cashier.id})
    customer = uuid7()
    await db.knex('customers').insert({id: customer, tenant_id: tenant, name: 'C', phone_normalized: '6281200000000'})
  })

  const order = (invoiceNo: string) =>
    db
      .knex('orders')
      .insert({id: uuid7(), tenant_id: tenant, outlet_id: outlet.id, customer_id: customer, order_code: `ORD-${uuid7().slice(-8)}`, invoice_no: invoiceNo})
  const refusal = async (work: Promise<unknown>): Promise<string> => {
    try {
      await work
    } catch (error) {
      if (isOpsError(error)) return `${error.code}: ${error.message}`
      throw error
    }
    throw new Error('expected a refusal')
  }
  const lease = (id: string) => db.knex<InvoiceLeaseRow>('invoice_leases').where({lease_id: id}).first()

  it('claims continue after the highest counter of the outlet and date across devices; the prefix upper-cases the outlet code; past 9999 is cut, then refused', async () => {
    const [a] = await claimInvoiceRanges(db, {outlet, deviceId: DEVICE, days: [{date: '2026-03-10', count: 0}]}, clock)
    expect(a).to.deep.include({from: 1, to: 1, prefix: `${outlet.code.toUpperCase()}-260310-`, expires_at: '2026-03-12T23:59:59+00:00'})
    const [b] = await claimInvoiceRanges(db, {outlet, deviceId: OTHER_DEVICE, days: [{date: '2026-03-10', count: 9997}]}, clock)
    expect(b).to.deep.include({from: 2, to: 9998})
    const [c] = await claimInvoiceRanges(db, {outlet, deviceId: DEVICE, days: [{date: '2026-03-10', count: 5}]}, clock)
    expect(c).to.deep.include({from: 9999, to: 9999})
    expect(await refusal(claimInvoiceRanges(db, {outlet, deviceId: DEVICE, days: [{date: '2026-03-10', count: 1}]}, clock))).to.equal(
      'INVOICE_COUNTER_OVERFLOW: Invoice counter exceeded 9999 for this outlet and date.',
    )
  })

  it('validateClientInvoice refuses, in order: the format, the outlet code, the date, the lease range (of this device), a used number; returns the number as written', async () => {
    // 2026-03-20T18:00Z is 2026-03-21 in Jakarta: the invoice date is the outlet's.
    const orderTime = new Date('2026-03-20T18:00:00Z')
    await claimInvoiceRanges(db, {outlet, deviceId: DEVICE, days: [{date: '2026-03-21', count: 3}]}, clock)
    await claimInvoiceRanges(db, {outlet, deviceId: OTHER_DEVICE, days: [{date: '2026-03-21', count: 3}]}, clock)
    const code = outlet.code.toUpperCase()
    const check = (invoiceNo: string, deviceId = DEVICE) =>
      writeTransaction(db, (trx) => validateClientInvoice(trx, db.dialect, {outlet, deviceId, orderTime, invoiceNo}))
    expect(await refusal(check('nonsense'))).to.equal('INVOICE_RANGE_INVALID: Invalid invoice format.')
    expect(await refusal(check('ZZ-260321-0001'))).to.equal('INVOICE_RANGE_INVALID: Invoice outlet code does not match outlet.')
    expect(await refusal(check(`${code}-260320-0001`))).to.equal('INVOICE_RANGE_INVALID: Invoice date does not match order date.')
    expect(await refusal(check(`${code}-260321-0004`))).to.equal('INVOICE_RANGE_INVALID: Invoice number is outside the claimed lease range.')
    // 0004 is the other device's lease: not this device's.
    expect(await check(`${code}-260321-0004`, OTHER_DEVICE)).to.equal(`${code}-260321-0004`)
    const lower = `${code.toLowerCase()}-260321-0002`
    expect(await check(lower)).to.equal(lower)
    await order(`${code}-260321-0003`)
    expect(await refusal(check(`${code}-260321-0003`))).to.equal('INVOICE_RANGE_INVALID: Invoice number has been used.')
  })

  it("assignInvoiceFromLease takes the device's earliest lease of the order's outlet-local date, skips used numbers, and returns null once that lease is used up", async () => {
    const orderTime = new Date('2026-04-01T03:00:00Z')
    const assign = (deviceId = DEVICE) => writeTransaction(db, (trx) => assignInvoiceFromLease(trx, db.dialect, {outlet, deviceId, orderTime}, clock))
    expect(await assign()).to.equal(null) // no lease yet
    const [first] = await claimInvoiceRanges(db, {outlet, deviceId: DEVICE, days: [{date: '2026-04-01', count: 3}]}, fixedClock('2026-03-01T10:00:00Z'))
    const [second] = await claimInvoiceRanges(db, {outlet, deviceId: DEVICE, days: [{date: '2026-04-01', count: 2}]}, fixedClock('2026-03-01T10:00:05Z'))
    const prefix = first.prefix
    expect(await assign()).to.equal(`${prefix}0001`)
    expect((await lease(first.lease_id))?.next_counter).to.equal(2)
    await order(`${prefix}0002`)
    expect(await assign()).to.equal(`${prefix}0003`)
    expect(Number((await lease(first.lease_id))?.next_counter)).to.equal(4)
    // The first lease is used up: the next call takes the second one.
    expect(await assign()).to.equal(`${prefix}0004`)
    // Another device has no lease for the day.
    expect(await assign(OTHER_DEVICE)).to.equal(null)
    // The rest of the second lease is taken by orders: the walk ends the lease (next_counter past to) and returns null.
    await order(`${prefix}0005`)
    expect(await assign()).to.equal(null)
    expect(Number((await lease(second.lease_id))?.next_counter)).to.equal(6)
    expect(await assign()).to.equal(null)
  })
})
