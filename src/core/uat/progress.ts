import type {UatPackOptions} from './pack.js'
import type {UatOutcome} from './runner.js'

/**
 * Progress of the pack on stderr with listr2: one task per scenario showing its current step, a live display
 * on a terminal, plain lines when stderr is not one (cron, CI logs), nothing under --json. A failed
 * scenario shows its evidence and the pack goes on.
 */
export function progressDriver(options: {json: boolean}): NonNullable<UatPackOptions['drive']> {
  return async (scenarios, runOne) => {
    const {Listr, ListrLogger, ProcessOutput} = await import('listr2')
    const tty = process.stderr.isTTY === true
    const outcomes: UatOutcome[] = []
    const list = new Listr(
      scenarios.map((scenario) => ({
        title: `${scenario.id} ${scenario.notes} (${scenario.role})`,
        task: async (_ctx: unknown, task: {output: string; title: string; skip: (message?: string) => void}) => {
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
      {
        concurrent: false,
        // Ctrl-C is the pack's (cleanup, then exit 1); listr2's own handler would exit 127 at once.
        registerSignalListeners: false,
        exitOnError: false,
        collectErrors: false,
        silentRendererCondition: options.json,
        fallbackRendererCondition: () => process.stderr.isTTY !== true,
        renderer: 'default',
        fallbackRenderer: 'simple',
        rendererOptions: {collapseErrors: false, logger: new ListrLogger({processOutput: new ProcessOutput(process.stderr, process.stderr)})},
        fallbackRendererOptions: {logger: new ListrLogger({processOutput: new ProcessOutput(process.stderr, process.stderr)})},
      },
    )
    await list.run().catch(() => {})
    return outcomes
  }
}
