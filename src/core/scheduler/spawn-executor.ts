import {spawn} from 'node:child_process'
import {closeSync, mkdirSync, openSync, writeSync} from 'node:fs'
import path from 'node:path'

import {PARENT_ENV} from './parent-env.js'
import type {TaskExecutor} from './runner.js'

export interface SpawnExecutorOptions {
  /** The laundry-ops entry script (`bin/run.js`). */
  bin: string
  /** `<storage>/logs/schedule`: one log file per task, appended to. */
  logDir: string
  /** Environment of the task processes (the runner's, with DATABASE_URL fixed to the runner's database). */
  env: NodeJS.ProcessEnv
  cwd?: string
  /** Seconds between SIGTERM and SIGKILL when the runner is stopped. */
  killAfterSeconds?: number
}

/**
 * Runs a task as its own command, `laundry-ops <argv>`, in a child process: the same code as the command,
 * its own memory, its output appended to `<logDir>/<task>.log` between a header and a footer line.
 */
export function spawnExecutor(options: SpawnExecutorOptions): TaskExecutor {
  return ({task, slot, runner}, signal) =>
    new Promise((resolve) => {
      const log = path.join(options.logDir, `${task.name}.log`)
      let fd: number
      try {
        mkdirSync(options.logDir, {recursive: true})
        fd = openSync(log, 'a')
      } catch (error) {
        const e = error as NodeJS.ErrnoException
        resolve({exitCode: 1, error: `cannot write the task log ${log}: ${e.code === 'EROFS' ? 'read-only file system' : e.message}`, log})
        return
      }
      const t0 = Date.now()
      const stamp = () => new Date().toISOString()
      writeSync(fd, `[${stamp()}] start ${task.name} slot=${slot.toISOString()} runner=${runner}: laundry-ops ${task.command}\n`)
      const child = spawn(process.execPath, [options.bin, ...task.argv], {
        cwd: options.cwd,
        env: {...options.env, [PARENT_ENV]: String(process.pid), NO_COLOR: '1'},
        stdio: ['ignore', fd, fd],
        // Its own process group: a Ctrl-C at the terminal (SIGINT to the runner's group) reaches the runner
        // only, which passes one SIGTERM on; two signals would make `queue work` stop at once.
        detached: true,
      })
      let killTimer: NodeJS.Timeout | undefined
      const onAbort = () => {
        child.kill('SIGTERM')
        killTimer = setTimeout(() => child.kill('SIGKILL'), (options.killAfterSeconds ?? 60) * 1000)
        killTimer.unref()
      }
      signal.addEventListener('abort', onAbort, {once: true})
      if (signal.aborted) onAbort()
      let settled = false
      const done = (exitCode: number, error?: string) => {
        if (settled) return
        settled = true
        signal.removeEventListener('abort', onAbort)
        if (killTimer) clearTimeout(killTimer)
        try {
          writeSync(fd, `[${stamp()}] end ${task.name} exit=${exitCode} duration_ms=${Date.now() - t0}${error ? ` error=${error}` : ''}\n`)
        } finally {
          closeSync(fd)
        }
        resolve({exitCode, error, log})
      }
      child.on('error', (error) => done(1, `cannot start the task: ${error.message}`))
      child.on('exit', (code, sig) => done(code ?? 1, sig ? `terminated by ${sig}` : undefined))
    })
}
