import {junitCasesXml} from '../gates/report.js'

/** The release checklist's steps, in the order they run. */
export const RELEASE_STEP_NAMES = ['migrate', 'readiness', 'observe', 'uat', 'queue-restart'] as const
export type ReleaseStepName = (typeof RELEASE_STEP_NAMES)[number]

/**
 * `passed` / `failed`: the step ran. `skipped`: the options leave it out (no --migrate). `not_run`: an
 * earlier step failed, or Ctrl-C came first. `planned`: --dry-run, the step would run.
 */
export type ReleaseStepStatus = 'passed' | 'failed' | 'skipped' | 'not_run' | 'planned'

export interface ReleaseStepResult {
  name: ReleaseStepName
  /** The laundry-ops command line the step stands for. */
  command: string
  status: ReleaseStepStatus
  duration_ms: number
  detail: string
}

/** The --json document of `release`. */
export interface ReleaseDocument {
  dry_run: boolean
  steps: ReleaseStepResult[]
  ok: boolean
  interrupted: boolean
  junit: string | null
}

export interface ReleaseStepOutcome {
  ok: boolean
  detail: string
}

export interface ReleaseStep {
  name: ReleaseStepName
  command: string
  /** Why the options leave this step out (it is then `skipped`, never run). */
  skip?: string
  /** What the step would do, for --dry-run. */
  plan: string
  /** Runs the step; `progress` tells what it is doing. A throw is a failed step with the error's message. */
  run(progress: (text: string) => void): Promise<ReleaseStepOutcome>
}

/** Runs one step (or reports it skipped / not run) and returns its result. */
export type RunReleaseStep = (step: ReleaseStep, progress?: (text: string) => void) => Promise<ReleaseStepResult>

/** A progress display that drives the steps one by one; the default runs them without one. */
export type ReleaseDriver = (steps: readonly ReleaseStep[], runOne: RunReleaseStep) => Promise<ReleaseStepResult[]>

export interface ChecklistOptions {
  drive?: ReleaseDriver
  /** Ctrl-C: the step in hand ends as it can (the UAT pack at its next request), the later ones are not run. */
  signal?: AbortSignal
  /** One line for an error a step threw (the command layer's fault description). */
  describeError: (error: unknown) => string
}

/**
 * Runs the steps in order and stops at the first that fails: the ones after it are `not_run`, with the
 * reason. Skipped steps do not stop the list.
 */
export async function runChecklist(steps: readonly ReleaseStep[], options: ChecklistOptions): Promise<{results: ReleaseStepResult[]; interrupted: boolean}> {
  let stoppedBy: string | undefined
  const runOne: RunReleaseStep = async (step, progress = () => {}) => {
    const base = {name: step.name, command: step.command}
    if (!stoppedBy && options.signal?.aborted) stoppedBy = 'interrupted (Ctrl-C)'
    if (stoppedBy) return {...base, status: 'not_run', duration_ms: 0, detail: `not run: ${stoppedBy}`}
    if (step.skip) return {...base, status: 'skipped', duration_ms: 0, detail: step.skip}
    const started = performance.now()
    let outcome: ReleaseStepOutcome
    try {
      outcome = await step.run(progress)
    } catch (error) {
      outcome = {ok: false, detail: options.describeError(error)}
    }
    if (!outcome.ok) stoppedBy = options.signal?.aborted ? 'interrupted (Ctrl-C)' : `the ${step.name} step failed`
    return {...base, status: outcome.ok ? 'passed' : 'failed', duration_ms: Math.round(performance.now() - started), detail: outcome.detail}
  }
  const drive: ReleaseDriver =
    options.drive ??
    (async (all, one) => {
      const results: ReleaseStepResult[] = []
      for (const step of all) results.push(await one(step))
      return results
    })
  const results = await drive(steps, runOne)
  return {results, interrupted: options.signal?.aborted === true}
}

/** --dry-run: each step `planned` with what it would do, or `skipped` with why. Nothing runs. */
export function planChecklist(steps: readonly ReleaseStep[]): ReleaseStepResult[] {
  return steps.map((step) => ({
    name: step.name,
    command: step.command,
    status: step.skip ? 'skipped' : 'planned',
    duration_ms: 0,
    detail: step.skip ?? step.plan,
  }))
}

/** Passed when no step failed or was left unrun (skipped and planned steps do not fail a release). */
export function checklistPassed(results: readonly ReleaseStepResult[]): boolean {
  return results.every((r) => r.status !== 'failed' && r.status !== 'not_run')
}

/** JUnit XML, one test case per step: a failed step is a <failure>, a skipped, not-run or planned one <skipped>. */
export function releaseJunit(results: readonly ReleaseStepResult[], timestamp: Date): string {
  return junitCasesXml(
    'laundry-ops release',
    results.map((r, i) => ({
      name: `${i + 1}. ${r.name}: ${r.command}`,
      outcome: r.status === 'passed' ? 'pass' : r.status === 'failed' ? 'fail' : 'skip',
      message: r.status === 'planned' ? `dry run: ${r.detail}` : r.detail,
      seconds: r.duration_ms / 1000,
    })),
    timestamp,
  )
}
