/**
 * Writes docs/openapi.json from the route declarations (`npm run openapi`); `--check` exits 1 when the
 * committed copy differs (test/api/openapi.test.ts runs the same comparison).
 */
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {openApiDocument} from '../src/api/openapi.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {version} = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {version: string}
const target = path.join(root, 'docs', 'openapi.json')
const text = `${JSON.stringify(await openApiDocument({version}), null, 2)}\n`
if (process.argv.includes('--check')) {
  const committed = readFileSync(target, 'utf8')
  if (committed !== text) {
    console.error('docs/openapi.json is stale: run `npm run openapi`')
    process.exit(1)
  }
} else {
  writeFileSync(target, text)
  console.log(`wrote ${path.relative(process.cwd(), target)}`)
}
