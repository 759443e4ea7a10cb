import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {expect} from 'chai'

import {UAT_CATALOG} from '../../../src/core/uat/catalog.js'
import {defaultReportName, dryRunRows, renderUatReport, summarise, type UatRow} from '../../../src/core/uat/report.js'

/** Upstream's expected dry-run report (reference upstream-ops §7.1 T8), byte for byte. */
const T8 = readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'uat-t8-dryrun.md'), 'utf8')

describe('UAT report (src/core/uat/report.ts)', () => {
  it("renders upstream's dry-run report byte for byte (T8) from the same inputs", () => {
    const report = renderUatReport({
      date: '2026-02-16',
      environment: 'testing',
      build: 'working tree local',
      rows: dryRunRows(),
      evidenceCommand: 'php artisan ops:uat:run --seed-demo',
    })
    expect(report).to.equal(T8)
  })

  it('counts and decides as upstream: any Fail is FAIL / NO-GO, else any Blocked is BLOCKED / PENDING, else PASS / GO with Conditions', () => {
    const rows = (statuses: Array<UatRow['status']>): UatRow[] => UAT_CATALOG.map((s, i) => ({...s, status: statuses[i] ?? 'Pass', evidence: 'e'}))
    expect(summarise(rows([]))).to.deep.equal({total: 10, passed: 10, failed: 0, blocked: 0, overall: 'PASS', decision: 'GO with Conditions'})
    expect(summarise(rows(['Blocked']))).to.include({passed: 9, blocked: 1, overall: 'BLOCKED', decision: 'PENDING'})
    expect(summarise(rows(['Blocked', 'Fail']))).to.include({passed: 8, failed: 1, blocked: 1, overall: 'FAIL', decision: 'NO-GO'})
  })

  it('keeps a table row intact whatever the evidence says (pipes escaped, line breaks flattened)', () => {
    const [first] = UAT_CATALOG
    const report = renderUatReport({
      date: '2026-02-16',
      environment: 'local',
      build: 'laundry-ops 0.1.0',
      rows: [{...first, status: 'Fail', evidence: 'POST /api/orders answered 500 | body:\n{"message":"Server Error"}'}],
      evidenceCommand: 'laundry-ops uat run --seed-demo',
    })
    expect(report).to.include('| UAT-01 | Kasir | Fail | POST /api/orders answered 500 \\| body: {"message":"Server Error"} | Create order non pickup |')
    expect(defaultReportName('2026-02-16')).to.equal('UAT-20260216-automated-pack.md')
  })
})
