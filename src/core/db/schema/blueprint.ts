/**
 * A table definition in the vocabulary of the upstream Laravel migrations (id, uuid, string, timestamps,
 * foreign keys with cascade rules), so each of our migration modules reads like the upstream one it
 * mirrors. The grammars turn it into the DDL Laravel 12 emits on PostgreSQL and SQLite, which keeps the
 * two applications' schemas identical (types, defaults, key and index names).
 */
export type ColumnType =
  | 'increments' // serial PK (Laravel's own `migrations` ledger)
  | 'bigIncrements'
  | 'uuid'
  | 'string'
  | 'text'
  | 'mediumText'
  | 'longText'
  | 'integer'
  | 'unsignedInteger'
  | 'unsignedTinyInteger'
  | 'bigInteger'
  | 'unsignedBigInteger'
  | 'boolean'
  | 'json'
  | 'decimal'
  | 'timestamp'
  | 'dateTime'
  | 'date'

export type DefaultValue = string | number | boolean | {raw: string}

export interface ColumnDefinition {
  name: string
  type: ColumnType
  length?: number
  precision?: number
  scale?: number
  nullable: boolean
  default?: DefaultValue
}

export type ReferentialAction = 'cascade' | 'set null' | 'restrict' | 'no action'

export type TableCommand =
  | {kind: 'primary'; columns: string[]}
  | {kind: 'unique'; columns: string[]; name: string}
  | {kind: 'index'; columns: string[]; name: string}
  | {kind: 'foreign'; columns: string[]; name: string; on: string; references: string[]; onDelete?: ReferentialAction}
  | {kind: 'dropUnique'; name: string}
  | {kind: 'dropIndex'; name: string}
  | {kind: 'dropForeign'; name: string}
  | {kind: 'dropColumn'; columns: string[]}

export class ColumnBuilder {
  constructor(
    readonly definition: ColumnDefinition,
    private readonly table: Blueprint,
  ) {}

  nullable(value = true): this {
    this.definition.nullable = value
    return this
  }

  default(value: DefaultValue): this {
    this.definition.default = value
    return this
  }

  useCurrent(): this {
    this.definition.default = {raw: 'CURRENT_TIMESTAMP'}
    return this
  }

  /** Column-level keys come after the table's explicit commands, as in Laravel's blueprint. */
  primary(): this {
    this.table.fluent.push({kind: 'primary', columns: [this.definition.name]})
    return this
  }

  unique(name?: string): this {
    this.table.fluent.push({kind: 'unique', columns: [this.definition.name], name: name ?? this.table.indexName('unique', [this.definition.name])})
    return this
  }

  index(name?: string): this {
    this.table.fluent.push({kind: 'index', columns: [this.definition.name], name: name ?? this.table.indexName('index', [this.definition.name])})
    return this
  }

  /** `foreignId()->constrained()` / `foreignUuid()->constrained()`. */
  constrained(on: string, onDelete?: ReferentialAction, references = 'id'): this {
    this.table.foreign(this.definition.name, on, onDelete, references)
    return this
  }
}

export class Blueprint {
  readonly columns: ColumnDefinition[] = []
  readonly commands: TableCommand[] = []
  readonly fluent: TableCommand[] = []

  constructor(
    readonly table: string,
    readonly creating: boolean,
  ) {}

  indexName(kind: 'unique' | 'index' | 'foreign', columns: string[]): string {
    return `${this.table}_${columns.join('_')}_${kind}`.toLowerCase().replace(/[-.]/g, '_')
  }

  private add(name: string, type: ColumnType, extra: Partial<ColumnDefinition> = {}): ColumnBuilder {
    const definition: ColumnDefinition = {name, type, nullable: false, ...extra}
    this.columns.push(definition)
    return new ColumnBuilder(definition, this)
  }

  increments(name = 'id') {
    return this.add(name, 'increments')
  }

  id(name = 'id') {
    return this.add(name, 'bigIncrements')
  }

  uuid(name: string) {
    return this.add(name, 'uuid')
  }

  string(name: string, length = 255) {
    return this.add(name, 'string', {length})
  }

  text(name: string) {
    return this.add(name, 'text')
  }

  mediumText(name: string) {
    return this.add(name, 'mediumText')
  }

  longText(name: string) {
    return this.add(name, 'longText')
  }

  integer(name: string) {
    return this.add(name, 'integer')
  }

  unsignedInteger(name: string) {
    return this.add(name, 'unsignedInteger')
  }

  unsignedTinyInteger(name: string) {
    return this.add(name, 'unsignedTinyInteger')
  }

  bigInteger(name: string) {
    return this.add(name, 'bigInteger')
  }

  unsignedBigInteger(name: string) {
    return this.add(name, 'unsignedBigInteger')
  }

  foreignId(name: string) {
    return this.add(name, 'unsignedBigInteger')
  }

  foreignUuid(name: string) {
    return this.add(name, 'uuid')
  }

  boolean(name: string) {
    return this.add(name, 'boolean')
  }

  json(name: string) {
    return this.add(name, 'json')
  }

  decimal(name: string, precision = 8, scale = 2) {
    return this.add(name, 'decimal', {precision, scale})
  }

  timestamp(name: string) {
    return this.add(name, 'timestamp')
  }

  dateTime(name: string) {
    return this.add(name, 'dateTime')
  }

  date(name: string) {
    return this.add(name, 'date')
  }

  timestamps(): void {
    this.timestamp('created_at').nullable()
    this.timestamp('updated_at').nullable()
  }

  softDeletes(): void {
    this.timestamp('deleted_at').nullable()
  }

  primary(columns: string | string[]): void {
    this.commands.push({kind: 'primary', columns: [columns].flat()})
  }

  unique(columns: string | string[], name?: string): void {
    const cols = [columns].flat()
    this.commands.push({kind: 'unique', columns: cols, name: name ?? this.indexName('unique', cols)})
  }

  index(columns: string | string[], name?: string): void {
    const cols = [columns].flat()
    this.commands.push({kind: 'index', columns: cols, name: name ?? this.indexName('index', cols)})
  }

  foreign(column: string, on: string, onDelete?: ReferentialAction, references = 'id'): void {
    this.commands.push({
      kind: 'foreign',
      columns: [column],
      name: this.indexName('foreign', [column]),
      on,
      references: [references],
      onDelete,
    })
  }

  dropUnique(name: string): void {
    this.commands.push({kind: 'dropUnique', name})
  }

  dropIndex(name: string): void {
    this.commands.push({kind: 'dropIndex', name})
  }

  dropForeign(name: string): void {
    this.commands.push({kind: 'dropForeign', name})
  }

  dropColumn(columns: string | string[]): void {
    this.commands.push({kind: 'dropColumn', columns: [columns].flat()})
  }

  /** Explicit commands first, then the column-level keys, as Laravel orders them. */
  allCommands(): TableCommand[] {
    return [...this.commands, ...this.fluent]
  }
}
