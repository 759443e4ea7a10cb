// Mocha root hooks (.mocharc.json `require`): whatever a test leaves behind is cleaned up here, pass or fail.
import {killRunningCliProcesses} from './cli.js'
import {dropTemplates} from './engines.js'

export const mochaHooks = {
  /** A long-running CLI process (startCli) never outlives the test that started it. */
  async afterEach(): Promise<void> {
    await killRunningCliProcesses()
  },
  /** The template databases of this run (built lazily by createScratchDatabase) go when the run ends. */
  async afterAll(): Promise<void> {
    await killRunningCliProcesses()
    await dropTemplates()
  },
}
