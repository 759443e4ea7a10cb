import {expect} from 'chai'

import {UAT_CATALOG} from '../../../src/core/uat/catalog.js'
import {defaultReportName, dryRunRows, renderUatReport, summarise, type UatRow} from '../../../src/core/uat/report.js'

/** Upstream's expected dry-run report (reference upstream-ops §7.1 T8), byte for byte. */
const T8 = `# UAT Findings - Automated Pack

## Header
- Project: \`SaaS Laundry\`
- UAT Date: \`2026-02-16\`
- Environment: \`testing\`
- Tester(s): \`ops:uat:run (automated)\`
- Build/Commit Ref: \`working tree local\`

## 1) Ringkasan Eksekusi
- Total skenario: \`10\`
- Passed: \`0\`
- Failed: \`0\`
- Blocked: \`10\`
- Overall status: \`BLOCKED\`

## 2) Hasil Per Skenario

| Scenario ID | Role | Result (Pass/Fail/Blocked) | Evidence Link/Ref | Notes |
|---|---|---|---|---|
| UAT-01 | Kasir | Blocked | Not executed (\`--dry-run\`) | Create order non pickup |
| UAT-02 | Kasir | Blocked | Not executed (\`--dry-run\`) | Payment append-only |
| UAT-03 | Pekerja | Blocked | Not executed (\`--dry-run\`) | Laundry forward-only transitions |
| UAT-04 | Admin | Blocked | Not executed (\`--dry-run\`) | Assign courier role validation |
| UAT-05 | Kurir | Blocked | Not executed (\`--dry-run\`) | Pickup flow progression |
| UAT-06 | Kurir + Pekerja | Blocked | Not executed (\`--dry-run\`) | delivery_pending blocked before ready |
| UAT-07 | Kurir | Blocked | Not executed (\`--dry-run\`) | Delivery flow progression |
| UAT-08 | Owner/Admin | Blocked | Not executed (\`--dry-run\`) | Billing quota endpoint |
| UAT-09 | Admin | Blocked | Not executed (\`--dry-run\`) | WA lifecycle message logs |
| UAT-10 | Semua role | Blocked | Not executed (\`--dry-run\`) | Role guard on master data |

## 3) Daftar Temuan

| Issue ID | Severity (High/Medium/Low) | Summary | Steps to Reproduce | Expected | Actual | Owner | Target Fix Date | Status |
|---|---|---|---|---|---|---|---|---|
| - | - | Isi jika ada temuan pada eksekusi ini | - | - | - | - | - | Open/Closed |

## 4) Keputusan Release
- UAT decision: \`PENDING\`
- Approved by:
  - Owner: \`pending\`
  - Admin: \`pending\`
  - Engineering: \`auto\`
- Decision date: \`2026-02-16\`

## 5) Evidence Command
- \`php artisan ops:uat:run --seed-demo\`
`

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
