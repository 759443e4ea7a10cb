// Mocha root hooks and global teardown (.mocharc.json `require`): whatever a test leaves behind is cleaned
// up here, pass or fail.
import {killRunningCliProcesses} from './cli.js'
import {dropRunTemplates} from './engines.js'

export const mochaHooks = {
  /** A long-running CLI process (startCli) never outlives the test that started it. */
  async afterEach(): Promise<void> {
    await killRunningCliProcesses()
  },
  async afterAll(): Promise<void> {
    await killRunningCliProcesses()
  },
}

/** Once the whole run has ended (in the main process, also with --parallel): its template databases go. */
export async function mochaGlobalTeardown(): Promise<void> {
  await dropRunTemplates()
}
