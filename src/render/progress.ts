import type {DefaultRenderer, Listr, ListrTask, ListrTaskWrapper, SimpleRenderer} from 'listr2'

/**
 * Progress on stderr, the one way every command shows it (SPEC §3): a live display (listr2) when stderr
 * is a terminal, plain lines when it is not (cron, systemd, CI logs), nothing under --json or --quiet.
 * Nothing here writes to stdout, so a command's stdout is the same with and without progress. listr2 is
 * imported only when a live display starts: `--help` and the plain-line mode never load it.
 */

/** A task of a stderr task list: the default renderer on a terminal, the simple one otherwise. */
export type StderrTask = ListrTask<unknown, typeof DefaultRenderer, typeof SimpleRenderer>
type StderrTaskWrapper = ListrTaskWrapper<unknown, typeof DefaultRenderer, typeof SimpleRenderer>

export interface TaskListOptions {
  json: boolean
  quiet?: boolean
  /** false: a skipped task shows its skip message under its title instead of in place of it. */
  collapseSkips?: boolean
  /** Where the display goes (tests); process.stderr by default. */
  stream?: NodeJS.WriteStream
}

/**
 * A listr2 task list on stderr: tasks one after another, a live display on a terminal, plain lines
 * (listr2's simple renderer) otherwise, silent under --json or --quiet. A failed task does not stop the
 * list, and Ctrl-C stays the command's (listr2's own handler would exit 127 at once).
 */
export async function stderrTaskList(tasks: StderrTask[], options: TaskListOptions): Promise<Listr<unknown, 'default', 'simple'>> {
  const {Listr, ListrLogger, ProcessOutput} = await import('listr2')
  const stream = options.stream ?? process.stderr
  const logger = () => new ListrLogger({processOutput: new ProcessOutput(stream, stream)})
  return new Listr<unknown, 'default', 'simple'>(tasks, {
    concurrent: false,
    registerSignalListeners: false,
    exitOnError: false,
    collectErrors: false,
    silentRendererCondition: options.json || options.quiet === true,
    fallbackRendererCondition: () => stream.isTTY !== true,
    renderer: 'default',
    fallbackRenderer: 'simple',
    rendererOptions: {collapseErrors: false, ...(options.collapseSkips === undefined ? {} : {collapseSkips: options.collapseSkips}), logger: logger()},
    fallbackRendererOptions: {logger: logger()},
  })
}

/** Where a counter stands, for its status text. */
export interface ProgressState {
  done: number
  /** null when the end is not known (a worker, a file being read). */
  total: number | null
  /** The label of the current phase, if the work has several. */
  phase?: string
  /** Milliseconds since the phase began. */
  elapsedMs: number
  /** Per second since the phase began; null until it can be measured. */
  rate: number | null
  /** Per second since the previous line (or the phase start); null until it can be measured. */
  recentRate: number | null
  /** The closing line (the work ended). */
  final: boolean
}

export interface ProgressOptions {
  /** The command, as the line starts: `audit archive`. */
  title: string
  /** What is counted: `rows`, `messages`, `jobs`. */
  unit: string
  json: boolean
  quiet: boolean
  /** The least time between two plain lines (LAUNDRY_OPS_PROGRESS_INTERVAL_MS); 0: a line at every change. */
  intervalMs: number
  /** The status text; by default `12000/100000 rows (12%), 24000 rows/s, about 4 s left`. */
  describe?: (state: ProgressState) => string
  /** Nothing is shown for a total below this (or an unknown one): short runs stay silent. */
  minTotal?: number
  /** false: plain lines even on a terminal (the command writes to the same terminal meanwhile). */
  live?: boolean
  /** false: no closing line (the command prints its own). */
  closingLine?: boolean
  /** process.stderr by default (tests give their own). */
  stream?: NodeJS.WriteStream
  /** A monotonic clock in milliseconds (tests); performance.now() by default. */
  now?: () => number
}

