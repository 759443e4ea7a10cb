// Backup and restore benchmark for laundry-ops: wall time and peak RSS of the real `laundry-ops db backup`
// (age X25519 recipient) and `laundry-ops db restore --force` of a database holding N audit events (default
// 1,000,000), on SQLite and PostgreSQL, beside the plain tools on the same data in the same run:
// `pg_dump --format=custom` / `pg_restore --single-transaction` and `sqlite3 .backup` / a file copy.
//
//   node --import tsx bench/backup.ts                      # both engines, 1,000,000 rows
//   node --import tsx bench/backup.ts --rows 100000 --engines sqlite
//
// Peak RSS is ru_maxrss of the measured process (/usr/bin/time); for laundry-ops that is the Node process
// (pg_dump / pg_restore run as its children and are not counted in it; their own peak is the baseline's).
import {execFileSync} from 'node:child_process'
import {copyFileSync, mkdtempSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {generateIdentity, identityToRecipient} from 'age-encryption'

import {engineList, parseBenchArgs, positiveInteger} from './lib/args.mjs'
import {fmt, table} from './lib/bench-report.js'
import {type BulkDatabase, createMigrated, dropAll, generateAuditEvents} from './lib/bulk-db.js'
import {childEnv, runTimed} from './lib/timed-run.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BIN = path.join(ROOT, 'bin', 'run.js')

const args = parseBenchArgs('backup', () => 'node --import tsx bench/backup.ts [--rows 1000000] [--engines sqlite,pg]', {
  rows: {type: 'string', parse: positiveInteger},
  engines: {type: 'string', parse: engineList},
})
const rows = args.rows ?? 1_000_000
const engines = args.engines ?? ['sqlite', 'pg']

interface Row {
  engine: string
  what: string
  seconds: number
  rssMb: number
  bytes: number
}

async function main(): Promise<void> {
  const results: Row[] = []
  const work = mkdtempSync(path.join(tmpdir(), 'laundry-ops-bench-backup-'))
  const identity = await generateIdentity()
  const keyFile = path.join(work, 'key.txt')
  const {writeFileSync} = await import('node:fs')
  writeFileSync(keyFile, `${identity}\n`)
  const recipient = await identityToRecipient(identity)
  try {
    for (const engine of engines) {
      process.stderr.write(`${engine}: migrating and filling ${rows} audit events…\n`)
      const db: BulkDatabase = await createMigrated(engine, `backup_${rows}`)
      const conn = await db.open()
      await generateAuditEvents(conn, rows, {nowSeconds: Math.floor(Date.now() / 1000), minDays: 1, maxDays: 400})
      await conn.close()
      const out = path.join(work, engine)
      const env = childEnv({DATABASE_URL: db.url, LAUNDRY_OPS_STORAGE: path.join(work, `${engine}-storage`), LAUNDRY_OPS_BACKUP_RECIPIENT: recipient})
      const run = (argv: string[], extra: Record<string, string> = {}) =>
        runTimed(argv, {cwd: work, env: {...env, ...extra}, timeoutMs: 3_600_000, pgDatabase: engine === 'pg' ? db.name : undefined})

      const backup = await run([process.execPath, BIN, 'db', 'backup', '--output', out, '--json'])
      if (backup.code !== 0) throw new Error(`db backup failed: ${backup.stderr}`)
      const made = JSON.parse(backup.stdout) as {file: string; bytes: number}
      results.push({engine, what: 'laundry-ops db backup (age)', seconds: backup.wallSeconds, rssMb: backup.peakRssMb, bytes: made.bytes})

      const plain = path.join(work, `${engine}-plain`)
      if (engine === 'pg') {
        const dump = await run(['pg_dump', '--format=custom', `--file=${plain}`, '-h', '127.0.0.1', '-U', 'postgres', db.name])
        results.push({engine, what: 'pg_dump --format=custom', seconds: dump.wallSeconds, rssMb: dump.peakRssMb, bytes: statSync(plain).size})
      } else {
        const copy = await run(['sqlite3', db.name, `.backup '${plain}'`])
        results.push({engine, what: 'sqlite3 .backup', seconds: copy.wallSeconds, rssMb: copy.peakRssMb, bytes: statSync(plain).size})
      }

      const restore = await run([process.execPath, BIN, 'db', 'restore', made.file, '--identity', keyFile, '--force', '--json'])
      if (restore.code !== 0) throw new Error(`db restore failed: ${restore.stderr}`)
      results.push({
        engine,
        what: 'laundry-ops db restore --force (verify + restore + compare)',
        seconds: restore.wallSeconds,
        rssMb: restore.peakRssMb,
        bytes: made.bytes,
      })
      if (engine === 'pg') {
        execFileSync('psql', [
          '-h',
          '127.0.0.1',
          '-U',
          'postgres',
          '-qc',
          `drop database if exists ${db.name}_plain`,
          '-c',
          `create database ${db.name}_plain`,
          'postgres',
        ])
        const plainRestore = await run([
          'pg_restore',
          '--single-transaction',
          '--no-owner',
          '-h',
          '127.0.0.1',
          '-U',
          'postgres',
          '-d',
          `${db.name}_plain`,
          plain,
        ])
        results.push({
          engine,
          what: 'pg_restore --single-transaction',
          seconds: plainRestore.wallSeconds,
          rssMb: plainRestore.peakRssMb,
          bytes: statSync(plain).size,
        })
        execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-qc', `drop database if exists ${db.name}_plain`, 'postgres'])
      } else {
        const target = path.join(work, 'copy.sqlite')
        const started = process.hrtime.bigint()
        copyFileSync(plain, target)
        const seconds = Number(process.hrtime.bigint() - started) / 1e9
        results.push({engine, what: 'file copy of the .backup (restore by hand)', seconds, rssMb: NaN, bytes: statSync(plain).size})
      }
      rmSync(plain, {force: true})
      await db.drop()
    }
  } finally {
    await dropAll()
    rmSync(work, {recursive: true, force: true})
  }
  process.stdout.write(`Backup and restore of ${fmt(rows)} audit events (plus the schema's other tables)\n`)
  process.stdout.write(
    `${table(
      ['engine', 'run', 'seconds', 'peak RSS MB', 'file MB'],
      results.map((r) => [r.engine, r.what, r.seconds.toFixed(1), Number.isNaN(r.rssMb) ? '-' : r.rssMb.toFixed(0), (r.bytes / 2 ** 20).toFixed(1)]),
      [false, false, true, true, true],
    )}\n`,
  )
}

await main()
