import {copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {createHash} from 'node:crypto'
import {hostname, tmpdir} from 'node:os'
import path from 'node:path'

import pg from 'pg'

import {fixedClock, systemClock} from '../../src/core/clock.js'
import {type DatabaseTarget, parseDatabaseUrl} from '../../src/core/config.js'
import {type Database, openDatabase} from '../../src/core/db/connection.js'
import {migrate} from '../../src/core/db/migrator.js'
import {seedDatabase} from '../../src/core/db/seeds/index.js'

/** The server the PostgreSQL tests use; each test suite makes its own throwaway database on it. */
export const PG_ADMIN_URL = process.env.LAUNDRY_OPS_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const REQUIRE_PG = process.env.LAUNDRY_OPS_REQUIRE_PG === '1'

export type Dialect = 'sqlite' | 'pg'

let pgAnswer: Promise<boolean> | undefined
let noticeShown = false

export function pgAvailable(): Promise<boolean> {
  pgAnswer ??= (async () => {
    const client = new pg.Client({connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000})
    try {
      await client.connect()
      await client.query('select 1')
      return true
    } catch {
      return false
    } finally {
      await client.end().catch(() => {})
    }
  })()
  return pgAnswer
}

async function adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string): Promise<T[]> {
  const client = new pg.Client({connectionString: PG_ADMIN_URL})
  await client.connect()
  try {
    return (await client.query<T>(sql)).rows
  } finally {
    await client.end()
  }
}

function pgUrl(database: string): string {
  const url = new URL(PG_ADMIN_URL)
  url.pathname = `/${database}`
  return url.toString()
}

/** What a scratch database holds when the suite gets it. */
export type ScratchStart = 'empty' | 'migrated' | 'seeded'

/**
 * The seed of a 'seeded' scratch database: `seedDatabase(db, {env, clock})`. `at` pins the seed's clock
 * (the period of the demo tenant's subscription and quota row, the timestamps); without it the seed runs
 * on the system clock when the template is built, as a suite seeding in its own `before()` did.
 */
export interface SeedSpec {
  env?: 'local' | 'production'
  at?: string
}

export interface ScratchOptions {
  /** 'empty' (the default) for tests of migrate and seed themselves; otherwise a copy of a template. */
  from?: ScratchStart
  seed?: SeedSpec
}

/** A throwaway database: an SQLite file in a temp folder, or a new database on the PostgreSQL server. */
export interface ScratchDatabase {
  dialect: Dialect
  url: string
  target: DatabaseTarget
  /** A folder the test may use as working directory / storage. */
  dir: string
  open(): Promise<Database>
  drop(): Promise<void>
}

// Templates: migrated (and seeded) once per test process and copied for each suite that asks for one,
// instead of migrating per suite. PostgreSQL: a database `laundry_ops_tpl_<run pid>_<key>` copied with
// CREATE DATABASE ... TEMPLATE; SQLite: a checkpointed file in a temp folder `laundry-ops-tpl-<run pid>-*`,
// copied. Built lazily (first use); dropped once the run ends (dropRunTemplates, the root hooks' global
// teardown); templates a killed run left behind are dropped by the next run, when it builds its first one.

