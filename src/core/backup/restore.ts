import {spawn} from 'node:child_process'
import {chmodSync, chownSync, createReadStream, createWriteStream, existsSync, mkdtempSync, renameSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {Transform, type TransformCallback, Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import type {DatabaseTarget} from '../config.js'
import {OpsError, UsageError} from '../errors.js'
import {type BackupKeys, requireKeyFor} from './keys.js'
import {type BackupManifest, readManifest, resolveBackupFile} from './manifest.js'
import {checkPgTool, pgToolEnvironment} from './pg-tools.js'
import {makeFolder, removeDeadScratchCopies, removeScratchCopy, scratchCopyPath} from './scratch.js'
import {HashingStream, decryptStream, fsyncPath} from './streams.js'
import {compareTables, openSqliteFile, pgContents, pgTables, sqliteContents, sqliteTableNames} from './tables.js'

export interface VerifyOptions {
  env?: NodeJS.ProcessEnv
  onProgress?: (message: string) => void
}

export interface VerifyResult {
  file: string
  manifest: BackupManifest
  /** What was checked, in order, for the report. */
  checks: string[]
}

export interface OpenedBackup {
  file: string
  manifestFile: string
  manifest: BackupManifest
}

/** The backup and its manifest; the key the manifest says it needs must be among the keys given (else exit 2). */
export function openBackup(given: string, keys: BackupKeys): OpenedBackup {
  const {file, manifestFile} = resolveBackupFile(given)
  const manifest = readManifest(manifestFile, file)
  requireKeyFor(manifest.file.encryption, keys)
  return {file, manifestFile, manifest}
}

/** The whole encrypted file against the manifest's size and sha256: one changed byte or a cut-off end is caught here. */
async function checkFileHash(backup: OpenedBackup): Promise<void> {
  const {file, manifest} = backup
  const size = statSync(file).size
  if (size < manifest.file.bytes) {
    throw new OpsError('BACKUP_CORRUPT', `${file} is truncated: ${size} bytes, the manifest says ${manifest.file.bytes}; nothing was changed`)
  }
  const hash = new HashingStream()
  await pipeline(createReadStream(file), hash, new Writable({write: (_c, _e, cb) => cb()}))
  if (size !== manifest.file.bytes || hash.sha256 !== manifest.file.sha256) {
    throw new OpsError('BACKUP_CORRUPT', `${file} has changed since it was written: its sha256 is not the manifest's; nothing was changed`)
  }
}

function payloadMismatch(backup: OpenedBackup, hash: HashingStream): OpsError | null {
  if (hash.bytes !== backup.manifest.payload.bytes || hash.sha256 !== backup.manifest.payload.sha256) {
    return new OpsError('BACKUP_CORRUPT', `${backup.file}: the decrypted content is not what the manifest describes (sha256 differs); nothing was changed`)
  }
  return null
}

/** Decrypts a SQLite backup into `copy` and checks it: content hash, integrity_check, every table's rows and checksum. */
async function decryptSqliteTo(backup: OpenedBackup, keys: BackupKeys, copy: string, checks: string[]): Promise<void> {
  const hash = new HashingStream()
  const plain = await decryptStream(createReadStream(backup.file), keys, backup.file, backup.manifest.file.encryption !== 'none')
  if (backup.manifest.file.encryption !== 'none') checks.push('key opens the file')
  await pipeline(plain, hash, createWriteStream(copy, {mode: 0o600}))
  const mismatch = payloadMismatch(backup, hash)
  if (mismatch) throw mismatch
  checks.push(`content sha256 ${hash.sha256.slice(0, 12)}… (${hash.bytes} bytes) matches`)
  fsyncPath(copy)
  let db
  try {
    db = await openSqliteFile(copy)
  } catch (error) {
    throw new OpsError('BACKUP_CORRUPT', `${backup.file}: the decrypted content is not an SQLite database (${(error as Error).message})`, {cause: error})
  }
  try {
    const integrity = db.prepare('pragma integrity_check').pluck().all() as string[]
    if (integrity.length !== 1 || integrity[0] !== 'ok') {
      throw new OpsError('BACKUP_CORRUPT', `${backup.file}: SQLite integrity_check failed: ${integrity.slice(0, 3).join('; ')}`)
    }
    checks.push('SQLite integrity_check ok')
    const contents = sqliteContents(db)
    const problems = compareTables(backup.manifest.tables, contents.tables)
    const extra = Object.keys(contents.tables).filter((t) => !(t in backup.manifest.tables))
    if (problems.length > 0 || extra.length > 0) {
      throw new OpsError(
        'BACKUP_CORRUPT',
        `${backup.file}: the tables differ from the manifest: ${[...problems, ...extra.map((t) => `${t}: not in the manifest`)].slice(0, 5).join('; ')}`,
      )
    }
    checks.push(`${Object.keys(contents.tables).length} tables: row counts and checksums match the manifest`)
  } finally {
    db.close()
  }
}

/** Feeds a child's stdin; when the child stops reading (pg_restore --list reads only the TOC), the rest is drained. */
function childSink(stdin: NodeJS.WritableStream & {destroyed?: boolean}): Writable {
  let closed = false
  stdin.on('error', () => {
    closed = true
  })
  return new Writable({
    write(chunk: Buffer, _e, callback) {
      if (closed || stdin.destroyed) return callback()
      if (stdin.write(chunk)) callback()
      else {
        const go = (): void => {
          stdin.removeListener('close', go)
          stdin.removeListener('drain', go)
          callback()
        }
        stdin.once('drain', go)
        stdin.once('close', go)
      }
    },
    final(callback) {
      if (!closed && !stdin.destroyed) stdin.end()
      callback()
    },
  })
}

function runChild(
  binary: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): {child: ReturnType<typeof spawn>; done: Promise<{code: number | null; stdout: string; stderr: string}>} {
  const child = spawn(binary, args, {env, stdio: ['pipe', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => {
    if (stdout.length < 4_000_000) stdout += c.toString('utf8')
  })
  child.stderr.on('data', (c: Buffer) => {
    if (stderr.length < 16_384) stderr += c.toString('utf8')
  })
  const done = new Promise<{code: number | null; stdout: string; stderr: string}>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({code: signal ? -1 : code, stdout, stderr}))
  })
  return {child, done}
}

const lastLines = (text: string): string => text.trim().split('\n').slice(-3).join(' ') || 'no message'

function serverMajorOf(manifest: BackupManifest): number {
  const match = /PostgreSQL (\d+)/.exec(manifest.server_version)
  return match ? Number(match[1]) : 0
}

/** Decrypts a PostgreSQL backup through `pg_restore --list`: the archive must parse and name every table of the manifest. */
async function checkPgArchive(backup: OpenedBackup, keys: BackupKeys, env: NodeJS.ProcessEnv, checks: string[]): Promise<void> {
  const pgRestore = await checkPgTool('pg_restore', serverMajorOf(backup.manifest), env)
  const hash = new HashingStream()
  const plain = await decryptStream(createReadStream(backup.file), keys, backup.file, backup.manifest.file.encryption !== 'none')
  if (backup.manifest.file.encryption !== 'none') checks.push('key opens the file')
  const {child, done} = runChild(pgRestore, ['--list'], env)
  try {
    await pipeline(plain, hash, childSink(child.stdin!))
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
  const mismatch = payloadMismatch(backup, hash)
  if (mismatch) throw mismatch
  checks.push(`content sha256 ${hash.sha256.slice(0, 12)}… (${hash.bytes} bytes) matches`)
  const result = await done
  if (result.code !== 0) throw new OpsError('BACKUP_CORRUPT', `${backup.file}: pg_restore cannot read the archive: ${lastLines(result.stderr)}`)
  const listed = new Set<string>()
  for (const line of result.stdout.split('\n')) {
    const m = /^\d+;\s+\d+\s+\d+\s+TABLE\s+(?!DATA\s)(\S+)\s+(\S+)\s/.exec(line)
    if (m) listed.add(m[1] === 'public' ? m[2] : `${m[1]}.${m[2]}`)
  }
  const missing = Object.keys(backup.manifest.tables).filter((t) => !listed.has(t))
  if (missing.length > 0) throw new OpsError('BACKUP_CORRUPT', `${backup.file}: the archive lacks tables the manifest lists: ${missing.slice(0, 5).join(', ')}`)
  const unlisted = [...listed].filter((t) => !(t in backup.manifest.tables))
  if (unlisted.length > 0)
    throw new OpsError('BACKUP_CORRUPT', `${backup.file}: the archive holds tables the manifest does not list: ${unlisted.slice(0, 5).join(', ')}`)
  checks.push(`pg_restore reads the archive: ${listed.size} tables, as the manifest lists`)
}

/**
 * `db backup verify`: everything short of restoring: the manifest, the key, the file's sha256 and size,
 * every age chunk's authentication, the decrypted content's sha256, and what the content holds (SQLite:
 * integrity_check and every table's rows and checksum; PostgreSQL: pg_restore reads the archive's table
 * of contents and finds every table). A missing key is exit 2; anything wrong with the file exit 1.
 */
export async function verifyBackup(given: string, keys: BackupKeys, options: VerifyOptions = {}): Promise<VerifyResult> {
  const backup = openBackup(given, keys)
  const checks = [`manifest ${path.basename(backup.manifestFile)} read`]
  await checkFileHash(backup)
  checks.push(`file sha256 ${backup.manifest.file.sha256.slice(0, 12)}… (${backup.manifest.file.bytes} bytes) matches`)
  options.onProgress?.(`${path.basename(backup.file)}: file intact; decrypting`)
  if (backup.manifest.engine === 'sqlite') {
    // A private folder (0700) in the system's temporary folder: the backup's folder may be read-only or
    // synced off-site, and must never hold plain data.
    const folder = mkdtempSync(path.join(tmpdir(), 'laundry-ops-verify-'))
    try {
      await decryptSqliteTo(backup, keys, path.join(folder, 'backup.sqlite'), checks)
    } finally {
      rmSync(folder, {recursive: true, force: true})
    }
  } else {
    await checkPgArchive(backup, keys, options.env ?? process.env, checks)
  }
  return {file: backup.file, manifest: backup.manifest, checks}
}

export interface RestoreOptions extends VerifyOptions {
  force: boolean
  dryRun: boolean
}

export interface RestoreResult {
  file: string
  manifest: BackupManifest
  database: string
  /** The target held tables before (restored over them with --force). */
  replaced: boolean
  dryRun: boolean
  checks: string[]
  /** Tables the target has that the backup does not (left in place by a PostgreSQL restore over a database). */
  extraTables: string[]
}

function refuseNonEmpty(database: string, tables: string[], force: boolean): boolean {
  if (tables.length === 0) return false
  if (!force) {
    throw new UsageError(
      'BACKUP_TARGET_NOT_EMPTY',
      `${database} is not empty (${tables.length} tables, e.g. ${tables.slice(0, 3).join(', ')}): restore into an empty database, or pass --force to replace its content`,
    )
  }
  return true
}

/**
 * `db restore`: verifies the whole backup before touching anything, then restores it. SQLite: the
 * verified copy, written beside the database, is renamed over it (atomic: a restore killed at any point
 * leaves the old file or the new one, never a mix). PostgreSQL: `pg_restore --single-transaction`, fed
 * the decrypted stream with its last bytes held back until the stream's sha256 matched the manifest, so a
 * restore killed or failing mid-way rolls back. Afterwards every table's rows and checksum are compared
 * with the manifest.
 */
export async function restoreBackup(target: DatabaseTarget, given: string, keys: BackupKeys, options: RestoreOptions): Promise<RestoreResult> {
  const backup = openBackup(given, keys)
  if (backup.manifest.engine !== target.client) {
    throw new UsageError(
      'BACKUP_ENGINE_MISMATCH',
      `${path.basename(backup.file)} is a ${backup.manifest.engine === 'pg' ? 'PostgreSQL' : 'SQLite'} backup; ${target.display} is ${target.client === 'pg' ? 'PostgreSQL' : 'SQLite'}: restore it into a database of its engine`,
    )
  }
  const result = target.client === 'sqlite' ? await restoreSqlite(target.filename, backup, keys, options) : await restorePg(target, backup, keys, options)
  return {...result, database: target.display}
}

async function restoreSqlite(filename: string, backup: OpenedBackup, keys: BackupKeys, options: RestoreOptions): Promise<Omit<RestoreResult, 'database'>> {
  if (!options.dryRun) removeDeadScratchCopies(filename)
  let replaced = false
  if (existsSync(filename)) {
    const current = await openSqliteFile(filename).catch((error: unknown) => {
      throw new OpsError('DB_INVALID', `${filename} is not an SQLite database (${(error as Error).message}); move it away to restore there`, {cause: error})
    })
    try {
      replaced = refuseNonEmpty(`sqlite:${filename}`, sqliteTableNames(current), options.force)
    } finally {
      current.close()
    }
  }
  const checks = [`manifest ${path.basename(backup.manifestFile)} read`]
  await checkFileHash(backup)
  checks.push(`file sha256 ${backup.manifest.file.sha256.slice(0, 12)}… matches`)
  const folder = path.dirname(path.resolve(filename))
  if (!options.dryRun) makeFolder(folder)
  // Beside the database (see scratch.ts), so the final rename stays on one file system (atomic); a dry run
  // uses a private temporary folder and leaves nothing beside the database.
  const dryFolder = options.dryRun ? mkdtempSync(path.join(tmpdir(), 'laundry-ops-verify-')) : null
  const copy = dryFolder ? path.join(dryFolder, 'backup.sqlite') : scratchCopyPath(filename, 'restore')
  try {
    await decryptSqliteTo(backup, keys, copy, checks)
    if (options.dryRun) return {file: backup.file, manifest: backup.manifest, replaced, dryRun: true, checks, extraTables: []}
    if (existsSync(filename)) {
      const before = statSync(filename)
      // Leaving WAL mode needs every other connection closed (each holds a lock on the -shm while open):
      // an idle `serve` is caught too. It also folds the WAL into the old file and removes it, so no
      // leftover WAL is replayed onto the new file.
      const current = await openSqliteFile(filename, {readonly: false})
      try {
        current.pragma('busy_timeout = 2000')
        let mode: string
        try {
          mode = String(current.pragma('journal_mode = DELETE', {simple: true}))
        } catch (error) {
          mode = `busy (${(error as Error).message})`
        }
        if (mode.toLowerCase() !== 'delete') {
          throw new OpsError(
            'DB_LOCKED',
            `${filename} is open in another process (serve, queue work, schedule work?): stop every process that uses it and rerun; nothing was changed`,
          )
        }
      } finally {
        current.close()
      }
      // The restored file keeps the old one's owner and permissions (a service user must still open it).
      chmodSync(copy, before.mode & 0o7777)
      try {
        chownSync(copy, before.uid, before.gid)
      } catch {
        // Not allowed (not root): the file stays ours, as the database was if we could open it.
      }
    }
    renameSync(copy, filename)
    fsyncPath(folder)
    for (const f of [`${filename}-wal`, `${filename}-shm`, `${filename}-journal`]) rmSync(f, {force: true})
    checks.push(`${path.basename(filename)} replaced by the verified copy`)
  } finally {
    removeScratchCopy(copy)
    if (dryFolder) rmSync(dryFolder, {recursive: true, force: true})
  }
  const restored = await openSqliteFile(filename)
  try {
    const problems = compareTables(backup.manifest.tables, sqliteContents(restored).tables)
    if (problems.length > 0)
      throw new OpsError('BACKUP_RESTORE_MISMATCH', `restored ${filename}, but it differs from the manifest: ${problems.slice(0, 5).join('; ')}`)
  } finally {
    restored.close()
  }
  checks.push('restored tables: row counts and checksums match the manifest')
  return {file: backup.file, manifest: backup.manifest, replaced, dryRun: false, checks, extraTables: []}
}

/** Passes everything through but the last bytes, which go only once `check` passes: pg_restore cannot commit before. */
class HoldBackTail extends Transform {
  private tail: Buffer = Buffer.alloc(0)
  constructor(
    private readonly hold: number,
    private readonly check: () => Error | null,
  ) {
    super()
  }

  _transform(chunk: Buffer, _e: BufferEncoding, callback: TransformCallback): void {
    const all = this.tail.length === 0 ? chunk : Buffer.concat([this.tail, chunk])
    if (all.length <= this.hold) {
      this.tail = all
      return callback()
    }
    this.tail = Buffer.from(all.subarray(all.length - this.hold))
    callback(null, all.subarray(0, all.length - this.hold))
  }

  _flush(callback: TransformCallback): void {
    const error = this.check()
    if (error) return callback(error)
    callback(null, this.tail)
  }
}

const RESTORE_LOCK_TIMEOUT_S = 60

async function restorePg(
  target: Extract<DatabaseTarget, {client: 'pg'}>,
  backup: OpenedBackup,
  keys: BackupKeys,
  options: RestoreOptions,
): Promise<Omit<RestoreResult, 'database'>> {
  const env = options.env ?? process.env
  const {default: pg} = await import('pg')
  const client = new pg.Client({connectionString: target.connectionString, application_name: 'laundry-ops restore'})
  await client.connect()
  let replaced: boolean
  try {
    replaced = refuseNonEmpty(
      target.display,
      (await pgTables(client)).map((t) => t.key),
      options.force,
    )
  } finally {
    await client.end().catch(() => {})
  }
  const checks = [`manifest ${path.basename(backup.manifestFile)} read`]
  await checkFileHash(backup)
  checks.push(`file sha256 ${backup.manifest.file.sha256.slice(0, 12)}… matches`)
  await checkPgArchive(backup, keys, env, checks)
  if (options.dryRun) return {file: backup.file, manifest: backup.manifest, replaced, dryRun: true, checks, extraTables: []}

  const pgRestore = await checkPgTool('pg_restore', serverMajorOf(backup.manifest), env)
  const args = ['--single-transaction', '--exit-on-error', '--no-owner', '--no-privileges', '--no-password', `--dbname=${target.database}`]
  if (replaced) args.push('--clean', '--if-exists')
  options.onProgress?.(`pg_restore ${args.join(' ')}`)
  // A session holding a lock on a table the restore replaces would make it wait forever: give up after a
  // minute instead (the transaction rolls back) and say why.
  const toolEnv = pgToolEnvironment(target, env)
  toolEnv.PGOPTIONS = `${toolEnv.PGOPTIONS ?? ''} -c lock_timeout=${RESTORE_LOCK_TIMEOUT_S}s`.trim()
  const {child, done} = runChild(pgRestore, args, toolEnv)
  const hash = new HashingStream()
  const plain = await decryptStream(createReadStream(backup.file), keys, backup.file, backup.manifest.file.encryption !== 'none')
  const holdBack = new HoldBackTail(64 * 1024, () => {
    const mismatch = payloadMismatch(backup, hash)
    // Killed before its input ends, pg_restore never reaches its COMMIT.
    if (mismatch) child.kill('SIGKILL')
    return mismatch
  })
  try {
    await pipeline(plain, hash, holdBack, childSink(child.stdin!))
  } catch (error) {
    child.kill('SIGKILL')
    await done.catch(() => null)
    throw error instanceof OpsError
      ? error
      : new OpsError('FAILED', `restore stopped: ${(error as Error).message}; the transaction was rolled back, nothing was changed`, {cause: error})
  }
  // From here pg_restore holds the whole verified stream: it runs on to its commit even if this process dies.
  options.onProgress?.('the verified stream is with pg_restore; waiting for its commit')
  const result = await done
  if (result.code !== 0) {
    const locked = /lock timeout/i.test(result.stderr)
    throw new OpsError(
      locked ? 'DB_LOCKED' : 'FAILED',
      locked
        ? `pg_restore waited ${RESTORE_LOCK_TIMEOUT_S} s for a lock another session holds on a table it replaces (see pg_stat_activity); its single transaction was rolled back, nothing was changed: stop the other sessions (serve, queue work, psql) and rerun`
        : `pg_restore failed (exit ${result.code}): ${lastLines(result.stderr)}; its single transaction was rolled back, nothing was changed`,
    )
  }
  checks.push(`pg_restore --single-transaction committed${replaced ? ' (over the existing tables, --force)' : ''}`)
  options.onProgress?.('pg_restore committed; comparing every table with the manifest')
  const after = new pg.Client({connectionString: target.connectionString, application_name: 'laundry-ops restore'})
  await after.connect()
  try {
    await after.query('begin isolation level repeatable read read only')
    const contents = await pgContents(after)
    await after.query('commit')
    const problems = compareTables(backup.manifest.tables, contents.tables)
    if (problems.length > 0)
      throw new OpsError('BACKUP_RESTORE_MISMATCH', `restored ${target.display}, but it differs from the manifest: ${problems.slice(0, 5).join('; ')}`)
    checks.push('restored tables: row counts and checksums match the manifest')
    const extraTables = Object.keys(contents.tables).filter((t) => !(t in backup.manifest.tables))
    return {file: backup.file, manifest: backup.manifest, replaced, dryRun: false, checks, extraTables}
  } finally {
    await after.end().catch(() => {})
  }
}
