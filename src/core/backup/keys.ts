import {readFileSync, statSync} from 'node:fs'

import {OpsError, UsageError} from '../errors.js'

/**
 * The backup's encryption, in the age format (age-encryption.org/v1): to X25519 recipients
 * (`LAUNDRY_OPS_BACKUP_RECIPIENT=age1…`, several separated by commas or spaces), so the server that
 * makes backups holds no secret that reads them, or to a passphrase (`LAUNDRY_OPS_BACKUP_PASSPHRASE`)
 * for small setups. The standard `age` tool decrypts either.
 */
export type BackupEncryption = {type: 'x25519'; recipients: string[]} | {type: 'passphrase'; passphrase: string} | {type: 'none'}

export const RECIPIENT_VARIABLE = 'LAUNDRY_OPS_BACKUP_RECIPIENT'
export const PASSPHRASE_VARIABLE = 'LAUNDRY_OPS_BACKUP_PASSPHRASE'
export const IDENTITY_VARIABLE = 'LAUNDRY_OPS_BACKUP_IDENTITY'

/** An age X25519 recipient: `age1` and 58 bech32 characters (a 32-byte key). */
const RECIPIENT = /^age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$/

/** What `db backup` encrypts to, from the environment; refuses (exit 2) when neither key is set, unless --no-encrypt. */
export function backupEncryption(env: NodeJS.ProcessEnv, options: {noEncrypt: boolean}): BackupEncryption {
  const rawRecipients = env[RECIPIENT_VARIABLE]?.trim() ?? ''
  const passphrase = env[PASSPHRASE_VARIABLE] ?? ''
  if (options.noEncrypt) return {type: 'none'}
  if (rawRecipients && passphrase) {
    throw new UsageError(
      'BACKUP_KEY_MISSING',
      `both ${RECIPIENT_VARIABLE} and ${PASSPHRASE_VARIABLE} are set: the age format encrypts to recipients or to a passphrase, not both; unset one`,
    )
  }
  if (rawRecipients) {
    const recipients = rawRecipients.split(/[\s,]+/).filter(Boolean)
    for (const r of recipients) {
      if (/^AGE-SECRET-KEY-/i.test(r)) {
        throw new UsageError(
          'BACKUP_KEY_MISSING',
          `${RECIPIENT_VARIABLE} holds a secret key (AGE-SECRET-KEY-…, not shown): give its public key, \`age-keygen -y key.txt\`, and keep the secret key off this server`,
        )
      }
      if (!RECIPIENT.test(r)) {
        throw new UsageError(
          'BACKUP_KEY_MISSING',
          `${RECIPIENT_VARIABLE}: '${r.slice(0, 80)}' is not an age X25519 recipient: expected age1… as printed by \`age-keygen -y key.txt\``,
        )
      }
    }
    return {type: 'x25519', recipients}
  }
  if (passphrase) {
    if (passphrase.trim() === '') throw new UsageError('BACKUP_KEY_MISSING', `${PASSPHRASE_VARIABLE} is blank: expected a passphrase`)
    return {type: 'passphrase', passphrase}
  }
  throw new UsageError(
    'BACKUP_KEY_MISSING',
    `no backup key: set ${RECIPIENT_VARIABLE}=age1… (an age public key; make one with \`age-keygen -o key.txt\`) or ${PASSPHRASE_VARIABLE}, or pass --no-encrypt to write the backup in the clear`,
  )
}

/** How a backup is decrypted: identities (AGE-SECRET-KEY-1… lines of an age identity file) or the passphrase. */
export interface BackupKeys {
  identities: string[]
  passphrase?: string
  /** Where the identities came from, for messages. */
  identitySource?: string
}

/**
 * The keys `db backup verify` and `db restore` decrypt with: `--identity FILE` (or LAUNDRY_OPS_BACKUP_IDENTITY),
 * and LAUNDRY_OPS_BACKUP_PASSPHRASE. An identity file that cannot be read or holds no key is bad usage.
 */
export function backupKeys(env: NodeJS.ProcessEnv, identityFile: string | undefined): BackupKeys {
  const source = identityFile ?? (env[IDENTITY_VARIABLE]?.trim() || undefined)
  const keys: BackupKeys = {identities: []}
  const passphrase = env[PASSPHRASE_VARIABLE]
  if (passphrase && passphrase.trim() !== '') keys.passphrase = passphrase
  if (!source) return keys
  const where = identityFile ? `--identity ${source}` : `${IDENTITY_VARIABLE}=${source}`
  let text: string
  try {
    if (statSync(source).isDirectory())
      throw new UsageError('BACKUP_KEY_MISSING', `${where} is a folder: expected an age identity file (age-keygen -o key.txt)`)
    text = readFileSync(source, 'utf8')
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw new UsageError(
      'BACKUP_KEY_MISSING',
      `${where} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): expected an age identity file`,
    )
  }
  const identities = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
  const bad = identities.find((l) => !/^AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}$/.test(l))
  if (bad !== undefined && /^age1/.test(bad)) {
    throw new UsageError(
      'BACKUP_KEY_MISSING',
      `${where} holds a public key (age1…): --identity needs the secret key file that age-keygen wrote (AGE-SECRET-KEY-1…)`,
    )
  }
  if (bad !== undefined || identities.length === 0) {
    throw new UsageError('BACKUP_KEY_MISSING', `${where} holds no age identity: expected AGE-SECRET-KEY-1… lines as written by \`age-keygen -o key.txt\``)
  }
  keys.identities = identities
  keys.identitySource = source
  return keys
}

/** The key the manifest says the file needs is not among the keys given: exit 2, naming what to pass. */
export function requireKeyFor(encryption: 'x25519' | 'passphrase' | 'none', keys: BackupKeys): void {
  if (encryption === 'x25519' && keys.identities.length === 0) {
    throw new UsageError(
      'BACKUP_KEY_MISSING',
      `the backup is encrypted to an age recipient: pass --identity FILE (the age identity file) or set ${IDENTITY_VARIABLE}`,
    )
  }
  if (encryption === 'passphrase' && !keys.passphrase) {
    throw new UsageError('BACKUP_KEY_MISSING', `the backup is encrypted with a passphrase: set ${PASSPHRASE_VARIABLE}`)
  }
}

/** age's own errors, as one line that says what is wrong with the file or the key. */
export function describeDecryptError(error: unknown, file: string): OpsError {
  const message = error instanceof Error ? error.message : String(error)
  if (/no identity matched/i.test(message)) {
    return new OpsError('BACKUP_KEY_WRONG', `${file}: the key does not open this backup (no identity or passphrase given matches its recipients)`, {
      cause: error,
    })
  }
  if (/incorrect passphrase|failed to decrypt|invalid tag|tag/i.test(message) && /stanza|header|scrypt|file key|passphrase/i.test(message)) {
    return new OpsError('BACKUP_KEY_WRONG', `${file}: the passphrase does not open this backup`, {cause: error})
  }
  return new OpsError('BACKUP_CORRUPT', `${file}: not a valid age file or damaged (${message})`, {cause: error})
}
