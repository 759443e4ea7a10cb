import type {Dialect} from '../connection.js'
import type {Blueprint, ColumnDefinition, DefaultValue, TableCommand} from './blueprint.js'

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`
const list = (names: string[]) => names.map(quoteIdent).join(', ')
const literal = (value: string) => `'${value.replace(/'/g, "''")}'`

function renderDefault(value: DefaultValue): string {
  if (typeof value === 'object') return value.raw
  if (typeof value === 'boolean') return literal(value ? '1' : '0')
  return literal(String(value))
}

function pgType(c: ColumnDefinition): string {
  switch (c.type) {
    case 'increments':
      return 'serial'
    case 'bigIncrements':
      return 'bigserial'
    case 'uuid':
      return 'uuid'
    case 'string':
      return `varchar(${c.length ?? 255})`
    case 'text':
    case 'mediumText':
    case 'longText':
      return 'text'
    case 'integer':
    case 'unsignedInteger':
      return 'integer'
    case 'unsignedTinyInteger':
      return 'smallint'
    case 'bigInteger':
    case 'unsignedBigInteger':
      return 'bigint'
    case 'boolean':
      return 'boolean'
    case 'json':
      return 'json'
    case 'decimal':
      return `decimal(${c.precision ?? 8}, ${c.scale ?? 2})`
    case 'timestamp':
    case 'dateTime':
      return 'timestamp(0) without time zone'
    case 'date':
      return 'date'
  }
}

function sqliteType(c: ColumnDefinition): string {
  switch (c.type) {
    case 'increments':
    case 'bigIncrements':
      return 'integer'
    case 'uuid':
    case 'string':
      return 'varchar'
    case 'text':
    case 'mediumText':
    case 'longText':
    case 'json':
      return 'text'
    case 'integer':
    case 'unsignedInteger':
    case 'unsignedTinyInteger':
    case 'bigInteger':
    case 'unsignedBigInteger':
      return 'integer'
    case 'boolean':
      return 'tinyint(1)'
    case 'decimal':
      return 'numeric'
    case 'timestamp':
    case 'dateTime':
      return 'datetime'
    case 'date':
      return 'date'
  }
}

const isAutoIncrement = (c: ColumnDefinition) => c.type === 'increments' || c.type === 'bigIncrements'

export function renderColumn(dialect: Dialect, c: ColumnDefinition): string {
  if (dialect === 'pg') {
    if (isAutoIncrement(c)) return `${quoteIdent(c.name)} ${pgType(c)} not null primary key`
    let sql = `${quoteIdent(c.name)} ${pgType(c)} ${c.nullable ? 'null' : 'not null'}`
    if (c.default !== undefined) sql += ` default ${renderDefault(c.default)}`
    return sql
  }
  if (isAutoIncrement(c)) return `${quoteIdent(c.name)} integer primary key autoincrement not null`
  let sql = `${quoteIdent(c.name)} ${sqliteType(c)}`
  if (!c.nullable) sql += ' not null'
  if (c.default !== undefined) sql += ` default ${renderDefault(c.default)}`
  return sql
}

function onDelete(cmd: Extract<TableCommand, {kind: 'foreign'}>): string {
  return cmd.onDelete ? ` on delete ${cmd.onDelete}` : ''
}

/** PostgreSQL: Laravel's statement list for a create or an alter, in its order. */
export function pgStatements(bp: Blueprint): string[] {
  const t = quoteIdent(bp.table)
  const out: string[] = []
  if (bp.creating) {
    out.push(`create table ${t} (${bp.columns.map((c) => renderColumn('pg', c)).join(', ')})`)
  } else {
    for (const c of bp.columns) out.push(`alter table ${t} add column ${renderColumn('pg', c)}`)
  }
  for (const cmd of bp.allCommands()) {
    switch (cmd.kind) {
      case 'primary':
        out.push(`alter table ${t} add primary key (${list(cmd.columns)})`)
        break
      case 'unique':
        out.push(`alter table ${t} add constraint ${quoteIdent(cmd.name)} unique (${list(cmd.columns)})`)
        break
      case 'index':
        out.push(`create index ${quoteIdent(cmd.name)} on ${t} (${list(cmd.columns)})`)
        break
      case 'foreign':
        out.push(
          `alter table ${t} add constraint ${quoteIdent(cmd.name)} foreign key (${list(cmd.columns)}) references ${quoteIdent(cmd.on)} (${list(cmd.references)})${onDelete(cmd)}`,
        )
        break
      case 'dropUnique':
      case 'dropForeign':
        out.push(`alter table ${t} drop constraint ${quoteIdent(cmd.name)}`)
        break
      case 'dropIndex':
        out.push(`drop index ${quoteIdent(cmd.name)}`)
        break
      case 'dropColumn':
        out.push(`alter table ${t} ${cmd.columns.map((c) => `drop column ${quoteIdent(c)}`).join(', ')}`)
        break
    }
  }
  return out
}

export function sqliteForeignClause(cmd: {columns: string[]; on: string; references: string[]; onDelete?: string}): string {
  return `foreign key(${list(cmd.columns)}) references ${quoteIdent(cmd.on)}(${list(cmd.references)})${cmd.onDelete ? ` on delete ${cmd.onDelete}` : ''}`
}

/** SQLite create: foreign keys and a non-rowid primary key go inside the table, indexes after it. */
export function sqliteCreateStatements(bp: Blueprint): string[] {
  const t = quoteIdent(bp.table)
  const parts = bp.columns.map((c) => renderColumn('sqlite', c))
  const commands = bp.allCommands()
  for (const cmd of commands) if (cmd.kind === 'foreign') parts.push(sqliteForeignClause(cmd))
  for (const cmd of commands) if (cmd.kind === 'primary') parts.push(`primary key (${list(cmd.columns)})`)
  const out = [`create table ${t} (${parts.join(', ')})`]
  for (const cmd of commands) {
    if (cmd.kind === 'unique') out.push(`create unique index ${quoteIdent(cmd.name)} on ${t} (${list(cmd.columns)})`)
    if (cmd.kind === 'index') out.push(`create index ${quoteIdent(cmd.name)} on ${t} (${list(cmd.columns)})`)
  }
  return out
}

export {list as quoteList, literal as quoteLiteral}
