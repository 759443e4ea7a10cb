import type {Database} from '../db/connection.js'
import {OpsError} from '../errors.js'
import {type AccessUser, roleKeys} from './outlet-access.js'

export const ROLE_ACCESS_MESSAGE = 'You are not allowed to perform this action.'

/** The five role keys of the seeded catalogue (reference §2.1). */
export type RoleKey = 'owner' | 'admin' | 'cashier' | 'worker' | 'courier'

/**
 * The controllers' `ensureRole` (reference §3.3): passes when the user holds any of `allowed`; a user with
 * no roles fails every check. Returns the user's role keys (callers often need them again).
 */
export async function ensureRole(db: Database, user: AccessUser, allowed: readonly RoleKey[], keys?: readonly string[]): Promise<readonly string[]> {
  const held = keys ?? (await roleKeys(db, user.id))
  if (!held.some((key) => (allowed as readonly string[]).includes(key))) throw new OpsError('ROLE_ACCESS_DENIED', ROLE_ACCESS_MESSAGE)
  return held
}

/** Every role key: a check that passes any role-holder (and refuses a user with none). */
export const ROLE_KEYS_ALL: readonly RoleKey[] = ['owner', 'admin', 'cashier', 'worker', 'courier']