export interface ProgressReporter {
  /** Where the work stands. Cheap: call it as often as the work advances. */
  update(done: number, total?: number | null, phase?: string): void
  /** A step worth a line of its own (a migration applied): a plain line at once, or a line under the live title. */
  step(text: string, done?: number, total?: number | null): void
  /** Ends the display: the closing line (a failed run says where it stopped). Always call it, also on failure. */
  end(outcome?: 'done' | 'failed'): Promise<void>
}

const SILENT: ProgressReporter = {
  update() {},
  step() {},
  end: () => Promise.resolve(),
}

/** 24000, 41.2, 0.35: whole numbers from 100 up, one decimal below, two below 1. */
export function formatRate(perSecond: number): string {
  if (perSecond >= 100) return String(Math.round(perSecond))
  if (perSecond >= 1) return perSecond.toFixed(1)
  return perSecond.toFixed(2)
}

/** 0.4 s, 12 s, 3 min 20 s, 2 h 5 min. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, ms) / 1000
  if (seconds < 10) return `${seconds.toFixed(1)} s`
  if (seconds < 60) return `${Math.round(seconds)} s`
  const whole = Math.round(seconds)
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`
  return `${Math.floor(whole / 3600)} h ${Math.floor((whole % 3600) / 60)} min`
}

/** `12000/100000 rows (12%), 24000 rows/s, about 4 s left`; the closing line says how long it took. */
export function describeCount(state: ProgressState, unit: string): string {
  const parts: string[] = []
  const count = state.total === null ? `${state.done} ${unit}` : `${state.done}/${state.total} ${unit}`
  const percent = state.total !== null && state.total > 0 ? ` (${Math.floor((Math.min(state.done, state.total) / state.total) * 100)}%)` : ''
  parts.push(`${count}${percent}${state.final ? ` in ${formatDuration(state.elapsedMs)}` : ''}`)
  if (state.rate !== null && state.done > 0) parts.push(`${formatRate(state.rate)} ${unit}/s`)
  if (!state.final && state.total !== null && state.rate !== null && state.rate > 0 && state.done < state.total) {
    const seconds = (state.total - state.done) / state.rate
    // Whole seconds: an estimate has no tenths.
    parts.push(`about ${seconds < 60 ? `${Math.max(1, Math.round(seconds))} s` : formatDuration(seconds * 1000)} left`)
  }
  return `${state.phase ? `${state.phase}: ` : ''}${parts.join(', ')}`
}

/**
 * A counter on stderr: `update(done, total, phase)` as the work advances. Plain lines at most every
 * `intervalMs` (and a closing line) when stderr is not a terminal; a live line (listr2) on a terminal;
 * nothing under --json or --quiet.
 */
export function progressReporter(options: ProgressOptions): ProgressReporter {
  if (options.json || options.quiet) return SILENT
  const stream = options.stream ?? process.stderr
  const live = options.live !== false && stream.isTTY === true
  return live ? new LiveProgress(options, stream) : new PlainProgress(options, stream)
}

/** The counting shared by both displays: phases, rates, the status text. */
abstract class Counter implements ProgressReporter {
  protected readonly now: () => number
  protected done = 0
  protected total: number | null = null
  protected phase: string | undefined
  protected phaseStart: number
  /** Something was counted (and not held back by minTotal): there is something to show. */
  protected started = false
  /** The recent rate is measured over the last one to two windows: [previous, current, now]. */
  private readonly window: number
  private current: {at: number; done: number}
  private previous: {at: number; done: number} | undefined

  constructor(protected readonly options: ProgressOptions) {
    this.now = options.now ?? (() => performance.now())
    this.phaseStart = this.now()
    this.window = Math.max(options.intervalMs, 1000)
    this.current = {at: this.phaseStart, done: 0}
  }

