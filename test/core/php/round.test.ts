import {expect} from 'chai'

import {phpRound} from '../../../src/core/php/round.js'
import {phpFloatToString} from '../../../src/core/php/string-conversion.js'

describe("PHP's round()", () => {
  it('pre-rounds as PHP 8.2 does: decimals stored a hair below the half still round up (outputs of php 8.2 -r)', () => {
    const cases: Array<[number, number, string]> = [
      [1.005, 2, '1.01'],
      [(201 / 20_000) * 100, 2, '1.01'], // the WA failure ratio of 201 failed of 20,000 messages
      [100.5, 0, '101'],
      [-2.5, 0, '-3'],
      [2.675, 2, '2.68'],
      [1.955, 2, '1.96'],
      [5.045, 2, '5.05'],
      [0.285, 2, '0.29'],
      [66.665, 2, '66.67'],
      [33.333333333, 2, '33.33'],
    ]
    for (const [value, places, php] of cases) expect(phpFloatToString(phpRound(value, places)), `round(${value}, ${places})`).to.equal(php)
    // Math.round(x * 100) / 100, used before, printed 1 for the ratio above.
    expect(Math.round((201 / 20_000) * 100 * 100) / 100).to.equal(1)
  })
})
