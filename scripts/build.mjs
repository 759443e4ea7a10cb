// Bundles the CLI: oclif's runtime and the command classes in one ESM file (dist/index.js), the work
// behind each command in chunks loaded on demand. Start-up then parses one module instead of ~160
// (docs/BENCHMARKS.md). Pure-JS libraries are bundled too (tree-shaken zod parses far faster than the
// package); native (better-sqlite3) and dialect-loading (knex, pg) dependencies stay external.
import {readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {build} from 'esbuild'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'))
// fastify-type-provider-zod is bundled so that it shares the bundle's one copy of zod; fastify stays
// external and is loaded by `serve` only.
const BUNDLED = new Set(['@oclif/core', 'zod', 'chalk', 'cli-table3', 'bcryptjs', 'fastify-type-provider-zod'])
const external = [...Object.keys(pkg.dependencies).filter((name) => !BUNDLED.has(name)), 'typescript', 'ts-node', 'tsx']

rmSync(path.join(root, 'dist'), {recursive: true, force: true})
await build({
  entryPoints: [path.join(root, 'src', 'index.ts')],
  outdir: path.join(root, 'dist'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  minify: true,
  keepNames: true,
  legalComments: 'none',
  // Bundled CommonJS (oclif) calls require() for Node built-ins.
  banner: {js: "import {createRequire as __createRequire} from 'node:module'; const require = __createRequire(import.meta.url);"},
  logLevel: 'warning',
})
