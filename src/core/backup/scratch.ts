import {existsSync, mkdirSync, readdirSync, rmSync, statSync} from 'node:fs'
import path from 'node:path'

import {UsageError} from '../errors.js'

/**
 * Plain (decrypted or not yet encrypted) copies of an SQLite database live beside the database itself,
 * never in the backup folder: they hold what the database file holds, so they add no exposure there,
 * and a backup folder synced off-site never sees plain data. Named after the process, so copies of a
 * killed run are recognised (their process is gone) and removed by the next run.
 */
export function scratchCopyPath(databaseFile: string, purpose: 'backup' | 'restore'): string {
  return path.join(path.dirname(path.resolve(databaseFile)), `.${path.basename(databaseFile)}.${purpose}-${process.pid}.tmp`)
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Removes the scratch copies (and their -wal / -shm) that runs which were killed left beside the database. */
export function removeDeadScratchCopies(databaseFile: string): string[] {
  const folder = path.dirname(path.resolve(databaseFile))
  const prefix = `.${path.basename(databaseFile)}.`
  let names: string[]
  try {
    names = readdirSync(folder)
  } catch {
    return []
  }
  const removed: string[] = []
  for (const name of names) {
    if (!name.startsWith(prefix)) continue
    const m = /^(?:backup|restore)-(\d+)\.tmp(?:-wal|-shm|-journal)?$/.exec(name.slice(prefix.length))
    if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue
    rmSync(path.join(folder, name), {force: true})
    removed.push(name)
  }
  return removed
}

export function removeScratchCopy(copy: string): void {
  for (const f of [copy, `${copy}-wal`, `${copy}-shm`, `${copy}-journal`]) rmSync(f, {force: true})
}

/**
 * Creates a folder and its missing parents one level at a time (mode 0700 for the new ones). Node's
 * recursive mkdir loops forever on some paths (`/proc/x`: ENOENT for the child, EEXIST for the parent);
 * this fails with that error instead.
 */
export function makeFolder(dir: string): void {
  const missing: string[] = []
  let at = path.resolve(dir)
  while (!existsSync(at)) {
    missing.unshift(at)
    const parent = path.dirname(at)
    if (parent === at) break
    at = parent
  }
  if (existsSync(at) && !statSync(at).isDirectory()) {
    throw new UsageError('USAGE', `'${at.slice(0, 200)}' is a file, not a folder: --output must name a folder`)
  }
  for (const folder of missing) {
    try {
      mkdirSync(folder, {mode: 0o700})
    } catch (error) {
      // Another process (a second backup started at once) made it meanwhile: fine if it is a folder.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(folder).isDirectory()) throw error
    }
  }
}
