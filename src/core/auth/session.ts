/**
 * POST /api/auth/login, POST /api/auth/logout and GET /api/me as upstream's AuthController does them
 * (reference §3.4, §4.9, §5.1), as plain functions over the database: the HTTP layer renders what they
 * return, and an OpsError they throw (ValidationError for 422s).
 */
import type {RequestMeta} from '../audit/trail.js'
import {recordAuditEvent} from '../audit/trail.js'
import type {Clock} from '../clock.js'
import {toPeriod} from '../clock.js'
import {selectRows} from '../db/raw.js'
import type {Database} from '../db/connection.js'
import type {PlanRow, QuotaUsageRow, RoleRow} from '../db/rows.js'
import {OpsError, ValidationError} from '../errors.js'
import {normaliseLaravelInput, validateLaravel} from '../validation.js'
import {verifyAgainstNothing, verifyPassword} from './password.js'
import {type Authenticated, type AuthUser, DEFAULT_TOKEN_NAME, issueToken, revokeToken} from './tokens.js'

export interface AllowedOutlet {
  id: string
  tenant_id: string
  name: string
  code: string
  timezone: string
}

/** The `data` of the login answer and of GET /api/me, keys in upstream's order. */
export interface UserContext {
  user: AuthUser
  roles: string[]
  allowed_outlets: AllowedOutlet[]
  plan: {key: string | null; orders_limit: number | null}
  quota: {
    period: string
    orders_limit: number | null
    orders_used: number
    orders_remaining: number | null
    can_create_order: boolean
  }
}

export interface LoginAnswer {
  token_type: 'Bearer'
  access_token: string
  data: UserContext
}

/** The request body as received (any JSON) and where the request came from. */
export interface LoginInput extends RequestMeta {
  body: unknown
}

export const INVALID_CREDENTIALS = 'The provided credentials are incorrect.'

const LOGIN_RULES = {
  email: ['required', 'email'],
  password: ['required', 'string'],
  device_name: ['nullable', 'string', {max: 100}],
} as const

/** PHP's strtolower: ASCII letters only. */
const phpLower = (text: string): string => text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase())

const nullableNumber = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value))

/** AuthController::buildUserContext. allowed_outlets are the user's assignments, even for an owner. */
export async function userContext(db: Database, user: AuthUser, clock: Clock, heldRoles?: readonly string[]): Promise<UserContext> {
  const period = toPeriod(clock.now())
  // Fixed SQL (src/core/db/raw.ts): every authenticated /api/me runs these. The token guard read the roles.
  const roles =
    heldRoles?.map((key) => ({key})) ??
    (await selectRows<Pick<RoleRow, 'key'>>(
      db.knex,
      'select roles.key from roles inner join user_roles on user_roles.role_id = roles.id where user_roles.user_id = ? order by user_roles.id',
      [user.id],
    ))
  const outlets = await selectRows<AllowedOutlet>(
    db.knex,
    'select outlets.id, outlets.tenant_id, outlets.name, outlets.code, outlets.timezone from outlets' +
      ' inner join user_outlets on user_outlets.outlet_id = outlets.id' +
      ' where user_outlets.user_id = ? and outlets.deleted_at is null order by user_outlets.id',
    [user.id],
  )
  let plan: Pick<PlanRow, 'key' | 'orders_limit'> | undefined
  let usage: Pick<QuotaUsageRow, 'orders_used'> | undefined
  if (user.tenant_id !== null) {
    // The tenant's plan and the period's usage in one statement; either may be absent.
    const [row] = await selectRows<{plan_id: number | null; key: string | null; orders_limit: number | null; orders_used: number | null}>(
      db.knex,
      'select plans.id as plan_id, plans.key, plans.orders_limit,' +
        ' (select quota_usage.orders_used from quota_usage where quota_usage.tenant_id = tenants.id and quota_usage.period = ?) as orders_used' +
        ' from tenants left join plans on plans.id = tenants.current_plan_id where tenants.id = ?',
      [period, user.tenant_id],
    )
    if (row?.plan_id !== null && row?.plan_id !== undefined) plan = {key: row.key as string, orders_limit: row.orders_limit}
    if (row?.orders_used !== null && row?.orders_used !== undefined) usage = {orders_used: row.orders_used}
  }
  const ordersLimit = nullableNumber(plan?.orders_limit)
  const ordersUsed = nullableNumber(usage?.orders_used) ?? 0
  const ordersRemaining = ordersLimit === null ? null : Math.max(ordersLimit - ordersUsed, 0)
  return {
    user: {id: Number(user.id), tenant_id: user.tenant_id, name: user.name, email: user.email, phone: user.phone, status: user.status},
    roles: roles.map((role) => role.key),
    allowed_outlets: outlets.map((o) => ({id: o.id, tenant_id: o.tenant_id, name: o.name, code: o.code, timezone: o.timezone})),
    plan: {key: plan?.key ?? null, orders_limit: ordersLimit},
    quota: {
      period,
      orders_limit: ordersLimit,
      orders_used: ordersUsed,
      orders_remaining: ordersRemaining,
      can_create_order: ordersRemaining === null || ordersRemaining > 0,
    },
  }
}

