import {expect} from 'chai'

import {cronMatches, CronSyntaxError, nextSlot, parseCron, slotOf} from '../../../src/core/scheduler/cron.js'
import {
  BASELINE,
  OPTIONAL,
  buildSchedule,
  checkTaskCommands,
  loadCheckedSchedule,
  loadSchedule,
  splitCommandLine,
} from '../../../src/core/scheduler/schedule.js'
import {checkCommandLine} from '../../helpers/command-line.js'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

const at = (iso: string) => new Date(iso)
const next = (expr: string, after: string) => nextSlot(parseCron(expr), at(after))?.toISOString() ?? null

describe('cron expressions (UTC)', () => {
  it('matches the baseline expressions on their minutes only', () => {
    const every10 = parseCron('*/10 * * * *')
    expect(cronMatches(every10, at('2026-11-22T10:20:59Z'))).to.equal(true)
    expect(cronMatches(every10, at('2026-11-22T10:21:00Z'))).to.equal(false)
    const daily = parseCron('10 0 * * *')
    expect(cronMatches(daily, at('2026-11-22T00:10:00Z'))).to.equal(true)
    expect(cronMatches(daily, at('2026-11-22T01:10:00Z'))).to.equal(false)
    // Over a whole day, each baseline task is due exactly as often as upstream's schedule says.
    const counts = BASELINE.map((b) => {
      const expr = parseCron(b.cron)
      let n = 0
      for (let m = 0; m < 1440; m++) if (cronMatches(expr, new Date(Date.UTC(2026, 10, 22, 0, m)))) n++
      return [b.name, n]
    })
    expect(Object.fromEntries(counts)).to.deep.equal({'wa-redrive': 144, 'wa-remind': 1, 'observe-health': 96, 'quota-reconcile': 1, 'audit-archive': 1})
  })

  it('computes the next slot strictly after the current minute, across days, months and leap years', () => {
    expect(next('*/15 * * * *', '2026-11-22T10:15:30Z')).to.equal('2026-11-22T10:30:00.000Z')
    expect(next('0 2 * * *', '2026-11-22T02:00:00Z')).to.equal('2026-11-23T02:00:00.000Z')
    expect(next('0 9 * * *', '2026-12-31T23:59:00Z')).to.equal('2027-01-01T09:00:00.000Z')
    expect(next('0 0 29 2 *', '2026-03-01T00:00:00Z')).to.equal('2028-02-29T00:00:00.000Z')
    expect(next('0 0 30 2 *', '2026-03-01T00:00:00Z')).to.equal(null)
    expect(next('@hourly', '2026-11-22T10:00:00Z')).to.equal('2026-11-22T11:00:00.000Z')
  })

  it('supports ranges, lists, steps, names, 7 as Sunday, and day-of-month OR day-of-week', () => {
    expect([...parseCron('1-10/3,30 * * * *').minutes]).to.deep.equal([1, 4, 7, 10, 30])
    expect([...parseCron('5/20 * * * *').minutes]).to.deep.equal([5, 25, 45])
    expect([...parseCron('0 0 * JAN-MAR MON,fri').weekdays].sort()).to.deep.equal([1, 5])
    expect([...parseCron('0 0 * * 7').weekdays]).to.deep.equal([0])
    // 2026-11-22 is a Sunday; the 1st of December a Tuesday.
    const either = parseCron('0 0 1 * 0')
    expect(cronMatches(either, at('2026-11-22T00:00:00Z'))).to.equal(true)
    expect(cronMatches(either, at('2026-12-01T00:00:00Z'))).to.equal(true)
    expect(cronMatches(either, at('2026-12-02T00:00:00Z'))).to.equal(false)
    expect(slotOf(at('2026-11-22T10:20:59.999Z')).toISOString()).to.equal('2026-11-22T10:20:00.000Z')
  })

  it('refuses malformed expressions with the reason', () => {
    for (const [expr, reason] of [
      ['* * * *', /4 fields; expected 5/],
      ['60 * * * *', /minute 60 is out of range 0-59/],
      ['*/0 * * * *', /invalid step "0"/],
      ['5-1 * * * *', /runs backwards/],
      ['* * * FOO *', /invalid month "FOO"/],
      ['@often', /unknown cron alias/],
      ['1,,2 * * * *', /empty list item/],
    ] as const) {
      expect(() => parseCron(expr), expr).to.throw(CronSyntaxError, reason)
    }
  })
})

