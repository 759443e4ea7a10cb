import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

import {expect} from 'chai'

import type {Database} from '../../src/core/db/connection.js'
import {type RunReport, slotRecords} from '../../src/core/scheduler/runner.js'
import {ensureStorageFolders} from '../../src/core/storage/layout.js'
import {type CliExit, type CliProcess, parseJson, ROOT, runCli, startCli} from '../helpers/cli.js'
import {describeEachEngine} from '../helpers/engines.js'

const HOUR = Date.parse('2026-11-22T10:00:00Z')
const PREFIX = 'laravel_cache_'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Runner {
  proc: CliProcess
  minute: number
  /** Set once the runner has exited. */
  exit?: CliExit
  exited: Promise<void>
}

function env(url: string, schedule: string): Record<string, string> {
  return {DATABASE_URL: url, LAUNDRY_OPS_SCHEDULE: schedule}
}

/** A real `schedule run` process for the simulated minute, in its own process group (so a kill takes its task too). */
function startRunner(cwd: string, environment: Record<string, string>, minute: number, offsetSeconds: number): Runner {
  const at = new Date(HOUR + minute * 60_000 + offsetSeconds * 1000).toISOString()
  const proc = startCli(['schedule', 'run', '--at', at, '--json'], {cwd, env: environment, detached: true})
  const runner: Runner = {proc, minute, exited: Promise.resolve()}
  runner.exited = proc.exited(300_000).then((exit) => {
    runner.exit = exit
  })
  return runner
}

