// Preloaded with `node --import` (NODE_OPTIONS) into a CLI process under test: its wall clock (Date.now(),
// new Date()) stands still at FROZEN_CLOCK_AT (an ISO 8601 instant), so two runs of a command name the
// same archive file and print the same times. The monotonic clock (performance.now(), which progress rates
// and timers use) and every other process, the database server's included, keep the true time.
const at = Date.parse(process.env.FROZEN_CLOCK_AT ?? '')
if (Number.isNaN(at)) throw new Error(`frozen-clock.mjs: FROZEN_CLOCK_AT='${process.env.FROZEN_CLOCK_AT}' is not an ISO 8601 instant`)
const RealDate = globalThis.Date

class FrozenDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(at)
    else super(...args)
  }

  static now() {
    return at
  }
}

globalThis.Date = FrozenDate
