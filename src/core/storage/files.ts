import {closeSync, fsyncSync, openSync, renameSync, writeSync} from 'node:fs'
import path from 'node:path'

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

export function writeAll(fd: number, data: Buffer): void {
  let offset = 0
  while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset)
}

/** Write to a temporary name, fsync, rename over the target, fsync the folder: all or nothing. */
export function writeFileAtomic(file: string, content: string | Buffer): void {
  const tmp = `${file}.tmp-${process.pid}`
  const fd = openSync(tmp, 'w')
  try {
    writeAll(fd, Buffer.isBuffer(content) ? content : Buffer.from(content))
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, file)
  fsyncDir(path.dirname(file))
}

