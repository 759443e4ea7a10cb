import {mkdirSync} from 'node:fs'
import path from 'node:path'

import {type Check, gateFailed, junitXml, type Summary} from '../core/gates/report.js'
import {writeFileAtomic} from '../core/storage/files.js'
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
 * The common end of the gate commands (`readiness check`, `observe health`): the JUnit file (its folder
 * created, as a CI checkout has no reports/ yet; written atomically), the table and upstream's summary
 * line unless --json, and whether the gate failed (exit 1).
 */
export function emitGate(report: GateReport, options: {suite: string; label: string; junit?: string; json: boolean; log: (line: string) => void}): boolean {
  if (options.junit) writeGateJunit(options.junit, options.suite, report.checks, report.strict)
  if (!options.json) {
    options.log(
      renderTable(
        ['Check', 'Status', 'Message'],
        report.checks.map((c) => [c.key, c.status.toUpperCase(), c.message]),
      ),
    )
    const s = report.summary
    options.log(`${options.label} summary: pass=${s.pass}, warn=${s.warn}, fail=${s.fail}, strict=${report.strict ? 'yes' : 'no'}`)
  }
  return gateFailed(report.summary, report.strict)
}
