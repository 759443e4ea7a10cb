import {accessSync, closeSync, constants, existsSync, fsyncSync, linkSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync} from 'node:fs'
import path from 'node:path'

import {OpsError} from '../errors.js'

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

/** Writes `content` to `<file>.tmp-<pid>` and fsyncs it; returns the temporary's name. */
function writeTemporary(file: string, content: string | Buffer): string {
  const tmp = `${file}.tmp-${process.pid}`
  const fd = openSync(tmp, 'w')
  try {
    writeAll(fd, Buffer.isBuffer(content) ? content : Buffer.from(content))
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  return tmp
}

/**
 * Creates `file` with its whole content, or not at all: false when it already exists. The content is
 * written and fsynced to a temporary first, then hard-linked to the name (link fails if the name is
 * taken), so a crash never leaves the name empty or half-written; a dead process's temporary
 * (`<file>.tmp-<pid>`) is for its owner's clean-up to remove.
 */
export function createFileAtomic(file: string, content: string | Buffer): boolean {
  const tmp = writeTemporary(file, content)
  try {
    linkSync(tmp, file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  } finally {
    rmSync(tmp, {force: true})
  }
  fsyncDir(path.dirname(file))
  return true
}

/** Write to a temporary name, fsync, rename over the target, fsync the folder: all or nothing. */
export function writeFileAtomic(file: string, content: string | Buffer): void {
  renameSync(writeTemporary(file, content), file)
  fsyncDir(path.dirname(file))
}

/**
 * Before anything runs: the file can be written (its folder created, writable, the path not a folder),
 * so that a run of minutes does not end in a report that cannot be written.
 */
export function preflightReportFile(file: string, flag: string): void {
  const dir = path.dirname(file)
  if (existsSync(file) && statSync(file).isDirectory()) throw new OpsError('USAGE', `${flag} ${file} is a folder: name a file`)
  try {
    mkdirSync(dir, {recursive: true})
  } catch (error) {
    throw new OpsError(
      'FAILED',
      `Unable to create report directory: ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); nothing was run`,
    )
  }
  try {
    accessSync(dir, constants.W_OK)
  } catch (error) {
    throw new OpsError('FAILED', `Unable to write report file: ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); nothing was run`)
  }
}
