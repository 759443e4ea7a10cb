import {randomInt} from 'node:crypto'

import {UatBlocked, UatCheckFailed, UatClient, type UatRequestRecord} from './client.js'
import type {UatRow} from './report.js'
import type {UatAccount, UatContext, UatRole, UatScenario} from './scenario.js'

/** The demo accounts (DemoTenantSeeder: password `password`). */
export function demoAccounts(password = 'password'): Record<UatRole, UatAccount> {
  const account = (role: UatRole): UatAccount => ({email: `${role}@demo.local`, password})
  return {owner: account('owner'), admin: account('admin'), cashier: account('cashier'), worker: account('worker'), courier: account('courier')}
}

export interface UatRunOptions {
  baseUrl: string
  accounts: Record<UatRole, UatAccount>
  timeoutMs?: number
  /** Ctrl-C: the scenario in hand fails at its next request ("interrupted"). */
  signal?: AbortSignal
  /** What UAT-09 can expect of the WhatsApp messages (UatContext.messaging); default `logged`. */
  messaging?: UatContext['messaging']
  /** Tokens by role, shared by the scenarios of one run (each role signs in once). */
  sessions?: Map<UatRole, string>
  /** Progress: a scenario starts, makes a step or a request, ends. */
  onProgress?: (event: {scenario: string; kind: 'start' | 'step' | 'request' | 'end'; text: string}) => void
}

/** A scenario's outcome: its report row, the requests it made and the checks that passed. */
export interface UatOutcome extends UatRow {
  requests: UatRequestRecord[]
  checks: string[]
  ms: number
}

/** Runs one scenario against the base URL: Pass with the checks as evidence, or Fail with the first failed expectation. */
export async function runScenario(scenario: UatScenario, options: UatRunOptions): Promise<UatOutcome> {
  const progress = (kind: 'start' | 'step' | 'request' | 'end', text: string) => options.onProgress?.({scenario: scenario.id, kind, text})
  const client = new UatClient(options.baseUrl, {timeoutMs: options.timeoutMs, signal: options.signal, onRequest: (label) => progress('request', label)})
  // Six digits unique enough per run and scenario: order codes and phone numbers of this run.
  const tag = `${Date.now() % 1_000_000_000}${randomInt(1000)}`.slice(-9)
  const started = performance.now()
  progress('start', scenario.notes)
  const info = {id: scenario.id, role: scenario.role, notes: scenario.notes}
  let outcome: UatOutcome
  try {
    await scenario.run({
      client,
      accounts: options.accounts,
      tag,
      step: (text) => progress('step', text),
      sessions: options.sessions ?? new Map<UatRole, string>(),
      messaging: options.messaging ?? {expect: 'logged'},
    })
    outcome = {
      ...info,
      status: 'Pass',
      evidence: `${client.requests.length} requests, ${client.checks.length} checks: ${client.checks.join('; ')}`,
      requests: client.requests,
      checks: client.checks,
      ms: performance.now() - started,
    }
  } catch (error) {
    const evidence =
      error instanceof UatCheckFailed || error instanceof UatBlocked
        ? error.message
        : `unexpected error in the scenario: ${String((error as Error)?.message ?? error).split('\n')[0]}`
    // Cut short by Ctrl-C, or its target lacks a precondition: not run to its end, so Blocked (not a
    // failure of the product).
    const status = options.signal?.aborted || error instanceof UatBlocked ? 'Blocked' : 'Fail'
    outcome = {...info, status, evidence, requests: client.requests, checks: client.checks, ms: performance.now() - started}
  }
  progress('end', outcome.status)
  return outcome
}

/** Runs the scenarios one after the other (each creates its own data, so any order passes). */
export async function runScenarios(scenarios: readonly UatScenario[], options: UatRunOptions): Promise<UatOutcome[]> {
  const outcomes: UatOutcome[] = []
  const shared = {...options, sessions: options.sessions ?? new Map<UatRole, string>()}
  for (const scenario of scenarios) outcomes.push(await runScenario(scenario, shared))
  return outcomes
}
