import bcrypt from 'bcryptjs'

/** Laravel's default `BCRYPT_ROUNDS`. */
export const LARAVEL_BCRYPT_COST = 12

/**
 * A hash Laravel's `Hash::check` accepts: bcrypt with PHP's `$2y$` prefix. `$2b$` and `$2y$` are the
 * same algorithm for passwords up to 72 bytes; only the label differs.
 */
export async function hashPassword(plain: string, cost = LARAVEL_BCRYPT_COST): Promise<string> {
  const hash = await bcrypt.hash(plain, cost)
  return hash.replace(/^\$2[abxy]\$/, '$2y$')
}

export async function verifyPassword(plain: string, hash: string): Promise<boolean> {
  if (!/^\$2[abxy]\$\d\d\$/.test(hash)) return false
  return bcrypt.compare(plain, hash.replace(/^\$2y\$/, '$2b$'))
}

/** True when the hash is bcrypt at Laravel's cost, so it needs no rehash on login. */
export function hasLaravelCost(hash: string, cost = LARAVEL_BCRYPT_COST): boolean {
  return hash.startsWith(`$2y$${String(cost).padStart(2, '0')}$`)
}
