import {mkdirSync} from 'node:fs'
import path from 'node:path'

import {type Check, gateFailed, junitXml, type Summary} from '../core/gates/report.js'
import {writeFileAtomic} from '../core/storage/files.js'
import {OpsError} from '../core/errors.js'
import {styleFor} from './style.js'
import {renderTable} from './table.js'

export interface GateReport {
  checks: Check[]
  summary: Summary
  strict: boolean
}

/** A JUnit report of gate checks, its folder created (a CI checkout has no reports/ yet), written atomically. */
export function writeGateJunit(file: string, suite: string, checks: Check[], strict: boolean): void {
  mkdirSync(path.dirname(path.resolve(file)), {recursive: true})
  writeFileAtomic(file, junitXml(suite, checks, strict, new Date()))
}

/**
 * The common end of the gate commands (`readiness check`, `observe health`): the table (status in colour
 * where the terminal allows) and upstream's summary line unless --json, the JUnit file (its folder
 * created, as a CI checkout has no reports/ yet; written atomically), and whether the gate failed (exit
 * 1). A JUnit file that cannot be written is one clear error after the table, which is still printed.
 */
export function emitGate(report: GateReport, options: {suite: string; label: string; junit?: string; json: boolean; log: (line: string) => void}): boolean {
  if (!options.json) {
    const s = styleFor()
    const paint = (status: Check['status']) => (status === 'pass' ? s.green : status === 'warn' ? s.yellow : s.red)(status.toUpperCase())
    options.log(
      renderTable(
        ['Check', 'Status', 'Message'],
        report.checks.map((c) => [c.key, paint(c.status), c.message]),
      ),
    )
    const sum = report.summary
    options.log(`${options.label} summary: pass=${sum.pass}, warn=${sum.warn}, fail=${sum.fail}, strict=${report.strict ? 'yes' : 'no'}`)
  }
  if (options.junit) {
    try {
      writeGateJunit(options.junit, options.suite, report.checks, report.strict)
    } catch (error) {
      const e = error as NodeJS.ErrnoException
      throw new OpsError(
        'STORAGE_UNWRITABLE',
        `cannot write the JUnit report ${path.resolve(options.junit)} (${e.code ?? e.message}); the checks ran and are shown above`,
      )
    }
  }
  return gateFailed(report.summary, report.strict)
}