  protected state(final: boolean): ProgressState {
    const at = this.now()
    const elapsed = at - this.phaseStart
    if (at - this.current.at >= this.window) {
      this.previous = this.current
      this.current = {at, done: this.done}
    }
    const since = this.previous ?? this.current
    return {
      done: this.done,
      total: this.total,
      phase: this.phase,
      elapsedMs: elapsed,
      rate: elapsed >= 1 ? (this.done * 1000) / elapsed : null,
      recentRate: at - since.at >= 1 ? ((this.done - since.done) * 1000) / (at - since.at) : null,
      final,
    }
  }

  protected text(final: boolean): string {
    const state = this.state(final)
    return this.options.describe ? this.options.describe(state) : describeCount(state, this.options.unit)
  }

  /** Records a new position; false when it is not to be shown (a total below minTotal). */
  protected record(done: number, total: number | null | undefined, phase: string | undefined): boolean {
    const nextTotal = total === undefined ? this.total : total
    const least = this.options.minTotal
    if (least !== undefined && (nextTotal === null || nextTotal < least)) return false
    if (phase !== this.phase) {
      this.phaseChanged()
      this.phase = phase
      this.phaseStart = this.now()
      this.current = {at: this.phaseStart, done: 0}
      this.previous = undefined
    }
    this.done = done
    this.total = nextTotal
    this.started = true
    return true
  }

  /** Before a new phase starts: the old one may want its last line. */
  protected phaseChanged(): void {}

  abstract update(done: number, total?: number | null, phase?: string): void
  abstract step(text: string, done?: number, total?: number | null): void
  abstract end(outcome?: 'done' | 'failed'): Promise<void>
}

/** Not a terminal: a line at most every intervalMs (also while nothing calls update), and a closing line. */
class PlainProgress extends Counter {
  private timer: NodeJS.Timeout | undefined
  private lineAt: number
  /** The position the last line showed (nothing new: no line). */
  private shown = ''

  constructor(
    options: ProgressOptions,
    private readonly stream: NodeJS.WriteStream,
  ) {
    super(options)
    this.lineAt = this.phaseStart
  }

  update(done: number, total?: number | null, phase?: string): void {
    if (!this.record(done, total, phase)) return
    if (this.now() - this.lineAt >= this.options.intervalMs) this.line(false)
    else this.watch()
  }

  step(text: string, done?: number, total?: number | null): void {
    if (done !== undefined && !this.record(done, total, this.phase)) return
    this.write(`${this.options.title}: ${text}`)
  }

  end(outcome: 'done' | 'failed' = 'done'): Promise<void> {
    this.stopWatching()
    if (this.started && this.options.closingLine !== false) this.line(true, outcome)
    this.started = false
    return Promise.resolve()
  }

  protected phaseChanged(): void {
    // The phase that ends gets its closing line, unless its last position was shown already.
    if (this.started && this.key() !== this.shown && this.options.closingLine !== false) this.line(true)
    this.lineAt = this.now()
  }

  /** A line later, when a busy stretch ends between two calls of update(). */
  private watch(): void {
    if (this.timer || this.options.intervalMs <= 0) return
    this.timer = setInterval(() => {
      if (this.key() !== this.shown && this.now() - this.lineAt >= this.options.intervalMs) this.line(false)
    }, this.options.intervalMs)
    this.timer.unref()
  }

  private stopWatching(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  private key(): string {
    return `${this.done}/${this.total}/${this.phase}`
  }

  private line(final: boolean, outcome: 'done' | 'failed' = 'done'): void {
    const text = this.text(final)
    this.write(`${this.options.title}: ${outcome === 'failed' ? `stopped at ${text}` : text}`)
    this.lineAt = this.now()
    this.shown = this.key()
  }

  private write(line: string): void {
    try {
      this.stream.write(`${line}\n`)
    } catch {
      // stderr closed (EPIPE): progress is not worth failing the work for.
    }
  }
}

/** How often a live display is redrawn at most (listr2 redraws at every title change). */
const LIVE_REDRAW_MS = 100
const SHOW_CURSOR = '\u001B[?25h'

/**
 * A terminal: one listr2 task whose title is the status, redrawn at most every LIVE_REDRAW_MS; steps are
 * lines under it. While it runs, listr2 holds other stderr writes back and prints them when it ends.
 */
class LiveProgress extends Counter {
  private task: StderrTaskWrapper | undefined
  /** Resolved once listr2 runs the task (the title can be set). */
  private taskReady: Promise<void> = Promise.resolve()
  private finish: ((error?: Error) => void) | undefined
  private running: Promise<void> | undefined
  private redraw: NodeJS.Timeout | undefined
  private steps = 0
  private readonly restoreCursor: () => void
  private readonly signalHandlers: Array<[NodeJS.Signals, () => void]> = []

