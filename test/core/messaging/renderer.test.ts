import {expect} from 'chai'

import {renderTemplate, TemplateRenderError} from '../../../src/core/messaging/renderer.js'
import {DEFAULT_TEMPLATES, isTemplateId, TEMPLATE_IDS} from '../../../src/core/messaging/template-catalog.js'

const bytes = (text: string) => Buffer.byteLength(text, 'utf8')

function body(definition: unknown, variables: Record<string, unknown> = {}): string {
  return renderTemplate(definition, variables).body_text
}

function renderError(definition: unknown, variables: Record<string, unknown> = {}): TemplateRenderError {
  try {
    renderTemplate(definition, variables)
  } catch (error) {
    expect(error).to.be.instanceOf(TemplateRenderError)
    return error as TemplateRenderError
  }

  throw new Error('expected a TemplateRenderError')
}

/** Whether `condition` holds: renders a conditional line followed by an unconditional one. */
function holds(condition: unknown, variables: Record<string, unknown> = {}): boolean {
  const text = body({body_lines: [{text: 'HIT', condition}, 'END']}, variables)
  if (text === 'HIT\nEND') return true
  expect(text).to.equal('END')
  return false
}

/** The base variables dispatch builds for an order (upstream-ops §2.2), with overrides. */
function orderVariables(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    brand_name: 'Laundry Ceria',
    customer_name: 'Budi Santoso',
    customer_display_name: 'Budi Santoso',
    to_phone: '6281234567890',
    invoice_no: 'INV-20260217-0001',
    order_code: 'ORD-7KQ2M9',
    outlet_name: 'Outlet Kemang',
    laundry_status: 'ready',
    courier_status: 'delivery_on_the_way',
    is_pickup_delivery: true,
    total_amount: '54.800',
    total_amount_numeric: 54_800,
    due_amount: '22.000',
    due_amount_numeric: 22_000,
    courier_name: 'Andi Kurir',
    courier_phone: '6281311112222',
    ...overrides,
  }
}

const REQUIRED_ALL = ['brand_name', 'customer_name', 'to_phone']

