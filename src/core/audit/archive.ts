import {createHash} from 'node:crypto'
import {closeSync, existsSync, fsyncSync, mkdirSync, openSync, rmSync} from 'node:fs'
import path from 'node:path'

import type {Knex} from 'knex'

import type {Clock} from '../clock.js'
import {toDbTimestamp} from '../clock.js'
import type {Database} from '../db/connection.js'
import {acquireConnection, releaseConnection} from '../db/connection.js'
import {acquireLease, type Lease, LeaseHeldError} from '../db/lease.js'
import {type Executor, writeTransaction} from '../db/transactions.js'
import {OpsError, UsageError} from '../errors.js'
import {interruptedBy, requireTables} from '../db/faults.js'
import {databaseIdentity, type DatabaseIdentity} from '../db/identity.js'
import {assertWithin, LIMITS} from '../limits.js'
import {
  createArchiveSource,
  encodeLines,
  fsyncDir,
  MANIFEST_SUFFIX,
  readArchiveSource,
  recoverArchiveFile,
  removeStaleFiles,
  scanArchiveFile,
  SOURCE_SUFFIX,
  unfinishedArchives,
  writeAll,
  writeFileAtomic,
} from './archive-files.js'

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
  /** Rows of fsynced pages deleted together (default DELETE_BATCH_ROWS); tests use small values. */
  deleteBatchRows?: number
  /** Called after each batch of durable rows is deleted (progress output). */
  onChunk?: (progress: {archived: number; matched: number}) => void
  /**
   * Progress, for the command to render: `archive` after each page written and fsynced (rows archived of
   * the rows matched); `recover` while an interrupted archive is finished first (rows of its file read so
   * far; the total is not known until the end of the file).
   */
  onProgress?: (done: number, total: number | null, phase: ArchivePhase) => void
  /**
   * Unfinished archives (paths or names in the archive folder) that carry no record of their database
   * (written by laundry-ops before 0.2) and that the operator declares to be this database's (`--adopt`).
   */
  adopt?: string[]
}

export type ArchivePhase = 'recover' | 'archive'

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
  /** The database the rows came from (no secrets). */
  database: {display: string; fingerprint: string}
  written_at: string
  recovered: boolean
}

export interface RecoveryReport {
  file: string
  rows: number
  /** Rows of the file still in the table, deleted now (a dry run: that would be deleted). */
  deleted_from_table: number
  torn_tail: boolean
}

/** An unfinished archive of another database in the same folder: never touched by this run. */
export interface LeftAlone {
  file: string
  /** The database it belongs to, as recorded beside it. */
  database: string
}

export interface ArchiveResult {
  matched: number
  archived: number
  deleted: number
  dry_run: boolean
  cutoff: string
  /** The database archived (no secrets). */
  database: string
  file: string | null
  manifest: string | null
  /** Unfinished archives of this database that this run finished first (a dry run: would finish). */
  recovered: RecoveryReport[]
  /** Unfinished archives of other databases sharing the folder, left alone. */
  left_alone: LeftAlone[]
}

const pad = (n: number) => String(n).padStart(2, '0')

