import type {UatPackOptions} from '../core/uat/pack.js'
import type {UatOutcome} from '../core/uat/runner.js'
import {stderrTaskList} from './progress.js'

/**
 * Progress of the UAT pack on stderr (render/progress.ts): one task per scenario showing its current
 * step. A failed scenario shows its evidence and the pack goes on.
 */
export function uatProgress(options: {json: boolean}): NonNullable<UatPackOptions['drive']> {
  return async (scenarios, runOne) => {
    const tty = process.stderr.isTTY === true
    const outcomes: UatOutcome[] = []
    const list = await stderrTaskList(
      scenarios.map((scenario) => ({
        title: `${scenario.id} ${scenario.notes} (${scenario.role})`,
        task: async (_ctx, task) => {
          const outcome = await runOne(scenario, (text) => {
            // Plain lines (not a terminal) carry the steps only; a live display also shows each request.
            if (!tty && /^[A-Z]+ \//.test(text)) return
            task.output = text
          })
          outcomes.push(outcome)
          if (outcome.status === 'Blocked') task.skip(`${scenario.id} not run: ${outcome.evidence}`)
          if (outcome.status === 'Fail') throw new Error(`${scenario.id} failed: ${outcome.evidence}`)
          task.title = `${scenario.id} ${scenario.notes}: pass (${outcome.checks.length} checks, ${Math.round(outcome.ms)} ms)`
        },
      })),
      {json: options.json},
    )
    await list.run().catch(() => {})
    return outcomes
  }
}
