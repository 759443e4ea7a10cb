import type {Command} from '@oclif/core'

import {commandLineCheck} from '../../src/base-command.js'
import {COMMANDS} from '../../src/index.js'

/** The schedule's command-line check (CommandLineCheck) with the real command classes, as the CLI gives it. */
export const checkCommandLine = commandLineCheck((id) => Promise.resolve((COMMANDS as Record<string, Command.Class>)[id]))
