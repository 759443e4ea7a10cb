import {createHash} from 'node:crypto'
import {closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync} from 'node:fs'
import path from 'node:path'

import type {Clock} from '../clock.js'
import {toDbTimestamp} from '../clock.js'
import type {Database} from '../db/connection.js'
import {acquireLease, LeaseHeldError} from '../db/lease.js'
import {type Executor, writeTransaction} from '../db/transactions.js'
import {OpsError} from '../errors.js'
import {encodeLines, fsyncDir, MANIFEST_SUFFIX, readArchiveLines, sha256, unfinishedArchives, writeAll, writeFileAtomic} from './archive-files.js'

export const ARCHIVE_LEASE_KEY = 'laundry-ops:audit-archive'
const LEASE_SECONDS = 600

export interface ArchiveOptions {
  days: number
  chunk: number
  channel?: string
  dryRun: boolean
  gzip: boolean
  clock: Clock
  /** `<storage>`; archives go to `<storage>/app/audit-archives/`. */
  storage: string
  toolVersion: string
  /** Called after each chunk is durable and deleted (progress output). */
  onChunk?: (progress: {archived: number; matched: number}) => void
}

export interface ArchiveKey {
  created_at: string
  id: string
}

export interface Manifest {
  file: string
  rows: number
  bytes: number
  sha256: string
  gzip: boolean
  first: ArchiveKey | null
  last: ArchiveKey | null
  filter: {cutoff: string; days: number | null; channel: string | null}
  tool: {name: 'laundry-ops'; version: string}
  written_at: string
  recovered: boolean
}

export interface RecoveryReport {
  file: string
  rows: number
  deleted_from_table: number
  torn_tail: boolean
}

export interface ArchiveResult {
  matched: number
  archived: number
  deleted: number
  dry_run: boolean
  cutoff: string
  file: string | null
  manifest: string | null
  recovered: RecoveryReport[]
}

const pad = (n: number) => String(n).padStart(2, '0')

