/** Order money (reference §4.2): the upstream worked examples, PHP rounding, clamping, and the decimal:2 cast. */
import {expect} from 'chai'

import {decimal2, dueAmount, lineSubtotal, orderTotal, storedDecimal, unitPrice} from '../../../src/core/orders/totals.js'

describe('order totals', () => {
  it('reproduces the worked examples of the upstream tests', () => {
    expect(orderTotal([lineSubtotal(5.2, 9000)], 10000, 2000)).to.equal(54800)
    expect(orderTotal([lineSubtotal(3, 9000)], 10000, 1000)).to.equal(36000)
    expect(orderTotal([lineSubtotal(3.5, 8500)], 0, 0)).to.equal(29750)
    expect(orderTotal([lineSubtotal(2, 9500)], 0, 0)).to.equal(19000)
    expect(orderTotal([lineSubtotal(3.5, 11000)], 10000, 0)).to.equal(48500)
  })

  it('rounds a line half away from zero as PHP round() does, including float noise at the half', () => {
    expect(lineSubtotal(0.5, 1)).to.equal(1)
    expect(lineSubtotal(1.5, 1)).to.equal(2)
    expect(lineSubtotal(2.5, 1)).to.equal(3)
    // 1.005 × 1000 is 1004.9999999999999 in binary floating point; PHP pre-rounds and gets 1005.
    expect(lineSubtotal(1.005, 1000)).to.equal(1005)
    expect(lineSubtotal(0.33, 1000)).to.equal(330)
  })

  it('sums several lines and clamps the total at 0 when the discount is larger', () => {
    expect(orderTotal([1000, 2500, 333], 0, 0)).to.equal(3833)
    expect(orderTotal([1000], 500, 5000)).to.equal(0)
    expect(orderTotal([], 0, 0)).to.equal(0)
  })

  it('clamps due at 0 on overpayment', () => {
    expect(dueAmount(36000, 30000)).to.equal(6000)
    expect(dueAmount(36000, 36000)).to.equal(0)
    expect(dueAmount(36000, 50000)).to.equal(0)
  })

  it('takes the active override when it is set, else the base price', () => {
    expect(unitPrice(8000, 9000)).to.equal(9000)
    expect(unitPrice(8000, null)).to.equal(8000)
    expect(unitPrice(8000, undefined)).to.equal(8000)
    expect(unitPrice(8000, 0)).to.equal(0)
  })

  it('casts qty and weight_kg as decimal:2 strings from numbers and from PostgreSQL numeric text', () => {
    expect(decimal2(5.2)).to.equal('5.20')
    expect(decimal2('5.20')).to.equal('5.20')
    expect(decimal2('3')).to.equal('3.00')
    expect(decimal2(3)).to.equal('3.00')
    expect(decimal2(null)).to.equal(null)
    expect(decimal2(undefined)).to.equal(null)
    expect(storedDecimal(3.335)).to.equal(3.34)
    expect(storedDecimal(null)).to.equal(null)
  })
})