/** `YYYYMMDD-HHMMSS` in UTC, as upstream names its files. */
function stamp(d: Date): string {
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`
}

/** Carbon's toIso8601String() of a stored UTC timestamp: `2025-11-09T02:00:00+00:00`. */
function isoFromDb(value: unknown): string | null {
  if (value === null || value === undefined) return null
  const text = value instanceof Date ? value.toISOString().replace('T', ' ') : typeof value === 'string' ? value : JSON.stringify(value)
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
    } catch {
      // Not JSON after all: re-encoded below.
    }
  }
  try {
    return JSON.stringify(JSON.parse(value))
  } catch {
    return JSON.stringify(value)
  }
}

const str = (v: unknown) =>
  v === null || v === undefined
    ? 'null'
    : JSON.stringify(typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : JSON.stringify(v))

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

/** Ids per delete statement while recovering (bound one parameter each: far below SQLite's 32,766 and PG's 65,535). */
const RECOVERY_DELETE_IDS = 5000

async function deleteIds(db: Database, ids: string[]): Promise<number> {
  return writeTransaction(db, (trx) => trx('audit_events').whereIn('id', ids).delete())
}

function writeManifest(file: string, manifest: Manifest): string {
  const target = file + MANIFEST_SUFFIX
  writeFileAtomic(target, `${JSON.stringify(manifest, null, 2)}\n`)
  return target
}

/**
 * Finishes the archive of a run that was killed: keeps its whole lines (cutting a torn tail), deletes from
 * the table every row those lines hold (the run may have died between the fsync and the delete), and
 * writes the manifest. Safe to repeat. Streams the file: memory does not grow with its size (one read
 * block, and the ids of at most one delete statement plus one block's lines).
 */
async function recoverArchive(db: Database, file: string, options: ArchiveOptions, identity: DatabaseIdentity, lease: Lease): Promise<RecoveryReport> {
  const gzip = file.endsWith('.gz')
  let first: {id: string; created_at: string} | null = null
  let last: {id: string; created_at: string} | null = null
  let ids: string[] = []
  let deleted = 0
  let read = 0
  const onRow = (line: Record<string, unknown>) => {
    read++
    const row = line as {id: string; created_at: string | null}
    last = {id: row.id, created_at: row.created_at ? `${row.created_at.slice(0, 10)} ${row.created_at.slice(11, 19)}` : ''}
    first ??= last
    ids.push(row.id)
  }
  const drain = async (all = false) => {
    while (ids.length >= RECOVERY_DELETE_IDS || (all && ids.length > 0)) {
      const batch = ids.slice(0, RECOVERY_DELETE_IDS)
      ids = ids.slice(RECOVERY_DELETE_IDS)
      deleted += await deleteIds(db, batch)
      // A large file takes a while: the lease is kept alive as its rows are deleted.
      await lease.refresh()
      options.onProgress?.(read, null, 'recover')
    }
  }
  const kept = await recoverArchiveFile(file, onRow, () => drain())
  await drain(true)
  options.onProgress?.(kept.rows, kept.rows, 'recover')
  writeManifest(file, {
    file: path.basename(file),
    rows: kept.rows,
    bytes: kept.bytes,
    sha256: kept.sha256,
    gzip,
    first,
    last,
    filter: {cutoff: 'unknown (recovered)', days: null, channel: null},
    tool: {name: 'laundry-ops', version: options.toolVersion},
    database: identity,
    written_at: toDbTimestamp(options.clock.now()),
    recovered: true,
  })
  // The manifest now records the source; the side record is done with.
  rmSync(file + SOURCE_SUFFIX, {force: true})
  fsyncDir(path.dirname(file))
  return {file, rows: kept.rows, deleted_from_table: deleted, torn_tail: kept.torn}
}

/** What recoverArchive would do, without changing the file or the table (for --dry-run). */
async function previewRecovery(db: Database, file: string, inScope: () => Knex.QueryBuilder): Promise<{report: RecoveryReport; matchedInFile: number}> {
  let ids: string[] = []
  let present = 0
  let matchedInFile = 0
  const drain = async (all = false) => {
    while (ids.length >= RECOVERY_DELETE_IDS || (all && ids.length > 0)) {
      const batch = ids.slice(0, RECOVERY_DELETE_IDS)
      ids = ids.slice(RECOVERY_DELETE_IDS)
      const [{n}]: Array<{n: number | string}> = await db.knex('audit_events').whereIn('id', batch).count({n: '*'})
      present += Number(n)
      const [{n: m}]: Array<{n: number | string}> = await inScope().whereIn('id', batch).count({n: '*'})
      matchedInFile += Number(m)
    }
  }
  const scanned = await scanArchiveFile(
    file,
    (row) => ids.push(String(row.id)),
    () => drain(),
  )
  await drain(true)
  return {report: {file, rows: scanned.rows, deleted_from_table: present, torn_tail: scanned.torn}, matchedInFile}
}

/** Rows deleted per batch: fsynced pages are deleted together, by the hundred thousand, not page by page. */
export const DELETE_BATCH_ROWS = 100_000
/** PostgreSQL: about this many ids per delete statement (bound as one uuid[] parameter, never one per id). */
const PG_DELETE_IDS = 20_000
/** The lease (10 minutes) is renewed after every delete batch, and at least this often in between. */
const LEASE_REFRESH_MS = 5_000

const COLUMNS = ['id', 'tenant_id', 'user_id', 'outlet_id', 'event_key', 'channel', 'entity_type', 'entity_id', 'request_id', 'ip_address', 'created_at']

type Row = Record<string, unknown>
/** Encodes, appends and fsyncs one page of rows (in archive order). Returns when the lines are durable. */
type PageSink = (rows: Row[]) => void

interface CopyContext {
  deleteBatch: number
  cutoff: string
  channel?: string
  chunk: number
  page: PageSink
  lease: Lease
  /** Rows deleted from the table, as each delete commits (so a fault reports what was done). */
  onDeleted: (rows: number) => void
  /** After each delete batch: progress output. */
  progress: () => void
}

/**
 * SQLite: the ordered key list (rowid and id of every matching row, numbered in (created_at, id) order)
 * lives in a temporary table on the one connection, so every page is a key range read by rowid. Pages
 * are fsynced one by one; the fsynced rows are deleted by key range every DELETE_BATCH_ROWS rows (and at
 * the end): one DELETE per 100k rows instead of one per page, which cuts the index write amplification
 * of audit_events' four indexes. Only rows whose rowid AND id are the ones listed (so the rows the page
 * read) are deleted, and no statement binds more than a handful of parameters, whatever --chunk is.
 */
async function copySqlite(db: Database, c: CopyContext): Promise<void> {
  const conn = await acquireConnection(db)
  const on = <T extends {connection(c: unknown): T}>(q: T): T => q.connection(conn)
  const keys = 'temp.laundry_ops_archive_keys'
  // The key list's temp file gets a 2 MB page cache instead of the connection's 16 MB: it is read in key
  // order, so the small cache costs no time and keeps 12-16 MB off the peak RSS (docs/BENCHMARKS.md).
  const [tempCache] = (await on(db.knex.raw('pragma temp.cache_size'))) as Array<{cache_size: number}>
  try {
    await on(db.knex.raw('pragma synchronous = FULL'))
    await on(db.knex.raw('pragma temp.cache_size = -2000'))
    await on(db.knex.raw(`drop table if exists ${keys}`))
    await on(db.knex.raw(`create temp table laundry_ops_archive_keys ("rn" integer primary key, "id" integer not null, "uid" varchar not null)`))
    await on(
      db.knex.raw(
        `insert into ${keys} ("rn", "id", "uid")
         select row_number() over (order by "created_at", "id"), "rowid", "id" from "audit_events" where "created_at" < ?${c.channel ? ' and "channel" = ?' : ''}`,
        c.channel ? [c.cutoff, c.channel] : [c.cutoff],
      ),
    )
    const [{total}] = await on(db.knex(db.knex.raw(keys)).max({total: 'rn'}))
    const lastRn = Number(total ?? 0)
    const listed = `${keys} as k join "audit_events" as a on a."rowid" = k."id" and a."id" = k."uid"`
    let durable = 0 // key numbers up to this one are in the file, fsynced
    let removed = 0 // key numbers up to this one are deleted from the table
    let refreshed = Date.now()
    const flush = async () => {
      if (durable === removed) return
      const {changes} = (await on(
        db.knex.raw(`delete from "audit_events" where "rowid" in (select k."id" from ${listed} where k."rn" > ? and k."rn" <= ?)`, [removed, durable]),
      )) as {changes: number}
      c.onDeleted(changes)
      removed = durable
      await c.lease.refresh(((table: string) => on(db.knex(table))) as unknown as Executor)
      refreshed = Date.now()
      c.progress()
    }
    for (let from = 0; from < lastRn; from += c.chunk) {
      const to = Math.min(from + c.chunk, lastRn)
      const rows = (await on(
        db.knex.raw(
          `select ${COLUMNS.map((col) => `a."${col}"`).join(', ')}, a."metadata_json" from ${listed} where k."rn" > ? and k."rn" <= ? order by k."rn"`,
          [from, to],
        ),
      )) as Row[]
      // The lease is checked before the page is appended: a run that stalled past its lease and lost it
      // stops before writing to a file the run that took over may already have finished.
      if (Date.now() - refreshed > LEASE_REFRESH_MS) {
        await c.lease.refresh(((table: string) => on(db.knex(table))) as unknown as Executor)
        refreshed = Date.now()
      }
      if (rows.length > 0) c.page(rows)
      durable = to
      if (durable - removed >= c.deleteBatch) await flush()
    }
    await flush()
    await on(db.knex.raw(`drop table if exists ${keys}`))
  } finally {
    await on(db.knex.raw('pragma synchronous = NORMAL')).catch(() => {})
    if (tempCache) await on(db.knex.raw(`pragma temp.cache_size = ${Number(tempCache.cache_size)}`)).catch(() => {})
    await releaseConnection(db, conn)
  }
}

/**
 * PostgreSQL: one server-side cursor over the matching rows in (created_at, id) order, on its own
 * connection in a read-only snapshot: one sort, no index probe per row. (Fetching the next page before
 * encoding this one measured no faster, with a higher peak heap.) The ids of fsynced pages are deleted
 * on another connection every DELETE_BATCH_ROWS rows (and at the end), by `id = any($1::uuid[])`:
 * exactly the rows the cursor returned, one array parameter per statement whatever --chunk is. That
 * delete runs while the cursor reads on; it is awaited before the next batch and before the manifest.
 */
async function copyPg(db: Database, c: CopyContext): Promise<void> {
  const conn = await acquireConnection(db)
  // Every statement of the cursor goes through knex on that connection. (Calling the pg client directly
  // measured a peak heap 2-3x higher for the same fetches: young rows survived scavenges.)
  const query = async (sql: string, bindings: readonly unknown[] = []) =>
    (await db.knex.raw(sql, bindings as Knex.RawBinding[]).connection(conn)) as {rows: Row[]}
  let deleting: Promise<void> | null = null
  let inTransaction = false
  // The ids of fsynced pages, one comma-separated string per page (a few large strings rather than one
  // small string per row: they live until their batch is deleted, and would otherwise fill the old heap).
  type Page = {ids: string; rows: number}
  const startDelete = (pages: Page[]): Promise<void> => {
    const run = (async () => {
      for (let i = 0; i < pages.length;) {
        const group: string[] = []
        for (let n = 0; i < pages.length && n < PG_DELETE_IDS; i++) {
          group.push(pages[i].ids)
          n += pages[i].rows
        }
        const result: {rowCount: number | null} = await db.knex.raw('delete from "audit_events" where "id" = any(?::uuid[])', [`{${group.join(',')}}`])
        c.onDeleted(result.rowCount ?? 0)
      }
      await c.lease.refresh()
      c.progress()
    })()
    run.catch(() => {}) // awaited (and so rethrown) before the next batch and at the end
    return run
  }
  try {
    await query('begin isolation level repeatable read read only')
    inTransaction = true
    const select = `select ${COLUMNS.map((col) => `"${col}"`).join(', ')}, "metadata_json"::text as "metadata_json" from "audit_events"`
    await query(
      `declare laundry_ops_archive no scroll cursor for ${select} where "created_at" < ?${c.channel ? ' and "channel" = ?' : ''} order by "created_at", "id"`,
      c.channel ? [c.cutoff, c.channel] : [c.cutoff],
    )
    let pending: Page[] = []
    let pendingRows = 0
    let refreshed = Date.now()
    for (;;) {
      const {rows} = await query(`fetch forward ${c.chunk} from laundry_ops_archive`)
      if (rows.length === 0) break
      // Checked before the page is appended, as on SQLite.
      if (Date.now() - refreshed > LEASE_REFRESH_MS) {
        await c.lease.refresh()
        refreshed = Date.now()
      }
      c.page(rows)
      pending.push({ids: rows.map((row) => row.id).join(','), rows: rows.length})
      pendingRows += rows.length
      if (pendingRows >= c.deleteBatch) {
        if (deleting) await deleting
        deleting = startDelete(pending)
        pending = []
        pendingRows = 0
        refreshed = Date.now()
      }
      if (rows.length < c.chunk) break
    }
    if (deleting) await deleting
    deleting = null
    if (pending.length > 0) await startDelete(pending)
    await query('commit')
    inTransaction = false
  } finally {
    if (deleting) await deleting.catch(() => {})
    if (inTransaction) await query('rollback').catch(() => {})
    await releaseConnection(db, conn)
  }
}

/**
 * Claims a new archive name (upstream's `audit-events-YYYYMMDD-HHMMSS.jsonl`, `-2`, `-3`… when taken)
 * by creating its source record exclusively: two runs against two databases in the same second get two
 * names. The archive file itself is only created when the first page is written.
 */
function claimArchiveName(dir: string, now: Date, gzip: boolean, identity: DatabaseIdentity): string {
  const base = `audit-events-${stamp(now)}`
  const ext = gzip ? '.jsonl.gz' : '.jsonl'
  for (let n = 1; ; n++) {
    const candidate = path.join(dir, n === 1 ? base + ext : `${base}-${n}${ext}`)
    if (existsSync(candidate)) continue
    // The record is whole or absent: a run killed while claiming leaves no empty record nobody can place.
    if (createArchiveSource(candidate, {database: identity.display, fingerprint: identity.fingerprint})) return candidate
  }
}

/** Sorts the unfinished archives of the folder: ours to finish, other databases' to leave alone, and unknown ones. */
function unfinishedBySource(dir: string, identity: DatabaseIdentity, adopt: string[]): {ours: string[]; others: LeftAlone[]; unknown: string[]} {
  const ours: string[] = []
  const others: LeftAlone[] = []
  const unknown: string[] = []
  const adopted = new Set(adopt.map((f) => path.resolve(dir, f)))
  for (const file of unfinishedArchives(dir)) {
    const source = readArchiveSource(file)
    if (source?.fingerprint === identity.fingerprint) ours.push(file)
    else if (source) others.push({file, database: source.database})
    else if (adopted.has(file)) ours.push(file)
    else unknown.push(file)
  }
  for (const file of adopted) {
    if (!unfinishedArchives(dir).includes(file)) {
      throw new UsageError('USAGE', `--adopt ${file}: not an unfinished archive of ${dir} (an archive without its .manifest.json)`)
    }
    const source = readArchiveSource(file)
    if (source && source.fingerprint !== identity.fingerprint) {
      throw new UsageError('USAGE', `--adopt ${file}: it belongs to ${source.database}, not to ${identity.display}; run the archive against that database`)
    }
  }
  return {ours, others, unknown}
}

/**
 * ops:audit:archive with the paging bug fixed and crash safety: rows older than the cutoff are read by
 * keyset on (created_at, id); each chunk is appended to the archive and fsynced BEFORE its rows are
 * deleted. A kill at any moment leaves every row in the table or in the archive file (or both, for the
 * chunk between fsync and delete); the next run first finishes such a file (recoverArchive), so no row
 * ends up in two archives. One run at a time, guarded by a lease in `cache_locks`.
 */
export async function archiveAuditEvents(db: Database, options: ArchiveOptions): Promise<ArchiveResult> {
  assertWithin('--days', options.days, LIMITS.days)
  const now = options.clock.now()
  const cutoff = toDbTimestamp(new Date(now.getTime() - options.days * 86_400_000))
  await requireTables(db, ['audit_events', 'cache_locks'])
  const dir = path.join(options.storage, 'app', 'audit-archives')
  const scope = () => {
    const q = db.knex('audit_events').where('created_at', '<', cutoff)
    if (options.channel) q.where('channel', options.channel)
    return q
  }
  // A fault before the lease is held (the reads, the lease itself) comes before any change: say so.
  const unchanged: (error: unknown) => never = (error) => {
    throw interruptedBy(error, db.target, {done: 'nothing was archived or deleted'}, '`laundry-ops audit archive`')
  }
  const identity = await databaseIdentity(db).catch(unchanged)
  const [{n}] = await scope().count({n: '*'}).catch(unchanged)
  const result: ArchiveResult = {
    matched: Number(n),
    archived: 0,
    deleted: 0,
    dry_run: options.dryRun === true,
    cutoff,
    database: identity.display,
    file: null,
    manifest: null,
    recovered: [],
    left_alone: [],
  }
  const unfinished = () => {
    const sorted = unfinishedBySource(dir, identity, options.adopt ?? [])
    result.left_alone = sorted.others
    if (sorted.unknown.length > 0) {
      throw new OpsError(
        'FAILED',
        `unfinished archive${sorted.unknown.length > 1 ? 's' : ''} ${sorted.unknown.join(', ')} carr${sorted.unknown.length > 1 ? 'y' : 'ies'} no record of its database (written before laundry-ops recorded one): if it is ${identity.display}'s, rerun with --adopt <file> to finish it; if it is another database's, move it out of ${dir}; nothing was changed`,
      )
    }
    return sorted.ours
  }
  if (options.dryRun) {
    // The same decisions as the real run, without the lease and without changing a file or a row: the
    // unfinished archives it would finish first, and what would then still match.
    for (const file of unfinished()) {
      const preview = await previewRecovery(db, file, scope)
      result.recovered.push(preview.report)
      result.matched -= preview.matchedInFile
    }
    result.archived = result.matched
    result.deleted = result.matched
    return result
  }

  let lease
  let released = false
  try {
    lease = await acquireLease(db, ARCHIVE_LEASE_KEY, LEASE_SECONDS, options.clock)
  } catch (error) {
    if (error instanceof LeaseHeldError)
      throw new OpsError('ARCHIVE_RUNNING', `another audit archive run is in progress (${error.message}); nothing was changed`)
    unchanged(error)
  }
  let file: string | null = null
  let fd: number | null = null
  try {
    try {
      mkdirSync(dir, {recursive: true})
    } catch (error) {
      throw new OpsError('STORAGE_UNWRITABLE', `cannot create the archive folder ${dir} (${(error as NodeJS.ErrnoException).code})`)
    }
    removeStaleFiles(dir, identity.fingerprint)
    for (const unfinishedFile of unfinished()) result.recovered.push(await recoverArchive(db, unfinishedFile, options, identity, lease))
    if (result.recovered.some((r) => r.deleted_from_table > 0)) {
      const [{n: again}] = await scope().count({n: '*'})
      result.matched = Number(again)
    }
    if (result.matched === 0) return result

    const archive = claimArchiveName(dir, now, options.gzip, identity)
    file = archive
    const hash = createHash('sha256')
    let bytes = 0
    let first: ArchiveKey | null = null
    let last: ArchiveKey | null = null
    // A page of rows becomes lines, is appended and fsynced: from then on its rows may be deleted. The
    // file is created with the first page, so a run that fails before it leaves no empty archive.
    const page: PageSink = (rows) => {
      const data = encodeLines(rows.map(toLine), options.gzip)
      try {
        if (fd === null) {
          fd = openSync(archive, 'wx')
          fsyncDir(dir)
          result.file = archive
        }
        writeAll(fd, data)
        fsyncSync(fd)
      } catch (error) {
        throw Object.assign(error as Error, {path: archive})
      }
      hash.update(data)
      bytes += data.length
      result.archived += rows.length
      const tail = rows.at(-1)!
      first ??= {created_at: String(rows[0].created_at), id: String(rows[0].id)}
      last = {created_at: String(tail.created_at), id: String(tail.id)}
      options.onProgress?.(result.archived, result.matched, 'archive')
    }
    const copy = db.dialect === 'sqlite' ? copySqlite : copyPg
    options.onProgress?.(0, result.matched, 'archive')
    try {
      await copy(db, {
        deleteBatch: Math.max(1, options.deleteBatchRows ?? DELETE_BATCH_ROWS),
        cutoff,
        channel: options.channel,
        chunk: options.chunk,
        page,
        lease,
        onDeleted: (rows) => {
          result.deleted += rows
        },
        progress: () => options.onChunk?.({archived: result.archived, matched: result.matched}),
      })
    } catch (error) {
      if (!(error instanceof LeaseHeldError)) throw error
      // Another run took the lease over (this one was not heard from for LEASE_SECONDS): stop before writing more.
      throw new OpsError(
        'ARCHIVE_LEASE_LOST',
        `lost the archive lease to ${error.holder ?? 'another run'} after writing ${result.archived} row(s) to ${archive}; stopped there, so that two runs do not archive side by side. No row is lost: the file has no manifest yet, and the run that took the lease over finishes it, or the next \`audit archive\` run does (it deletes the file's rows still in the table, then writes the manifest)`,
      )
    }
    closeSync(fd!)
    fd = null
    result.manifest = writeManifest(archive, {
      file: path.basename(archive),
      rows: result.archived,
      bytes,
      sha256: hash.digest('hex'),
      gzip: options.gzip,
      first,
      last,
      filter: {cutoff, days: options.days, channel: options.channel ?? null},
      tool: {name: 'laundry-ops', version: options.toolVersion},
      database: identity,
      written_at: toDbTimestamp(options.clock.now()),
      recovered: false,
    })
    removeStaleFiles(dir, identity.fingerprint)
    // A release that fails (the database away) leaves the lease to expire: the archive itself is complete.
    released = true
    if (!(await lease.release().catch(() => true))) {
      throw new OpsError(
        'ARCHIVE_LEASE_LOST',
        `archived ${result.archived} row(s) to ${archive} (manifest written), but the archive lease had been taken over by another run meanwhile, which may have worked beside this one: check its output`,
      )
    }
    return result
  } catch (error) {
    throw interruptedArchive(error, db, result, file)
  } finally {
    if (fd !== null) closeSync(fd)
    if (!released) await lease.release().catch(() => {})
  }
}

