/**
 * The numeric rules against PHP's and Laravel's behaviour (reference §0.4): FILTER_VALIDATE_INT for
 * `integer`, is_numeric for `numeric`, Validator::getSize for min/max (the numeric value, else the count or
 * the text's length), every failing rule reported, a failed `required` stopping the field.
 */
import {expect} from 'chai'
import {z} from 'zod'

import {laravelInteger, laravelNumeric, phpIsNumeric, phpValidateInt} from '../../src/api/laravel-rules.js'
import {validateInput} from '../../src/api/plugins/validation.js'

const INT = 'The n field must be an integer.'
const NUM = 'The n field must be a number.'
const REQUIRED = 'The n field is required.'
const atLeast = (n: number) => `The n field must be at least ${n}.`
const atMost = (n: number) => `The n field must not be greater than ${n}.`

function run(schema: z.ZodType, input: unknown): unknown {
  const outcome = validateInput(z.object({n: schema}), input === undefined ? {} : {n: input})
  return 'value' in outcome ? {value: (outcome.value as {n?: unknown}).n} : outcome.error.fields.map((f) => f.message)
}

describe('Laravel numeric rules (src/api/laravel-rules.ts)', () => {
  it("phpValidateInt is PHP's FILTER_VALIDATE_INT on JSON values", () => {
    const cases: Array<[unknown, number | undefined]> = [
      [5, 5],
      [-5, -5],
      [5.0, 5],
      [0.5, undefined],
      ['12', 12],
      ['+12', 12],
      ['-0', 0],
      ['0', 0],
      ['007', undefined],
      ['00', undefined],
      ['1.0', undefined],
      ['1e3', undefined],
      ['9223372036854775807', 2 ** 63],
      ['9223372036854775808', undefined],
      ['-9223372036854775808', -(2 ** 63)],
      [1e20, undefined],
      [true, 1],
      [false, undefined],
      [[1], undefined],
      [{}, undefined],
      ['', undefined],
      ['1'.repeat(5_000_000), undefined],
    ]
    for (const [value, expected] of cases) expect(phpValidateInt(value), JSON.stringify(value)).to.equal(expected)
  })

  it("phpIsNumeric is PHP 8's is_numeric", () => {
    for (const yes of [1, 1.5, -2, '1', '1.5', '.5', '5.', '-1e3', '+7', ' 7', '7 ']) expect(phpIsNumeric(yes), JSON.stringify(yes)).to.equal(true)
    for (const no of ['abc', '1a', '0x1A', '', '.', 'e3', true, false, null, [], {}, Number.NaN]) expect(phpIsNumeric(no), JSON.stringify(no)).to.equal(false)
  })

  it('integer|min|max reports every failing rule; min/max measure a non-numeric value by length or count', () => {
    const schema = laravelInteger({min: 1, max: 100})
    const cases: Array<[unknown, unknown]> = [
      [undefined, [REQUIRED]],
      [null, [REQUIRED]],
      [[], [REQUIRED]],
      [{}, [REQUIRED]],
      [50, {value: 50}],
      ['50', {value: 50}],
      [true, {value: 1}],
      [0.5, [INT, atLeast(1)]],
      [0, [atLeast(1)]],
      [101, [atMost(100)]],
      ['007', [INT]],
      ['abc', [INT]],
      ['x'.repeat(101), [INT, atMost(100)]],
      [[1, 2], [INT]],
      [false, [INT, atLeast(1)]],
    ]
    for (const [input, expected] of cases) expect(run(schema, input), JSON.stringify(input)).to.deep.equal(expected)
  })

  it('nullable: absent stays absent, null stays null, an empty array is still no integer', () => {
    const schema = laravelInteger({min: 0, nullable: true})
    expect(run(schema, undefined)).to.deep.equal({value: undefined})
    expect(run(schema, null)).to.deep.equal({value: null})
    expect(run(schema, [])).to.deep.equal([INT])
    expect(run(schema, -1)).to.deep.equal([atLeast(0)])
  })

  it('numeric|min: numbers and numeric strings pass; min compares the value', () => {
    const schema = laravelNumeric({min: 0.01, nullable: true})
    expect(run(schema, '5.2')).to.deep.equal({value: 5.2})
    expect(run(schema, 3)).to.deep.equal({value: 3})
    expect(run(schema, '0.001')).to.deep.equal([atLeast(0.01)])
    expect(run(schema, -1)).to.deep.equal([atLeast(0.01)])
    expect(run(schema, 'abc')).to.deep.equal([NUM])
    expect(run(schema, true)).to.deep.equal([NUM])
    expect(run(schema, ['1'])).to.deep.equal([NUM])
  })
})