describe('the schedule (baseline and operator file)', () => {
  it('is upstream baseline when there is no file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'laundry-ops-schedule-'))
    const {tasks, file} = loadSchedule({cwd: dir, env: {}})
    expect(file).to.equal(null)
    expect(tasks.map((t) => [t.name, t.cron, t.command])).to.deep.equal([...BASELINE, ...OPTIONAL].map((b) => [b.name, b.cron, b.command]))
    expect(tasks.every((t) => t.leaseMinutes === 5)).to.equal(true)
    // Upstream's five run; ours (db-backup) waits until the operator enables it.
    expect(tasks.filter((t) => t.enabled).map((t) => t.name)).to.deep.equal(BASELINE.map((b) => b.name))
    expect(tasks.filter((t) => !t.enabled).map((t) => t.name)).to.deep.equal(['db-backup'])
  })

  it('changes, disables and adds tasks from the file', () => {
    const tasks = buildSchedule({
      tasks: {
        'wa-redrive': {cron: '*/5 * * * *'},
        'audit-archive': {enabled: false},
        'retry-failed': {cron: '30 * * * *', command: 'queue retry all', lease_minutes: 15},
      },
    })
    const byName = Object.fromEntries(tasks.map((t) => [t.name, t]))
    expect(byName['wa-redrive'].cron).to.equal('*/5 * * * *')
    expect(byName['wa-redrive'].command).to.equal('wa redrive --limit=100')
    expect(byName['audit-archive'].enabled).to.equal(false)
    expect(byName['retry-failed'].argv).to.deep.equal(['queue', 'retry', 'all'])
    expect(byName['retry-failed'].leaseMinutes).to.equal(15)
    expect(buildSchedule({baseline: false, tasks: {x: {cron: '* * * * *', command: 'db status'}}}).map((t) => t.name)).to.deep.equal(['x'])
  })

  it('refuses an invalid file with the place and the reason', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{tasks: {x: {cron: '* * * * *'}}}, /task "x": a new task needs "cron" and "command"/],
      [{tasks: {x: {cron: '* * * * *', command: 'db fresh --force'}}}, /not a schedulable laundry-ops command/],
      [{tasks: {x: {cron: '* * * * *', command: 'schedule run'}}}, /not a schedulable/],
      [{tasks: {'wa-redrive': {cron: '61 * * * *'}}}, /task "wa-redrive": minute 61 is out of range/],
      [{tasks: {'wa-redrive': {every: '5m'}}}, /at tasks\.wa-redrive: Unrecognized key/i],
      [{tasks: {'Bad Name': {cron: '* * * * *', command: 'db status'}}}, /a task name is 1-64/],
      [{tasks: {'wa-redrive': {lease_minutes: 0}}}, /lease_minutes/],
      [{baseline: 'yes'}, /at baseline/],
    ]
    for (const [content, reason] of bad) expect(() => buildSchedule(content, 'f.json'), JSON.stringify(content)).to.throw(reason)
    const dir = mkdtempSync(path.join(tmpdir(), 'laundry-ops-schedule-'))
    writeFileSync(path.join(dir, 'laundry-ops.schedule.json'), '{"tasks": ')
    expect(() => loadSchedule({cwd: dir, env: {}})).to.throw(/laundry-ops\.schedule\.json: .*JSON/)
    expect(() => loadSchedule({cwd: dir, env: {LAUNDRY_OPS_SCHEDULE: 'missing.json'}})).to.throw(/missing\.json': no such file/)
  })

  it('splits command lines without a shell', () => {
    expect(splitCommandLine(`wa redrive --reason "RATE_LIMIT" --tenant='a b'`)).to.deep.equal(['wa', 'redrive', '--reason', 'RATE_LIMIT', '--tenant=a b'])
    expect(() => splitCommandLine('wa "redrive')).to.throw(/unclosed/)
  })
})

