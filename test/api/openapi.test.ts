/** docs/openapi.json is generated from the route declarations: stale when a route, schema or guard changed without `npm run openapi`. */
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {openApiDocument} from '../../src/api/openapi.js'
import {ROOT} from '../helpers/cli.js'

describe('OpenAPI document (docs/openapi.json)', () => {
  it('is what `npm run openapi` generates from the routes today', async () => {
    const {version} = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {version: string}
    const committed: unknown = JSON.parse(readFileSync(path.join(ROOT, 'docs', 'openapi.json'), 'utf8'))
    expect(committed, 'docs/openapi.json is stale: run `npm run openapi` and commit the result').to.deep.equal(await openApiDocument({version}))
  })

  it('documents every route the app registers, with bearer auth exactly on the guarded ones', async () => {
    const doc = (await openApiDocument({version: '0.0.0'})) as {
      paths: Record<string, Record<string, {security?: unknown; parameters?: Array<{name: string; in: string}>}>>
    }
    expect(doc.paths['/up']?.get, 'GET /up').to.be.an('object')
    expect(doc.paths['/up'].get.security).to.equal(undefined)
    expect(doc.paths['/api/auth/login']?.post?.security, 'login is public').to.equal(undefined)
    expect(doc.paths['/api/me']?.get?.security).to.deep.equal([{sanctum: []}])
    for (const [url, methods] of Object.entries(doc.paths)) {
      for (const name of url.match(/\{([^}]+)\}/g) ?? []) {
        for (const op of Object.values(methods)) {
          const param = name.slice(1, -1)
          expect(
            op.parameters?.some((p) => p.in === 'path' && p.name === param),
            `${url} documents its path parameter ${param}`,
          ).to.equal(true)
        }
      }
    }
  })
})
