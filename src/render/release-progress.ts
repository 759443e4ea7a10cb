import type {ReleaseDriver} from '../core/release/checklist.js'
import {stderrTaskList} from './progress.js'

/**
 * The release checklist on stderr (render/progress.ts): one task per step showing what it is doing. A
 * skipped or not-run step shows why; the first failed step shows its detail, and the ones after it are
 * not run.
 */
export function releaseProgress(options: {json: boolean}): ReleaseDriver {
  return async (steps, runOne) => {
    const results: Awaited<ReturnType<typeof runOne>>[] = []
    const list = await stderrTaskList(
      steps.map((step, index) => ({
        title: `${index + 1}/${steps.length} ${step.name}: laundry-ops ${step.command}`,
        task: async (_ctx, task) => {
          const result = await runOne(step, (text) => {
            task.output = text
          })
          results.push(result)
          const label = `${index + 1}/${steps.length} ${step.name}`
          if (result.status === 'skipped' || result.status === 'not_run') task.skip(result.detail)
          else if (result.status === 'failed') throw new Error(`${label} failed: ${result.detail}`)
          else task.title = `${label}: passed (${result.duration_ms} ms) ${result.detail}`
        },
      })),
      {json: options.json, collapseSkips: false},
    )
    await list.run().catch(() => {})
    return results
  }
}
