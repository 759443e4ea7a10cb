import {createHash} from 'node:crypto'
import {
  closeSync,
  createReadStream,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs'
import path from 'node:path'
import {pipeline} from 'node:stream/promises'
import {constants as zlibConstants, createGunzip, createGzip, gzipSync, gunzipSync} from 'node:zlib'

import {createFileAtomic, fsyncDir, writeAll, writeFileAtomic} from '../storage/files.js'

export {fsyncDir, writeAll, writeFileAtomic} from '../storage/files.js'

export const MANIFEST_SUFFIX = '.manifest.json'
const ARCHIVE_NAME = /^audit-events-\d{8}-\d{6}(-\d+)?\.jsonl(\.gz)?$/

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

/** Archive files of this folder whose run never finished: no manifest beside them. */
export function unfinishedArchives(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((name) => ARCHIVE_NAME.test(name) && !existsSync(path.join(dir, name + MANIFEST_SUFFIX)))
    .sort()
    .map((name) => path.join(dir, name))
}

/**
 * The database an archive file comes from, written (atomically, fsynced) beside it BEFORE the archive
 * file is created: `X.jsonl.source.json`. An unfinished archive is only finished by a run against that
 * database; the manifest carries the same record once the archive is complete.
 */
export const SOURCE_SUFFIX = '.source.json'

export interface ArchiveSource {
  database: string
  fingerprint: string
}

export function writeArchiveSource(file: string, source: ArchiveSource): void {
  writeFileAtomic(file + SOURCE_SUFFIX, `${JSON.stringify(source, null, 2)}\n`)
}

/** Claims an archive name by creating its source record, whole or not at all: false when the name is taken. */
export function createArchiveSource(file: string, source: ArchiveSource): boolean {
  return createFileAtomic(file + SOURCE_SUFFIX, `${JSON.stringify(source, null, 2)}\n`)
}

/** The recorded source of an archive file, or null when there is none (or it does not read as one). */
export function readArchiveSource(file: string): ArchiveSource | null {
  try {
    const parsed = JSON.parse(readFileSync(file + SOURCE_SUFFIX, 'utf8')) as Partial<ArchiveSource>
    if (typeof parsed.fingerprint === 'string' && typeof parsed.database === 'string') return {database: parsed.database, fingerprint: parsed.fingerprint}
  } catch {
    // Missing or unreadable: no known source.
  }
  return null
}

/** Is the process `pid` alive on this host? (A temporary file of a live run is never touched.) */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Leftovers of killed runs against THIS database (fingerprint), removed under the archive lease:
 * temporary files of an atomic write whose process is gone (`X.manifest.json.tmp-PID`, a gzip archive
 * rewritten without its torn tail `X.jsonl.gz.tmp-PID`, a source record `X.jsonl.source.json.tmp-PID`),
 * and source records whose archive was never created or is finished. Another database's files, and the
 * temporaries of a live process, are left alone: its own run (under its own lease) may be writing them.
 */
export function removeStaleFiles(dir: string, fingerprint: string): string[] {
  if (!existsSync(dir)) return []
  const removed: string[] = []
  const ours = (archive: string) => readArchiveSource(path.join(dir, archive))?.fingerprint === fingerprint
  for (const name of readdirSync(dir)) {
    const temp = /^(audit-events-\d{8}-\d{6}(?:-\d+)?\.jsonl(?:\.gz)?)(\.manifest\.json|\.source\.json)?\.tmp-(\d+)$/.exec(name)
    if (temp) {
      // A source record's own temporary cannot be read for its owner: its dead process is enough.
      if (!alive(Number(temp[3])) && (temp[2] === SOURCE_SUFFIX || ours(temp[1]))) {
        rmSync(path.join(dir, name), {force: true})
        removed.push(name)
      }
      continue
    }
    const source = /^(audit-events-\d{8}-\d{6}(?:-\d+)?\.jsonl(?:\.gz)?)\.source\.json$/.exec(name)
    if (source && ours(source[1])) {
      const archive = path.join(dir, source[1])
      if (!existsSync(archive) || existsSync(archive + MANIFEST_SUFFIX)) {
        rmSync(path.join(dir, name), {force: true})
        removed.push(name)
      }
    }
  }
  if (removed.length > 0) fsyncDir(dir)
  return removed
}

/** Every id in the finished archives of a folder (for checks and tests). */
export function archivedIds(dir: string): Map<string, string[]> {
  const ids = new Map<string, string[]>()
  if (!existsSync(dir)) return ids
  for (const name of readdirSync(dir)
    .filter((n) => ARCHIVE_NAME.test(n))
    .sort()) {
    for (const line of readArchiveLines(path.join(dir, name)).lines) {
      const id = (JSON.parse(line) as {id: string}).id
      ids.set(id, [...(ids.get(id) ?? []), name])
    }
  }
  return ids
}

/**
 * The complete lines of an archive file, read whole into memory (for checks and tests; recovery streams
 * the file with recoverArchiveFile). A run killed mid-write can leave a torn last line, or a torn
 * last gzip member; only whole lines count (gzip is read with a sync flush, so a torn member yields
 * what it holds).
 */
export function readArchiveLines(file: string): {lines: string[]; torn: boolean} {
  const raw = readFileSync(file)
  let text: string
  if (file.endsWith('.gz')) {
    text = raw.length === 0 ? '' : gunzipSync(raw, {finishFlush: zlibConstants.Z_SYNC_FLUSH}).toString('utf8')
  } else {
    text = raw.toString('utf8')
  }
  const end = text.lastIndexOf('\n')
  const complete = end < 0 ? '' : text.slice(0, end)
  const lines = complete === '' ? [] : complete.split('\n')
  // A line that does not parse was cut inside a member: drop it and everything after.
  let good = lines.length
  for (let i = 0; i < lines.length; i++) {
    try {
      JSON.parse(lines[i])
    } catch {
      good = i
      break
    }
  }
  return {lines: lines.slice(0, good), torn: good !== lines.length || end !== text.length - 1}
}

export function encodeLines(lines: string[], gzip: boolean): Buffer {
  const text = Buffer.from(lines.length > 0 ? `${lines.join('\n')}\n` : '', 'utf8')
  return gzip ? gzipSync(text) : text
}

/** Bytes read per block (plain files) or per read-stream chunk (gzip files) while recovering. */
const BLOCK_BYTES = 1 << 20

/**
 * The whole lines of an archive's text, fed block by block: each line that ends in `\n` and parses goes
 * to onRow, in order, until one does not parse (it and everything after it are dropped, as in
 * readArchiveLines). Holds at most one unfinished line between blocks.
 */
class WholeLines {
  rows = 0
  /** Size of the accepted lines in the text, newlines included. */
  bytes = 0
  /** A line that did not parse was met: nothing more is accepted. */
  stopped = false
  private carry: Buffer[] = []

  constructor(
    private readonly onRow: (row: Record<string, unknown>) => void,
    private readonly onKept?: (line: Buffer) => void,
  ) {}

  /** The block is only read during the call (it may be reused afterwards). */
  push(block: Buffer): void {
    let start = 0
    while (!this.stopped) {
      const nl = block.indexOf(0x0a, start)
      if (nl < 0) break
      let line = block.subarray(start, nl + 1)
      if (this.carry.length > 0) {
        line = Buffer.concat([...this.carry, line])
        this.carry = []
      }
      start = nl + 1
      let row: Record<string, unknown>
      try {
        row = JSON.parse(line.toString('utf8', 0, line.length - 1)) as Record<string, unknown>
      } catch {
        this.stopped = true
        break
      }
      this.rows++
      this.bytes += line.length
      this.onKept?.(line)
      this.onRow(row)
    }
    if (!this.stopped && start < block.length) this.carry.push(Buffer.from(block.subarray(start)))
  }

  /** Something after the accepted lines: an unparseable line, or a last line without its newline. */
  get tail(): boolean {
    return this.stopped || this.carry.length > 0
  }
}

/**
 * Reads an unfinished archive without changing it: every whole line to onRow, in order, and whether a
 * torn tail would be cut (as recoverArchiveFile decides). For `audit archive --dry-run`.
 */
export async function scanArchiveFile(
  file: string,
  onRow: (row: Record<string, unknown>) => void,
  drain: () => Promise<void>,
): Promise<{rows: number; torn: boolean}> {
  const lines = new WholeLines(onRow)
  if (file.endsWith('.gz')) {
    if (statSync(file).size === 0) return {rows: 0, torn: false}
    await pipeline(createReadStream(file, {highWaterMark: BLOCK_BYTES}), gunzipStream(true), async (text: AsyncIterable<Buffer>) => {
      for await (const chunk of text) {
        if (lines.stopped) continue
        lines.push(chunk)
        await drain()
      }
    })
    return {rows: lines.rows, torn: lines.tail || !(await gzipComplete(file))}
  }
  for await (const chunk of createReadStream(file, {highWaterMark: BLOCK_BYTES}) as AsyncIterable<Buffer>) {
    if (lines.stopped) break
    lines.push(chunk)
    await drain()
  }
  return {rows: lines.rows, torn: statSync(file).size !== lines.bytes}
}

export interface RecoveredFile {
  /** Whole lines kept. */
  rows: number
  /** A torn tail (or a line that does not parse, or a torn gzip member) was cut. */
  torn: boolean
  /** Size and sha256 of the file as it now is. */
  bytes: number
  sha256: string
}

/**
 * Finishes the file of an archive a killed run left, in bounded memory whatever its size: reads it one
 * block at a time (gzip: one streaming gunzip over all its members, with a sync flush so a torn last member
 * yields the lines it holds), hands every whole line to onRow in order, awaits drain() between blocks (the
 * caller deletes the rows of those lines there), and cuts the torn tail:
 * - `.jsonl`: the file is truncated to the end of its last whole line (and fsynced);
 * - `.jsonl.gz`: the kept lines are re-compressed, streaming, into one gzip member in `X.tmp-PID`, fsynced
 *   and renamed over the file (as the in-memory version did), so every member of the result is whole.
 *   A file whose lines all end well but whose last member is cut (its trailer, say) counts as torn too.
 * The result is the file content the in-memory recovery wrote (readArchiveLines + encodeLines), byte for
 * byte, with its size and sha256 computed on the way.
 */
export async function recoverArchiveFile(file: string, onRow: (row: Record<string, unknown>) => void, drain: () => Promise<void>): Promise<RecoveredFile> {
  return file.endsWith('.gz') ? recoverGzip(file, onRow, drain) : recoverPlain(file, onRow, drain)
}

async function recoverPlain(file: string, onRow: (row: Record<string, unknown>) => void, drain: () => Promise<void>): Promise<RecoveredFile> {
  const hash = createHash('sha256')
  const lines = new WholeLines(onRow, (line) => hash.update(line))
  const fd = openSync(file, 'r+')
  try {
    const block = Buffer.allocUnsafe(BLOCK_BYTES)
    while (!lines.stopped) {
      const n = readSync(fd, block, 0, BLOCK_BYTES, null)
      if (n === 0) break
      lines.push(block.subarray(0, n))
      await drain()
    }
    // The kept lines are a prefix of the file: anything past them is the torn tail.
    const torn = fstatSync(fd).size !== lines.bytes
    if (torn) {
      ftruncateSync(fd, lines.bytes)
      fsyncSync(fd)
    }
    return {rows: lines.rows, torn, bytes: lines.bytes, sha256: hash.digest('hex')}
  } finally {
    closeSync(fd)
  }
}

const gunzipStream = (sync: boolean) => createGunzip({chunkSize: 64 * 1024, ...(sync ? {finishFlush: zlibConstants.Z_SYNC_FLUSH} : {})})

/** False when a gzip member of the file is cut short (a strict gunzip reports an unexpected end). */
async function gzipComplete(file: string): Promise<boolean> {
  try {
    await pipeline(createReadStream(file, {highWaterMark: BLOCK_BYTES}), gunzipStream(false), async (text: AsyncIterable<Buffer>) => {
      for await (const _ of text);
    })
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'Z_BUF_ERROR') return false
    throw error
  }
}

