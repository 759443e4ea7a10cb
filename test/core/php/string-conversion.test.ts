import {expect} from 'chai'

import {phpFloatToString, phpNumberToString, phpStringCast} from '../../../src/core/php/string-conversion.js'

// Expected strings are PHP 8.2's own output for the same doubles.
describe('PHP string conversion', () => {
  it('prints floats as PHP 8 does with precision 14 (echo, interpolation)', () => {
    const cases: Array<[number, string]> = [
      [20, '20'],
      [22.22, '22.22'],
      [33.33, '33.33'],
      [0.1 + 0.2, '0.3'],
      [-2.5, '-2.5'],
      [0.0001, '0.0001'],
      [1 / 3, '0.33333333333333'],
      // Where PHP switches to exponent notation, which String(number) does not.
      [0.00001, '1.0E-5'],
      [0.000012345, '1.2345E-5'],
      [1e14, '1.0E+14'],
      [1e15, '1.0E+15'],
      // An exact tie goes to the even digit (String(number) would round it up) ...
      [123_456_789_012_345, '1.2345678901234E+14'],
      [2 ** -21, '4.7683715820312E-7'],
      [29_769_678_111_094.5, '29769678111094'],
      // ... and, below 1e15, keeps the zeros it rounded down to (zend_dtoa's integer fast path).
      [445_582_193_404_005, '4.4558219340400E+14'],
      [445_582_193_404_001, '4.45582193404E+14'],
      [1.5e20, '1.5E+20'],
      [-1e21, '-1.0E+21'],
      [-0, '-0'],
      [Number.NaN, 'NAN'],
      [Number.POSITIVE_INFINITY, 'INF'],
      [Number.NEGATIVE_INFINITY, '-INF'],
    ]
    for (const [value, expected] of cases) expect(phpFloatToString(value), String(value)).to.equal(expected)
  })

  it('prints a whole JSON number as the int json_decode makes of it, anything else as a float', () => {
    expect(phpNumberToString(1e15)).to.equal('1000000000000000')
    expect(phpNumberToString(2 ** 62)).to.equal('4611686018427387904')
    expect(phpNumberToString(-0)).to.equal('0')
    // Beyond PHP's int range json_decode gives a float.
    expect(phpNumberToString(2 ** 63)).to.equal('9.2233720368548E+18')
    expect(phpNumberToString(0.5)).to.equal('0.5')
  })

  it('casts scalars with (string): true is "1", false and null are ""', () => {
    expect([null, true, false, 0, 1.5, 0.1 + 0.2, 'x '].map((value) => phpStringCast(value))).to.deep.equal(['', '1', '', '0', '1.5', '0.3', 'x '])
  })
})
