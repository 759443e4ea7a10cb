import {Flags} from '@oclif/core'

import {boundedInteger, boundedNumber, checkedString, quietFlag} from '../../flags.js'
import {parseBackoff, parseQueueList} from '../../core/queue/worker-input.js'
import {LIMITS} from '../../core/limits.js'
import {DatabaseCommand} from '../../base-command.js'
import type {JobEvent, WorkerResult} from '../../core/queue/worker.js'

export default class QueueWork extends DatabaseCommand<typeof QueueWork> {
  static faultScope = 'progress' as const
  static hiddenAliases = ['queue:work']
  static summary = 'Work the database queue: send queued WhatsApp messages (as php artisan queue:work)'
  static description = `Claims jobs from Laravel's \`jobs\` table (FOR UPDATE SKIP LOCKED on PostgreSQL, one write transaction on SQLite) in strict queue priority, runs them, and sleeps when the queues are empty. It runs App\\Jobs\\SendWaMessageJob jobs whether laundry-ops or the Laravel application queued them. With --concurrency N it keeps up to N jobs in flight in one process (for gateways that answer slowly), each claimed, sent and committed on its own. SIGTERM or SIGINT (Ctrl-C) finishes the jobs in hand and exits 0; so does \`queue restart\`. No transaction or lock is held while the provider is called: the attempt is committed first (in the message's metadata), and when the outcome cannot be committed (the database stopped, locked or full) the recording is retried, never the send. A job reserved longer than DB_QUEUE_RETRY_AFTER (90 s) by a worker that died is claimed again. The closing summary tells jobs (processed, released, failed) from what their messages became (sent, failed by reason, to retry), and the delayed jobs --stop-when-empty left behind. While jobs run, a status line (processed, failed, released, rate) goes to stderr every few seconds (none under --json or --quiet). Artisan alias: \`queue:work\`.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --queue messaging,default --sleep 3 --tries 1',
    '<%= config.bin %> <%= command.id %> --stop-when-empty --json',
    '<%= config.bin %> <%= command.id %> --max-jobs 1000 --max-time 3600   # let the supervisor restart it',
    '<%= config.bin %> <%= command.id %> --concurrency 25   # a gateway that answers in 100 ms to 1 s',
  ]
  static flags = {
    queue: checkedString(parseQueueList)({description: 'queues to work, in strict priority order', default: 'messaging,default'}),
    sleep: boundedNumber(LIMITS.sleepSeconds, {description: 'seconds to sleep when no job is available', default: 3}),
    tries: boundedInteger(LIMITS.tries, {
      description: 'runs of a job (counted at each claim) before it is failed; 0 = unlimited. Laravel defaults to 1',
      default: 3,
    }),
    backoff: checkedString(parseBackoff)({
      description: `seconds before retrying a job that threw; a list like 1,5,10 per attempt (each ${LIMITS.backoffSeconds.min}-${LIMITS.backoffSeconds.max})`,
      default: '0',
    }),
    'max-jobs': boundedInteger(LIMITS.jobs, {description: 'stop after this many jobs (0 = no limit)', default: 0}),
    'max-time': boundedInteger(LIMITS.runSeconds, {description: 'stop after this many seconds, between jobs (0 = no limit)', default: 0}),
    'stop-when-empty': Flags.boolean({description: 'stop when no job is available'}),
    once: Flags.boolean({description: 'work a single job, then stop'}),
    timeout: boundedInteger(LIMITS.jobTimeoutSeconds, {description: 'seconds a job may run; must be below DB_QUEUE_RETRY_AFTER (0 = no limit)', default: 60}),
    rest: boundedNumber(LIMITS.sleepSeconds, {
      description: 'seconds to rest after each job; with --concurrency above 1, after each job claimed (it paces the claims)',
      default: 0,
    }),
    concurrency: boundedInteger(LIMITS.concurrency, {
      description: 'jobs in flight at once in this process, each claimed, sent and committed on its own (1 = Laravel: one at a time)',
      default: 1,
    }),
    quiet: quietFlag,
  }

  async run(): Promise<WorkerResult> {
    const config = await this.loadConfig()
    const {workerOptionsFrom} = await import('../../core/queue/worker-options.js')
    const options = workerOptionsFrom(
      {
        queue: this.flags.queue,
        sleep: this.flags.sleep,
        tries: this.flags.tries,
        backoff: this.flags.backoff,
        maxJobs: this.flags['max-jobs'],
        maxTime: this.flags['max-time'],
        stopWhenEmpty: this.flags['stop-when-empty'],
        once: this.flags.once,
        timeout: this.flags.timeout,
        rest: this.flags.rest,
        concurrency: this.flags.concurrency,
      },
      config,
    )
    // One connection per job in flight, one for the claims (which check queue:restart themselves), one for the
    // restart read after a claim that took nothing and the closing status. SQLite: a lock is waited for
    // asynchronously, so that the provider calls in flight go on meanwhile.
    const db = await this.openDatabase(config, {poolMax: options.concurrency + 2, sqliteBusyTimeoutMs: 20})
    const {requireTables} = await import('../../core/db/faults.js')
    await requireTables(db, ['jobs', 'failed_jobs', 'cache'])
    const [{runWorker}, {installStopSignals}] = await Promise.all([import('../../core/queue/worker.js'), import('../../core/lifecycle/stop-signals.js')])
    const stop = installStopSignals({
      note: (line) => this.note(line),
      stopping: options.concurrency > 1 ? 'finishing the jobs in hand, then stopping' : 'finishing the job in hand, then stopping',
    })
    this.note(
      `Processing jobs from the [${options.queues.join(', ')}] queue(s) of ${db.target.display}${options.concurrency > 1 ? `, up to ${options.concurrency} at once` : ''}.`,
    )
    if (options.timeout === 0) {
      this.note(
        `--timeout 0: no limit per job. A job still running after DB_QUEUE_RETRY_AFTER (${options.retryAfter} s) is claimed again by another worker and its message sent again (marked as a possible duplicate).`,
      )
    }
    const status = await this.statusLine(config)
    try {
      const result = await runWorker(db, options, {
        stop: stop.signal,
        onEvent: (event) => {
          this.report(event)
          status.count(event)
        },
      })
      if (result.exit_code !== 0) process.exitCode = result.exit_code
      this.note(describeStop(result))
      return result
    } finally {
      await status.end()
      stop.dispose()
    }
  }

  /**
   * The status line on stderr every few seconds (LAUNDRY_OPS_PROGRESS_INTERVAL_MS), while jobs are run:
   * jobs processed, failed and released so far, and the recent rate. None under --json or --quiet.
   */
  private async statusLine(config: {progressIntervalMs: number}): Promise<{count: (event: JobEvent) => void; end: () => Promise<void>}> {
    const {formatRate} = await import('../../render/progress.js')
    const jobs = {processed: 0, failed: 0, released: 0}
    const progress = await this.progress(
      {
        title: 'queue work',
        unit: 'jobs',
        // Plain lines on a terminal too: the job lines scroll on stdout meanwhile.
        live: false,
        // The closing line is the "Worker stopped" note.
        closingLine: false,
        describe: (state) =>
          `${jobs.processed} processed, ${jobs.failed} failed, ${jobs.released} released${state.recentRate === null ? '' : `, ${formatRate(state.recentRate)} jobs/s`}`,
      },
      config,
    )
    return {
      count: (event) => {
        if (event.type === 'processing' || event.type === 'recording') return
        jobs[event.type]++
        progress.update(jobs.processed + jobs.failed + jobs.released, null)
      },
      end: () => progress.end(),
    }
  }

  private report(event: JobEvent): void {
    if (this.jsonEnabled()) return
    const time = new Date().toISOString().replace('T', ' ').slice(0, 19)
    const line = (status: string, extra: string) => this.log(`  ${time} ${event.name} #${event.job.id} ${extra ? `${extra} ` : ''}${status}`)
    switch (event.type) {
      case 'processing':
        return
      case 'recording':
        // stderr: the job's message went out; its outcome is being committed again (never sent again).
        return this.note(
          `  ${time} ${event.name} #${event.job.id} sent, but recording the outcome failed (${event.retry.code}: ${event.retry.message}); trying again in ${(event.retry.delayMs / 1000).toFixed(1)} s (try ${event.retry.tries}), the message is not sent again`,
        )
      case 'processed':
        return line('DONE', `${event.ms} ms ${event.detail}`)
      case 'released':
        return line('RELEASED', `${event.ms} ms ${event.detail}, again in ${event.delay}s`)
      case 'failed':
        return event.timedOut ? line('TIMEOUT', `${event.reason}: left reserved, claimed again after DB_QUEUE_RETRY_AFTER`) : line('FAIL', event.reason)
    }
  }
}

