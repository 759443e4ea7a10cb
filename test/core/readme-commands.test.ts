import {readFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {COMMANDS} from '../../src/index.js'
import {ROOT} from '../helpers/cli.js'

describe('the README command table', () => {
  it('has a row for every command (`help` aside), in its space-separated form', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8')
    const missing = Object.keys(COMMANDS)
      .filter((id) => id !== 'help')
      .filter((id) => {
        const words = id.replace(/:/g, ' ').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        return !new RegExp(`^\\| \`${words}( [^\`]*)?\` \\|`, 'm').test(readme)
      })
    expect(missing, 'README rows "| `topic command [flags]` | alias | what it does |" missing').to.deep.equal([])
  })
})
