import {spawn} from 'node:child_process'
import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  createReadStream,
  createWriteStream,
  existsSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import type {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import type {DatabaseTarget} from '../config.js'
import {OpsError, UsageError} from '../errors.js'
import type {BackupEncryption} from './keys.js'
import {BACKUP_NAME, type BackupManifest, MANIFEST_FORMAT, backupStamp, manifestPathFor} from './manifest.js'
import {checkPgTool, pgToolEnvironment} from './pg-tools.js'
import {pruneBackups, type PrunedBackup} from './retention.js'
import {makeFolder, removeDeadScratchCopies, removeScratchCopy, scratchCopyPath} from './scratch.js'
import {HashingStream, encryptStream, fsyncPath} from './streams.js'
import {type DatabaseContents, openSqliteFile, pgContents, sqliteContents} from './tables.js'

export interface BackupOptions {
  outputDir: string
  keepDays: number
  encryption: BackupEncryption
  toolVersion: string
  now: () => Date
  env?: NodeJS.ProcessEnv
  /** Progress lines (stderr), e.g. "checksummed audit_events (1000000 rows)". */
  onProgress?: (message: string) => void
}

export interface BackupResult {
  file: string
  manifestFile: string
  manifest: BackupManifest
  pruned: PrunedBackup[]
}

/**
 * What a dry run checks without writing: the folder can be created and written (its nearest existing
 * ancestor is a writable folder), and on PostgreSQL that pg_dump is there and not older than the server.
 */
export async function checkBackupPreconditions(target: DatabaseTarget, dir: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let at = path.resolve(dir)
  while (!existsSync(at) && path.dirname(at) !== at) at = path.dirname(at)
  if (!statSync(at).isDirectory()) throw new UsageError('USAGE', `'${at.slice(0, 200)}' is a file, not a folder: --output must name a folder`)
  try {
    accessSync(at, constants.W_OK)
  } catch (error) {
    throw new OpsError('STORAGE_UNWRITABLE', `the backup folder ${dir} cannot be written (${(error as NodeJS.ErrnoException).code ?? 'no access'} on ${at})`)
  }
  if (target.client === 'pg') {
    const {default: pg} = await import('pg')
    const client = new pg.Client({connectionString: target.connectionString, application_name: 'laundry-ops backup'})
    await client.connect()
    try {
      const major = Math.floor(Number((await client.query<{v: string}>("select current_setting('server_version_num') as v")).rows[0].v) / 10_000)
      await checkPgTool('pg_dump', major, env)
    } finally {
      await client.end().catch(() => {})
    }
  }
}

/** A free name for a backup made at `at`: the stamp, then -1, -2… when two backups share a second. */
function backupName(dir: string, engine: 'sqlite' | 'pg', at: Date, encrypted: boolean): string {
  const ext = `${engine === 'sqlite' ? '.sqlite' : '.dump'}${encrypted ? '.age' : ''}`
  for (let n = 0; ; n++) {
    const name = `laundry-ops-${engine}-${backupStamp(at)}${n === 0 ? '' : `-${n}`}${ext}`
    if (existsSync(path.join(dir, name))) continue
    // The partial file, created exclusively, reserves the name: two backups in the same second get two names.
    try {
      closeSync(openSync(path.join(dir, `.${name}.partial`), 'wx', 0o600))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue
      throw error
    }
    return name
  }
}

function ensureFolder(dir: string): void {
  try {
    makeFolder(dir)
    if (!statSync(dir).isDirectory()) throw new UsageError('USAGE', `'${dir.slice(0, 200)}' is a file, not a folder: --output must name a folder`)
  } catch (error) {
    if (error instanceof UsageError) throw error
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENAMETOOLONG') throw new UsageError('USAGE', `the backup folder path is too long (${code}): --output must name a folder`)
    throw new OpsError(
      code === 'ENOSPC' ? 'DISK_FULL' : 'STORAGE_UNWRITABLE',
      `the backup folder ${dir} cannot be created (${code ?? (error as Error).message})`,
      {cause: error},
    )
  }
}

function writeFailure(error: unknown, what: string): OpsError {
  if (error instanceof OpsError) return error
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new OpsError('DISK_FULL', `${what}: the disk is full; nothing was kept, free space and rerun`, {cause: error})
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new OpsError('STORAGE_UNWRITABLE', `${what}: cannot write (${code})`, {cause: error})
  return new OpsError('FAILED', `${what}: ${(error as Error).message}`, {cause: error})
}

/**
 * A full backup of the configured database, consistent while the API and workers write: SQLite through
 * the online backup API (one step, so a concurrent writer cannot make it restart forever), PostgreSQL
 * through `pg_dump --format=custom` on a snapshot exported by the transaction the manifest's checksums are
 * read in, so the checksums describe exactly what the dump holds. Streamed end to end (pg_dump → age →
 * file); the file appears under its name only once complete and flushed, with the manifest beside it.
 * Then backups older than keepDays are pruned (never the newest, only files this command wrote).
 */
export async function createBackup(target: DatabaseTarget, options: BackupOptions): Promise<BackupResult> {
  const started = Date.now()
  const at = options.now()
  const dir = path.resolve(options.outputDir)
  ensureFolder(dir)
  const encrypted = options.encryption.type !== 'none'
  let name: string
  try {
    name = backupName(dir, target.client, at, encrypted)
  } catch (error) {
    throw writeFailure(error, `the backup folder ${dir}`)
  }
  const file = path.join(dir, name)
  const partial = path.join(dir, `.${name}.partial`)
  const fileHash = new HashingStream()
  const payloadHash = new HashingStream()
  let contents: DatabaseContents
  try {
    if (target.client === 'sqlite') {
      contents = await backupSqlite(target.filename, dir, name, partial, options, payloadHash, fileHash)
    } else {
      contents = await backupPg(target, partial, options, payloadHash, fileHash)
    }
    fsyncPath(partial)
    renameSync(partial, file)
  } catch (error) {
    rmSync(partial, {force: true})
    throw writeFailure(error, `backup ${name}`)
  }
  const manifest: BackupManifest = {
    format: MANIFEST_FORMAT,
    tool: {name: 'laundry-ops', version: options.toolVersion},
    created_at: at.toISOString(),
    engine: target.client,
    server_version: contents.serverVersion,
    database: target.display,
    schema: contents.schema,
    tables: contents.tables,
    file: {
      name,
      bytes: fileHash.bytes,
      sha256: fileHash.sha256,
      encryption: options.encryption.type,
      recipients: options.encryption.type === 'x25519' ? options.encryption.recipients : [],
    },
    payload: {format: target.client === 'sqlite' ? 'sqlite3' : 'pg_dump-custom', bytes: payloadHash.bytes, sha256: payloadHash.sha256},
    duration_ms: Date.now() - started,
  }
  const manifestFile = manifestPathFor(file)
  try {
    const tmp = path.join(dir, `.${name}.manifest.partial`)
    writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`, {mode: 0o600})
    fsyncPath(tmp)
    renameSync(tmp, manifestFile)
    fsyncPath(dir)
  } catch (error) {
    // A backup without its manifest can be neither verified nor restored by us: do not leave it looking done.
    rmSync(file, {force: true})
    rmSync(path.join(dir, `.${name}.manifest.partial`), {force: true})
    throw writeFailure(error, `backup ${name}'s manifest`)
  }
  const pruned = pruneBackups(dir, {keepDays: options.keepDays, now: at, keep: name})
  return {file, manifestFile, manifest, pruned}
}

/** source → payload hash → age → file hash → the partial file, with backpressure all the way. */
async function writeEncrypted(
  source: Readable,
  encryption: BackupEncryption,
  payloadHash: HashingStream,
  fileHash: HashingStream,
  partial: string,
): Promise<void> {
  const feed = pipeline(source, payloadHash)
  const encrypted = await encryptStream(payloadHash, encryption)
  await Promise.all([feed, pipeline(encrypted, fileHash, createWriteStream(partial, {mode: 0o600}))])
}

async function backupSqlite(
  filename: string,
  dir: string,
  name: string,
  partial: string,
  options: BackupOptions,
  payloadHash: HashingStream,
  fileHash: HashingStream,
): Promise<DatabaseContents> {
  // The online backup API needs a database file as its destination: a private copy beside the database
  // (see scratch.ts), removed once encrypted.
  removeDeadScratchCopies(filename)
  const copy = scratchCopyPath(filename, 'backup')
  removeScratchCopy(copy)
  try {
    const source = await openSqliteFile(filename)
    try {
      options.onProgress?.(`copying ${filename} (online backup API)`)
      writeFileSync(copy, '', {mode: 0o600})
      chmodSync(copy, 0o600)
      // One step for every page: a step that is interrupted by another connection's write restarts the
      // copy, so many small steps under a steady write load could restart forever.
      await source.backup(copy, {progress: () => 0x7fffffff})
    } finally {
      source.close()
    }
    const snapshot = await openSqliteFile(copy)
    let contents: DatabaseContents
    try {
      contents = sqliteContents(snapshot)
    } finally {
      snapshot.close()
    }
    options.onProgress?.(`checksummed ${Object.keys(contents.tables).length} tables; writing ${name}`)
    await writeEncrypted(createReadStream(copy), options.encryption, payloadHash, fileHash, partial)
    return contents
  } finally {
    removeScratchCopy(copy)
  }
}

async function backupPg(
  target: Extract<DatabaseTarget, {client: 'pg'}>,
  partial: string,
  options: BackupOptions,
  payloadHash: HashingStream,
  fileHash: HashingStream,
): Promise<DatabaseContents> {
  const {default: pg} = await import('pg')
  const client = new pg.Client({connectionString: target.connectionString, application_name: 'laundry-ops backup'})
  await client.connect()
  try {
    const serverMajor = Math.floor(Number((await client.query<{v: string}>("select current_setting('server_version_num') as v")).rows[0].v) / 10_000)
    const pgDump = await checkPgTool('pg_dump', serverMajor, options.env)
    await client.query('begin isolation level repeatable read read only')
    const snapshot = (await client.query<{s: string}>('select pg_export_snapshot() as s')).rows[0].s
    // The checksums first, then the dump of the same snapshot: one at a time keeps the peak memory low.
    const contents = await pgContents(client, (table, rows) => rows >= 10_000 && options.onProgress?.(`checksummed ${table} (${rows} rows)`))
    const child = spawn(pgDump, ['--format=custom', `--snapshot=${snapshot}`, '--no-password'], {
      env: pgToolEnvironment(target, options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 8192) stderr += chunk.toString('utf8')
    })
    const exited = new Promise<number | null>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', (code, signal) => resolve(signal ? -1 : code))
    })
    options.onProgress?.(`pg_dump --format=custom --snapshot=${snapshot} started`)
    const dump = writeEncrypted(child.stdout, options.encryption, payloadHash, fileHash, partial)
    try {
      await Promise.all([
        dump,
        exited.then((code) => {
          if (code !== 0) {
            throw new OpsError('FAILED', `pg_dump failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ') || 'no message'}; nothing was kept`)
          }
        }),
      ])
    } catch (error) {
      child.kill('SIGKILL')
      await exited.catch(() => null)
      throw error
    }
    await client.query('commit')
    return contents
  } finally {
    await client.end().catch(() => {})
  }
}

export {BACKUP_NAME}