/** GET /api/me: `{data: UserContext}` for the authenticated user. */
export async function me(db: Database, auth: Authenticated, clock: Clock): Promise<{data: UserContext}> {
  return {data: await userContext(db, auth.user, clock, auth.roleKeys)}
}

/**
 * The account an email names, case-insensitively on every engine (MySQL parity, reference A-1); not a
 * soft-deleted one. Should two accounts differ only in case, the exact spelling wins, then the oldest.
 */
async function findAccountByEmail(db: Database, email: string): Promise<(AuthUser & {password: string}) | undefined> {
  return db
    .knex('users')
    .whereRaw('lower(email) = lower(?)', [email])
    .whereNull('deleted_at')
    .orderByRaw('case when email = ? then 0 else 1 end', [email])
    .orderBy('id')
    .first('id', 'tenant_id', 'name', 'email', 'phone', 'status', 'password')
}

/**
 * POST /api/auth/login. Throws ValidationError (422) for bad input and for an unknown email or a wrong
 * password alike (`errors.email` = "The provided credentials are incorrect.", after the same bcrypt work),
 * OpsError USER_INACTIVE (403) for an account whose status is not `active`; audits AUTH_LOGIN_FAILED,
 * AUTH_LOGIN_INACTIVE or AUTH_LOGIN_SUCCESS. The body may be raw: Laravel's trim and empty-to-null
 * normalisation is applied (again) here.
 */
export async function login(db: Database, input: LoginInput, clock: Clock): Promise<LoginAnswer> {
  const fields = validateLaravel(normaliseLaravelInput(input.body), LOGIN_RULES)
  const email = fields.email as string
  const password = fields.password as string
  const deviceName = (fields.device_name as string | null | undefined) ?? null
  const request = {requestId: input.requestId ?? null, ip: input.ip ?? null}

  const account = await findAccountByEmail(db, email)
  const matches = account ? await verifyPassword(password, String(account.password)) : await verifyAgainstNothing(password)
  if (!account || !matches) {
    await recordAuditEvent(
      db.knex,
      {
        eventKey: 'AUTH_LOGIN_FAILED',
        tenantId: account?.tenant_id ?? null,
        userId: account ? Number(account.id) : null,
        metadata: {email: phpLower(email), reason: 'invalid_credentials'},
        ...request,
      },
      clock,
    )
    throw new ValidationError({email: [INVALID_CREDENTIALS]})
  }
  const user: AuthUser = {
    id: Number(account.id),
    tenant_id: account.tenant_id,
    name: account.name,
    email: account.email,
    phone: account.phone,
    status: account.status,
  }
  if (user.status !== 'active') {
    await recordAuditEvent(
      db.knex,
      {eventKey: 'AUTH_LOGIN_INACTIVE', tenantId: user.tenant_id, userId: user.id, metadata: {email: phpLower(email), reason: 'inactive_account'}, ...request},
      clock,
    )
    throw new OpsError('USER_INACTIVE', 'Your account is inactive.')
  }

  const tokenName = deviceName ?? DEFAULT_TOKEN_NAME
  const token = await issueToken(db.knex, user.id, tokenName, clock)
  await recordAuditEvent(
    db.knex,
    {eventKey: 'AUTH_LOGIN_SUCCESS', tenantId: user.tenant_id, userId: user.id, metadata: {email: phpLower(user.email), device_name: tokenName}, ...request},
    clock,
  )
  return {token_type: 'Bearer', access_token: token.plainTextToken, data: await userContext(db, user, clock)}
}

/** POST /api/auth/logout: deletes the token the request used (the user's other tokens stay), audits AUTH_LOGOUT. */
export async function logout(db: Database, input: {auth: Authenticated} & RequestMeta, clock: Clock): Promise<{message: string}> {
  const {user, token} = input.auth
  await revokeToken(db.knex, token.id)
  await recordAuditEvent(
    db.knex,
    {eventKey: 'AUTH_LOGOUT', tenantId: user.tenant_id, userId: user.id, metadata: {email: phpLower(user.email)}, requestId: input.requestId, ip: input.ip},
    clock,
  )
  return {message: 'Logged out successfully.'}
}
