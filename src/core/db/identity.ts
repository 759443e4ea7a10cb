import {createHash} from 'node:crypto'
import {realpathSync} from 'node:fs'

import type {Database} from './connection.js'
import {selectRows} from './transactions.js'

/**
 * Which database this is, without secrets: files that carry it (an unfinished audit archive) are only
 * ever finished by a run against the same database, even when two databases share one storage folder.
 */
export interface DatabaseIdentity {
  /** sha256 of the identity, 16 hex digits: compared, never shown alone. */
  fingerprint: string
  /** For people: `sqlite:/srv/laundry/storage/database.sqlite`, `postgres://user@host:5432/db (schema public)`. */
  display: string
}

const fingerprintOf = (identity: string) => createHash('sha256').update(identity).digest('hex').slice(0, 16)

/**
 * SQLite: the file's real path (a symlink or a relative path names the same file). PostgreSQL: the
 * cluster's system identifier (the same whatever host name or port reaches it), the database's oid and
 * the current schema; where pg_control_system() is not allowed, the host, port and database name.
 */
export async function databaseIdentity(db: Database): Promise<DatabaseIdentity> {
  const target = db.target
  if (target.client === 'sqlite') {
    let file = target.filename
    try {
      file = realpathSync(file)
    } catch {
      // Not there (yet): the configured path is the best we have.
    }
    return {fingerprint: fingerprintOf(`sqlite:${file}`), display: `sqlite:${file}`}
  }
  const [where] = await selectRows<{oid: number | string; schema: string | null}>(
    db.knex,
    'pg',
    'select d.oid, current_schema() as schema from pg_database d where d.datname = current_database()',
  )
  let cluster: string
  try {
    const [control] = await selectRows<{system_identifier: string | number}>(
      db.knex,
      'pg',
      'select system_identifier::text as system_identifier from pg_control_system()',
    )
    cluster = `system:${String(control.system_identifier)}`
  } catch {
    cluster = `server:${target.host}:${target.port}`
  }
  const schema = where?.schema ?? 'public'
  const user = target.user ? `${target.user}@` : ''
  return {
    fingerprint: fingerprintOf(`pg:${cluster}:${String(where?.oid)}:${schema}`),
    display: `postgres://${user}${target.host}:${target.port}/${target.database} (schema ${schema})`,
  }
}
