import {mkdirSync} from 'node:fs'
import path from 'node:path'

/**
 * The folders under the storage folder that Laravel ships in its repository (storage/app, storage/logs)
 * and `readiness check` requires to be writable. `db migrate` and `db fresh` create them, so a freshly
 * migrated installation passes the readiness gate.
 */
export const STORAGE_FOLDERS = ['app', 'logs'] as const

/**
 * Creates `<storage>/app` and `<storage>/logs` when missing. Best effort: the schema work does not depend
 * on them, so a failure is returned (for a note) rather than thrown; `readiness check` reports it.
 */
export function ensureStorageFolders(storage: string): {created: string[]; error?: string} {
  const created: string[] = []
  for (const name of STORAGE_FOLDERS) {
    const dir = path.join(storage, name)
    try {
      if (mkdirSync(dir, {recursive: true}) !== undefined) created.push(dir)
    } catch (error) {
      const err = error as NodeJS.ErrnoException
      return {created, error: `cannot create ${dir} (${err.code ?? err.message})`}
    }
  }
  return {created}
}
