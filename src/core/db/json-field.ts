import type {Knex} from 'knex'

import type {Database} from './connection.js'

/**
 * One top-level key of a json column as text, in SQL (both dialects): PostgreSQL's `->>`; SQLite's
 * json_extract, guarded by json_valid so that a row holding text that is not JSON reads as null instead
 * of failing the whole query. A key that is missing, or a value that is an array or a scalar, reads as null.
 * `column` and `key` are fixed names of the caller (never user input): they are checked and quoted here.
 */
export function jsonTextField(db: Database, column: string, key: string): Knex.Raw {
  if (!/^[a-z_][a-z0-9_]*$/.test(column) || !/^[a-z_][a-z0-9_]*$/.test(key)) throw new Error(`jsonTextField: not a plain name: ${column}.${key}`)
  if (db.dialect === 'pg') return db.knex.raw(`("${column}"->>'${key}')`)
  return db.knex.raw(`(case when json_valid("${column}") and json_type("${column}") = 'object' then json_extract("${column}", '$.${key}') end)`)
}