describe('the schedule file: what a reviewer found', () => {
  it('treats a day field starting with * as unrestricted (Vixie cron): 0 9 */1 * MON runs on Mondays only', () => {
    // 2026-11-23 is a Monday.
    expect(next('0 9 */1 * MON', '2026-11-23T10:00:00Z')).to.equal('2026-11-30T09:00:00.000Z')
    // cronie: with a *-field the two day fields AND: Mondays that are odd days of the month (30 is even).
    expect(next('0 0 */2 * MON', '2026-11-23T10:00:00Z')).to.equal('2026-12-07T00:00:00.000Z')
    expect(next('0 0 1 * */2', '2026-11-23T10:00:00Z')).to.equal('2026-12-01T00:00:00.000Z')
  })

  it('refuses an expression that never matches, a __proto__ task, unknown flags and options without a value; accepts a BOM', async () => {
    expect(() => buildSchedule({tasks: {x: {cron: '0 0 30 2 *', command: 'db status'}}}, 'f.json')).to.throw(/never matches a date/)
    expect(() => buildSchedule(JSON.parse('{"tasks": {"__proto__": {"cron": "* * * * *", "command": "db status"}}}'), 'f.json')).to.throw(
      /task "__proto__": a task name/,
    )
    const checked = (command: string) =>
      checkTaskCommands({tasks: buildSchedule({tasks: {x: {cron: '* * * * *', command}}}, 'f.json'), file: 'f.json', baseline: true}, checkCommandLine)
    const refusal = async (command: string) => {
      try {
        await checked(command)
      } catch (error) {
        return error as Error & {code?: string}
      }
      throw new Error(`${command}: not refused`)
    }
    for (const [command, reason] of [
      ['db status --bogus', /^f\.json: task "x": command "db status --bogus": Nonexistent flag: --bogus$/],
      ['wa redrive --limit', /Flag --limit expects a value/],
      ['wa redrive -z', /Nonexistent flag: -z/],
    ] as const) {
      const error = await refusal(command)
      expect(error.code, command).to.equal('SCHEDULE_INVALID')
      expect(error.message, command).to.match(reason)
    }
    await checked('wa redrive --limit 5 --reason=RATE_LIMIT --dry-run')
    const ok = buildSchedule({tasks: {x: {cron: '* * * * *', command: 'wa redrive --limit 5 --reason=RATE_LIMIT --dry-run'}}}, 'f.json')
    expect(ok.find((t) => t.name === 'x')!.argv).to.deep.equal(['wa', 'redrive', '--limit', '5', '--reason=RATE_LIMIT', '--dry-run'])
    const dir = mkdtempSync(path.join(tmpdir(), 'laundry-ops-schedule-'))
    writeFileSync(path.join(dir, 'laundry-ops.schedule.json'), '\uFEFF{"tasks": {"wa-redrive": {"cron": "*/5 * * * *"}}}')
    expect(loadSchedule({cwd: dir, env: {}}).tasks[0].cron).to.equal('*/5 * * * *')
  })
})

