/** What a long-running command (worker, scheduler, server) gets from its stop signals. */
export interface StopSignals {
  /** Aborted by the first SIGTERM or SIGINT: stop gracefully. */
  signal: AbortSignal
  /** Removes the handlers (call it when the work is over). */
  dispose(): void
}

export interface StopSignalOptions {
  /** Where the notes go (stderr; silent under --json). */
  note: (line: string) => void
  /** What a graceful stop does, for the note `SIGTERM received: <stopping>`. */
  stopping: string
  /** Called on the second signal; tests replace it. */
  exit?: (code: number) => void
}

/**
 * Two-stage SIGTERM / SIGINT: the first asks for a graceful stop (the job in hand, the running tasks or
 * the open requests finish) and says so; a second one, from an operator who will not wait, exits 1 at once.
 */
export function installStopSignals(options: StopSignalOptions): StopSignals {
  const stop = new AbortController()
  const exit = options.exit ?? ((code: number) => process.exit(code))
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      options.note(`${signal} again: stopping now`)
      exit(1)
      return
    }
    options.note(`${signal} received: ${options.stopping}`)
    stop.abort()
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  return {
    signal: stop.signal,
    dispose() {
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
    },
  }
}
