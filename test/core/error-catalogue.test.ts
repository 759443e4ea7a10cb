import {readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {DatabaseCommand} from '../../src/base-command.js'
import {ERROR_CATALOGUE, isErrorCode} from '../../src/core/errors.js'
import {COMMANDS} from '../../src/index.js'
import {ROOT} from '../helpers/cli.js'

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name)
    return statSync(file).isDirectory() ? sources(file) : file.endsWith('.ts') ? [file] : []
  })
}

/** Every error code the sources throw or report: `new OpsError('X'`, `new UsageError('X'`, `code: 'X'` in an error report. */
function codesInSources(): Map<string, string[]> {
  const found = new Map<string, string[]>()
  for (const file of sources(path.join(ROOT, 'src'))) {
    const text = readFileSync(file, 'utf8')
    const patterns = [/\b(?:OpsError|UsageError)\(\s*'([A-Z][A-Z0-9_]*)'/g, /\berror: \{code: '([A-Z][A-Z0-9_]*)'/g, /return \{code: '([A-Z][A-Z0-9_]*)'/g]
    for (const pattern of patterns) {
      for (const match of text.matchAll(pattern)) found.set(match[1], [...(found.get(match[1]) ?? []), path.relative(ROOT, file)])
    }
  }
  return found
}

describe('the error catalogue', () => {
  it('holds every code the sources throw or report', () => {
    const found = codesInSources()
    expect(found.size).to.be.above(15)
    const unknown = [...found.entries()].filter(([code]) => !isErrorCode(code)).map(([code, files]) => `${code} (${files.join(', ')})`)
    expect(unknown, 'codes used but not in ERROR_CATALOGUE').to.deep.equal([])
  })

  it('gives every code an exit code of SPEC §3, an HTTP error status and a one-line meaning', () => {
    for (const [code, spec] of Object.entries(ERROR_CATALOGUE)) {
      expect(code).to.match(/^[A-Z][A-Z0-9_]*$/)
      expect([1, 2], code).to.include(spec.exit)
      expect(spec.http, code).to.be.within(400, 599)
      expect(spec.meaning, code).to.match(/^\S.*\S$/)
      expect(spec.meaning, code).not.to.include('\n')
    }
  })

  it('is listed in the README, code by code, with its exit code', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8')
    const missing = Object.entries(ERROR_CATALOGUE)
      .filter(([code, spec]) => !new RegExp(`^\\| \`${code}\` \\| ${spec.exit} \\| ${spec.http} \\|`, 'm').test(readme))
      .map(([code]) => code)
    expect(missing, 'README rows "| `CODE` | exit | http | meaning |" missing').to.deep.equal([])
  })

  it('every database command says what a fault leaves behind (faultScope)', () => {
    const undeclared = Object.entries(COMMANDS)
      .filter(([, command]) => command.prototype instanceof DatabaseCommand)
      .filter(([, command]) => !['reads', 'transaction', 'progress'].includes(String((command as unknown as {faultScope?: string}).faultScope)))
      .map(([id]) => id)
    expect(undeclared).to.deep.equal([])
  })
})
