import bcrypt from 'bcryptjs'

/** Laravel's default `BCRYPT_ROUNDS`. */
export const LARAVEL_BCRYPT_COST = 12

/** `$2a$`, `$2b$` and `$2y$`: the bcrypt labels PHP's password_verify accepts with today's algorithm. */
const BCRYPT_HASH = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/

/**
 * A cost-12 hash of a random string nobody knows: checked against when the email names no account, so an
 * unknown email costs the same bcrypt work as a wrong password (SPEC §7: same answer, same time).
 */
const DUMMY_HASH = '$2y$12$y.HjP.sFxMjtwO/VCu5Tn.ZR.fgjfh4zOWXdcO/TkNc2yj719ET5y'

/**
 * A hash Laravel's `Hash::check` accepts: bcrypt with PHP's `$2y$` prefix. bcryptjs writes `$2b$`; `$2b$`
 * and `$2y$` are the same algorithm (both fixed the 8-bit bug `$2x$` keeps), only the label differs.
 */
export async function hashPassword(plain: string, cost = LARAVEL_BCRYPT_COST): Promise<string> {
  const hash = await bcrypt.hash(plain, cost)
  return hash.replace(/^\$2[abxy]\$/, '$2y$')
}

/**
 * PHP's password_verify for bcrypt: `$2y$`, `$2b$` and `$2a$` hashes; the password is UTF-8 and only its
 * first 72 bytes count, as in PHP. Anything else (other algorithms, `$2x$`, a malformed or empty hash,
 * a cost outside 04-31) does not verify. Laravel would throw on a non-bcrypt hash ("This password does
 * not use the Bcrypt algorithm."), a 500; here it is a wrong password.
 */
export async function verifyPassword(plain: string, hash: string): Promise<boolean> {
  const match = BCRYPT_HASH.exec(hash)
  if (!match || Number(match[1]) < 4 || Number(match[1]) > 31) return false
  try {
    return await bcrypt.compare(plain, `$2b$${hash.slice(4)}`)
  } catch {
    return false
  }
}

/** The bcrypt work of a failed check, for an email that names no account; always false. */
export async function verifyAgainstNothing(plain: string): Promise<false> {
  await verifyPassword(plain, DUMMY_HASH)
  return false
}

/** True when the hash is bcrypt at Laravel's cost, so it needs no rehash on login. */
export function hasLaravelCost(hash: string, cost = LARAVEL_BCRYPT_COST): boolean {
  return hash.startsWith(`$2y$${String(cost).padStart(2, '0')}$`)
}