  constructor(
    options: ProgressOptions,
    private readonly stream: NodeJS.WriteStream,
  ) {
    super(options)
    // listr2 replaces stream.write while it draws: the cursor is restored through the real one.
    const write = stream.write.bind(stream)
    this.restoreCursor = () => {
      write(SHOW_CURSOR)
    }
  }

  update(done: number, total?: number | null, phase?: string): void {
    if (!this.record(done, total, phase)) return
    this.start()
    this.scheduleRedraw()
  }

  step(text: string, done?: number, total?: number | null): void {
    if (done !== undefined && !this.record(done, total, this.phase)) return
    this.started = true
    this.steps++
    this.start()
    void this.taskReady.then(() => {
      if (this.task) this.task.output = text
    })
    this.scheduleRedraw()
  }

  async end(outcome: 'done' | 'failed' = 'done'): Promise<void> {
    if (!this.running) return
    if (this.redraw) clearTimeout(this.redraw)
    this.redraw = undefined
    await this.taskReady
    const text = this.status(true)
    if (this.task) this.task.title = `${this.options.title}: ${text}`
    this.finish?.(outcome === 'failed' ? new Error(`${this.options.title}: stopped at ${text}`) : undefined)
    await this.running
    this.running = undefined
    for (const [signal, handler] of this.signalHandlers) process.removeListener(signal, handler)
    process.removeListener('exit', this.restoreCursor)
  }

  /** The title: the status text, or for steps (migrations) how many of them ran. */
  private status(final: boolean): string {
    if (this.steps === 0 || this.options.describe !== undefined) return this.text(final)
    const count = this.total === null ? `${this.done}` : `${this.done}/${this.total}`
    return `${count} ${this.options.unit}${final ? ` in ${formatDuration(this.now() - this.phaseStart)}` : ''}`
  }

  private start(): void {
    if (this.running) return
    let markReady: () => void = () => {}
    this.taskReady = new Promise((resolve) => (markReady = resolve))
    const done = new Promise<void>((resolve, reject) => {
      this.finish = (error) => (error ? reject(error) : resolve())
    })
    // Ctrl-C of a command that has no handler of its own: the terminal gets its cursor back, then the
    // signal does what it would have done (a command with a handler ends the display itself).
    process.once('exit', this.restoreCursor)
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      if (process.listenerCount(signal) > 0) continue
      const handler = () => {
        this.restoreCursor()
        process.kill(process.pid, signal)
      }
      process.once(signal, handler)
      this.signalHandlers.push([signal, handler])
    }
    this.running = (async () => {
      try {
        const list = await stderrTaskList(
          [
            {
              title: this.options.title,
              task: (_ctx, task) => {
                this.task = task
                markReady()
                return done
              },
              rendererOptions: {outputBar: Infinity, persistentOutput: true},
            },
          ],
          {json: false, stream: this.stream},
        )
        await list.run()
      } catch {
        // The display failed (or the run did, which end() said in the title): the work is not affected.
      } finally {
        // A list that could not start must not leave end() waiting for its task.
        markReady()
      }
    })()
  }

  private scheduleRedraw(): void {
    if (this.redraw) return
    this.redraw = setTimeout(() => {
      this.redraw = undefined
      const title = `${this.options.title}: ${this.status(false)}`
      void this.taskReady.then(() => {
        if (this.task && this.running) this.task.title = title
      })
    }, LIVE_REDRAW_MS)
  }
}
