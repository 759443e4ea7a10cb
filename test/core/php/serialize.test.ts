import {expect} from 'chai'

import {PhpSerializeError, phpProperty, phpSerialize, phpUnserialize} from '../../../src/core/php/serialize.js'

// PHP 8.2's serialize() of an object with a public, a protected and a private property and a mixed array.
const JOB = 'O:3:"Job":4:{s:11:"waMessageId";s:4:"é-1";s:8:"\0*\0queue";s:9:"messaging";s:10:"\0Job\0tries";i:3;s:5:"flags";a:3:{i:0;b:1;i:1;N;s:1:"k";i:-7;}}'

describe('PHP serialize', () => {
  it('reads what PHP wrote and writes it back byte for byte', () => {
    const job = phpUnserialize(JOB)
    expect(job).to.deep.equal({
      kind: 'object',
      className: 'Job',
      properties: [
        ['waMessageId', 'é-1'],
        ['\0*\0queue', 'messaging'],
        ['\0Job\0tries', 3],
        [
          'flags',
          {
            kind: 'array',
            entries: [
              [0, true],
              [1, null],
              ['k', -7],
            ],
          },
        ],
      ],
    })
    expect(phpSerialize(job)).to.equal(JOB)
  })

  it('finds a property whatever its visibility', () => {
    const job = phpUnserialize(JOB)
    expect([phpProperty(job, 'waMessageId'), phpProperty(job, 'queue'), phpProperty(job, 'tries'), phpProperty(job, 'missing')]).to.deep.equal([
      'é-1',
      'messaging',
      3,
      undefined,
    ])
    expect(phpProperty('not an object', 'queue')).to.equal(undefined)
  })

  it('refuses data PHP would not have written, saying where', () => {
    const reason = (text: string) => {
      try {
        phpUnserialize(text)
      } catch (error) {
        expect(error).to.be.instanceOf(PhpSerializeError)
        return (error as Error).message
      }
      throw new Error('expected PhpSerializeError')
    }
    // String lengths count UTF-8 bytes: é is two.
    expect(reason('s:1:"é";')).to.equal(`invalid PHP serialized data at byte 6: expected '"'`)
    expect(reason('i:1;i:2;')).to.equal('invalid PHP serialized data at byte 4: trailing data')
    expect(reason('x:1;')).to.equal("invalid PHP serialized data at byte 2: unsupported type 'x'")
    expect(reason('a:1:{a:0:{}i:1;}')).to.equal('invalid PHP serialized data at byte 11: array key must be int or string')
  })
})