describe('messaging template renderer', () => {
  describe('upstream WaTemplateRendererTest', () => {
    it('R1: applies the condition DSL and the required-any rule', () => {
      const definition = {
        required_vars_all: REQUIRED_ALL,
        required_vars_any: [['invoice_no', 'order_code']],
        max_length: 500,
        body_lines: [
          'Halo {{customer_name}} dari {{brand_name}}.',
          {text: 'Invoice: {{invoice_no}}', condition: {exists: 'invoice_no'}},
          {text: 'Order: {{order_code}}', condition: {notExists: 'invoice_no'}},
          {text: 'Link: {{tracking_url}}', condition: {isValidUrl: 'tracking_url'}},
          {
            text: 'Pembayaran COD: Rp{{due_amount_numeric}}',
            condition: {and: [{isTrue: 'is_cod'}, {gt: ['due_amount_numeric', 0]}]},
          },
        ],
      }
      const text = body(definition, {
        brand_name: 'Laundry A',
        customer_name: 'Budi',
        to_phone: '6281234567890',
        order_code: 'ORD-0001',
        tracking_url: 'not-a-url',
        is_cod: true,
        due_amount_numeric: 12_000,
      })
      expect(text).to.contain('Halo Budi dari Laundry A.')
      expect(text).to.contain('Order: ORD-0001')
      expect(text).to.contain('Pembayaran COD: Rp12000')
      expect(text).not.to.contain('Invoice:')
      expect(text).not.to.contain('Link:')
      expect(text).to.equal('Halo Budi dari Laundry A.\nOrder: ORD-0001\nPembayaran COD: Rp12000')
    })

    it('R2: drops optional lines, last first, when the body exceeds max_length', () => {
      const definition = {
        required_vars_all: REQUIRED_ALL,
        required_vars_any: [['order_code']],
        max_length: 80,
        body_lines: [
          'Halo {{customer_name}}, order {{order_code}} telah diproses.',
          {text: 'Catatan opsional pertama yang cukup panjang.', optional: true},
          {text: 'Catatan opsional kedua yang cukup panjang.', optional: true},
        ],
      }
      const variables = {brand_name: 'Laundry B', customer_name: 'Sinta', to_phone: '6281234567890', order_code: 'ORD-0002'}
      const text = body(definition, variables)
      expect(bytes(text)).to.be.at.most(80)
      expect(text).to.contain('Halo Sinta, order ORD-0002 telah diproses.')
      expect(text).not.to.contain('Catatan opsional kedua')
      expect(text).to.equal('Halo Sinta, order ORD-0002 telah diproses.')

      // The full join is 130 bytes and without the last optional line 87: at 87 the first one stays.
      expect(body({...definition, max_length: 130}, variables)).to.have.lengthOf(130)
      expect(body({...definition, max_length: 87}, variables)).to.equal(
        'Halo Sinta, order ORD-0002 telah diproses.\nCatatan opsional pertama yang cukup panjang.',
      )
    })
  })

  describe('errors', () => {
    it('requires a non-empty body_lines array (a JSON object counts)', () => {
      for (const definition of [{}, {body_lines: []}, {body_lines: {}}, {body_lines: 'Halo'}, {body_lines: null}, null, 'x', []]) {
        expect(renderError(definition).message).to.equal('Template definition requires non-empty body_lines.')
      }

      expect(body({body_lines: {first: 'Halo', second: {text: 'Dunia'}}})).to.equal('Halo\nDunia')
    })

    it('checks body_lines before the variables', () => {
      expect(renderError({required_vars_all: ['to_phone'], body_lines: []}).message).to.equal('Template definition requires non-empty body_lines.')
    })

    it('names the first missing required variable', () => {
      const definition = {required_vars_all: REQUIRED_ALL, body_lines: ['Halo']}
      expect(renderError(definition, {brand_name: 'X', customer_name: 'Y'}).message).to.equal('Missing required variable: to_phone.')
      expect(renderError(definition, {brand_name: 'X', customer_name: '   ', to_phone: '62'}).message).to.equal('Missing required variable: customer_name.')
      expect(renderError(definition, {brand_name: null, customer_name: 'Y', to_phone: '62'}).message).to.equal('Missing required variable: brand_name.')
    })

    it('reports a missing alternative', () => {
      const definition = {required_vars_any: [['invoice_no', 'order_code']], body_lines: ['Halo']}
      expect(renderError(definition, {invoice_no: '', order_code: null}).message).to.equal('Missing one of required alternative variables.')
    })

    it('rejects a body whose lines all disappear', () => {
      const ignoredEntries = [null, 5, true, ['text'], {condition: true}, {text: null}]
      expect(renderError({body_lines: ignoredEntries}).message).to.equal('Template rendering resulted in empty body.')
      expect(renderError({body_lines: [{text: 'Halo', condition: false}]}).message).to.equal('Template rendering resulted in empty body.')
      expect(renderError({body_lines: ['{{missing}}', '  {{blank}}  ']}, {blank: '   '}).message).to.equal('Template rendering resulted in empty body.')
    })

    it('is an Error with its own name', () => {
      const error = renderError({body_lines: []})
      expect(error).to.be.instanceOf(Error)
      expect(error.name).to.equal('TemplateRenderError')
    })
  })

  describe('variables', () => {
    it('trims string variables (PHP trim) and returns the normalised set', () => {
      const result = renderTemplate({body_lines: ['Halo {{name}}!']}, {name: ' \t Budi \n', count: 3, flag: false})
      expect(result.body_text).to.equal('Halo Budi!')
      expect(result.variables).to.deep.equal({name: 'Budi', count: 3, flag: false})
      // PHP's trim leaves a no-break space alone, so it is a value.
      expect(body({required_vars_all: ['name'], body_lines: ['[{{name}}]']}, {name: '\u00A0'})).to.equal('[\u00A0]')
    })

    it('does not mutate the caller variables', () => {
      const variables = {customer_name: '  ', customer_display_name: ' Sinta '}
      renderTemplate({fallbacks: {customer_name: 'customer_display_name'}, body_lines: ['x']}, variables)
      expect(variables).to.deep.equal({customer_name: '  ', customer_display_name: ' Sinta '})
    })

    it('counts false, 0 and [] as values, null and blank strings as missing', () => {
      const definition = {required_vars_all: ['a', 'b', 'c'], body_lines: ['ok']}
      expect(body(definition, {a: false, b: 0, c: []})).to.equal('ok')
      expect(renderError(definition, {a: false, b: 0}).message).to.equal('Missing required variable: c.')
    })

    it('applies fallbacks from a single source or the first source with a value', () => {
      const single = renderTemplate(
        {fallbacks: {customer_name: 'customer_display_name'}, required_vars_all: ['customer_name'], body_lines: ['Halo {{customer_name}}']},
        {customer_name: '   ', customer_display_name: ' Sinta '},
      )
      expect(single.body_text).to.equal('Halo Sinta')
      expect(single.variables.customer_name).to.equal('Sinta')

      const list = renderTemplate(
        {fallbacks: {contact: ['courier_phone', 'outlet_phone', 'office_phone']}, body_lines: ['Hubungi {{contact}}']},
        {courier_phone: '', outlet_phone: '6221555000', office_phone: '6221999000'},
      )
      expect(list.body_text).to.equal('Hubungi 6221555000')
      expect(list.variables).to.deep.equal({courier_phone: '', outlet_phone: '6221555000', office_phone: '6221999000', contact: '6221555000'})

      // A target that already has a value is kept; when no source has one the target stays as it was.
      expect(body({fallbacks: {a: ['b']}, body_lines: ['{{a}}']}, {a: 'own', b: 'other'})).to.equal('own')
      expect(renderTemplate({fallbacks: {a: ['b', 'c']}, body_lines: ['x']}, {b: ' '}).variables).to.deep.equal({b: ''})
    })

    it('applies fallbacks before checking the required variables', () => {
      const definition = {fallbacks: {customer_name: ['customer_display_name']}, required_vars_all: ['customer_name'], body_lines: ['Halo {{customer_name}}']}
      expect(body(definition, {customer_display_name: 'Rina'})).to.equal('Halo Rina')
      expect(renderError(definition, {customer_display_name: null}).message).to.equal('Missing required variable: customer_name.')
    })

    it('reads required_vars_any as groups, or as one group when the list is flat', () => {
      const nested = {required_vars_any: [['invoice_no', 'order_code']], body_lines: ['ok']}
      expect(body(nested, {order_code: 'ORD-1'})).to.equal('ok')
      expect(body(nested, {invoice_no: 'INV-1'})).to.equal('ok')

      // Flat: "invoice_no or order_code", not one group per name.
      const flat = {required_vars_any: ['invoice_no', 'order_code'], body_lines: ['ok']}
      expect(body(flat, {order_code: 'ORD-1'})).to.equal('ok')
      expect(renderError(flat, {invoice_no: ' '}).message).to.equal('Missing one of required alternative variables.')

      // Every group must be satisfied.
      const twoGroups = {
        required_vars_any: [
          ['invoice_no', 'order_code'],
          ['to_phone', 'email'],
        ],
        body_lines: ['ok'],
      }
      expect(body(twoGroups, {order_code: 'ORD-1', email: 'a@b.c'})).to.equal('ok')
      expect(renderError(twoGroups, {order_code: 'ORD-1'}).message).to.equal('Missing one of required alternative variables.')

      // A lone name is a group of one.
      expect(renderError({required_vars_any: 'order_code', body_lines: ['ok']}).message).to.equal('Missing one of required alternative variables.')
      expect(renderError({required_vars_all: 'to_phone', body_lines: ['ok']}).message).to.equal('Missing required variable: to_phone.')

      // Nothing to satisfy: an empty list or an empty group.
      expect(body({required_vars_any: [], body_lines: ['ok']})).to.equal('ok')
      expect(body({required_vars_any: [[]], body_lines: ['ok']})).to.equal('ok')
    })
  })

  describe('interpolation', () => {
    it('replaces {{ name }} with optional inner whitespace', () => {
      expect(body({body_lines: ['{{a}}|{{ a }}|{{\ta  }}|{{ a}}']}, {a: 'x'})).to.equal('x|x|x|x')
    })

    it('looks dotted names up literally and leaves other braces alone', () => {
      expect(body({body_lines: ['{{order.code}} {{ bad-name }} {{}} {x}']}, {'order.code': 'ORD-1', order: {code: 'nested'}})).to.equal(
        'ORD-1 {{ bad-name }} {{}} {x}',
      )
    })

    it('converts values the way upstream does', () => {
      const variables = {
        yes: true,
        no: false,
        int: 9,
        whole: 20,
        fraction: 12.5,
        sum: 0.1 + 0.2,
        big: 1.5e20,
        tiny: 0.000_01,
        list: [1],
        map: {a: 1},
        nil: null,
      }
      expect(
        body({body_lines: ['{{yes}},{{no}},{{int}},{{whole}},{{fraction}},{{sum}},{{big}},{{tiny}},[{{list}}][{{map}}][{{nil}}][{{absent}}]']}, variables),
      ).to.equal('true,false,9,20,12.5,0.3,1.5E+20,1.0E-5,[][][][]')
    })

    it('substitutes once, without re-reading substituted text', () => {
      expect(body({body_lines: ['Catatan: {{note}}']}, {note: '{{secret}}', secret: 'x'})).to.equal('Catatan: {{secret}}')
    })

    it('trims each rendered line and drops the empty ones', () => {
      expect(body({body_lines: ['  Halo {{name}}  ', '{{missing}}', '   ', 'Terima kasih.']}, {name: 'Budi'})).to.equal('Halo Budi\nTerima kasih.')
    })
  })

  describe('max_length', () => {
    it('defaults to 1200 bytes and never goes below 1', () => {
      const long = 'a'.repeat(1300)
      expect(body({body_lines: [long]})).to.equal('a'.repeat(1200))
      expect(body({body_lines: [long], max_length: null})).to.equal('a'.repeat(1200))
      expect(body({body_lines: [long], max_length: 0})).to.equal('a')
      expect(body({body_lines: [long], max_length: -5})).to.equal('a')
      expect(body({body_lines: [long], max_length: '10'})).to.equal('a'.repeat(10))
    })

    it('never drops required lines, then cuts and right-trims', () => {
      const definition = {
        max_length: 20,
        body_lines: ['Halo Budi Santoso', {text: 'opsional', optional: true}, 'Terima kasih banyak'],
      }
      // Without the optional line: "Halo Budi Santoso\nTerima kasih banyak" (37 bytes); cut to 20 → "Halo Budi Santoso\nTe".
      expect(body(definition)).to.equal('Halo Budi Santoso\nTe')
      // A cut that ends on whitespace (here the line break) is right-trimmed.
      expect(body({max_length: 10, body_lines: ['Halo Budi', 'Santoso']})).to.equal('Halo Budi')
      expect(body({max_length: 11, body_lines: ['Halo Budi', 'Santoso']})).to.equal('Halo Budi\nS')
    })

    it('measures UTF-8 bytes, not characters', () => {
      const first = 'Cucian siap ✅ 🧺' // 12 + 3 + 1 + 4 = 20 bytes, but only 16 UTF-16 units
      expect(bytes(first)).to.equal(20)
      const definition = {max_length: 25, body_lines: [first, {text: 'Salam', optional: true}]}
      // 20 + 1 + 5 = 26 bytes > 25, although .length is only 22: the optional line goes.
      expect(body(definition)).to.equal(first)
      expect(body({...definition, max_length: 26})).to.equal(`${first}\nSalam`)
    })

    it('never splits a multi-byte character when it has to cut (deliberate deviation)', () => {
      const text = 'Terima kasih 🙏 sudah mencuci di Laundry Ceria — sampai jumpa, Bu Sinta ✨'
      expect(bytes(text)).to.equal(79)
      // "Terima kasih " is 13 bytes; the emoji takes bytes 14–17. PHP would cut inside it at 14–16.
      expect(body({max_length: 16, body_lines: [text]})).to.equal('Terima kasih')
      expect(body({max_length: 17, body_lines: [text]})).to.equal('Terima kasih 🙏')

      for (let max = 1; max <= bytes(text); max++) {
        const cut = body({max_length: max, body_lines: [text]})
        expect(bytes(cut), `max ${max}`).to.be.at.most(max)
        expect(cut, `max ${max}`).not.to.contain('\uFFFD')
        expect(Buffer.from(cut, 'utf8').toString('utf8')).to.equal(cut)
        expect(text.startsWith(cut), `max ${max}`).to.equal(true)
        // Nothing more could have been kept: the next whole character would not fit.
        const next = text.slice(cut.length).match(/^\s*./u)?.[0] ?? ''
        if (next !== '') expect(bytes(cut + next), `max ${max}`).to.be.greaterThan(max)
      }
    })
  })

  describe('conditions', () => {
    it('treats null, booleans and scalars like PHP', () => {
      expect(holds(null)).to.equal(true)
      expect(holds(true)).to.equal(true)
      expect(holds(false)).to.equal(false)
      expect(holds(1)).to.equal(true)
      expect(holds(0)).to.equal(false)
      expect(holds('0')).to.equal(false)
      expect(holds('')).to.equal(false)
      expect(holds('no')).to.equal(true)
      expect(body({body_lines: [{text: 'no condition key'}]})).to.equal('no condition key')
    })

    it('ANDs a list and the entries of a map; an unknown operator is false', () => {
      expect(holds([true, 1, {exists: 'a'}], {a: 'x'})).to.equal(true)
      expect(holds([true, {exists: 'b'}], {a: 'x'})).to.equal(false)
      expect(holds([])).to.equal(true)
      expect(holds({exists: 'a', notExists: 'b'}, {a: 'x'})).to.equal(true)
      expect(holds({exists: 'a', notExists: 'b'}, {a: 'x', b: 'y'})).to.equal(false)
      expect(holds({})).to.equal(true)
      expect(holds({contains: ['a', 'x']}, {a: 'x'})).to.equal(false)
      expect(holds({var: 'a'}, {a: true})).to.equal(false)
    })

    it('exists / notExists', () => {
      const variables = {name: 'Budi', blank: '  ', nil: null, no: false, zero: 0, empty: []}
      expect(holds({exists: 'name'}, variables)).to.equal(true)
      expect(holds({exists: 'blank'}, variables)).to.equal(false)
      expect(holds({exists: 'nil'}, variables)).to.equal(false)
      expect(holds({exists: 'absent'}, variables)).to.equal(false)
      expect(holds({exists: 'no'}, variables)).to.equal(true)
      expect(holds({exists: 'zero'}, variables)).to.equal(true)
      expect(holds({exists: 'empty'}, variables)).to.equal(true)
      expect(holds({exists: {var: 'name'}}, variables)).to.equal(true)
      expect(holds({exists: {var: 'absent'}}, variables)).to.equal(false)
      expect(holds({exists: 5}, variables)).to.equal(true)
      expect(holds({exists: null}, variables)).to.equal(false)
      expect(holds({notExists: 'absent'}, variables)).to.equal(true)
      expect(holds({notExists: 'name'}, variables)).to.equal(false)
    })

    it('eq / ne use PHP 8 loose equality', () => {
      const equal = (left: unknown, right: unknown) => {
        const eq = holds({eq: [left, right]})
        expect(holds({ne: [left, right]}), `ne(${JSON.stringify(left)}, ${JSON.stringify(right)})`).to.equal(!eq)
        return eq
      }

      const cases: Array<[unknown, unknown, boolean]> = [
        ['1', 1, true],
        [null, false, true],
        ['abc', 0, false],
        ['1e1', '10', true],
        ['10', '010', true],
        [' 1', '1', true],
        ['1 ', '1', true],
        ['abc', 'ABC', false],
        ['abc', 'abc', true],
        [1, '1abc', false],
        [0, '', false],
        [100, '1e2', true],
        [1.5, '1.5', true],
        [null, 0, true],
        [null, '', true],
        [null, '0', false],
        [null, [], true],
        [null, null, true],
        [true, 'abc', true],
        [false, '0', true],
        [false, [], true],
        [true, [0], true],
        [[1, 2], [1, 2], true],
        [[1, 2], [2, 1], false],
        [{a: 1, b: 2}, {b: 2, a: '1'}, true],
        [{a: 1}, {a: 1, b: 2}, false],
        [[1], 1, false],
        [2, 2, true],
        [2, 3, false],
      ]
      for (const [left, right, expected] of cases) {
        expect(equal(left, right), `${JSON.stringify(left)} == ${JSON.stringify(right)}`).to.equal(expected)
      }
    })

    it('accepts a pair as a list of two or more or as {left, right}; any other shape compares null with null', () => {
      const variables = {status: 'ready'}
      expect(holds({eq: {left: 'status', right: 'ready'}}, variables)).to.equal(true)
      expect(holds({eq: ['status', 'ready', 'ignored']}, variables)).to.equal(true)
      expect(holds({eq: 'status'}, variables)).to.equal(true)
      expect(holds({eq: ['status']}, variables)).to.equal(true)
      expect(holds({ne: {left: 'status'}}, variables)).to.equal(false)
    })

    it('resolves operands: {var}, the name of a present variable, else a literal', () => {
      // A string naming a missing variable is the literal string.
      expect(holds({eq: ['status', 'status']})).to.equal(true)
      expect(holds({eq: ['status', 'ready']})).to.equal(false)
      expect(holds({eq: ['status', 'ready']}, {status: 'ready'})).to.equal(true)
      expect(holds({eq: ['ready', 'status']}, {status: 'ready'})).to.equal(true)
      // A present variable resolves even when it is null.
      expect(holds({eq: ['courier_name', null]}, {courier_name: null})).to.equal(true)
      expect(holds({eq: ['courier_name', null]})).to.equal(false)
      // {var} never falls back to a literal.
      expect(holds({eq: [{var: 'status'}, null]})).to.equal(true)
      expect(holds({eq: [{var: 'status'}, 'ready']}, {status: 'ready'})).to.equal(true)
      // Both sides resolve.
      expect(holds({eq: ['paid', 'due']}, {paid: '22000', due: 22_000})).to.equal(true)
    })

    it('gt / gte / lt / lte compare as PHP floats', () => {
      const variables = {due: 22_000, zero: 0, text: '12abc', word: 'abc', yes: true}
      expect(holds({gt: ['due', 0]}, variables)).to.equal(true)
      expect(holds({gt: ['zero', 0]}, variables)).to.equal(false)
      expect(holds({gte: ['zero', 0]}, variables)).to.equal(true)
      expect(holds({lt: ['due', 22_000.5]}, variables)).to.equal(true)
      expect(holds({lte: ['due', '22000']}, variables)).to.equal(true)
      expect(holds({gt: ['text', 11.9]}, variables)).to.equal(true)
      expect(holds({gt: ['word', 0]}, variables)).to.equal(false)
      expect(holds({gt: ['word', -1]}, variables)).to.equal(true)
      expect(holds({gte: ['yes', 1]}, variables)).to.equal(true)
      expect(holds({lt: [null, 1]}, variables)).to.equal(true)
      expect(holds({gt: [' 1e3', 999]}, variables)).to.equal(true)
      // The missing variable name is a literal, which casts to 0.
      expect(holds({gt: ['due_amount_numeric', 0]}, variables)).to.equal(false)
      expect(holds({gt: 'due'}, variables)).to.equal(false)
    })

    it('and / or accept any array (a map by its values); anything else is false', () => {
      const variables = {a: 'x'}
      expect(holds({and: [{exists: 'a'}, true]}, variables)).to.equal(true)
      expect(holds({and: [{exists: 'a'}, {exists: 'b'}]}, variables)).to.equal(false)
      expect(holds({and: []}, variables)).to.equal(true)
      expect(holds({and: {first: {exists: 'a'}, second: true}}, variables)).to.equal(true)
      expect(holds({and: 'a'}, variables)).to.equal(false)
      expect(holds({and: true}, variables)).to.equal(false)
      expect(holds({or: [{exists: 'b'}, {exists: 'a'}]}, variables)).to.equal(true)
      expect(holds({or: [{exists: 'b'}, false]}, variables)).to.equal(false)
      expect(holds({or: []}, variables)).to.equal(false)
      expect(holds({or: {x: false, y: {exists: 'a'}}}, variables)).to.equal(true)
      expect(holds({or: 'a'}, variables)).to.equal(false)
    })

    it('not negates a nested condition', () => {
      expect(holds({not: {exists: 'a'}}, {a: 'x'})).to.equal(false)
      expect(holds({not: {exists: 'b'}}, {a: 'x'})).to.equal(true)
      expect(holds({not: [true, false]})).to.equal(true)
      expect(holds({not: null})).to.equal(false)
    })

    it('isValidUrl follows PHP FILTER_VALIDATE_URL', () => {
      const valid = [
        'https://laundry.example.com/track/ORD-0001?ref=wa#top',
        'http://localhost:8080',
        'HTTPS://Laundry.ID',
        'http://user:p%40ss@laundry.id/',
        'http://[::1]:8080/status',
        'http://127.0.0.1/',
        'ftp://files.internal',
        'ftp://under_score',
        'mailto:cs@laundry.id',
        'file:///var/log/app.log',
        'news:comp.lang.php',
      ]
      const invalid = [
        'not-a-url',
        'www.laundry.id',
        '//laundry.id/path',
        'https://',
        'http:///path',
        'http:/laundry.id',
        'https://laun dry.id',
        'https://laundry.id/ü',
        'https://-laundry.id',
        'https://laundry-.id',
        'https://under_score.id',
        'https://laundry..id',
        'javascript:alert(1)',
        'tel:+6281234567890',
        'laundry.id:80',
        'https://laundry.id:99999',
        'http://us er@laundry.id',
        'http://[::1%eth0]/',
      ]
      for (const url of valid) expect(holds({isValidUrl: 'url'}, {url}), url).to.equal(true)
      for (const url of invalid) expect(holds({isValidUrl: 'url'}, {url}), url).to.equal(false)

      // A literal works too; blanks and non-strings never pass.
      expect(holds({isValidUrl: 'https://laundry.id'})).to.equal(true)
      // Variables are trimmed first, a literal is not: PHP's validator rejects the space.
      expect(holds({isValidUrl: 'url'}, {url: ' https://laundry.id '})).to.equal(true)
      expect(holds({isValidUrl: ' https://laundry.id'})).to.equal(false)
      expect(holds({isValidUrl: 'tracking_url'})).to.equal(false)
      expect(holds({isValidUrl: 'url'}, {url: '   '})).to.equal(false)
      expect(holds({isValidUrl: 'url'}, {url: 42})).to.equal(false)
      expect(holds({isValidUrl: {var: 'absent'}})).to.equal(false)
    })

    it('isTrue: bool, numbers > 0, yes-words, else truthiness', () => {
      const isTrue = (value: unknown) => holds({isTrue: 'v'}, {v: value})
      expect([true, 1, 2.5, '1', '2', ' 7 ', 'true', 'TRUE', ' yes ', 'On', 'y', [0]].map(isTrue)).to.deep.equal(Array(12).fill(true))
      expect([false, 0, -1, '0', '-3', 'false', 'no', 'off', 'n', '', 'abc', null, []].map(isTrue)).to.deep.equal(Array(13).fill(false))
      // A missing variable's name is the literal string, which is not a yes-word.
      expect(holds({isTrue: 'is_cod'})).to.equal(false)
      expect(holds({isTrue: 'yes'})).to.equal(true)
      expect(holds({isTrue: {var: 'is_cod'}}, {is_cod: 'Y'})).to.equal(true)
    })
  })

  describe('template catalog', () => {
    it('lists the six ids in upstream order', () => {
      expect(TEMPLATE_IDS).to.deep.equal(['WA_PICKUP_CONFIRM', 'WA_PICKUP_OTW', 'WA_LAUNDRY_READY', 'WA_DELIVERY_OTW', 'WA_ORDER_DONE', 'WA_BILLING_REMINDER'])
      expect(Object.keys(DEFAULT_TEMPLATES)).to.deep.equal([...TEMPLATE_IDS])
      expect(isTemplateId('WA_ORDER_DONE')).to.equal(true)
      expect(isTemplateId('wa_order_done')).to.equal(false)
      expect(isTemplateId('WA_UNKNOWN')).to.equal(false)
      expect(isTemplateId(7)).to.equal(false)
    })

    it('shares the requirements and max_length; only WA_PICKUP_CONFIRM has fallbacks', () => {
      for (const id of TEMPLATE_IDS) {
        const definition = DEFAULT_TEMPLATES[id]
        expect(definition.required_vars_all, id).to.deep.equal(['brand_name', 'customer_name', 'to_phone'])
        expect(definition.required_vars_any, id).to.deep.equal([['invoice_no', 'order_code']])
        expect(definition.max_length, id).to.equal(700)
        if (id === 'WA_PICKUP_CONFIRM') expect(definition.fallbacks).to.deep.equal({customer_name: ['customer_display_name']})
        else expect(definition.fallbacks, id).to.equal(undefined)
      }
    })

    it('is frozen, so nobody changes the defaults for everyone', () => {
      expect(Object.isFrozen(DEFAULT_TEMPLATES.WA_ORDER_DONE.body_lines)).to.equal(true)
      expect(() => (DEFAULT_TEMPLATES.WA_ORDER_DONE.body_lines as string[]).push('x')).to.throw(TypeError)
    })

    it('WA_PICKUP_CONFIRM', () => {
      expect(body(DEFAULT_TEMPLATES.WA_PICKUP_CONFIRM, orderVariables())).to.equal(
        [
          'Halo Budi Santoso, pesanan Anda sudah kami terima di Laundry Ceria.',
          'No invoice: INV-20260217-0001.',
          'Status awal: menunggu pickup kurir.',
          'Total saat ini: Rp54.800.',
          'Terima kasih.',
        ].join('\n'),
      )
      // No invoice yet, a blank name filled from the display name, not a pickup order, no total.
      const variables = orderVariables({invoice_no: null, customer_name: ' ', customer_display_name: 'Sinta', is_pickup_delivery: false, total_amount: ''})
      expect(body(DEFAULT_TEMPLATES.WA_PICKUP_CONFIRM, variables)).to.equal(
        'Halo Sinta, pesanan Anda sudah kami terima di Laundry Ceria.\nKode order: ORD-7KQ2M9.\nTerima kasih.',
      )
    })

    it('WA_PICKUP_CONFIRM drops its optional lines, last first, past 700 bytes', () => {
      const name = 'Budi '.repeat(109) + 'Santoso' // 552 bytes
      const greeting = (customer: string) => `Halo ${customer}, pesanan Anda sudah kami terima di Laundry Ceria.`

      // 717 bytes in full; without the total line (the last optional one) 688, which fits.
      const full = body(DEFAULT_TEMPLATES.WA_PICKUP_CONFIRM, orderVariables({customer_name: name, total_amount: '1.254.800'}))
      expect(full).to.equal([greeting(name), 'No invoice: INV-20260217-0001.', 'Status awal: menunggu pickup kurir.', 'Terima kasih.'].join('\n'))
      expect(bytes(full)).to.equal(688)

      // 21 bytes more: 735 in full, 709 without the total, 673 without the status line too.
      const longer = `${name} ${'x'.repeat(20)}`
      const shortest = body(DEFAULT_TEMPLATES.WA_PICKUP_CONFIRM, orderVariables({customer_name: longer}))
      expect(shortest).to.equal([greeting(longer), 'No invoice: INV-20260217-0001.', 'Terima kasih.'].join('\n'))
      expect(bytes(shortest)).to.equal(673)
    })

    it('WA_PICKUP_OTW', () => {
      expect(body(DEFAULT_TEMPLATES.WA_PICKUP_OTW, orderVariables())).to.equal(
        [
          'Halo Budi Santoso, kurir Andi Kurir sedang menuju lokasi pickup Anda.',
          'No invoice: INV-20260217-0001.',
          'Kontak kurir: 6281311112222.',
          'Terima kasih, Laundry Ceria.',
        ].join('\n'),
      )
      // No courier assigned: the name renders empty inside the line (upstream does not collapse spaces).
      expect(body(DEFAULT_TEMPLATES.WA_PICKUP_OTW, orderVariables({courier_name: null, courier_phone: null}))).to.equal(
        'Halo Budi Santoso, kurir  sedang menuju lokasi pickup Anda.\nNo invoice: INV-20260217-0001.\nTerima kasih, Laundry Ceria.',
      )
    })

    it('WA_LAUNDRY_READY', () => {
      expect(body(DEFAULT_TEMPLATES.WA_LAUNDRY_READY, orderVariables())).to.equal(
        [
          'Halo Budi Santoso, laundry Anda sudah siap di Laundry Ceria.',
          'No invoice: INV-20260217-0001.',
          'Sisa tagihan: Rp22.000.',
          'Silakan ambil atau tunggu jadwal antar.',
        ].join('\n'),
      )
      expect(body(DEFAULT_TEMPLATES.WA_LAUNDRY_READY, orderVariables({due_amount: '0', due_amount_numeric: 0}))).to.equal(
        'Halo Budi Santoso, laundry Anda sudah siap di Laundry Ceria.\nNo invoice: INV-20260217-0001.\nSilakan ambil atau tunggu jadwal antar.',
      )
    })

    it('WA_DELIVERY_OTW', () => {
      expect(body(DEFAULT_TEMPLATES.WA_DELIVERY_OTW, orderVariables({invoice_no: ''}))).to.equal(
        [
          'Halo Budi Santoso, pesanan Anda sedang diantar kurir Andi Kurir.',
          'Kode order: ORD-7KQ2M9.',
          'Kontak kurir: 6281311112222.',
          'Mohon siapkan penerimaan.',
        ].join('\n'),
      )
    })

    it('WA_ORDER_DONE', () => {
      expect(body(DEFAULT_TEMPLATES.WA_ORDER_DONE, orderVariables())).to.equal(
        'Halo Budi Santoso, pesanan laundry Anda sudah selesai.\nNo invoice: INV-20260217-0001.\nTerima kasih telah menggunakan Laundry Ceria.',
      )
    })

    it('WA_BILLING_REMINDER with the aging variables', () => {
      const aging = {aging_days: 12, aging_bucket_key: 'd8_14', aging_bucket_label: '8-14 hari'}
      expect(body(DEFAULT_TEMPLATES.WA_BILLING_REMINDER, orderVariables(aging))).to.equal(
        [
          'Halo Budi Santoso, kami mengingatkan sisa tagihan laundry Anda.',
          'No invoice: INV-20260217-0001.',
          'Sisa tagihan: Rp22.000.',
          'Umur tagihan: 12 hari (8-14 hari).',
          'Mohon konfirmasi jadwal pembayaran. Terima kasih, Laundry Ceria.',
        ].join('\n'),
      )
      // Age 0 is a value, so the line stays; without aging_days it goes.
      expect(body(DEFAULT_TEMPLATES.WA_BILLING_REMINDER, orderVariables({aging_days: 0, aging_bucket_label: '0-7 hari'}))).to.contain(
        '\nUmur tagihan: 0 hari (0-7 hari).\n',
      )
      expect(body(DEFAULT_TEMPLATES.WA_BILLING_REMINDER, orderVariables())).to.equal(
        [
          'Halo Budi Santoso, kami mengingatkan sisa tagihan laundry Anda.',
          'No invoice: INV-20260217-0001.',
          'Sisa tagihan: Rp22.000.',
          'Mohon konfirmasi jadwal pembayaran. Terima kasih, Laundry Ceria.',
        ].join('\n'),
      )
    })

    it('every catalog template enforces the shared requirements', () => {
      for (const id of TEMPLATE_IDS) {
        const definition = DEFAULT_TEMPLATES[id]
        expect(renderError(definition, orderVariables({to_phone: ''})).message, id).to.equal('Missing required variable: to_phone.')
        expect(renderError(definition, orderVariables({brand_name: undefined})).message, id).to.equal('Missing required variable: brand_name.')
        expect(renderError(definition, orderVariables({invoice_no: null, order_code: '  '})).message, id).to.equal(
          'Missing one of required alternative variables.',
        )
      }

      // Only WA_PICKUP_CONFIRM falls back to the display name.
      const noName = orderVariables({customer_name: null, customer_display_name: 'Sinta'})
      expect(body(DEFAULT_TEMPLATES.WA_PICKUP_CONFIRM, noName)).to.match(/^Halo Sinta, /)
      expect(renderError(DEFAULT_TEMPLATES.WA_ORDER_DONE, noName).message).to.equal('Missing required variable: customer_name.')
    })
  })
})
