// The spec reporter, plus one closing line in the plain "N passed, N failed, N skipped" form
// that CI reads to tell a run that tested something from one that ran no test.
// mocha loads a reporter with require(), so this one is CommonJS.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Mocha = require('mocha')

const {EVENT_RUN_END} = Mocha.Runner.constants

class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options)
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats ?? {}
      process.stdout.write(`\n${s.passes ?? 0} passed, ${s.failures ?? 0} failed, ${s.pending ?? 0} skipped\n`)
    })
  }
}

module.exports = SpecWithSummary