describe('the schedule file: command lines checked as the command checks them at start-up', () => {
  const file = (tasks: Record<string, unknown>) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'laundry-ops-schedule-'))
    writeFileSync(path.join(dir, 'laundry-ops.schedule.json'), JSON.stringify({tasks}))
    return dir
  }
  const refusal = async (dir: string) => {
    try {
      await loadCheckedSchedule({cwd: dir, env: {}, checkCommand: checkCommandLine})
    } catch (error) {
      return error as Error & {code?: string}
    }
    throw new Error('not refused')
  }

  it('refuses flag and argument values the command would refuse: bounds, types, empty values, periods, dates, ids, lists, repeats', async () => {
    const cases: Array<[string, RegExp]> = [
      ['wa redrive --limit 0', /--limit: Expected an integer greater than or equal to 1 but received: 0$/],
      ['audit archive --days=abc', /--days: Expected an integer but received: abc$/],
      ['wa redrive --tenant=', /--tenant is empty: give a value/],
      ['wa redrive --tenant " "', /--tenant is empty/],
      ['quota reconcile 2026-13', /Invalid period format\. Use YYYY-MM \(month 01-12\); got '2026-13'\.$/],
      ['quota reconcile 0000-01', /the year must be from 1970 to 9999/],
      ['quota reconcile --tenant abc', /--tenant 'abc' is not a tenant id: expected a UUID$/],
      ['queue work --sleep -1', /--sleep: Expected a number of seconds from 0 to 86400 but received: -1$/],
      ['queue work --tries=-2', /--tries: Expected an integer greater than or equal to 0 but received: -2$/],
      ['queue work --queue messaging,', /--queue 'messaging,' is invalid/],
      ['queue work --backoff 1,99999999', /--backoff 99999999 is out of range/],
      ['observe health --period 2026-2', /Invalid period format/],
      ['observe health --wa-failure-ratio-threshold 101', /from 0 to 100/],
      ['wa remind --as-of 2026-02-30', /Invalid --as-of '2026-02-30'\. Use a real date as YYYY-MM-DD\.$/],
      ['wa remind --bucket d99', /Invalid bucket option\(s\): d99/],
      ['wa remind --collection-status paid', /Invalid collection status option\(s\): paid/],
      ['wa remind --outlet x', /--outlet 'x' is not an outlet id/],
      ['wa redrive --limit 1 --limit 2', /Flag --limit can only be specified once/],
      ['audit archive --chunk 5', /--chunk: Expected an integer greater than or equal to 100/],
      ['queue retry', /Missing 1 required arg/],
      ['quota reconcile 2026-01 2026-02', /Unexpected argument: 2026-02/],
      ['db seed --demo=yes', /--demo/],
    ]
    for (const [command, reason] of cases) {
      const dir = file({bad: {cron: '* * * * *', command}})
      const error = await refusal(dir)
      expect(error.code, command).to.equal('SCHEDULE_INVALID')
      expect(error.message, command).to.contain(`${path.join(dir, 'laundry-ops.schedule.json')}: task "bad": command "${command}": `)
      expect(error.message, command).to.match(reason)
      expect(error.message.split('\n'), command).to.have.length(1)
    }
  })

  it('checks a baseline task changed by the file and a disabled task too; accepts valid command lines and the baseline', async () => {
    expect((await refusal(file({'audit-archive': {command: 'audit archive --days 0'}}))).message).to.match(
      /task "audit-archive": command "audit archive --days 0": Parsing --days: Expected an integer greater than or equal to 1/,
    )
    expect((await refusal(file({off: {cron: '0 0 * * *', command: 'wa redrive --limit 0', enabled: false}}))).message).to.match(/task "off"/)
    const good = file({
      a: {cron: '* * * * *', command: 'queue work --queue=a,b --sleep 0.5 --backoff "1, 5" --stop-when-empty --max-time=5'},
      b: {cron: '* * * * *', command: 'quota reconcile 2026-02 --tenant 0195f3a0-0000-7000-8000-000000000001 --dry-run'},
      c: {cron: '* * * * *', command: 'wa remind --bucket d0_7 --bucket d31_plus --collection-status pending --as-of 2024-02-29 --json'},
      d: {cron: '* * * * *', command: 'queue retry all'},
      e: {cron: '* * * * *', command: 'observe health --period 2026-12 --strict'},
      f: {cron: '* * * * *', command: 'db migrate --pretend'},
    })
    const {tasks} = await loadCheckedSchedule({cwd: good, env: {}, checkCommand: checkCommandLine})
    expect(tasks).to.have.length(BASELINE.length + OPTIONAL.length + 6)
    const baseline = await loadCheckedSchedule({cwd: mkdtempSync(path.join(tmpdir(), 'laundry-ops-schedule-')), env: {}, checkCommand: checkCommandLine})
    expect(baseline.tasks.map((t) => t.command)).to.deep.equal([...BASELINE, ...OPTIONAL].map((b) => b.command))
  })
})