/**
 * The closing line: jobs, and what their messages became (a job that ran to its end may have failed its
 * message), and what is left on the queues (`--stop-when-empty` does not wait for delayed retries).
 */
export function describeStop(result: WorkerResult): string {
  const m = result.messages
  const reasons = Object.entries(m.failed_reasons).map(([code, n]) => `${code}=${n}`)
  const messages = [
    `${m.sent} sent`,
    `${m.failed} failed${reasons.length > 0 ? ` (${reasons.join(', ')})` : ''}`,
    `${m.retry_scheduled} to retry`,
    ...(m.skipped > 0 ? [`${m.skipped} skipped`] : []),
    ...(m.possible_duplicates > 0
      ? [`${m.possible_duplicates} possible duplicate(s) (sent again after a worker died with the attempt in flight; marked on the message)`]
      : []),
  ]
  const r = result.remaining
  const left =
    r.delayed > 0
      ? `; ${r.delayed} delayed job(s) remain${r.next_delayed_at ? `, the next due at ${r.next_delayed_at.slice(0, 19).replace('T', ' ')} UTC` : ''}`
      : ''
  const ready = `${r.ready > 0 ? `; ${r.ready} job(s) ready` : ''}${r.reserved > 0 ? `; ${r.reserved} job(s) reserved (claimed again after DB_QUEUE_RETRY_AFTER if their worker is gone)` : ''}`
  return `Worker stopped (${result.stop_reason}): ${result.processed} job(s) processed, ${result.released} released, ${result.failed} failed; messages: ${messages.join(', ')}${ready}${left}.`
}
