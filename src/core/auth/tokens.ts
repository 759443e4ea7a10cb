/**
 * Personal access tokens exactly as Laravel Sanctum 4.3 issues and checks them (reference §1.1, A-25),
 * so that the Laravel application and `laundry-ops serve` accept each other's tokens on one database.
 *
 * Plain text `<id>|<prefix><40 random alphanumerics><crc32b of those 40 as 8 lower-case hex>`; the row
 * keeps sha256 hex of everything after the `|`. The prefix (config sanctum.token_prefix) is empty here.
 */
import {createHash, randomInt, timingSafeEqual} from 'node:crypto'
import {crc32} from 'node:zlib'

import type {Clock} from '../clock.js'
import {toDbTimestamp} from '../clock.js'
import type {Database} from '../db/connection.js'
import {selectRows} from '../db/raw.js'
import type {Executor} from '../db/transactions.js'
import {onPostgres} from '../quota/consume.js'

/** tokenable_type of every token a user holds (Eloquent's morph class of App\Models\User). */
export const USER_TOKENABLE_TYPE = 'App\\Models\\User'
/** The token name when login gets no device_name. */
export const DEFAULT_TOKEN_NAME = 'api-device'

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const SECRET_RANDOM_LENGTH = 40
/** Ids beyond this cannot be a row of ours (and Number() would round them). */
const MAX_ID_DIGITS = 15

/** A personal_access_tokens row as either driver returns it. */
export interface PersonalAccessTokenRow {
  id: number
  tokenable_type: string
  tokenable_id: number
  name: string
  token: string
  abilities: string | null
  last_used_at: string | null
  expires_at: string | null
  created_at: string | null
  updated_at: string | null
}

/** The user columns an authenticated request carries (the `user` of the UserContext, in its key order). */
export interface AuthUser {
  id: number
  tenant_id: string | null
  name: string
  email: string
  phone: string | null
  status: string
}

export interface IssuedToken {
  /** The `<id>|<secret>` the client sends as `Authorization: Bearer …`; shown once, never stored. */
  plainTextToken: string
  row: PersonalAccessTokenRow
}

export interface Authenticated {
  user: AuthUser
  /** The user's role keys, in assignment order (read with the token). */
  roleKeys: string[]
  /** The token the request used (Sanctum's currentAccessToken): logout deletes this one. */
  token: PersonalAccessTokenRow
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

/** PHP's hash('crc32b', …): 8 lower-case hex digits. */
export function crc32bHex(text: string): string {
  return crc32(Buffer.from(text, 'utf8')).toString(16).padStart(8, '0')
}

/** Str::random(40): uniform over [A-Za-z0-9]. */
function randomAlphanumeric(length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]
  return out
}

/** HasApiTokens::generateTokenString: prefix, 40 random alphanumerics, crc32b of those 40. */
export function generateTokenSecret(prefix = ''): string {
  const entropy = randomAlphanumeric(SECRET_RANDOM_LENGTH)
  return `${prefix}${entropy}${crc32bHex(entropy)}`
}

/**
 * HasApiTokens::createToken for a user: inserts the row as Eloquent fills it (abilities `["*"]`,
 * expires_at and last_used_at null, created_at = updated_at = now) and returns `<id>|<secret>`.
 */
export async function issueToken(conn: Executor, userId: number, name: string, clock: Clock): Promise<IssuedToken> {
  const secret = generateTokenSecret()
  const now = toDbTimestamp(clock.now())
  const fields = {
    tokenable_type: USER_TOKENABLE_TYPE,
    tokenable_id: userId,
    name,
    token: sha256Hex(secret),
    abilities: JSON.stringify(['*']),
    last_used_at: null,
    expires_at: null,
    created_at: now,
    updated_at: now,
  }
  const [inserted]: Array<{id: number | string} | number> = await conn('personal_access_tokens').insert(fields).returning('id')
  const id = Number(typeof inserted === 'object' ? inserted.id : inserted)
  return {plainTextToken: `${id}|${secret}`, row: {id, ...fields}}
}

/** A token row with the columns of its user (null when there is no such user, or it is soft-deleted). */
type TokenWithUser = PersonalAccessTokenRow & {
  user_id: number | string | null
  user_tenant_id: string | null
  user_name: string
  user_email: string
  user_phone: string | null
  user_status: string
  user_roles: unknown
}

/**
 * Every column of personal_access_tokens, as the token guard reads a row, the columns of the user it names
 * and the user's role keys (a JSON array, in assignment order), in one statement: the guard runs on every
 * authenticated request, and nearly every route checks roles.
 */
