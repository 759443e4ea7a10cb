import type {DefaultRenderer, Listr, ListrTask, SimpleRenderer} from 'listr2'

import {styleFor} from './style.js'

/**
 * Progress on stderr, the one way every command shows it (SPEC §3): live when stderr is a terminal, plain
 * lines when it is not (cron, systemd, CI logs), nothing under --json or --quiet. Two shapes: a listr2 task
 * list (stderrTaskList: the release checklist, the UAT pack) and a counter with rate and time left
 * (progressReporter: archive, reconcile, redrive, remind, migrations, the worker's status line). Nothing
 * here writes to stdout, so a command's stdout is the same with and without progress. listr2 is imported
 * only when a task list is built: `--help` and the counters never load it.
 */

/** A task of a stderr task list: the default renderer on a terminal, the simple one otherwise. */
export type StderrTask = ListrTask<unknown, typeof DefaultRenderer, typeof SimpleRenderer>

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
  /** Per second over the last one to two windows (the interval, a second at least); null until it can be measured. */
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
  /** false: plain lines even on a terminal (the command writes lines to the terminal meanwhile). */
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
  /** A step worth a line of its own (a migration applied): a line at once (above the live line on a terminal). */
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
 * A counter on stderr: `update(done, total, phase)` as the work advances. A live line when stderr is a
 * terminal; otherwise plain lines at most every `intervalMs`, and a closing line; nothing under --json or
 * --quiet.
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

  /** Starts a new window once the current one is full (at every update, so a long idle stretch is not averaged in). */
  private slide(at: number): void {
    if (at - this.current.at < this.window) return
    this.previous = this.current
    this.current = {at, done: this.done}
  }

  protected state(final: boolean): ProgressState {
    const at = this.now()
    const elapsed = at - this.phaseStart
    this.slide(at)
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
    this.slide(this.now())
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
    // A failed run gets no closing line of its own: the command's one-line error that follows says what was
    // done (and a log keeps the fault to one line).
    if (this.started && this.options.closingLine !== false && outcome === 'done') this.line(true)
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

/** How often the live line is redrawn at most. */
const LIVE_REDRAW_MS = 100
const CLEAR_LINE = '\r\u001B[2K'

/**
 * A terminal: one status line redrawn in place (at most every LIVE_REDRAW_MS), steps and finished phases
 * as lines above it, and a closing line marked ✔ or ✖. Drawn synchronously from update(): a loop that
 * never yields to the event loop (better-sqlite3 answers every query at once) still shows its progress,
 * where listr2's renderer (started and redrawn from timers, and live only when stdout is a terminal too)
 * would show nothing until the loop ends. Nothing else writes to stderr while the work runs.
 */
class LiveProgress extends Counter {
  private drawnAt = Number.NEGATIVE_INFINITY
  /** The status line is on the screen (the cursor is at its end). */
  private drawn = false
  private trailing: NodeJS.Timeout | undefined
  private steps = 0

  constructor(
    options: ProgressOptions,
    private readonly stream: NodeJS.WriteStream,
  ) {
    super(options)
  }

  update(done: number, total?: number | null, phase?: string): void {
    if (!this.record(done, total, phase)) return
    this.draw()
  }

  step(text: string, done?: number, total?: number | null): void {
    if (done !== undefined && !this.record(done, total, this.phase)) return
    this.started = true
    this.steps++
    this.clear()
    this.write(`${this.options.title}: ${text}\n`)
    this.drawnAt = Number.NEGATIVE_INFINITY
    this.draw()
  }

  end(outcome: 'done' | 'failed' = 'done'): Promise<void> {
    if (this.trailing) clearTimeout(this.trailing)
    this.trailing = undefined
    if (!this.started) return Promise.resolve()
    this.clear()
    if (this.options.closingLine !== false) this.closing(outcome)
    this.started = false
    return Promise.resolve()
  }

  protected phaseChanged(): void {
    if (!this.started) return
    this.clear()
    if (this.options.closingLine !== false) this.closing('done')
    this.drawnAt = Number.NEGATIVE_INFINITY
  }

  private closing(outcome: 'done' | 'failed'): void {
    const s = styleFor(this.stream)
    const text = this.status(true)
    this.write(`${outcome === 'failed' ? s.red('✖') : s.green('✔')} ${this.options.title}: ${outcome === 'failed' ? `stopped at ${text}` : text}\n`)
  }

  /** The status text, or for steps (migrations) how many of them ran. */
  private status(final: boolean): string {
    if (this.steps === 0 || this.options.describe !== undefined) return this.text(final)
    const count = this.total === null ? `${this.done}` : `${this.done}/${this.total}`
    return `${count} ${this.options.unit}${final ? ` in ${formatDuration(this.now() - this.phaseStart)}` : ''}`
  }

  private draw(): void {
    if (this.now() - this.drawnAt < LIVE_REDRAW_MS) {
      // The last position is drawn later, should nothing come after it.
      this.trailing ??= setTimeout(() => {
        this.trailing = undefined
        if (this.started) this.draw()
      }, LIVE_REDRAW_MS)
      this.trailing.unref()
      return
    }
    this.drawnAt = this.now()
    const line = `${this.options.title}: ${this.status(false)}`
    // One screen line: a wrapped line could not be redrawn in place.
    const width = Math.max(20, (this.stream.columns || 80) - 1)
    this.write(`${CLEAR_LINE}${line.length > width ? `${line.slice(0, width - 1)}…` : line}`)
    this.drawn = true
  }

  private clear(): void {
    if (this.drawn) this.write(CLEAR_LINE)
    this.drawn = false
  }

  private write(text: string): void {
    try {
      this.stream.write(text)
    } catch {
      // stderr closed: progress is not worth failing the work for.
    }
  }
}
