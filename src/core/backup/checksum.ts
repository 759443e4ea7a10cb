import {createHash} from 'node:crypto'

/**
 * A table's content checksum that does not depend on row order: the sum, modulo 2^256, of the sha256
 * of every row's text. Rows can then be read in physical order (a cursor, no sort, no primary key
 * needed) and a restored table, whose rows lie in a different order, still gives the same figure; a
 * changed, missing or duplicated row changes it.
 */
export class TableChecksum {
  rows = 0
  private lanes = [0n, 0n, 0n, 0n]

  add(rowText: string | Buffer): void {
    const digest = createHash('sha256').update(rowText).digest()
    this.lanes[0] += digest.readBigUInt64BE(0)
    this.lanes[1] += digest.readBigUInt64BE(8)
    this.lanes[2] += digest.readBigUInt64BE(16)
    this.lanes[3] += digest.readBigUInt64BE(24)
    this.rows++
  }

  digest(): string {
    const sum = ((this.lanes[0] << 192n) + (this.lanes[1] << 128n) + (this.lanes[2] << 64n) + this.lanes[3]) & ((1n << 256n) - 1n)
    return `sha256-sum:${sum.toString(16).padStart(64, '0')}`
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
