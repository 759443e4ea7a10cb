import type {ReleaseDriver} from '../core/release/checklist.js'

/**
 * The release checklist on stderr with listr2: one task per step showing what it is doing, a live display
 * on a terminal, plain lines when stderr is not one (CI logs), nothing under --json. A skipped or not-run
 * step shows why; the first failed step shows its detail, and the ones after it are not run.
 */
export function releaseProgress(options: {json: boolean}): ReleaseDriver {
  return async (steps, runOne) => {
    const {Listr, ListrLogger, ProcessOutput} = await import('listr2')
    const results: Awaited<ReturnType<typeof runOne>>[] = []
    const logger = () => new ListrLogger({processOutput: new ProcessOutput(process.stderr, process.stderr)})
    const list = new Listr(
      steps.map((step, index) => ({
        title: `${index + 1}/${steps.length} ${step.name}: laundry-ops ${step.command}`,
        task: async (_ctx: unknown, task: {output: string; title: string; skip: (message?: string) => void}) => {
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
      {
        concurrent: false,
        // Ctrl-C is the command's (the UAT pack cleans up, later steps are not run); listr2's own handler would exit 127.
        registerSignalListeners: false,
        exitOnError: false,
        collectErrors: false,
        silentRendererCondition: options.json,
        fallbackRendererCondition: () => process.stderr.isTTY !== true,
        renderer: 'default',
        fallbackRenderer: 'simple',
        rendererOptions: {collapseErrors: false, collapseSkips: false, logger: logger()},
        fallbackRendererOptions: {logger: logger()},
      },
    )
    await list.run().catch(() => {})
    return results
  }
}