function tokenSelect(pg: boolean): string {
  const roles = pg
    ? '(select json_agg(roles.key order by user_roles.id) from user_roles inner join roles on roles.id = user_roles.role_id where user_roles.user_id = u.id)'
    : '(select json_group_array(roles.key order by user_roles.id) from user_roles inner join roles on roles.id = user_roles.role_id where user_roles.user_id = u.id)'
  return (
    'select t.id, t.tokenable_type, t.tokenable_id, t.name, t.token, t.abilities, t.last_used_at, t.expires_at, t.created_at, t.updated_at, ' +
    `u.id as user_id, u.tenant_id as user_tenant_id, u.name as user_name, u.email as user_email, u.phone as user_phone, u.status as user_status, ${roles} as user_roles ` +
    'from personal_access_tokens t left join users u on u.id = t.tokenable_id and u.deleted_at is null'
  )
}
const TOKEN_SELECT = {pg: tokenSelect(true), sqlite: tokenSelect(false)}

/** The role keys of the token query: PostgreSQL's json_agg arrives parsed (null for none), SQLite's json_group_array as text. */
function roleKeysOf(value: unknown): string[] {
  const list: unknown = typeof value === 'string' ? JSON.parse(value) : value
  return Array.isArray(list) ? list.map(String) : []
}

/**
 * PersonalAccessToken::findToken: `<id>|<secret>` is looked up by id and its secret's sha256 compared in
 * constant time; a token without `|` is looked up by its hash. The Guard's isValidBearerToken first:
 * with a `|`, the id must be digits and the secret non-empty.
 */
async function findToken(conn: Executor, bearer: string): Promise<TokenWithUser | null> {
  if (bearer === '') return null
  const select = onPostgres(conn) ? TOKEN_SELECT.pg : TOKEN_SELECT.sqlite
  const bar = bearer.indexOf('|')
  if (bar === -1) {
    const [row] = await selectRows<TokenWithUser>(conn, `${select} where t.token = ? limit 1`, [sha256Hex(bearer)])
    return row ?? null
  }
  const id = bearer.slice(0, bar)
  const secret = bearer.slice(bar + 1)
  if (!/^\d+$/.test(id) || secret === '' || id.length > MAX_ID_DIGITS) return null
  const [row] = await selectRows<TokenWithUser>(conn, `${select} where t.id = ? limit 1`, [Number(id)])
  if (!row) return null
  const stored = Buffer.from(String(row.token), 'utf8')
  const given = Buffer.from(sha256Hex(secret), 'utf8')
  return stored.length === given.length && timingSafeEqual(stored, given) ? row : null
}

/** Sanctum's expiry check: a token with expires_at in the past is refused (config expiration is null). */
function isExpired(row: PersonalAccessTokenRow, now: Date): boolean {
  if (row.expires_at === null || row.expires_at === undefined) return false
  const expires = Date.parse(`${String(row.expires_at).replace(' ', 'T')}Z`)
  // A value that does not read as a timestamp is no proof of validity: expired.
  return Number.isNaN(expires) || expires < now.getTime()
}

/**
 * The `auth:sanctum` guard for a bearer token: the token row, not expired, belonging to a user that is
 * not soft-deleted; then last_used_at (and updated_at, as Eloquent's save() does) set to now. Returns null
 * when the request is unauthenticated (401 `{message: "Unauthenticated."}`). The account's status is not
 * checked here, as upstream: an inactive account's tokens keep working.
 */
export async function authenticateToken(db: Database, bearer: string | null | undefined, clock: Clock): Promise<Authenticated | null> {
  if (typeof bearer !== 'string') return null
  const found = await findToken(db.knex, bearer)
  const now = clock.now()
  if (!found || isExpired(found, now) || found.tokenable_type !== USER_TOKENABLE_TYPE || found.user_id === null) return null
  const {
    user_id: userId,
    user_tenant_id: tenantId,
    user_name: name,
    user_email: email,
    user_phone: phone,
    user_status: status,
    user_roles: roles,
    ...token
  } = found
  const user: AuthUser = {id: Number(userId), tenant_id: tenantId, name, email, phone, status}
  const roleKeys = roleKeysOf(roles)
  const stamp = toDbTimestamp(now)
  // Eloquent's save() writes only dirty attributes, and a datetime set to the same second is not dirty:
  // within one second of the last use, Sanctum's update is no query at all. The same here.
  if (String(token.last_used_at) !== stamp) {
    await db.knex.raw('update personal_access_tokens set last_used_at = ?, updated_at = ? where id = ?', [stamp, stamp, token.id])
    return {user, roleKeys, token: {...token, last_used_at: stamp, updated_at: stamp}}
  }
  return {user, roleKeys, token}
}

/**
 * Laravel's Request::bearerToken(): what follows the last `Bearer ` (any case) of the Authorization
 * header, up to a comma.
 */
export function bearerToken(header: string | null | undefined): string | null {
  if (typeof header !== 'string') return null
  const last = [...header.matchAll(/bearer /gi)].at(-1)
  if (last === undefined) return null
  const token = header.slice(last.index + 7)
  const comma = token.indexOf(',')
  return comma === -1 ? token : token.slice(0, comma)
}

/** Deletes one token (Sanctum's currentAccessToken()->delete()); the user's other tokens stay. */
export async function revokeToken(conn: Executor, tokenId: number): Promise<boolean> {
  return (await conn('personal_access_tokens').where({id: tokenId}).delete()) > 0
}
