import type {Database} from './connection.js'
import {selectRows} from './transactions.js'

export interface ColumnShape {
  name: string
  type: string
  nullable: boolean
  default: string | null
}

export interface TableShape {
  columns: ColumnShape[]
  /** `name: definition`, sorted: unique constraints, indexes, primary and foreign keys. */
  keys: string[]
}

export type SchemaShape = Record<string, TableShape>

/** Strips the parentheses SQLite keeps around a default written as `default ('x')` by a table rebuild. */
function unwrapDefault(value: string | null): string | null {
  if (value === null) return null
  let v = value.trim()
  while (v.startsWith('(') && v.endsWith(')')) v = v.slice(1, -1).trim()
  return v
}

async function sqliteShape(db: Database): Promise<SchemaShape> {
  const q = <T>(sql: string, b: unknown[] = []) => selectRows<T>(db.knex, 'sqlite', sql, b)
  const tables = await q<{name: string}>("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name")
  const shape: SchemaShape = {}
  for (const {name} of tables) {
    const cols = await q<{name: string; type: string; notnull: number; dflt_value: string | null; pk: number}>('select * from pragma_table_info(?)', [name])
    const keys: string[] = []
    const pk = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk)
    if (pk.length > 0) keys.push(`primary: (${pk.map((c) => c.name).join(', ')})`)
    for (const index of await q<{name: string; unique: number; origin: string}>('select * from pragma_index_list(?)', [name])) {
      if (index.origin === 'pk') continue
      const icols = await q<{name: string}>('select name from pragma_index_info(?) order by seqno', [index.name])
      keys.push(`${index.name}: ${index.unique ? 'unique' : 'index'} (${icols.map((c) => c.name).join(', ')})`)
    }
    for (const fk of await q<{table: string; from: string; to: string; on_delete: string}>('select * from pragma_foreign_key_list(?)', [name])) {
      keys.push(`foreign (${fk.from}) -> ${fk.table}(${fk.to}) on delete ${fk.on_delete.toLowerCase()}`)
    }
    shape[name] = {
      columns: cols.map((c) => ({name: c.name, type: c.type.toLowerCase(), nullable: c.notnull === 0 && c.pk === 0, default: unwrapDefault(c.dflt_value)})),
      keys: keys.sort(),
    }
  }
  return shape
}

async function pgShape(db: Database): Promise<SchemaShape> {
  const q = <T>(sql: string, b: unknown[] = []) => selectRows<T>(db.knex, 'pg', sql, b)
  const tables = await q<{tablename: string}>('select tablename from pg_tables where schemaname = current_schema() order by tablename')
  const shape: SchemaShape = {}
  for (const {tablename: name} of tables) {
    const cols = await q<{column_name: string; type: string; is_nullable: string; column_default: string | null}>(
      `select column_name, format_type(a.atttypid, a.atttypmod) as type, c.is_nullable, c.column_default
         from information_schema.columns c
         join pg_attribute a on a.attrelid = (quote_ident(c.table_schema) || '.' || quote_ident(c.table_name))::regclass and a.attname = c.column_name
        where c.table_schema = current_schema() and c.table_name = ? order by c.ordinal_position`,
      [name],
    )
    const constraints = await q<{conname: string; def: string}>(
      `select conname, pg_get_constraintdef(con.oid) as def from pg_constraint con
         join pg_class rel on rel.oid = con.conrelid join pg_namespace ns on ns.oid = rel.relnamespace
        where ns.nspname = current_schema() and rel.relname = ?`,
      [name],
    )
    const indexes = await q<{indexname: string; indexdef: string}>(
      `select indexname, indexdef from pg_indexes where schemaname = current_schema() and tablename = ?
          and indexname not in (select conname from pg_constraint)`,
      [name],
    )
    shape[name] = {
      columns: cols.map((c) => ({
        name: c.column_name,
        type: c.type,
        nullable: c.is_nullable === 'YES',
        // serial defaults name their sequence, which is the same for both applications.
        default: c.column_default,
      })),
      keys: [...constraints.map((c) => `${c.conname}: ${c.def}`), ...indexes.map((i) => `${i.indexname}: ${i.indexdef.replace(/ ON [^ ]+\./, ' ON ')}`)].sort(),
    }
  }
  return shape
}

/** Tables, columns (type, nullability, default) and every key and index, in a comparable form. */
export async function describeSchema(db: Database): Promise<SchemaShape> {
  return db.dialect === 'pg' ? pgShape(db) : sqliteShape(db)
}
