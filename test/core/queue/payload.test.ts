import {readFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {decodePayload, MalformedJobError, sendWaJobPayload, waMessageIdOf} from '../../../src/core/queue/payload.js'
import {phpSerialize, phpUnserialize} from '../../../src/core/php/serialize.js'
import {ROOT} from '../../helpers/cli.js'

const fixture = (name: string) => readFileSync(path.join(ROOT, 'fixtures', 'laravel', name), 'utf8')
const ID = '0195f3a0-0000-7000-8000-000000000001'
const UUID = '3f2b8c1e-6d4a-4f7e-9a1b-2c5d8e0f4a6b'
const NOW = new Date(1772352000 * 1000)

describe('Laravel queue payload of App\\Jobs\\SendWaMessageJob', () => {
  it('is byte for byte the payload Laravel 12.51 wrote (captured fixture)', () => {
    expect(sendWaJobPayload({waMessageId: ID, now: NOW, uuid: UUID})).to.equal(fixture('laravel-send-wa-job-payload.json'))
  })

  it('is byte for byte the delayed retry payload (delay 30 s)', () => {
    expect(sendWaJobPayload({waMessageId: ID, now: NOW, uuid: UUID, delaySeconds: 30})).to.equal(fixture('laravel-send-wa-job-payload.delayed.json'))
  })

  it('has a data.command that is valid PHP serialisation of the class, with byte lengths', () => {
    const payload: unknown = JSON.parse(sendWaJobPayload({waMessageId: ID, now: NOW}))
    expect(payload).to.have.nested.property(
      'data.command',
      `O:25:"App\\Jobs\\SendWaMessageJob":2:{s:11:"waMessageId";s:36:"${ID}";s:5:"queue";s:9:"messaging";}`,
    )
    expect(payload)
      .to.have.property('uuid')
      .that.matches(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(phpSerialize('Rp 5.000 ✓')).to.equal('s:12:"Rp 5.000 ✓";') // ✓ is 3 bytes
    expect(phpUnserialize('a:2:{i:0;s:5:"été";s:1:"k";b:1;}')).to.deep.equal({
      kind: 'array',
      entries: [
        [0, 'été'],
        ['k', true],
      ],
    })
  })

  it('decodes both captured payloads to the message id', () => {
    for (const name of ['laravel-send-wa-job-payload.json', 'laravel-send-wa-job-payload.delayed.json']) {
      const decoded = decodePayload(fixture(name))
      expect(decoded.envelope.displayName).to.equal('App\\Jobs\\SendWaMessageJob')
      expect(waMessageIdOf(decoded.command)).to.equal(ID)
    }
  })

  it('says what is wrong with a payload a worker cannot run', () => {
    const reason = (payload: string) => {
      try {
        decodePayload(payload)
      } catch (error) {
        expect(error).to.be.instanceOf(MalformedJobError)
        return (error as Error).message
      }
      throw new Error('expected MalformedJobError')
    }
    expect(reason('{')).to.match(/^payload is not JSON/)
    expect(reason('[]')).to.equal('payload is not a JSON object')
    expect(reason('{"data":{}}')).to.equal('payload has no data.command string')
    expect(reason('{"data":{"command":"x","commandName":"A"}}')).to.match(/^data.command is not PHP serialized data/)
    expect(reason('{"data":{"command":"O:1:\\"B\\":0:{}","commandName":"A"}}')).to.equal('data.command is a B, but data.commandName says A')
    expect(reason('{"data":{"command":"s:5:\\"abc\\";","commandName":"A"}}')).to.match(/string runs past the end|expected/)
  })
})
