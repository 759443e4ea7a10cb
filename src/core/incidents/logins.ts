import type {Knex} from 'knex'

import type {Clock} from '../clock.js'
import type {Database} from '../db/connection.js'
import {requireTables} from '../db/faults.js'
import {jsonTextField} from '../db/json-field.js'
import {validateTenant} from '../messaging/redrive.js'
import {storedTimestamp, type TimeWindow, windowEndingNow} from './window.js'

export const LOGIN_FAILED_EVENT = 'AUTH_LOGIN_FAILED'

export interface FailedLoginOptions {
  /** `15m`, `1h`, `2d`… (window.ts). */
  since: string
  tenant?: string
  /** Rows per table (accounts, IPs). */
  limit: number
}

/** One account or IP: how many failed logins, first and last seen (stored UTC timestamps). */
export interface FailedLoginGroup {
  /** The email of the event's metadata (lower-cased by the API), or the IP address; null when not recorded. */
  key: string | null
  count: number
  first_seen: string
  last_seen: string
}

export interface FailedLoginReport {
  event_key: typeof LOGIN_FAILED_EVENT
  window: TimeWindow
  tenant: string | null
  limit: number
  totals: {events: number; accounts: number; ips: number}
  by_account: FailedLoginGroup[]
  by_ip: FailedLoginGroup[]
}

/**
 * The failed logins of the window, as rows of (account, ip, created_at). On the index
 * (tenant_id, event_key, created_at): with --tenant one range of it; without, one range per tenant
 * (tenants joined to the events, which PostgreSQL runs as an index scan per tenant) plus the range of
 * tenant_id null (unknown emails), instead of a scan of the whole table. tenant_id is a foreign key set
 * null on delete, so the join loses no event.
 */
function failedLogins(db: Database, window: TimeWindow, tenant: string | undefined): Knex.QueryBuilder {
  const account = jsonTextField(db, 'metadata_json', 'email')
  const select = (q: Knex.QueryBuilder, table: string) =>
    q
      .select({account, ip: `${table}.ip_address`, created_at: `${table}.created_at`})
      .where(`${table}.event_key`, LOGIN_FAILED_EVENT)
      .where(`${table}.created_at`, '>=', window.from)
      .where(`${table}.created_at`, '<=', window.to)
  if (tenant !== undefined) return select(db.knex('audit_events').where('audit_events.tenant_id', tenant), 'audit_events')
  const perTenant = select(db.knex('tenants').join('audit_events', 'audit_events.tenant_id', 'tenants.id'), 'audit_events')
  const noTenant = select(db.knex('audit_events').whereNull('audit_events.tenant_id'), 'audit_events')
  // Unwrapped members: SQLite refuses parenthesised ones.
  return perTenant.unionAll(noTenant)
}

interface GroupRow {
  key: string | number | null
  n: number | string
  first_seen: unknown
  last_seen: unknown
}

async function groupBy(db: Database, rows: () => Knex.QueryBuilder, column: 'account' | 'ip', limit: number): Promise<FailedLoginGroup[]> {
  const result = (await db.knex
    .from(rows().as('f'))
    .select({key: column})
    .count({n: '*'})
    .min({first_seen: 'created_at'})
    .max({last_seen: 'created_at'})
    .groupBy(column)
    // Most first; ties by key (nulls last on both engines) so the order never depends on the plan.
    .orderBy([
      {column: 'n', order: 'desc'},
      {column: 'key', order: 'asc', nulls: 'last'},
    ])
    .limit(limit)) as GroupRow[]
  return result.map((r) => ({
    key: r.key === null ? null : String(r.key),
    count: Number(r.n),
    first_seen: storedTimestamp(r.first_seen) ?? '',
    last_seen: storedTimestamp(r.last_seen) ?? '',
  }))
}

/**
 * `audit logins`: AUTH_LOGIN_FAILED audit events of the window grouped by account (the email the event
 * records) and by IP, most first, each with its count and first / last seen; totals over the whole
 * window (not only the listed rows). Counting and grouping run in SQL: memory stays flat however many
 * events there are. Only reads.
 */
export async function failedLoginReport(db: Database, options: FailedLoginOptions, clock: Clock): Promise<FailedLoginReport> {
  const window = windowEndingNow(options.since, clock)
  await requireTables(db, ['audit_events', 'tenants'])
  await validateTenant(db, options.tenant)
  const rows = () => failedLogins(db, window, options.tenant)
  const [totals]: Array<{events: number | string; accounts: number | string; ips: number | string}> = await db.knex
    .from(rows().as('f'))
    .count({events: '*'})
    .countDistinct({accounts: 'account'})
    .countDistinct({ips: 'ip'})
  const byAccount = await groupBy(db, rows, 'account', options.limit)
  const byIp = await groupBy(db, rows, 'ip', options.limit)
  return {
    event_key: LOGIN_FAILED_EVENT,
    window,
    tenant: options.tenant ?? null,
    limit: options.limit,
    totals: {events: Number(totals?.events ?? 0), accounts: Number(totals?.accounts ?? 0), ips: Number(totals?.ips ?? 0)},
    by_account: byAccount,
    by_ip: byIp,
  }
}
