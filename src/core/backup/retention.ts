import {readdirSync, rmSync, statSync} from 'node:fs'
import path from 'node:path'

import {OpsError, UsageError} from '../errors.js'
import {BACKUP_NAME, type BackupManifest, manifestPathFor, readManifest} from './manifest.js'

export interface ListedBackup {
  name: string
  file: string
  bytes: number
  /** From the manifest; null when the manifest is missing or unreadable (the backup cannot be verified or restored). */
  manifest: BackupManifest | null
  problem: string | null
}

/** The backups in a folder that this command wrote (its file name pattern), newest first. */
export function listBackups(dir: string): ListedBackup[] {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return []
    if (code === 'ENOTDIR' || code === 'ENAMETOOLONG') throw new UsageError('USAGE', `the backup folder '${dir.slice(0, 200)}' is not a folder (${code})`)
    throw new OpsError('STORAGE_UNWRITABLE', `the backup folder ${dir} cannot be read (${code ?? (error as Error).message})`, {cause: error})
  }
  const out: ListedBackup[] = []
  for (const name of names) {
    if (!BACKUP_NAME.test(name)) continue
    const file = path.join(dir, name)
    let bytes: number
    try {
      const stat = statSync(file)
      if (!stat.isFile()) continue
      bytes = stat.size
    } catch {
      continue
    }
    let manifest: BackupManifest | null = null
    let problem: string | null = null
    try {
      manifest = readManifest(manifestPathFor(file), file)
    } catch (error) {
      problem = (error as Error).message
    }
    out.push({name, file, bytes, manifest, problem})
  }
  const key = (b: ListedBackup): string => b.manifest?.created_at ?? ''
  return out.sort((a, b) => (key(a) === key(b) ? (a.name < b.name ? 1 : -1) : key(a) < key(b) ? 1 : -1))
}

export interface PrunedBackup {
  name: string
  created_at: string
}

const STALE_PARTIAL_MS = 60 * 60 * 1000

/**
 * Deletes the backups (file and manifest) made more than keepDays before `now`, by the manifest's
 * created_at. Only files this command wrote count (our name pattern and a laundry-ops manifest that names
 * the file); the newest backup and `keep` (the one just made) are never deleted, whatever their age.
 * Leftovers of a killed backup (`.….partial*`, untouched for an hour) go too.
 */
export function pruneBackups(dir: string, options: {keepDays: number; now: Date; keep?: string; dryRun?: boolean; newerComing?: boolean}): PrunedBackup[] {
  const cutoff = options.now.getTime() - options.keepDays * 86_400_000
  const backups = listBackups(dir).filter((b) => b.manifest !== null)
  // newerComing (a dry run's preview): the backup about to be made will be the newest, not today's newest.
  const newest = options.newerComing ? undefined : backups[0]?.name
  const pruned: PrunedBackup[] = []
  for (const b of backups) {
    if (b.name === newest || b.name === options.keep) continue
    const created = Date.parse(b.manifest!.created_at)
    if (!Number.isFinite(created) || created >= cutoff) continue
    if (!options.dryRun) {
      rmSync(b.file, {force: true})
      rmSync(manifestPathFor(b.file), {force: true})
    }
    pruned.push({name: b.name, created_at: b.manifest!.created_at})
  }
  if (!options.dryRun) {
    for (const name of readdirSync(dir)) {
      if (
        !/^\.laundry-ops-(sqlite|pg)-\d{8}T\d{6}Z(-\d+)?\.(sqlite|dump)(\.age)?\.(partial|partial-copy|partial-copy-wal|partial-copy-shm|manifest\.partial)$/.test(
          name,
        )
      )
        continue
      try {
        if (Date.now() - statSync(path.join(dir, name)).mtimeMs > STALE_PARTIAL_MS) rmSync(path.join(dir, name), {force: true})
      } catch {
        // Gone meanwhile.
      }
    }
  }
  return pruned
}
