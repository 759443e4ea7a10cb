import {expect} from 'chai'

import {isValidPhpUrl} from '../../../src/core/php/url-validation.js'

// The template DSL's isValidUrl cases live in test/core/messaging/renderer.test.ts; these pin what
// PHP 8.2's filter_var($url, FILTER_VALIDATE_URL) answered where our port once disagreed.
describe('PHP FILTER_VALIDATE_URL', () => {
  it('checks the user info of a bracketed IPv6 host too', () => {
    expect(isValidPhpUrl('http://[::1]:8080/status')).to.equal(true)
    expect(isValidPhpUrl('http://a:b@[::1]')).to.equal(true)
    expect(isValidPhpUrl('http://a[b@[::1]')).to.equal(false)
    expect(isValidPhpUrl('http://a%eb@[::1]')).to.equal(false)
    expect(isValidPhpUrl('HTTP://ftp[fe80::1%eth0]@[::1]')).to.equal(false)
  })
})
