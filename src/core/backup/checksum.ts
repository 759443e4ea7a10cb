import {createHash} from 'node:crypto'

/**
 * A table's content checksum that does not depend on row order: the sum, modulo 2^256, of the sha256
 * of every row's text. Rows can then be read in physical order (a cursor, no sort, no primary key
 * needed) and a restored table, whose rows lie in a different order, still gives the same figure; a
 * changed, missing or duplicated row changes it.
 */
export class TableChecksum {
  rows = 0
  /** The 32-bit words of the running sum, most significant first; each stays exact below 2^53 (folded every 2^20 rows). */
  private lanes = new Float64Array(8)

  add(rowText: string | Buffer): void {
    this.addDigest(createHash('sha256').update(rowText).digest())
  }

  /** A digest given as hex digits from `offset` on (PostgreSQL's bytea text, `\\x…`). */
  addHexDigest(hex: string, offset = 0): void {
    const lanes = this.lanes
    for (let i = 0; i < 8; i++) lanes[i] += Number.parseInt(hex.slice(offset + i * 8, offset + i * 8 + 8), 16)
    if (++this.rows % 1_048_576 === 0) this.fold()
  }

  /** A row whose sha256 was computed elsewhere (PostgreSQL's sha256() of the same UTF-8 text). */
  addDigest(digest: Buffer): void {
    const lanes = this.lanes
    for (let i = 0; i < 8; i++) lanes[i] += digest.readUInt32BE(i * 4)
    if (++this.rows % 1_048_576 === 0) this.fold()
  }

  /** Carries each word's overflow into the next more significant one; the top word's carry is dropped (mod 2^256). */
  private fold(): void {
    const lanes = this.lanes
    for (let i = 7; i > 0; i--) {
      const carry = Math.floor(lanes[i] / 4_294_967_296)
      lanes[i] -= carry * 4_294_967_296
      lanes[i - 1] += carry
    }
    lanes[0] %= 4_294_967_296
  }

  digest(): string {
    this.fold()
    let hex = ''
    for (const lane of this.lanes) hex += lane.toString(16).padStart(8, '0')
    return `sha256-sum:${hex}`
  }
}

export interface TableStats {
  rows: number
  checksum: string
}

/** One SQLite row's text: its values in column order, blobs as hex, so the text is the same wherever it is read. */
export function sqliteRowText(values: unknown[]): string {
  return JSON.stringify(values, (_key, value: unknown) => {
    if (typeof value === 'bigint') return `${value}n`
    if (Buffer.isBuffer(value)) return `x'${value.toString('hex')}'`
    if (typeof value === 'object' && value !== null && 'type' in value && value.type === 'Buffer') {
      return `x'${Buffer.from((value as unknown as {data: number[]}).data).toString('hex')}'`
    }
    return value
  })
}