/** `YYYYMMDD-HHMMSS` in UTC, as upstream names its files. */
function stamp(d: Date): string {
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`
}

/** Carbon's toIso8601String() of a stored UTC timestamp: `2025-11-09T02:00:00+00:00`. */
function isoFromDb(value: unknown): string | null {
  if (value === null || value === undefined) return null
  const text = String(value)
  return `${text.slice(0, 10)}T${text.slice(11, 19)}+00:00`
}

/**
 * The metadata as stored: compact JSON text goes in verbatim (no parse and re-encode per row); anything
 * else (pretty-printed, not JSON) is decoded and re-encoded so the line stays one valid JSON object.
 */
function metadataJson(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  if (typeof value !== 'string') return JSON.stringify(value)
  if (/^(\{|\[)[^\n\r]*(\}|\])$/.test(value)) {
    try {
      JSON.parse(value)
      return value
    } catch {}
  }
  try {
    return JSON.stringify(JSON.parse(value))
  } catch {
    return JSON.stringify(value)
  }
}

const str = (v: unknown) => (v === null || v === undefined ? 'null' : JSON.stringify(String(v)))

/** One archive line: the 12 keys, in upstream's order. */
function toLine(row: Record<string, unknown>): string {
  const userId = row.user_id === null || row.user_id === undefined ? 'null' : String(Number(row.user_id))
  const created = isoFromDb(row.created_at)
  return (
    `{"id":${str(row.id)},"tenant_id":${str(row.tenant_id)},"user_id":${userId},"outlet_id":${str(row.outlet_id)},` +
    `"event_key":${str(row.event_key)},"channel":${str(row.channel)},"entity_type":${str(row.entity_type)},` +
    `"entity_id":${str(row.entity_id)},"request_id":${str(row.request_id)},"ip_address":${str(row.ip_address)},` +
    `"metadata":${metadataJson(row.metadata_json)},"created_at":${created === null ? 'null' : JSON.stringify(created)}}`
  )
}

async function deleteIds(db: Database, ids: string[]): Promise<number> {
  let deleted = 0
  for (let i = 0; i < ids.length; i += 5000) {
    const slice = ids.slice(i, i + 5000)
    deleted += await writeTransaction(db, (trx) => trx('audit_events').whereIn('id', slice).delete())
  }
  return deleted
}

function writeManifest(file: string, manifest: Manifest): string {
  const target = file + MANIFEST_SUFFIX
  writeFileAtomic(target, `${JSON.stringify(manifest, null, 2)}\n`)
  return target
}

/**
 * Finishes the archive of a run that was killed: keeps its whole lines (rewriting the file without a torn
 * tail), deletes from the table every row those lines hold (the run may have died between the fsync and
 * the delete), and writes the manifest. Safe to repeat.
 */
async function recoverArchive(db: Database, file: string, options: ArchiveOptions): Promise<RecoveryReport> {
  const gzip = file.endsWith('.gz')
  const {lines, torn} = readArchiveLines(file)
  if (torn) writeFileAtomic(file, encodeLines(lines, gzip))
  const keys = lines.map((line) => {
    const row = JSON.parse(line) as {id: string; created_at: string | null}
    return {id: row.id, created_at: row.created_at ? `${row.created_at.slice(0, 10)} ${row.created_at.slice(11, 19)}` : ''}
  })
  const deleted = await deleteIds(
    db,
    keys.map((k) => k.id),
  )
  const bytes = readFileSync(file)
  writeManifest(file, {
    file: path.basename(file),
    rows: keys.length,
    bytes: bytes.length,
    sha256: sha256(bytes),
    gzip,
    first: keys[0] ?? null,
    last: keys.at(-1) ?? null,
    filter: {cutoff: 'unknown (recovered)', days: null, channel: null},
    tool: {name: 'laundry-ops', version: options.toolVersion},
    written_at: toDbTimestamp(options.clock.now()),
    recovered: true,
  })
  return {file, rows: keys.length, deleted_from_table: deleted, torn_tail: torn}
}

function archiveFileName(dir: string, now: Date, gzip: boolean): string {
  const base = `audit-events-${stamp(now)}`
  const ext = gzip ? '.jsonl.gz' : '.jsonl'
  let candidate = path.join(dir, base + ext)
  for (let n = 2; existsSync(candidate); n++) candidate = path.join(dir, `${base}-${n}${ext}`)
  return candidate
}

/**
 * ops:audit:archive with the paging bug fixed and crash safety: rows older than the cutoff are read by
 * keyset on (created_at, id); each chunk is appended to the archive and fsynced BEFORE its rows are
 * deleted. A kill at any moment leaves every row in the table or in the archive file (or both, for the
 * chunk between fsync and delete); the next run first finishes such a file (recoverArchive), so no row
 * ends up in two archives. One run at a time, guarded by a lease in `cache_locks`.
 */
export async function archiveAuditEvents(db: Database, options: ArchiveOptions): Promise<ArchiveResult> {
  const now = options.clock.now()
  const cutoff = toDbTimestamp(new Date(now.getTime() - options.days * 86_400_000))
  const dir = path.join(options.storage, 'app', 'audit-archives')
  const scope = () => {
    const q = db.knex('audit_events').where('created_at', '<', cutoff)
    if (options.channel) q.where('channel', options.channel)
    return q
  }
  const [{n}] = await scope().count({n: '*'})
  const result: ArchiveResult = {matched: Number(n), archived: 0, deleted: 0, dry_run: options.dryRun, cutoff, file: null, manifest: null, recovered: []}
  if (options.dryRun) {
    result.archived = result.matched
    return result
  }

  let lease
  try {
    lease = await acquireLease(db, ARCHIVE_LEASE_KEY, LEASE_SECONDS, options.clock.now)
  } catch (error) {
    if (error instanceof LeaseHeldError) throw new OpsError('ARCHIVE_RUNNING', `another audit archive run is in progress (${error.message}); nothing was changed`)
    throw error
  }
  try {
    try {
      mkdirSync(dir, {recursive: true})
    } catch (error) {
      throw new OpsError('STORAGE_UNWRITABLE', `cannot create the archive folder ${dir} (${(error as NodeJS.ErrnoException).code})`)
    }
    for (const file of unfinishedArchives(dir)) result.recovered.push(await recoverArchive(db, file, options))
    if (result.recovered.some((r) => r.deleted_from_table > 0)) {
      const [{n: again}] = await scope().count({n: '*'})
      result.matched = Number(again)
    }
    if (result.matched === 0) return result

    const file = archiveFileName(dir, now, options.gzip)
    const fd = openSync(file, 'wx')
    fsyncDir(dir)
    result.file = file
    const hash = createHash('sha256')
    let bytes = 0
    let first: ArchiveKey | null = null
    let last: ArchiveKey | null = null
    // One connection for the run: the ordered key list lives in a temporary table on it, so every page is
    // a primary-key range instead of a scan and sort of audit_events (which has no created_at index).
    const conn = await db.knex.client.acquireConnection()
    const on = <T extends {connection(c: unknown): T}>(q: T): T => q.connection(conn)
    const keys = db.dialect === 'sqlite' ? 'temp.laundry_ops_archive_keys' : 'laundry_ops_archive_keys'
    try {
      if (db.dialect === 'sqlite') await on(db.knex.raw('pragma synchronous = FULL'))
      await on(db.knex.raw(`drop table if exists ${keys}`))
      await on(
        db.knex.raw(
          db.dialect === 'sqlite'
            ? `create temp table laundry_ops_archive_keys ("rn" integer primary key, "id" integer not null, "created_at" varchar)`
            : `create temp table laundry_ops_archive_keys ("rn" bigint primary key, "id" uuid not null, "created_at" timestamp(0))`,
        ),
      )
      const channel = options.channel ? ' and "channel" = ?' : ''
      // On SQLite the key list holds rowids: a page then reads rows by rowid, the cheapest lookup there is.
      const rowKey = db.dialect === 'sqlite' ? '"rowid"' : '"id"'
      await on(
        db.knex.raw(
          `insert into ${keys} ("rn", "id", "created_at")
           select row_number() over (order by "created_at", "id"), ${rowKey}, "created_at" from "audit_events" where "created_at" < ?${channel}`,
          options.channel ? [cutoff, options.channel] : [cutoff],
        ),
      )
      const [{total}] = await on(db.knex(db.knex.raw(keys)).max({total: 'rn'}))
      const lastRn = Number(total ?? 0)
      for (let from = 0; from < lastRn; from += options.chunk) {
        const rows = await on(
          db
            .knex(db.knex.raw(`${keys} as k`))
            .join('audit_events as a', db.dialect === 'sqlite' ? 'a.rowid' : 'a.id', 'k.id')
            .where('k.rn', '>', from)
            .where('k.rn', '<=', from + options.chunk)
            .orderBy('k.rn')
            .select(
              'a.id', 'a.tenant_id', 'a.user_id', 'a.outlet_id', 'a.event_key', 'a.channel', 'a.entity_type', 'a.entity_id',
              'a.request_id', 'a.ip_address', 'a.created_at',
              // The stored JSON text, written into the line as stored (PostgreSQL would parse json otherwise).
              db.dialect === 'pg' ? db.knex.raw('a.metadata_json::text as metadata_json') : 'a.metadata_json',
            ),
        )
        if (rows.length === 0) continue
        const data = encodeLines(rows.map(toLine), options.gzip)
        writeAll(fd, data)
        fsyncSync(fd)
        hash.update(data)
        bytes += data.length
        // Durable in the archive: now the rows may go (one statement, so one transaction).
        result.deleted += await on(db.knex('audit_events').whereIn('id', rows.map((r) => String(r.id))).delete())
        result.archived += rows.length
        const tail = rows.at(-1)!
        first ??= {created_at: String(rows[0].created_at), id: String(rows[0].id)}
        last = {created_at: String(tail.created_at), id: String(tail.id)}
        await lease.refresh(((table: string) => on(db.knex(table))) as unknown as Executor)
        options.onChunk?.({archived: result.archived, matched: result.matched})
      }
      await on(db.knex.raw(`drop table if exists ${keys}`))
    } finally {
      closeSync(fd)
      if (db.dialect === 'sqlite') await on(db.knex.raw('pragma synchronous = NORMAL')).catch(() => {})
      await db.knex.client.releaseConnection(conn)
    }
    result.manifest = writeManifest(file, {
      file: path.basename(file),
      rows: result.archived,
      bytes,
      sha256: hash.digest('hex'),
      gzip: options.gzip,
      first,
      last,
      filter: {cutoff, days: options.days, channel: options.channel ?? null},
      tool: {name: 'laundry-ops', version: options.toolVersion},
      written_at: toDbTimestamp(options.clock.now()),
      recovered: false,
    })
    return result
  } finally {
    await lease.release().catch(() => {})
  }
}
