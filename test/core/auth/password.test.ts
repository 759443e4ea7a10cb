import {readFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {hashPassword, hasLaravelCost, verifyAgainstNothing, verifyPassword} from '../../../src/core/auth/password.js'
import {ROOT} from '../../helpers/cli.js'

interface PhpHashes {
  hashes: Array<{password: string; cost: number; hash: string; verifies: boolean; verifies_wrong_password: boolean; verifies_72_byte_prefix: boolean}>
  prefix_variants: Array<{hash: string; php_password_verify: boolean}>
}

const fixture = JSON.parse(readFileSync(path.join(ROOT, 'fixtures', 'laravel', 'php-bcrypt-hashes.json'), 'utf8')) as PhpHashes

/** The first 72 bytes of the password's UTF-8, the part bcrypt reads. */
const first72Bytes = (text: string) => Buffer.from(text, 'utf8').subarray(0, 72).toString('utf8')

describe('bcrypt passwords as PHP password_verify and Laravel Hash::make', function () {
  this.timeout(60_000)

  it('gives every hash PHP made the verdict PHP gave it: the password, a longer wrong one, its 72-byte prefix', async () => {
    expect(fixture.hashes.length).to.be.at.least(5)
    for (const entry of fixture.hashes) {
      const label = `${entry.hash} (${JSON.stringify(entry.password).slice(0, 30)})`
      expect(await verifyPassword(entry.password, entry.hash), label).to.equal(entry.verifies)
      // PHP's "wrong password" verdict: a different password that only differs after byte 72 still verifies.
      expect(await verifyPassword(`${entry.password}x`, entry.hash), `${label} + x`).to.equal(entry.verifies_wrong_password)
      expect(await verifyPassword('wrong-password', entry.hash), `${label} wrong-password`).to.equal(false)
      expect(await verifyPassword(first72Bytes(entry.password), entry.hash), `${label} 72-byte prefix`).to.equal(entry.verifies_72_byte_prefix)
    }
  })

  it('accepts the $2a$ and $2b$ labels as password_verify does', async () => {
    for (const variant of fixture.prefix_variants) {
      expect(await verifyPassword('password', variant.hash), variant.hash).to.equal(variant.php_password_verify)
    }
  })

  it('refuses what is not a bcrypt hash instead of throwing', async () => {
    for (const hash of [
      '',
      'password',
      '$2x$10$crEJSNSsRcHvOlRZW2crRuHwsLuW5fPmfLOUQwDKoJ.s.UGpXE1Xi',
      '$2y$10$short',
      '$argon2id$v=19$m=65536,t=4,p=1$abc$def',
    ]) {
      expect(await verifyPassword('password', hash), hash).to.equal(false)
    }
    expect(await verifyAgainstNothing('password')).to.equal(false)
  })

  it('hashes new passwords as $2y$ cost 12, which our check and the $2b$ form both accept', async () => {
    const hash = await hashPassword('rahasia-ü')
    expect(hash).to.match(/^\$2y\$12\$[./A-Za-z0-9]{53}$/)
    expect(hasLaravelCost(hash)).to.equal(true)
    expect(await verifyPassword('rahasia-ü', hash)).to.equal(true)
    expect(await verifyPassword('rahasia-u', hash)).to.equal(false)
  })
})
