// Preloaded with `node --import` (NODE_OPTIONS) into a CLI process under test: its wall clock (Date.now(),
// new Date()) reads SKEWED_CLOCK_MS milliseconds off, like a host whose clock is wrong. The monotonic
// clock (performance.now()) and every other process, the database server's included, keep the true time.
const skew = Number(process.env.SKEWED_CLOCK_MS ?? 0)
const RealDate = globalThis.Date

class SkewedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + skew)
    else super(...args)
  }

  static now() {
    return RealDate.now() + skew
  }
}

globalThis.Date = SkewedDate
