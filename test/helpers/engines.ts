import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import pg from 'pg'

import {type DatabaseTarget, parseDatabaseUrl} from '../../src/core/config.js'
import {type Database, openDatabase} from '../../src/core/db/connection.js'

/** The server the PostgreSQL tests use; each test suite makes its own throwaway database on it. */
export const PG_ADMIN_URL = process.env.LAUNDRY_OPS_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const REQUIRE_PG = process.env.LAUNDRY_OPS_REQUIRE_PG === '1'

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

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({connectionString: PG_ADMIN_URL})
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

let counter = 0

/** A throwaway database: an SQLite file in a temp folder, or a new database on the PostgreSQL server. */
export interface ScratchDatabase {
  dialect: 'sqlite' | 'pg'
  url: string
  target: DatabaseTarget
  /** A folder the test may use as working directory / storage. */
  dir: string
  open(): Promise<Database>
  drop(): Promise<void>
}

export async function createScratchDatabase(dialect: 'sqlite' | 'pg'): Promise<ScratchDatabase> {
  const dir = mkdtempSync(path.join(tmpdir(), 'laundry-ops-test-'))
  let url: string
  let name = ''
  if (dialect === 'sqlite') {
    url = `sqlite:${path.join(dir, 'test.sqlite')}`
  } else {
    name = `laundry_ops_test_${process.pid}_${Date.now().toString(36)}_${++counter}`
    await adminQuery(`create database "${name}"`)
    const admin = new URL(PG_ADMIN_URL)
    admin.pathname = `/${name}`
    url = admin.toString()
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

/**
 * Defines the same suite on SQLite and on PostgreSQL. Each engine gets a fresh database for the suite
 * (`ctx.scratch`). Without a PostgreSQL server the PostgreSQL half is skipped with a visible notice,
 * unless LAUNDRY_OPS_REQUIRE_PG=1 (CI), where it fails.
 */
export function describeEachEngine(title: string, define: (ctx: {scratch: ScratchDatabase; dialect: 'sqlite' | 'pg'}) => void): void {
  for (const dialect of ['sqlite', 'pg'] as const) {
    describe(`${title} [${dialect}]`, function () {
      const ctx = {dialect} as {scratch: ScratchDatabase; dialect: 'sqlite' | 'pg'}
      before(async function () {
        if (dialect === 'pg' && !(await pgAvailable())) {
          if (REQUIRE_PG) throw new Error(`PostgreSQL is required (LAUNDRY_OPS_REQUIRE_PG=1) but ${PG_ADMIN_URL} does not answer`)
          if (!noticeShown) {
            console.warn(`\n  NOTICE: no PostgreSQL server answers at ${PG_ADMIN_URL}; the PostgreSQL tests are SKIPPED.\n`)
            noticeShown = true
          }
          this.skip()
        }
        ctx.scratch = await createScratchDatabase(dialect)
      })
      after(async () => {
        await ctx.scratch?.drop()
      })
      define(ctx)
    })
  }
}
