import {createHash} from 'node:crypto'
import {closeSync, fsyncSync, openSync} from 'node:fs'
import {Readable, Transform, type TransformCallback} from 'node:stream'

import type {BackupEncryption, BackupKeys} from './keys.js'
import {describeDecryptError} from './keys.js'

/** A pass-through that counts bytes and hashes them (sha256), for the manifest's file and payload figures. */
export class HashingStream extends Transform {
  bytes = 0
  private hash = createHash('sha256')
  private hex?: string

  _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length
    this.hash.update(chunk)
    callback(null, chunk)
  }

  get sha256(): string {
    this.hex ??= this.hash.digest('hex')
    return this.hex
  }
}

/** The age encryption of a stream (or the stream itself with --no-encrypt); age's STREAM chunks keep memory flat. */
export async function encryptStream(source: Readable, encryption: BackupEncryption): Promise<Readable> {
  if (encryption.type === 'none') return source
  const {Encrypter} = await import('age-encryption')
  const encrypter = new Encrypter()
  if (encryption.type === 'passphrase') encrypter.setPassphrase(encryption.passphrase)
  else for (const r of encryption.recipients) encrypter.addRecipient(r)
  const web = Readable.toWeb(source) as unknown as ReadableStream<Uint8Array>
  const encrypted = await encrypter.encrypt(web)
  return Readable.fromWeb(encrypted)
}

/**
 * The plaintext of an age stream. The header (which key opens it) is checked before this resolves; each
 * 64 KiB chunk is authenticated as it is read, and a truncated file fails at its end (age's last-chunk
 * flag), so a reader sees an error, never a silently short payload.
 */
export async function decryptStream(source: Readable, keys: BackupKeys, file: string, encrypted: boolean): Promise<Readable> {
  if (!encrypted) return source
  const {Decrypter} = await import('age-encryption')
  const decrypter = new Decrypter()
  for (const identity of keys.identities) decrypter.addIdentity(identity)
  if (keys.passphrase) decrypter.addPassphrase(keys.passphrase)
  const web = Readable.toWeb(source) as unknown as ReadableStream<Uint8Array>
  let plain: ReadableStream<Uint8Array>
  try {
    plain = await decrypter.decrypt(web)
  } catch (error) {
    source.destroy()
    throw describeDecryptError(error, file)
  }
  const out = Readable.fromWeb(plain)
  // A damaged chunk surfaces as a stream error: give it the same one-line meaning.
  const mapped = new Transform({
    transform(chunk: Buffer, _e, callback) {
      callback(null, chunk)
    },
  })
  out.on('error', (error) => mapped.destroy(describeDecryptError(error, file)))
  return out.pipe(mapped)
}

/** Flushes a file (or folder) to disk, so a rename that follows cannot land before its content. */
export function fsyncPath(target: string, flags = 'r'): void {
  const fd = openSync(target, flags)
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