/**
 * A run that failed part-way: an archive file without a durable line is removed (its rows are all still
 * in the table), and the report says what is in the file, what was deleted, and that the next run
 * finishes the file.
 */
function interruptedArchive(error: unknown, db: Database, result: ArchiveResult, file: string | null): unknown {
  if (file !== null && result.archived === 0) {
    rmSync(file, {force: true})
    rmSync(file + SOURCE_SUFFIX, {force: true})
    return interruptedBy(error, db.target, {
      done: 'no row was archived or deleted, and no archive file was left behind',
      next: 'rerun `laundry-ops audit archive`',
    })
  }
  if (file === null) return interruptedBy(error, db.target, {done: 'no new archive was started', next: 'rerun `laundry-ops audit archive`'})
  return interruptedBy(error, db.target, {
    done: `${result.archived} row(s) were written and fsynced to ${file} and ${result.deleted} of them deleted from the table`,
    notDone: `${result.matched - result.deleted} matching row(s) are still in the table (${result.archived - result.deleted} of them already in the file, ${result.matched - result.archived} not yet written)`,
    next: `the next \`laundry-ops audit archive\` run finishes ${path.basename(file)} (no row is lost or archived twice)${(error as {code?: string})?.code === 'ENOSPC' || (error as {code?: string})?.code === 'SQLITE_FULL' ? '; free space first' : ''}`,
  })
}