describeEachEngine('schedule run: real runner processes over a simulated hour', {from: 'seeded'}, (ctx) => {
  let db: Database
  let schedule: string

  before(async function () {
    this.timeout(120_000)
    // A seeded database, and the storage folders `db fresh --seed` would have made.
    ensureStorageFolders(path.join(ctx.scratch.dir, 'storage'))
    db = await ctx.scratch.open()
    schedule = path.join(ctx.scratch.dir, 'schedule.json')
    writeFileSync(
      schedule,
      JSON.stringify({
        tasks: {
          // Real commands beside the baseline (wa redrive every 10 min, observe health every 15).
          ping: {cron: '*/5 * * * *', command: 'db status'},
          // Runs ~5 s of real time while the simulated minutes pass every second or so: it must never overlap itself.
          slow: {cron: '*/2 * * * *', command: 'queue work --queue=sched-slow --sleep=1 --max-time=5', lease_minutes: 30},
          // Its runner is SIGKILLed at 10:30 mid-task; 10:32 and 10:34 find the lease held, 10:36 takes it over (5 min lease).
          victim: {cron: '30-59/2 * * * *', command: 'queue work --queue=sched-victim --sleep=1 --max-time=20', lease_minutes: 5},
        },
      }),
    )
  })

  it('runs each (task, minute) once across three runners, never beside itself, and takes over a killed run [slow]', async function () {
    this.timeout(600_000)
    const environment = env(ctx.scratch.url, schedule)
    const runners: Runner[] = []
    let killed: {owner: string; runner: Runner} | undefined
    for (let m = 0; m < 60; m++) {
      const batch = [0, 1, 2].map((i) => startRunner(ctx.scratch.dir, environment, m, i * 15 + Math.floor(Math.random() * 14)))
      runners.push(...batch)
      if (m === 30) {
        // Wait until the victim runs, then kill its runner and the runner's task (the process group).
        let record: {runner: string; status: string} | undefined
        for (let tries = 0; tries < 200 && !record; tries++) {
          record = (await slotRecords(db, PREFIX, 'victim')).find((r) => r.slot === '2026-11-22T10:30:00.000Z' && r.record.status === 'running')?.record
          if (!record) await sleep(50)
        }
        expect(record, 'victim@10:30 started').to.not.equal(undefined)
        const pid = Number(record!.runner.split(':')[2])
        const victimRunner = batch.find((r) => r.proc.pid === pid)!
        expect(victimRunner, 'the runner of victim@10:30 is one of this minute').to.not.equal(undefined)
        victimRunner.proc.signal('SIGKILL', {group: true})
        killed = {owner: record!.runner, runner: victimRunner}
      }
      await Promise.race([Promise.all(batch.map((r) => r.exited)), sleep(1500)])
    }
    await Promise.all(runners.map((r) => r.exited))

    // Every runner but the killed one exited 0 and printed one JSON report.
    const reports = runners
      .filter((r) => r !== killed!.runner)
      .map((r) => {
        expect(r.exit!.code, `runner of minute ${r.minute}: ${r.exit!.stdout}`).to.equal(0)
        return {minute: r.minute, report: parseJson({code: r.exit!.code, stdout: r.exit!.stdout, stderr: ''}) as RunReport}
      })
    expect(reports).to.have.length(179)

    const ledger = await slotRecords(db, PREFIX)
    const key = (task: string, slot: string) => `${task}@${slot.slice(11, 16)}`
    const records = new Map(ledger.map((l) => [key(l.task, l.slot), l.record]))
    const outcomes = new Map<string, Array<{outcome: string; reason?: string; holder?: string; took_over_from?: string}>>()
    for (const {report} of reports) {
      for (const t of report.tasks) outcomes.set(key(t.name, report.slot), [...(outcomes.get(key(t.name, report.slot)) ?? []), t])
    }
    // One ledger record per (task, due minute), and the runners agree: exactly one did it (or found it
    // still running), the others saw it claimed.
    const dueCount = {ping: 12, 'wa-redrive': 6, 'observe-health': 4, slow: 30, victim: 15}
    for (const [task, n] of Object.entries(dueCount))
      expect(
        ledger.filter((l) => l.task === task),
        task,
      ).to.have.length(n)
    expect(ledger).to.have.length(67)
    for (const [k, list] of outcomes) {
      // At 10:30 one runner was killed: its report is lost, and the tasks it had claimed show no owner here.
      const ownerKilled = records.get(k)!.runner === killed!.owner
      expect(list, k).to.have.length(k.endsWith('10:30') ? 2 : 3)
      expect(
        list.filter((t) => t.reason !== 'claimed_by_other_runner'),
        k,
      ).to.have.length(ownerKilled ? 0 : 1)
    }
    const survivors = ledger.filter((l) => l.record.runner !== killed!.owner)
    for (const task of ['ping', 'wa-redrive', 'observe-health']) {
      // (ping is due every 5 minutes with a 5-minute lease: if the killed runner held ping@10:30, ping@10:35
      // may still find that lease, depending on the runners' seconds within the minute. That is a skip.)
      const bad = survivors.filter(
        (l) =>
          l.task === task &&
          !(l.record.status === 'done' && l.record.exit_code === 0) &&
          !(l.record.status === 'skipped' && l.record.reason === 'previous_run_still_running' && l.record.holder === killed!.owner),
      )
      const logText = bad.length ? readFileSync(path.join(ctx.scratch.dir, 'storage', 'logs', 'schedule', `${task}.log`), 'utf8').slice(-3000) : ''
      expect(bad, `${task}: ${JSON.stringify(bad)}\n${logText}`).to.deep.equal([])
    }

    // `slow` never ran beside itself (its log's start/end lines), and it was found still running at least once.
    const slowLog = readFileSync(path.join(ctx.scratch.dir, 'storage', 'logs', 'schedule', 'slow.log'), 'utf8')
    const events = [...slowLog.matchAll(/^\[(\S+)\] (start|end) slow/gm)].map((m) => m[2])
    expect(events.length).to.be.greaterThan(2)
    // (A slow run killed with its runner at 10:30 has a start and no end: it is the last event then.)
    for (let i = 0; i < events.length - 1; i++) expect(events[i], `slow.log event ${i}`).to.equal(i % 2 === 0 ? 'start' : 'end')
    const slowSkipped = ledger.filter((l) => l.task === 'slow' && l.record.status === 'skipped')
    expect(slowSkipped.length).to.be.greaterThan(0)
    expect(slowSkipped.every((l) => l.record.reason === 'previous_run_still_running')).to.equal(true)
    expect(survivors.filter((l) => l.task === 'slow' && l.record.status === 'done').length).to.equal(events.filter((e) => e === 'end').length)

    // `victim`: the killed 10:30 run stays "running"; 10:32 and 10:34 were skipped (lease of the dead
    // runner); 10:36 took it over.
    expect(records.get('victim@10:30')!.status).to.equal('running')
    for (const slot of ['10:32', '10:34']) {
      expect(records.get(`victim@${slot}`), slot).to.include({status: 'skipped', reason: 'previous_run_still_running', holder: killed!.owner})
    }
    expect(records.get('victim@10:36')).to.include({took_over_from: killed!.owner})
    expect(records.get('victim@10:36')!.status).to.be.oneOf(['done', 'failed'])
    expect(records.get('victim@10:36')!.exit_code).to.equal(0)
    // The log holds every run's output between its start and end lines.
    for (const task of ['ping', 'wa-redrive', 'observe-health']) {
      const log = readFileSync(path.join(ctx.scratch.dir, 'storage', 'logs', 'schedule', `${task}.log`), 'utf8')
      expect(log.match(/^\[\S+\] end \S+ exit=0/gm), task).to.have.length(survivors.filter((l) => l.task === task && l.record.status === 'done').length)
    }
  })

  it('lists the schedule, refuses an invalid schedule file with exit 2, and exits 1 when a due task fails', async function () {
    this.timeout(60_000)
    const list = await runCli(['schedule', 'list', '--json', '--at', '2026-11-22T10:05:00Z'], {cwd: ctx.scratch.dir, env: {LAUNDRY_OPS_SCHEDULE: schedule}})
    expect(list.code, list.stderr).to.equal(0)
    const listed = parseJson(list) as {schedule_file: string; tasks: Array<{name: string}>}
    expect(listed.schedule_file).to.equal(schedule)
    expect(listed.tasks.find((t) => t.name === 'wa-redrive')).to.include({
      next_run: '2026-11-22T10:10:00.000Z',
      cron: '*/10 * * * *',
      source: 'baseline',
    })
    expect(listed.tasks.find((t) => t.name === 'victim')).to.include({next_run: '2026-11-22T10:30:00.000Z', lease_minutes: 5, source: 'file'})

    const bad = path.join(ctx.scratch.dir, 'bad.json')
    writeFileSync(bad, JSON.stringify({tasks: {x: {cron: '*/5 * * *', command: 'db status'}}}))
    for (const args of [
      ['schedule', 'list'],
      ['schedule', 'run'],
    ]) {
      const refused = await runCli(args, {cwd: ctx.scratch.dir, env: {DATABASE_URL: ctx.scratch.url, LAUNDRY_OPS_SCHEDULE: bad}})
      expect(refused.code, args.join(' ')).to.equal(2)
      expect(refused.stderr.trim().split('\n')).to.have.length(1)
      expect(refused.stderr).to.match(/bad\.json: task "x": cron expression "\*\/5 \* \* \*" has 4 fields/)
    }

    // A task that fails (an unknown tenant is refused with exit 2) makes the run exit 1; its log says why.
    const failing = path.join(ctx.scratch.dir, 'failing.json')
    writeFileSync(
      failing,
      JSON.stringify({baseline: false, tasks: {broken: {cron: '0 * * * *', command: 'quota reconcile --tenant 00000000-0000-7000-8000-000000000000'}}}),
    )
    const run = await runCli(['schedule', 'run', '--at', '2026-11-23T07:00:05Z'], {
      cwd: ctx.scratch.dir,
      env: {DATABASE_URL: ctx.scratch.url, LAUNDRY_OPS_SCHEDULE: failing},
    })
    expect(run.code, run.stdout + run.stderr).to.equal(1)
    expect(run.stdout).to.match(/broken {2}laundry-ops quota reconcile --tenant \S+ {2}FAIL exit 2/)
    const log = readFileSync(path.join(ctx.scratch.dir, 'storage', 'logs', 'schedule', 'broken.log'), 'utf8')
    expect(log).to.match(/no such tenant/)
    expect(log).to.match(/end broken exit=2/)
    // Nothing is due: exit 0 with a line saying so.
    const idle = await runCli(['schedule', 'run', '--at', '2026-11-23T07:01:05Z'], {
      cwd: ctx.scratch.dir,
      env: {DATABASE_URL: ctx.scratch.url, LAUNDRY_OPS_SCHEDULE: failing},
    })
    expect(idle.code).to.equal(0)
    expect(idle.stdout).to.contain('No scheduled tasks are due at 2026-11-23 07:01 UTC.')
    // The ledger tells what happened: the failed run, its runner and exit code.
    const history = await runCli(['schedule', 'history', '--task', 'broken', '--json'], {cwd: ctx.scratch.dir, env: {DATABASE_URL: ctx.scratch.url}})
    expect(history.code, history.stderr).to.equal(0)
    const [entry] = (parseJson(history) as {entries: Array<Record<string, unknown>>}).entries
    expect(entry).to.include({task: 'broken', slot: '2026-11-23T07:00:00.000Z', status: 'failed', exit_code: 2})
    expect(entry.runner)
      .to.be.a('string')
      .and.match(/^laundry-ops:[^:]+:\d+:[0-9a-f]+$/)
    const failedOnly = await runCli(['schedule', 'history', '--status', 'failed'], {cwd: ctx.scratch.dir, env: {DATABASE_URL: ctx.scratch.url}})
    expect(failedOnly.stdout).to.match(/2026-11-23 07:00\s+broken\s+failed\s+laundry-ops:\S+\s+\d+\.\ds\s+exit 2/)
    expect(failedOnly.stdout.split('\n').filter((l) => / failed /.test(l))).to.have.length(1)
    // A value outside a flag's options is bad usage: exit 2, one line (an oclif parse error of its own kind).
    const badStatus = await runCli(['schedule', 'history', '--status', 'weird'], {cwd: ctx.scratch.dir, env: {DATABASE_URL: ctx.scratch.url}})
    expect(badStatus.code).to.equal(2)
    expect(badStatus.stderr.trim().split('\n')).to.have.length(1)
    expect(existsSync(path.join(ctx.scratch.dir, 'storage', 'logs'))).to.equal(true)
  })

  it('schedule work runs every minute in the foreground and stops on --max-time or SIGTERM [slow]', async function () {
    this.timeout(60_000)
    const file = path.join(ctx.scratch.dir, 'tick.json')
    writeFileSync(file, JSON.stringify({baseline: false, tasks: {tick: {cron: '* * * * *', command: 'db status'}}}))
    const work = await runCli(['schedule', 'work', '--at', '2026-11-23T08:00:57Z', '--max-time', '6', '--json'], {
      cwd: ctx.scratch.dir,
      env: {DATABASE_URL: ctx.scratch.url, LAUNDRY_OPS_SCHEDULE: file},
    })
    expect(work.code, work.stderr).to.equal(0)
    expect(parseJson(work)).to.deep.equal({minutes: 2, ran: 2, failed: 0, skipped: 0, stop_reason: 'max_time'})
    const slots = (await slotRecords(db, PREFIX, 'tick')).map((r) => r.slot)
    expect(slots).to.include.members(['2026-11-23T08:00:00.000Z', '2026-11-23T08:01:00.000Z'])

    const scheduler = startCli(['schedule', 'work', '--at', '2026-11-23T09:00:30Z'], {cwd: ctx.scratch.dir, env: env(ctx.scratch.url, file)})
    await scheduler.waitFor(/tick .*DONE/, {timeoutMs: 10_000})
    scheduler.signal('SIGTERM')
    const exit = await scheduler.exited()
    const out = exit.stdout + exit.stderr
    expect(exit.code, out).to.equal(0)
    expect(out).to.match(/2026-11-23 09:00 UTC {2}tick {2}laundry-ops db status {2}DONE/)
    expect(out).to.match(/Scheduler stopped \(signal\) after 1 minute\(s\): 1 ran, 0 failed, 0 skipped\./)
  })

  it('Ctrl-C (SIGINT to the whole process group) stops a running task gracefully: one signal reaches it, exit 0', async function () {
    this.timeout(60_000)
    const file = path.join(ctx.scratch.dir, 'ctrl-c.json')
    writeFileSync(
      file,
      JSON.stringify({baseline: false, tasks: {worker: {cron: '* * * * *', command: 'queue work --queue=sched-ctrlc --sleep=1 --max-time=30'}}}),
    )
    const runner = startRunner(ctx.scratch.dir, env(ctx.scratch.url, file), 24 * 60 + 7, 1)
    const log = path.join(ctx.scratch.dir, 'storage', 'logs', 'schedule', 'worker.log')
    for (let i = 0; i < 100 && !(existsSync(log) && /Processing jobs/.test(readFileSync(log, 'utf8'))); i++) await sleep(100)
    runner.proc.signal('SIGINT', {group: true})
    await runner.exited
    expect(runner.exit!.code, runner.exit!.stdout).to.equal(0)
    const report = parseJson({code: runner.exit!.code, stdout: runner.exit!.stdout, stderr: ''}) as RunReport
    expect(report.tasks[0]).to.include({name: 'worker', outcome: 'ran', exit_code: 0})
    const text = readFileSync(log, 'utf8')
    expect(text).to.match(/SIGTERM received: finishing the job in hand/)
    expect(text).to.not.match(/again: stopping now/)
    expect(text).to.match(/end worker exit=0/)
  })

  it('a run whose lease another runner took over says so: its progress line, its JSON report and schedule history', async function () {
    this.timeout(60_000)
    const file = path.join(ctx.scratch.dir, 'stolen.json')
    writeFileSync(
      file,
      JSON.stringify({baseline: false, tasks: {stolen: {cron: '* * * * *', command: 'queue work --queue=sched-stolen --sleep=1 --max-time=3'}}}),
    )
    const environment = {DATABASE_URL: ctx.scratch.url, LAUNDRY_OPS_SCHEDULE: file}
    const thief = 'laundry-ops:other-host:4242:beef'
    const key = `${PREFIX}laundry-ops:schedule:lease:stolen`
    // While the task runs, another runner takes its lease over (as one on another host would, once it looked expired).
    const steal = async () => {
      for (let tries = 0; tries < 200; tries++) {
        if ((await db.knex('cache_locks').where({key}).update({owner: thief})) > 0) return
        await sleep(25)
      }
      throw new Error('the run never took its lease')
    }
    const [human] = await Promise.all([runCli(['schedule', 'run', '--at', '2026-11-24T05:00:05Z'], {cwd: ctx.scratch.dir, env: environment}), steal()])
    expect(human.code, human.stdout + human.stderr).to.equal(0)
    expect(human.stdout).to.match(
      /2026-11-24 05:00 UTC {2}stolen {2}laundry-ops queue work \S+ \S+ \S+ {2}DONE \d+\.\ds, but lost its lease to laundry-ops:other-host:4242:beef\n/,
    )
    await db.knex('cache_locks').where({key}).delete() // the other runner's run is over
    const [json] = await Promise.all([runCli(['schedule', 'run', '--at', '2026-11-24T05:01:05Z', '--json'], {cwd: ctx.scratch.dir, env: environment}), steal()])
    expect(json.code, json.stderr).to.equal(0)
    expect((parseJson(json) as RunReport).tasks[0]).to.include({name: 'stolen', outcome: 'ran', exit_code: 0, lease_lost: true, lost_to: thief})
    await db.knex('cache_locks').where({key}).delete()

    const history = await runCli(['schedule', 'history', '--task', 'stolen', '--json'], {cwd: ctx.scratch.dir, env: {DATABASE_URL: ctx.scratch.url}})
    expect(history.code, history.stderr).to.equal(0)
    const entries = (parseJson(history) as {entries: Array<Record<string, unknown>>}).entries
    expect(entries.map((e) => e.slot)).to.deep.equal(['2026-11-24T05:01:00.000Z', '2026-11-24T05:00:00.000Z'])
    for (const entry of entries) expect(entry).to.include({status: 'done', exit_code: 0, lease_lost: true, lost_to: thief})
    const table = await runCli(['schedule', 'history', '--task', 'stolen'], {cwd: ctx.scratch.dir, env: {DATABASE_URL: ctx.scratch.url}})
    expect(table.stdout.match(/stolen\s+done\s+laundry-ops:\S+\s+\d+\.\ds\s+exit 0, lost its lease to laundry-ops:other-host:4242:beef/g)).to.have.length(2)
  })

  it('a runner whose host clock is ten minutes ahead does not take over the lease of a healthy run (real clocks, no --at)', async function () {
    this.timeout(60_000)
    const file = path.join(ctx.scratch.dir, 'skew.json')
    writeFileSync(
      file,
      JSON.stringify({baseline: false, tasks: {healthy: {cron: '* * * * *', command: 'queue work --queue=sched-skew --sleep=1 --max-time=4'}}}),
    )
    const environment = {DATABASE_URL: ctx.scratch.url, LAUNDRY_OPS_SCHEDULE: file}
    const key = `${PREFIX}laundry-ops:schedule:lease:healthy`
    const first = runCli(['schedule', 'run', '--json'], {cwd: ctx.scratch.dir, env: environment})
    for (let tries = 0; tries < 200 && !(await db.knex('cache_locks').where({key}).first('owner')); tries++) await sleep(25)
    // The same command on a host whose clock reads ten minutes ahead (its Date only: the server keeps the time).
    const ahead = await runCli(['schedule', 'run', '--json'], {
      cwd: ctx.scratch.dir,
      env: {...environment, SKEWED_CLOCK_MS: '600000', NODE_OPTIONS: `--import=${pathToFileURL(path.join(ROOT, 'test', 'helpers', 'skewed-clock.mjs')).href}`},
    })
    const healthy = await first
    expect(ahead.code, ahead.stderr).to.equal(0)
    expect(healthy.code, healthy.stderr).to.equal(0)
    const [skewed, run] = [parseJson(ahead) as RunReport, parseJson(healthy) as RunReport]
    expect(run.tasks[0]).to.include({outcome: 'ran', exit_code: 0}).and.not.have.property('lease_lost')
    // PostgreSQL: the skewed runner's minute is the server's, which the healthy run already claimed (or, a
    // minute later, whose lease it still holds). SQLite: its own clock's minute, whose lease the healthy
    // runner, a live process on this host, keeps.
    expect(skewed.tasks[0]).to.include({outcome: 'skipped', holder: run.runner})
    if (ctx.dialect === 'sqlite') {
      expect(skewed.tasks[0].reason).to.equal('previous_run_still_running')
      expect(Date.parse(skewed.slot) - Date.parse(run.slot), 'the skewed clock is in effect').to.be.within(600_000, 660_000)
    } else expect(Date.parse(skewed.slot) - Date.parse(run.slot)).to.be.oneOf([0, 60_000])
  })

  it('refuses a flag or argument value the command would refuse: schedule list|run|work exit 2 with one line, readiness fails config.valid, nothing runs', async function () {
    this.timeout(120_000)
    const cwd = ctx.scratch.dir
    const withFile = (file: string) => ({DATABASE_URL: ctx.scratch.url, LAUNDRY_OPS_STORAGE: path.join(cwd, 'storage'), LAUNDRY_OPS_SCHEDULE: file})
    const cases: Array<[string, string]> = [
      ['wa redrive --limit 0', 'Parsing --limit: Expected an integer greater than or equal to 1 but received: 0'],
      ['audit archive --days=abc', 'Parsing --days: Expected an integer but received: abc'],
      ['wa redrive --tenant=', '--tenant is empty: give a value, or leave the flag out'],
      ['quota reconcile 2026-13', "Invalid period format. Use YYYY-MM (month 01-12); got '2026-13'."],
      // A negative number is a value, out of range as the command itself says (it was "needs a value").
      ['queue work --sleep -1', 'Parsing --sleep: Expected a number of seconds from 0 to 86400 but received: -1'],
    ]
    for (const [i, [command, reason]] of cases.entries()) {
      const file = path.join(cwd, `bad-value-${i}.json`)
      writeFileSync(file, JSON.stringify({tasks: {bad: {cron: '* * * * *', command}}}))
      const listed = await runCli(['schedule', 'list'], {cwd, env: withFile(file)})
      expect(listed.code, command).to.equal(2)
      expect(listed.stdout, command).to.equal('')
      expect(listed.stderr, command).to.equal(`error: ${file}: task "bad": command "${command}": ${reason}\n`)
      // What the command itself says, run by hand (that is what the schedule would have run every minute).
      const direct = await runCli(command.split(' '), {cwd, env: withFile(file)})
      expect(direct.code, command).to.equal(2)
      expect(direct.stderr, command).to.contain(reason)

      const readiness = await runCli(['readiness', 'check', '--json'], {cwd, env: withFile(file)})
      expect(readiness.code, command).to.equal(1)
      expect((parseJson(readiness) as {checks: Array<{key: string; status: string; message: string}>}).checks[0]).to.deep.equal({
        key: 'config.valid',
        status: 'fail',
        message: `Schedule is invalid: ${file}: task "bad": command "${command}": ${reason}`,
      })
    }
    const json = await runCli(['schedule', 'list', '--json'], {cwd, env: withFile(path.join(cwd, 'bad-value-0.json'))})
    expect(json.code).to.equal(2)
    expect((parseJson(json) as {error: {code: string}}).error.code).to.equal('SCHEDULE_INVALID')

    // schedule run and schedule work refuse the file before they run anything.
    const bad = path.join(cwd, 'bad-value-0.json')
    const run = await runCli(['schedule', 'run', '--at', '2026-11-24T06:00:05Z'], {cwd, env: withFile(bad)})
    expect(run.code, run.stdout + run.stderr).to.equal(2)
    expect(run.stdout).to.equal('')
    expect(run.stderr.trim().split('\n')).to.have.length(1)
    expect(run.stderr).to.contain(`${bad}: task "bad": command "wa redrive --limit 0": Parsing --limit`)
    const work = await runCli(['schedule', 'work', '--at', '2026-11-24T06:00:05Z', '--max-time', '3'], {cwd, env: withFile(bad)})
    expect(work.code, work.stdout + work.stderr).to.equal(2)
    expect(work.stderr.trim().split('\n')).to.have.length(1)
    expect(work.stderr).to.contain(`${bad}: task "bad"`)
    expect(await slotRecords(db, PREFIX, 'bad')).to.deep.equal([])
    expect(existsSync(path.join(cwd, 'storage', 'logs', 'schedule', 'bad.log'))).to.equal(false)

    // A valid file still passes, and so does the built-in baseline (no file).
    const good = path.join(cwd, 'good-values.json')
    writeFileSync(
      good,
      JSON.stringify({
        tasks: {
          redrive: {cron: '*/5 * * * *', command: 'wa redrive --limit 1 --tenant 0195f3a0-0000-7000-8000-000000000001 --dry-run'},
          archive: {cron: '0 3 * * *', command: 'audit archive --days=30 --chunk 500 --channel web'},
          reconcile: {cron: '0 1 1 * *', command: 'quota reconcile 2026-12 --dry-run'},
          worker: {cron: '* * * * *', command: 'queue work --sleep 0 --max-time 50 --stop-when-empty'},
        },
      }),
    )
    const listed = await runCli(['schedule', 'list', '--json'], {cwd, env: withFile(good)})
    expect(listed.code, listed.stderr).to.equal(0)
    expect((parseJson(listed) as {tasks: unknown[]}).tasks).to.have.length(10) // the five baseline tasks, the disabled db-backup and four of the file
    const ready = await runCli(['readiness', 'check', '--json'], {cwd, env: withFile(good)})
    expect((parseJson(ready) as {checks: Array<{key: string; status: string}>}).checks[0]).to.deep.include({key: 'config.valid', status: 'pass'})
    const {mkdtempSync} = await import('node:fs')
    const bare = mkdtempSync(path.join(cwd, 'no-schedule-'))
    const baseline = await runCli(['schedule', 'list', '--json'], {cwd: bare, env: {DATABASE_URL: ctx.scratch.url}})
    expect(baseline.code, baseline.stderr).to.equal(0)
    expect((parseJson(baseline) as {schedule_file: string | null; tasks: unknown[]}).schedule_file).to.equal(null)
    const baselineReady = await runCli(['readiness', 'check', '--json'], {cwd: bare, env: {DATABASE_URL: ctx.scratch.url}})
    expect((parseJson(baselineReady) as {checks: Array<{key: string; status: string; message: string}>}).checks[0]).to.deep.equal({
      key: 'config.valid',
      status: 'pass',
      message: 'Configuration is valid (env=local, schedule: baseline).',
    })
  })

  it('refuses a missing SQLite database instead of creating it (a crontab line without its cd)', async () => {
    const empty = path.join(ctx.scratch.dir, 'elsewhere')
    const {mkdirSync} = await import('node:fs')
    mkdirSync(empty, {recursive: true})
    const result = await runCli(['schedule', 'run', '--json'], {cwd: empty})
    expect(result.code).to.equal(1)
    expect((parseJson(result) as {error: {code: string}}).error.code).to.equal('DB_NOT_FOUND')
    expect(existsSync(path.join(empty, 'storage', 'database.sqlite'))).to.equal(false)
  })
})
