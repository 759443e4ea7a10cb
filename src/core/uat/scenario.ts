import {UatCheckFailed, UatClient} from './client.js'
import type {UatScenarioInfo} from './catalog.js'

/** The demo accounts a scenario signs in as (DemoTenantSeeder's; passwords overridable for a deployment). */
export type UatRole = 'owner' | 'admin' | 'cashier' | 'worker' | 'courier'

export interface UatAccount {
  email: string
  password: string
}

/** What a scenario is given: the client, the accounts, and a tag unique to this run (order codes, phones). */
export interface UatContext {
  client: UatClient
  accounts: Record<UatRole, UatAccount>
  /** Digits unique to this run and scenario, so scenarios create their own data next to anyone else's. */
  tag: string
  /** Says what the scenario is doing now (progress display). */
  step(text: string): void
  /**
   * Tokens of this run by role: a login costs a bcrypt verification (cost 12, about a third of a second),
   * so each role signs in once per run and later scenarios reuse its token.
   */
  sessions: Map<UatRole, string>
  /**
   * What UAT-09 can expect of the WhatsApp messages: `sent` when this run controls the queue worker (the
   * local isolated target: `settle` runs the worker until the messaging queue is empty), `logged` against a
   * deployment (its own worker sends them in its own time).
   */
  messaging: {expect: 'sent' | 'logged'; settle?: () => Promise<void>}
}

export interface UatScenario extends UatScenarioInfo {
  /** The routes the scenario calls, `METHOD /path` with `{id}` for a path parameter (reports, proxies). */
  routes: readonly string[]
  run(ctx: UatContext): Promise<void>
}

/** Signs in as a demo account; its bearer token. */
export async function signIn(ctx: UatContext, role: UatRole): Promise<string> {
  const held = ctx.sessions.get(role)
  if (held !== undefined) return held
  const account = ctx.accounts[role]
  const answer = ctx.client.expectStatus(
    await ctx.client.call<{access_token?: string}>('POST', '/api/auth/login', {body: {email: account.email, password: account.password, device_name: 'uat'}}),
    200,
  )
  const token = answer.body?.access_token
  if (typeof token !== 'string' || token === '') throw new UatCheckFailed(`${answer.label} answered 200 without an access_token`)
  ctx.sessions.set(role, token)
  return token
}

export interface UatOutlet {
  id: string
  code: string
  name: string
}

/** The demo outlet (code BL) among the signed-in user's allowed outlets. */
export async function demoOutlet(ctx: UatContext, token: string): Promise<UatOutlet> {
  const answer = ctx.client.expectStatus(await ctx.client.call<{data?: UatOutlet[]}>('GET', '/api/outlets/allowed', {token}), 200)
  const outlet = (answer.body?.data ?? []).find((o) => o.code === 'BL')
  if (!outlet) throw new UatCheckFailed(`${answer.label}: the demo outlet BL is not among the user's outlets (run with --seed-demo?)`)
  return outlet
}

export interface UatService {
  id: string
  name: string
  unit_type: string
  /** The price an order at the outlet uses: an active outlet override, else the base price. */
  price: number
}

/** The demo services at the outlet by name ("Kiloan Reguler", "Cuci Satuan"), with the prices an order uses. */
export async function demoServices(ctx: UatContext, token: string, outletId: string): Promise<Map<string, UatService>> {
  type Entry = {
    id: string
    name: string
    unit_type: string
    base_price_amount: number
    outlet_override: {active: boolean; price_override_amount: number | null} | null
  }
  const answer = ctx.client.expectStatus(await ctx.client.call<{data?: Entry[]}>('GET', `/api/services?outlet_id=${outletId}&active=1`, {token}), 200)
  const services = new Map<string, UatService>()
  for (const entry of answer.body?.data ?? []) {
    const override = entry.outlet_override?.active ? entry.outlet_override.price_override_amount : null
    services.set(entry.name, {id: entry.id, name: entry.name, unit_type: entry.unit_type, price: override ?? entry.base_price_amount})
  }
  for (const name of ['Kiloan Reguler', 'Cuci Satuan']) {
    if (!services.has(name)) throw new UatCheckFailed(`${answer.label}: the demo service "${name}" is missing or inactive (run with --seed-demo?)`)
  }
  return services
}

/** A phone number unique to the run (Indonesian mobile format, normalised by the server to 62…). */
export function uatPhone(ctx: UatContext, n: number): string {
  return `0812${ctx.tag.slice(-6)}${String(n).padStart(2, '0')}`
}
