/**
 * Five-field cron expressions evaluated in UTC (the upstream application runs its schedule in UTC; see
 * reference/reliability-perf.md §3 for why we do not evaluate in zones with daylight saving time).
 *
 * Fields: minute hour day-of-month month day-of-week. Each field: `*`, a number, a range `a-b`, a list
 * `a,b,c`, a step `* /n` or `a-b/n` or `a/n`; months and weekdays also by name (JAN, MON); weekday 7 is
 * Sunday like 0. As in Vixie cron, when both day-of-month and day-of-week are restricted a day matches
 * if either matches. Aliases: @hourly, @daily (@midnight), @weekly, @monthly, @yearly (@annually).
 */

export interface CronExpression {
  source: string
  minutes: Set<number>
  hours: Set<number>
  days: Set<number>
  months: Set<number>
  weekdays: Set<number>
  dayRestricted: boolean
  weekdayRestricted: boolean
}

export class CronSyntaxError extends Error {}

const ALIASES: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC']
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']

interface FieldSpec {
  name: string
  min: number
  max: number
  names?: string[]
  namesStart?: number
}

const FIELDS: FieldSpec[] = [
  {name: 'minute', min: 0, max: 59},
  {name: 'hour', min: 0, max: 23},
  {name: 'day of month', min: 1, max: 31},
  {name: 'month', min: 1, max: 12, names: MONTHS, namesStart: 1},
  {name: 'day of week', min: 0, max: 7, names: WEEKDAYS, namesStart: 0},
]

function parseValue(raw: string, spec: FieldSpec, source: string): number {
  const upper = raw.toUpperCase()
  if (spec.names) {
    const index = spec.names.indexOf(upper)
    if (index >= 0) return index + (spec.namesStart ?? 0)
  }
  if (!/^\d+$/.test(raw)) throw new CronSyntaxError(`invalid ${spec.name} "${raw}" in cron expression "${source}"`)
  const n = Number(raw)
  if (n < spec.min || n > spec.max) {
    throw new CronSyntaxError(`${spec.name} ${n} is out of range ${spec.min}-${spec.max} in cron expression "${source}"`)
  }
  return n
}

function parseField(field: string, spec: FieldSpec, source: string): Set<number> {
  const values = new Set<number>()
  for (const part of field.split(',')) {
    if (part === '') throw new CronSyntaxError(`empty list item in ${spec.name} of cron expression "${source}"`)
    const [range, stepText, extra] = part.split('/')
    if (extra !== undefined) throw new CronSyntaxError(`invalid step "${part}" in cron expression "${source}"`)
    let step = 1
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
        throw new CronSyntaxError(`invalid step "${stepText}" in ${spec.name} of cron expression "${source}"`)
      }
      step = Number(stepText)
    }
    let lo: number
    let hi: number
    if (range === '*' || range === '?') {
      lo = spec.min
      hi = spec.name === 'day of week' ? 6 : spec.max
    } else if (range.includes('-')) {
      const [a, b, more] = range.split('-')
      if (more !== undefined || a === '' || b === '') throw new CronSyntaxError(`invalid range "${range}" in cron expression "${source}"`)
      lo = parseValue(a, spec, source)
      hi = parseValue(b, spec, source)
      if (lo > hi) throw new CronSyntaxError(`range ${range} runs backwards in ${spec.name} of cron expression "${source}"`)
    } else {
      lo = parseValue(range, spec, source)
      // `a/n` means from a to the end of the field, as in Vixie cron.
      hi = stepText === undefined ? lo : spec.name === 'day of week' ? 6 : spec.max
    }
    for (let v = lo; v <= hi; v += step) values.add(spec.name === 'day of week' && v === 7 ? 0 : v)
  }
  return values
}

export function parseCron(expression: string): CronExpression {
  const source = expression.trim()
  const expanded = ALIASES[source.toLowerCase()] ?? source
  if (expanded.startsWith('@')) throw new CronSyntaxError(`unknown cron alias "${source}"`)
  const fields = expanded.split(/\s+/)
  if (fields.length !== 5) {
    throw new CronSyntaxError(`cron expression "${source}" has ${fields.length} fields; expected 5 (minute hour day-of-month month day-of-week)`)
  }
  const [minutes, hours, days, months, weekdays] = fields.map((f, i) => parseField(f, FIELDS[i], source))
  return {
    source,
    minutes,
    hours,
    days,
    months,
    weekdays,
    // As Vixie cron and cronie: a day field that starts with `*` (`*`, `*/2`) does not restrict the day.
    dayRestricted: !(fields[2].startsWith('*') || fields[2] === '?'),
    weekdayRestricted: !(fields[4].startsWith('*') || fields[4] === '?'),
  }
}

function dayMatches(cron: CronExpression, d: Date): boolean {
  const dom = cron.days.has(d.getUTCDate())
  const dow = cron.weekdays.has(d.getUTCDay())
  if (cron.dayRestricted && cron.weekdayRestricted) return dom || dow
  return dom && dow
}

/** Whether the minute that contains `at` (UTC) is a slot of the expression. */
export function cronMatches(cron: CronExpression, at: Date): boolean {
  return cron.minutes.has(at.getUTCMinutes()) && cron.hours.has(at.getUTCHours()) && cron.months.has(at.getUTCMonth() + 1) && dayMatches(cron, at)
}

/** The start of the UTC minute that contains `at`: the slot a run at `at` belongs to. */
export function slotOf(at: Date): Date {
  return new Date(Math.floor(at.getTime() / 60_000) * 60_000)
}

/**
 * The first slot strictly after `after` (UTC), or null when none comes within eight years (an expression
 * such as `0 0 30 2 *` never matches). Walks days, then hours, then minutes, so it stays fast.
 */
export function nextSlot(cron: CronExpression, after: Date): Date | null {
  const start = new Date(slotOf(after).getTime() + 60_000)
  const limit = Date.UTC(start.getUTCFullYear() + 8, start.getUTCMonth(), start.getUTCDate())
  let day = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate())
  while (day <= limit) {
    const d = new Date(day)
    if (cron.months.has(d.getUTCMonth() + 1) && dayMatches(cron, d)) {
      for (let h = 0; h < 24; h++) {
        if (!cron.hours.has(h)) continue
        for (let m = 0; m < 60; m++) {
          if (!cron.minutes.has(m)) continue
          const t = day + h * 3_600_000 + m * 60_000
          if (t >= start.getTime()) return new Date(t)
        }
      }
    }
    day += 86_400_000
  }
  return null
}