async function recoverGzip(file: string, onRow: (row: Record<string, unknown>) => void, drain: () => Promise<void>): Promise<RecoveredFile> {
  const lines = new WholeLines(onRow)
  const hash = createHash('sha256')
  let bytes = 0
  if (statSync(file).size > 0) {
    await pipeline(
      async function* () {
        for await (const chunk of createReadStream(file, {highWaterMark: BLOCK_BYTES}) as AsyncIterable<Buffer>) {
          hash.update(chunk)
          bytes += chunk.length
          yield chunk
        }
      },
      gunzipStream(true),
      async (text: AsyncIterable<Buffer>) => {
        for await (const chunk of text) {
          if (lines.stopped) continue
          lines.push(chunk)
          await drain()
        }
      },
    )
  }
  // As readArchiveLines: an empty file is a complete, empty archive.
  const torn = bytes > 0 && (lines.tail || !(await gzipComplete(file)))
  if (!torn) return {rows: lines.rows, torn, bytes, sha256: hash.digest('hex')}

  // Rewrite the kept lines (the first lines.bytes bytes of the text) as one gzip member, atomically.
  const tmp = `${file}.tmp-${process.pid}`
  const out = createHash('sha256')
  let written = 0
  let left = lines.bytes
  const fd = openSync(tmp, 'w')
  try {
    await pipeline(
      createReadStream(file, {highWaterMark: BLOCK_BYTES}),
      gunzipStream(true),
      async function* (text: AsyncIterable<Buffer>) {
        for await (const chunk of text) {
          if (left <= 0) continue
          const part = chunk.length <= left ? chunk : chunk.subarray(0, left)
          left -= part.length
          yield part
        }
      },
      createGzip(),
      async (gz: AsyncIterable<Buffer>) => {
        for await (const chunk of gz) {
          writeAll(fd, chunk)
          out.update(chunk)
          written += chunk.length
        }
      },
    )
    if (left !== 0) throw new Error(`${file} changed while it was being recovered`)
    fsyncSync(fd)
  } catch (error) {
    closeSync(fd)
    rmSync(tmp, {force: true})
    throw error
  }
  closeSync(fd)
  renameSync(tmp, file)
  fsyncDir(path.dirname(file))
  return {rows: lines.rows, torn, bytes: written, sha256: out.digest('hex')}
}
