import {expect} from 'chai'

import {describeCount, formatDuration, formatRate, progressReporter, type ProgressOptions} from '../../src/render/progress.js'

/** A stderr stand-in: what was written, and whether it claims to be a terminal. */
function fakeStream(tty: boolean): NodeJS.WriteStream & {text: () => string} {
  let written = ''
  const stream = {
    isTTY: tty,
    columns: 100,
    rows: 40,
    write(chunk: string | Uint8Array, ...rest: unknown[]) {
      written += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString()
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined
      callback?.()
      return true
    },
    on() {
      return stream
    },
    once() {
      return stream
    },
    removeListener() {
      return stream
    },
    text: () => written,
  }
  return stream as unknown as NodeJS.WriteStream & {text: () => string}
}

/** A monotonic clock the test moves. */
function fakeClock() {
  let ms = 1000
  return {now: () => ms, advance: (by: number) => (ms += by)}
}

const lines = (text: string) => text.split('\n').filter(Boolean)
/** Without colours (the icons are green or red on a terminal). */
// eslint-disable-next-line no-control-regex
const uncoloured = (text: string) => text.replace(/\u001B\[\d+m/g, '')

describe('progress on stderr (render/progress.ts)', () => {
  const base = (stream: NodeJS.WriteStream, clock = fakeClock()): ProgressOptions => ({
    title: 'audit archive',
    unit: 'rows',
    json: false,
    quiet: false,
    intervalMs: 5000,
    stream,
    now: clock.now,
  })

  it('not a terminal: a line at most every interval, then a closing line with the time taken', async () => {
    const stream = fakeStream(false)
    const clock = fakeClock()
    const progress = progressReporter(base(stream, clock))
    progress.update(0, 1000)
    for (let done = 100; done <= 1000; done += 100) {
      clock.advance(1000)
      progress.update(done, 1000)
    }
    await progress.end()
    expect(lines(stream.text())).to.deep.equal([
      'audit archive: 500/1000 rows (50%), 100 rows/s, about 5 s left',
      'audit archive: 1000/1000 rows (100%), 100 rows/s',
      'audit archive: 1000/1000 rows (100%) in 10 s, 100 rows/s',
    ])
  })

  it('not a terminal: a busy stretch that ends between two updates still gets its line (the interval timer)', async () => {
    const stream = fakeStream(false)
    const clock = fakeClock()
    const progress = progressReporter({...base(stream, clock), intervalMs: 20})
    progress.update(10, 100)
    clock.advance(5)
    progress.update(20, 100)
    expect(stream.text()).to.equal('')
    clock.advance(30)
    await new Promise((resolve) => setTimeout(resolve, 60))
    expect(lines(stream.text())).to.have.length(1)
    expect(stream.text()).to.match(/^audit archive: 20\/100 rows \(20%\), /)
    // Nothing new: no more lines.
    clock.advance(100)
    await new Promise((resolve) => setTimeout(resolve, 60))
    expect(lines(stream.text())).to.have.length(1)
    await progress.end()
    expect(lines(stream.text())).to.have.length(2)
  })

  it('phases: each ends with its own line; a failed run adds none (its one-line error says what was done)', async () => {
    const stream = fakeStream(false)
    const clock = fakeClock()
    const progress = progressReporter(base(stream, clock))
    progress.update(0, null, 'finishing an interrupted archive')
    clock.advance(2000)
    progress.update(300, 300, 'finishing an interrupted archive')
    progress.update(0, 50)
    clock.advance(1000)
    progress.update(10, 50)
    await progress.end('failed')
    expect(lines(stream.text())).to.deep.equal(['audit archive: finishing an interrupted archive: 300/300 rows (100%) in 2.0 s, 150 rows/s'])
  })

  it('steps get a line each, at once; no closing line when the command prints its own', async () => {
    const stream = fakeStream(false)
    const progress = progressReporter({...base(stream), title: 'db migrate', unit: 'migrations', closingLine: false})
    progress.step('1/2 first (3 ms)', 1, 2)
    progress.step('2/2 second (4 ms)', 2, 2)
    await progress.end()
    expect(stream.text()).to.equal('db migrate: 1/2 first (3 ms)\ndb migrate: 2/2 second (4 ms)\n')
  })

  it('nothing under --json or --quiet, nor below minTotal (a short run)', async () => {
    for (const options of [{json: true}, {quiet: true}, {minTotal: 200}]) {
      const stream = fakeStream(false)
      const progress = progressReporter({...base(stream), intervalMs: 0, ...options})
      progress.update(0, 199)
      progress.update(199, 199)
      progress.step('a step', 1, 199)
      await progress.end()
      expect(stream.text(), JSON.stringify(options)).to.equal('')
    }
    const stream = fakeStream(false)
    const progress = progressReporter({...base(stream), intervalMs: 0, minTotal: 200})
    progress.update(0, 200)
    await progress.end()
    expect(lines(stream.text())).to.have.length(2)
  })

  it('a custom status text, with the rate of the last window', async () => {
    const stream = fakeStream(false)
    const clock = fakeClock()
    let processed = 0
    const progress = progressReporter({
      ...base(stream, clock),
      title: 'queue work',
      unit: 'jobs',
      intervalMs: 1000,
      closingLine: false,
      describe: (s) => `${processed} processed, ${s.recentRate === null ? '-' : formatRate(s.recentRate)} jobs/s`,
    })
    for (let i = 0; i < 30; i++) {
      clock.advance(i < 10 ? 10 : 100) // 100 jobs/s, then 10 jobs/s
      progress.update(++processed, null)
    }
    await progress.end()
    const shown = lines(stream.text())
    // A line a second: the first second had 19 jobs; the next one 10, whatever the average since the start.
    expect(shown).to.deep.equal(['queue work: 19 processed, 19.0 jobs/s', 'queue work: 29 processed, 10.0 jobs/s'])
  })

  it('a terminal: one line redrawn in place (at most every 100 ms), finished phases above it, a closing line marked ✔', async () => {
    const stream = fakeStream(true)
    const clock = fakeClock()
    // Nothing on stdout, whatever it is.
    let onStdout = ''
    const own = Object.getOwnPropertyDescriptor(process.stdout, 'write')
    Object.defineProperty(process.stdout, 'write', {
      configurable: true,
      writable: true,
      value: (chunk: string | Uint8Array) => {
        onStdout += String(chunk)
        return true
      },
    })
    try {
      const progress = progressReporter({...base(stream, clock), intervalMs: 0})
      progress.update(0, null, 'finishing an interrupted archive')
      clock.advance(500)
      progress.update(50, 50, 'finishing an interrupted archive')
      progress.update(0, 100)
      clock.advance(1000)
      progress.update(60, 100)
      clock.advance(50)
      progress.update(61, 100) // within 100 ms of the last redraw: not drawn now
      clock.advance(950)
      progress.update(100, 100)
      await progress.end()
    } finally {
      if (own) Object.defineProperty(process.stdout, 'write', own)
      else delete (process.stdout as {write?: unknown}).write
    }
    expect(onStdout).to.equal('')
    expect(uncoloured(stream.text()).split('\r\u001B[2K')).to.deep.equal([
      '',
      'audit archive: finishing an interrupted archive: 0 rows',
      'audit archive: finishing an interrupted archive: 50/50 rows (100%), 100 rows/s',
      '✔ audit archive: finishing an interrupted archive: 50/50 rows (100%) in 0.5 s, 100 rows/s\n',
      'audit archive: 0/100 rows (0%)',
      'audit archive: 60/100 rows (60%), 60.0 rows/s, about 1 s left',
      'audit archive: 100/100 rows (100%), 50.0 rows/s',
      '✔ audit archive: 100/100 rows (100%) in 2.0 s, 50.0 rows/s\n',
    ])
  })

  it('a terminal: steps are lines above the live count; a failed run is marked ✖', async () => {
    const stream = fakeStream(true)
    const progress = progressReporter({...base(stream), title: 'db migrate', unit: 'migrations'})
    progress.step('1/2 first (3 ms)', 1, 2)
    await progress.end('failed')
    const shown = uncoloured(stream.text()).split('\r\u001B[2K')
    expect(shown.slice(0, 2)).to.deep.equal(['db migrate: 1/2 first (3 ms)\n', 'db migrate: 1/2 migrations'])
    expect(shown.at(-1)).to.match(/^✖ db migrate: stopped at 1\/2 migrations in \d+\.\d s\n$/)
  })

  it('formats rates, durations and the default status text', () => {
    expect([formatRate(24_000.4), formatRate(41.25), formatRate(0.354)]).to.deep.equal(['24000', '41.3', '0.35'])
    expect([400, 12_400, 200_000, 7_500_000].map(formatDuration)).to.deep.equal(['0.4 s', '12 s', '3 min 20 s', '2 h 5 min'])
    const state = {done: 0, total: 10, elapsedMs: 0, rate: null, recentRate: null, final: false}
    expect(describeCount(state, 'rows')).to.equal('0/10 rows (0%)')
    expect(describeCount({...state, total: null, done: 5, rate: 2.5}, 'rows')).to.equal('5 rows, 2.5 rows/s')
    expect(describeCount({...state, total: 0, final: true, elapsedMs: 3}, 'rows')).to.equal('0/0 rows in 0.0 s')
    expect(describeCount({...state, done: 1, total: 100_000, rate: 1}, 'rows')).to.equal('1/100000 rows (0%), 1.0 rows/s, about 27 h 46 min left')
  })
})