const TEMPLATE_PREFIX = 'laundry_ops_tpl_'
const TEMPLATE_DIR_PREFIX = 'laundry-ops-tpl-'
const TEMPLATE_COMMENT = 'laundry-ops test template'
/** The host in a template's comment: a stale template is dropped only by a run on the host that made it. */
const HOST = hostname().replace(/'/g, '')
/**
 * The mocha process of this run. With --parallel each file runs in a worker process (MOCHA_WORKER_ID set),
 * a child of it; the workers build their own templates, named after the run and the worker.
 */
const RUN_PID = process.env.MOCHA_WORKER_ID === undefined ? process.pid : process.ppid
const WORKER = process.env.MOCHA_WORKER_ID === undefined ? '' : `w${process.env.MOCHA_WORKER_ID}_`

interface Template {
  dialect: Dialect
  /** The database name (pg) or the file (sqlite). */
  source: string
}

const templates = new Map<string, Promise<Template>>()
let sqliteTemplateDir: string | undefined
let pgStaleSwept: Promise<void> | undefined
let sqliteStaleSwept = false

function templateKey(options: ScratchOptions): string {
  if (options.from === 'migrated') return 'migrated'
  const at = options.seed?.at === undefined ? null : new Date(options.seed.at).toISOString()
  const spec = JSON.stringify({env: options.seed?.env ?? 'local', at})
  return `seeded_${createHash('sha1').update(spec).digest('hex').slice(0, 10)}`
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Drops the PostgreSQL templates of runs on this host whose process is gone (killed runs, Ctrl-C). */
async function dropStalePgTemplates(): Promise<void> {
  const rows = await adminQuery<{datname: string; note: string | null}>(
    `select datname, shobj_description(oid, 'pg_database') as note from pg_database where datname like '${TEMPLATE_PREFIX}%'`,
  )
  for (const {datname, note} of rows) {
    const owner = /^laundry-ops test template of pid (\d+) on (.*)$/.exec(note ?? '')
    if (!owner || owner[2] !== HOST || Number(owner[1]) === RUN_PID || processAlive(Number(owner[1]))) continue
    await adminQuery(`drop database if exists "${datname}" with (force)`)
  }
}

function removeStaleSqliteTemplates(): void {
  for (const name of readdirSync(tmpdir())) {
    const pid = new RegExp(`^${TEMPLATE_DIR_PREFIX}(\\d+)-`).exec(name)?.[1]
    if (pid && Number(pid) !== RUN_PID && !processAlive(Number(pid))) rmSync(path.join(tmpdir(), name), {recursive: true, force: true})
  }
}

async function fillTemplate(target: DatabaseTarget, options: ScratchOptions): Promise<void> {
  const db = await openDatabase(target, {create: true})
  try {
    await migrate(db)
    if (options.from === 'seeded') {
      const clock = options.seed?.at ? fixedClock(options.seed.at) : systemClock
      await seedDatabase(db, {env: options.seed?.env ?? 'local', clock})
    }
    // Everything into the main file, so a copy of that file alone is the whole database (WAL mode).
    if (db.dialect === 'sqlite') await db.knex.raw('PRAGMA wal_checkpoint(TRUNCATE)')
  } finally {
    // A template is copied only while nothing is connected to it: close the pool.
    await db.close()
  }
}

async function buildTemplate(dialect: Dialect, key: string, options: ScratchOptions): Promise<Template> {
  if (dialect === 'sqlite') {
    if (!sqliteStaleSwept) {
      sqliteStaleSwept = true
      removeStaleSqliteTemplates()
    }
    sqliteTemplateDir ??= mkdtempSync(path.join(tmpdir(), `${TEMPLATE_DIR_PREFIX}${RUN_PID}-${WORKER}`))
    const file = path.join(sqliteTemplateDir, `${key}.sqlite`)
    await fillTemplate(parseDatabaseUrl(`sqlite:${file}`, sqliteTemplateDir), options)
    if (existsSync(`${file}-wal`)) throw new Error(`SQLite template ${file} kept its WAL file after the checkpoint`)
    return {dialect, source: file}
  }
  pgStaleSwept ??= dropStalePgTemplates()
  await pgStaleSwept
  const name = `${TEMPLATE_PREFIX}${RUN_PID}_${WORKER}${key}`
  await adminQuery(`drop database if exists "${name}" with (force)`)
  await adminQuery(`create database "${name}"`)
  await adminQuery(`comment on database "${name}" is '${TEMPLATE_COMMENT} of pid ${RUN_PID} on ${HOST}'`)
  await fillTemplate(parseDatabaseUrl(pgUrl(name), tmpdir()), options)
  return {dialect, source: name}
}

function template(dialect: Dialect, options: ScratchOptions): Promise<Template> {
  const key = `${dialect}:${templateKey(options)}`
  let built = templates.get(key)
  if (!built) {
    built = buildTemplate(dialect, templateKey(options), options)
    // A failed build is not memoised: the next suite gets the real error again instead of a stale one.
    built.catch(() => templates.delete(key))
    templates.set(key, built)
  }
  return built
}

/**
 * Drops every template of this run, its workers' included (the root hooks' global teardown, which mocha
 * runs once in the main process when the run ends, in parallel mode too).
 */
export async function dropRunTemplates(): Promise<void> {
  templates.clear()
  sqliteTemplateDir = undefined
  for (const name of readdirSync(tmpdir())) {
    if (name.startsWith(`${TEMPLATE_DIR_PREFIX}${RUN_PID}-`)) rmSync(path.join(tmpdir(), name), {recursive: true, force: true})
  }
  if (!(await pgAvailable())) return
  const prefix = `${TEMPLATE_PREFIX}${RUN_PID}_`
  const rows = await adminQuery<{datname: string}>(`select datname from pg_database where starts_with(datname, '${prefix}')`)
  for (const {datname} of rows) await adminQuery(`drop database if exists "${datname}" with (force)`)
}

let counter = 0

/**
 * A throwaway database, empty or (options.from) a copy of the migrated or the migrated-and-seeded
 * template. Tests of migrate and seed themselves start empty.
 */
export async function createScratchDatabase(dialect: Dialect, options: ScratchOptions = {}): Promise<ScratchDatabase> {
  const from = options.from ?? 'empty'
  const source = from === 'empty' ? undefined : await template(dialect, options)
  const dir = mkdtempSync(path.join(tmpdir(), 'laundry-ops-test-'))
  let url: string
  let name = ''
  if (dialect === 'sqlite') {
    const file = path.join(dir, 'test.sqlite')
    if (source) copyFileSync(source.source, file)
    url = `sqlite:${file}`
  } else {
    name = `laundry_ops_test_${process.pid}_${Date.now().toString(36)}_${++counter}`
    await adminQuery(source ? `create database "${name}" template "${source.source}"` : `create database "${name}"`)
    url = pgUrl(name)
  }
  const target = parseDatabaseUrl(url, dir)
  const opened: Database[] = []
  return {
    dialect,
    url,
    target,
    dir,
    async open() {
      const db = await openDatabase(target, {create: true})
      opened.push(db)
      return db
    },
    async drop() {
      await Promise.all(opened.map((db) => db.close().catch(() => {})))
      if (dialect === 'pg') await adminQuery(`drop database if exists "${name}" with (force)`)
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

export interface EngineContext {
  scratch: ScratchDatabase
  dialect: Dialect
}

/**
 * Defines the same suite on SQLite and on PostgreSQL. Each engine gets a fresh database for the suite
 * (`ctx.scratch`): empty, or with `options.from` a copy of the migrated or seeded template. Without a
 * PostgreSQL server the PostgreSQL half is skipped with a visible notice, unless LAUNDRY_OPS_REQUIRE_PG=1
 * (CI), where it fails.
 */
export function describeEachEngine(title: string, define: (ctx: EngineContext) => void): void
export function describeEachEngine(title: string, options: ScratchOptions, define: (ctx: EngineContext) => void): void
export function describeEachEngine(title: string, ...rest: [(ctx: EngineContext) => void] | [ScratchOptions, (ctx: EngineContext) => void]): void {
  const [options, define] = rest.length === 1 ? [{}, rest[0]] : rest
  for (const dialect of ['sqlite', 'pg'] as const) {
    describe(`${title} [${dialect}]`, function () {
      const ctx = {dialect} as EngineContext
      before(async function () {
        if (dialect === 'pg' && !(await pgAvailable())) {
          if (REQUIRE_PG) throw new Error(`PostgreSQL is required (LAUNDRY_OPS_REQUIRE_PG=1) but ${PG_ADMIN_URL} does not answer`)
          if (!noticeShown) {
            console.warn(`\n  NOTICE: no PostgreSQL server answers at ${PG_ADMIN_URL}; the PostgreSQL tests are SKIPPED.\n`)
            noticeShown = true
          }
          this.skip()
        }
        ctx.scratch = await createScratchDatabase(dialect, options)
      })
      after(async () => {
        await ctx.scratch?.drop()
      })
      define(ctx)
    })
  }
}
