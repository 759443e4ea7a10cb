import {createHash} from 'node:crypto'
import {existsSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {constants as zlibConstants, gzipSync, gunzipSync} from 'node:zlib'

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
 * Temporary files of an atomic manifest write that a killed run left behind (`X.manifest.json.tmp-PID`).
 * Only called under the archive lease, so no other run is writing one.
 */
export function removeStaleTemporaries(dir: string): string[] {
  if (!existsSync(dir)) return []
  const stale = readdirSync(dir).filter((name) => /\.manifest\.json\.tmp-\d+$/.test(name))
  for (const name of stale) rmSync(path.join(dir, name), {force: true})
  return stale
}

/** Every id in the finished archives of a folder (for checks and tests). */
export function archivedIds(dir: string): Map<string, string[]> {
  const ids = new Map<string, string[]>()
  if (!existsSync(dir)) return ids
  for (const name of readdirSync(dir).filter((n) => ARCHIVE_NAME.test(n)).sort()) {
    for (const line of readArchiveLines(path.join(dir, name)).lines) {
      const id = JSON.parse(line).id as string
      ids.set(id, [...(ids.get(id) ?? []), name])
    }
  }
  return ids
}

/**
 * The complete lines of an archive file. A run killed mid-write can leave a torn last line, or a torn
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
