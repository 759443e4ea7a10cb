import {readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {z} from 'zod'

import {OpsError, UsageError} from '../errors.js'

export const MANIFEST_FORMAT = 'laundry-ops-backup/1'
export const MANIFEST_SUFFIX = '.manifest.json'

/** Backup files this command writes: `laundry-ops-<engine>-<UTC stamp>[-n].<sqlite|dump>[.age]`. */
export const BACKUP_NAME = /^laundry-ops-(sqlite|pg)-(\d{8}T\d{6}Z)(?:-(\d+))?\.(sqlite|dump)(\.age)?$/

const Stats = z.object({rows: z.number().int().nonnegative(), checksum: z.string().regex(/^sha256-sum:[0-9a-f]{64}$/)})

export const ManifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  tool: z.object({name: z.literal('laundry-ops'), version: z.string()}),
  created_at: z.string(),
  engine: z.enum(['sqlite', 'pg']),
  server_version: z.string(),
  database: z.string(),
  schema: z.object({migrations: z.number().int().nonnegative(), last: z.string().nullable(), names: z.array(z.string())}),
  tables: z.record(z.string(), Stats),
  file: z.object({
    name: z.string(),
    bytes: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    encryption: z.enum(['x25519', 'passphrase', 'none']),
    recipients: z.array(z.string()),
  }),
  payload: z.object({format: z.enum(['sqlite3', 'pg_dump-custom']), bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/)}),
  duration_ms: z.number().nonnegative(),
})

export type BackupManifest = z.infer<typeof ManifestSchema>

export function manifestPathFor(backupFile: string): string {
  return `${backupFile}${MANIFEST_SUFFIX}`
}

/** The backup a command line names: the backup file itself, or its manifest. A missing file is bad usage (exit 2). */
export function resolveBackupFile(given: string): {file: string; manifestFile: string} {
  const file = path.resolve(given.endsWith(MANIFEST_SUFFIX) ? given.slice(0, -MANIFEST_SUFFIX.length) : given)
  let stat
  try {
    stat = statSync(file)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UsageError('BACKUP_NOT_FOUND', `${given}: no such file (see \`laundry-ops db backup list\`)`)
    throw new UsageError('BACKUP_NOT_FOUND', `${given} cannot be read (${code ?? (error as Error).message})`)
  }
  if (stat.isDirectory()) throw new UsageError('BACKUP_NOT_FOUND', `${given} is a folder: expected a backup file (see \`laundry-ops db backup list\`)`)
  return {file, manifestFile: manifestPathFor(file)}
}

/** Reads and checks a manifest; a missing or malformed one means the backup cannot be verified (exit 1). */
export function readManifest(manifestFile: string, backupFile: string): BackupManifest {
  let text: string
  try {
    text = readFileSync(manifestFile, 'utf8')
  } catch (error) {
    throw new OpsError(
      'BACKUP_CORRUPT',
      `${backupFile}: its manifest ${path.basename(manifestFile)} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): a backup is only verified and restored with the manifest written beside it`,
    )
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new OpsError('BACKUP_CORRUPT', `${manifestFile}: not JSON (${(error as Error).message})`)
  }
  const result = ManifestSchema.safeParse(parsed)
  if (!result.success) {
    const issue = result.error.issues[0]
    throw new OpsError(
      'BACKUP_CORRUPT',
      `${manifestFile}: not a laundry-ops backup manifest (${issue.path.map(String).join('.') || 'document'}: ${issue.message})`,
    )
  }
  if (result.data.file.name !== path.basename(backupFile)) {
    throw new OpsError('BACKUP_CORRUPT', `${manifestFile} describes ${result.data.file.name}, not ${path.basename(backupFile)}`)
  }
  return result.data
}

/** `20261202T130500Z` for a date. */
export function backupStamp(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z')
}
