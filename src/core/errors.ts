/**
 * The one error class of the toolkit. `code` is stable (scripts and --json consumers match on it);
 * `exit` follows SPEC §3: 1 = the operation failed, 2 = bad usage or configuration.
 */
export class OpsError extends Error {
  readonly code: string
  readonly exit: 1 | 2

  constructor(code: string, message: string, exit: 1 | 2 = 1) {
    super(message)
    this.name = 'OpsError'
    this.code = code
    this.exit = exit
  }
}

/** Bad usage or configuration: exit 2, nothing was changed. */
export class UsageError extends OpsError {
  constructor(code: string, message: string) {
    super(code, message, 2)
    this.name = 'UsageError'
  }
}

export function isOpsError(err: unknown): err is OpsError {
  return err instanceof OpsError
}
