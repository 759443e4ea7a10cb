import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {createFileAtomic} from '../../../src/core/storage/files.js'

describe('storage files: createFileAtomic', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'laundry-ops-files-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('creates the file with its whole content, and leaves no temporary', () => {
    const file = path.join(dir, 'a.source.json')
    expect(createFileAtomic(file, '{"x":1}\n')).to.equal(true)
    expect(readFileSync(file, 'utf8')).to.equal('{"x":1}\n')
    expect(readdirSync(dir)).to.deep.equal(['a.source.json'])
  })

  it('refuses a name that is taken (false), keeps what the other claimant wrote, and leaves no temporary', () => {
    const file = path.join(dir, 'a.source.json')
    writeFileSync(file, 'theirs')
    expect(createFileAtomic(file, 'mine')).to.equal(false)
    expect(readFileSync(file, 'utf8')).to.equal('theirs')
    expect(readdirSync(dir)).to.deep.equal(['a.source.json'])
  })
})
