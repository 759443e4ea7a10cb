import type {Knex} from 'knex'

import type {Dialect} from '../connection.js'
import {Blueprint, type TableCommand} from './blueprint.js'
import {pgStatements, quoteIdent, quoteList, renderColumn, sqliteCreateStatements, sqliteForeignClause} from './grammar.js'

type ForeignCommand = Extract<TableCommand, {kind: 'foreign'}>

interface SqliteColumnInfo {
  name: string
  type: string
  notnull: number
  dflt_value: string | null
  pk: number
}

interface SqliteForeignInfo {
  id: number
  seq: number
  table: string
  from: string
  to: string | null
  on_delete: string
}

/**
 * Runs blueprints against a connection or transaction. SQLite cannot add or drop a foreign key or a
 * keyed column in place, so those changes rebuild the table (create a copy, move the rows, swap), the
 * way Laravel's SQLite grammar does; the migrator runs that with foreign key enforcement off and checks
 * integrity before it commits.
 */
export class SchemaBuilder {
  /** Every statement executed, in order (for `--verbose` output and tests). */
  readonly log: string[] = []

  constructor(
    readonly conn: Knex | Knex.Transaction,
    readonly dialect: Dialect,
  ) {}

  async raw(sql: string, bindings: readonly unknown[] = []): Promise<unknown> {
    this.log.push(sql)
    return this.conn.raw(sql, bindings as Knex.RawBinding[])
  }

  private async select<T>(sql: string, bindings: unknown[] = []): Promise<T[]> {
    const result = (await this.conn.raw(sql, bindings as Knex.RawBinding[])) as unknown
    return (this.dialect === 'pg' ? (result as {rows: T[]}).rows : result) as T[]
  }

  async hasTable(table: string): Promise<boolean> {
    if (this.dialect === 'pg') {
      const rows = await this.select<{n: number}>('select count(*)::int as n from pg_tables where schemaname = current_schema() and tablename = ?', [table])
      return rows[0].n > 0
    }
    const rows = await this.select<{n: number}>("select count(*) as n from sqlite_master where type = 'table' and name = ?", [table])
    return rows[0].n > 0
  }

  async create(table: string, define: (t: Blueprint) => void): Promise<void> {
    const bp = new Blueprint(table, true)
    define(bp)
    const statements = this.dialect === 'pg' ? pgStatements(bp) : sqliteCreateStatements(bp)
    for (const sql of statements) await this.raw(sql)
  }

  async table(table: string, define: (t: Blueprint) => void): Promise<void> {
    const bp = new Blueprint(table, false)
    define(bp)
    if (this.dialect === 'pg') {
      for (const sql of pgStatements(bp)) await this.raw(sql)
      return
    }
    await this.alterSqlite(bp)
  }

  async drop(table: string): Promise<void> {
    await this.raw(`drop table ${quoteIdent(table)}`)
  }

  async dropIfExists(table: string): Promise<void> {
    await this.raw(`drop table if exists ${quoteIdent(table)}`)
  }

  private async alterSqlite(bp: Blueprint): Promise<void> {
    const t = quoteIdent(bp.table)
    const commands = bp.allCommands()
    for (const c of bp.columns) {
      await this.raw(`alter table ${t} add column ${renderColumn('sqlite', c)}`)
    }
    for (const cmd of commands) {
      if (cmd.kind === 'dropIndex' || cmd.kind === 'dropUnique') await this.raw(`drop index ${quoteIdent(cmd.name)}`)
    }
    const addForeign = commands.filter((c): c is ForeignCommand => c.kind === 'foreign')
    const dropForeign = commands.flatMap((c) => (c.kind === 'dropForeign' ? [c.name] : []))
    const dropColumns = commands.flatMap((c) => (c.kind === 'dropColumn' ? c.columns : []))
    if (addForeign.length > 0 || dropForeign.length > 0 || dropColumns.length > 0) {
      await this.rebuildSqliteTable(bp.table, {addForeign, dropForeign, dropColumns})
    }
    for (const cmd of commands) {
      if (cmd.kind === 'unique') await this.raw(`create unique index ${quoteIdent(cmd.name)} on ${t} (${quoteList(cmd.columns)})`)
      if (cmd.kind === 'index') await this.raw(`create index ${quoteIdent(cmd.name)} on ${t} (${quoteList(cmd.columns)})`)
    }
  }

  private async rebuildSqliteTable(table: string, change: {addForeign: ForeignCommand[]; dropForeign: string[]; dropColumns: string[]}): Promise<void> {
    const columns = (await this.select<SqliteColumnInfo>('select * from pragma_table_xinfo(?)', [table])).filter((c) => !change.dropColumns.includes(c.name))
    const foreign = await this.select<SqliteForeignInfo>('select * from pragma_foreign_key_list(?) order by id, seq', [table])
    const indexes = await this.select<{name: string; sql: string}>(
      "select name, sql from sqlite_master where type = 'index' and tbl_name = ? and sql is not null",
      [table],
    )
    const keptIndexes: string[] = []
    for (const index of indexes) {
      const indexColumns = await this.select<{name: string}>('select name from pragma_index_info(?)', [index.name])
      if (!indexColumns.some((c) => change.dropColumns.includes(c.name))) keptIndexes.push(index.sql)
    }
    const [{sql: tableSql}] = await this.select<{sql: string}>("select sql from sqlite_master where type = 'table' and name = ?", [table])
    const pkColumns = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk)
    const rowidKey = pkColumns.length === 1 && /autoincrement/i.test(tableSql) ? pkColumns[0].name : undefined

    const parts = columns.map((c) => {
      if (c.name === rowidKey) return `${quoteIdent(c.name)} integer primary key autoincrement not null`
      let sql = `${quoteIdent(c.name)} ${c.type.toLowerCase()}`
      if (c.notnull) sql += ' not null'
      if (c.dflt_value !== null) sql += ` default (${c.dflt_value})`
      return sql
    })
    const droppedForeignColumns = new Set(change.dropForeign.map((name) => name.replace(new RegExp(`^${table}_`), '').replace(/_foreign$/, '')))
    const groups = new Map<number, SqliteForeignInfo[]>()
    for (const fk of foreign) groups.set(fk.id, [...(groups.get(fk.id) ?? []), fk])
    for (const fks of groups.values()) {
      const from = fks.map((f) => f.from)
      if (from.some((c) => change.dropColumns.includes(c))) continue
      if (from.length === 1 && droppedForeignColumns.has(from[0])) continue
      const action = fks[0].on_delete.toLowerCase()
      parts.push(
        sqliteForeignClause({
          columns: from,
          on: fks[0].table,
          references: fks.map((f) => f.to ?? 'id'),
          onDelete: action === 'no action' ? undefined : action,
        }),
      )
    }
    for (const cmd of change.addForeign) parts.push(sqliteForeignClause(cmd))
    if (pkColumns.length > 0 && !rowidKey) parts.push(`primary key (${quoteList(pkColumns.map((c) => c.name))})`)

    const temp = quoteIdent(`__temp__${table}`)
    const names = quoteList(columns.map((c) => c.name))
    await this.raw(`create table ${temp} (${parts.join(', ')})`)
    await this.raw(`insert into ${temp} (${names}) select ${names} from ${quoteIdent(table)}`)
    await this.raw(`drop table ${quoteIdent(table)}`)
    await this.raw(`alter table ${temp} rename to ${quoteIdent(table)}`)
    for (const sql of keptIndexes) await this.raw(sql)
  }
}
