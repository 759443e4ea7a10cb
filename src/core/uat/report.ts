import {UAT_CATALOG, type UatScenarioInfo} from './catalog.js'

/** A scenario's result as the report shows it. */
export type UatStatus = 'Pass' | 'Fail' | 'Blocked'

export interface UatRow extends UatScenarioInfo {
  status: UatStatus
  /** The evidence column: what was checked, or why it failed. */
  evidence: string
}

export interface UatSummary {
  total: number
  passed: number
  failed: number
  blocked: number
  /** FAIL when a scenario failed, else BLOCKED when any was not run, else PASS. */
  overall: 'PASS' | 'FAIL' | 'BLOCKED'
  /** NO-GO when a scenario failed, else PENDING when any was not run, else `GO with Conditions`. */
  decision: 'NO-GO' | 'PENDING' | 'GO with Conditions'
}

/** Upstream's counts and verdicts (reference §1.7 step 6). */
export function summarise(rows: readonly UatRow[]): UatSummary {
  const count = (status: UatStatus) => rows.filter((row) => row.status === status).length
  const failed = count('Fail')
  const blocked = count('Blocked')
  return {
    total: rows.length,
    passed: count('Pass'),
    failed,
    blocked,
    overall: failed > 0 ? 'FAIL' : blocked > 0 ? 'BLOCKED' : 'PASS',
    decision: failed > 0 ? 'NO-GO' : blocked > 0 ? 'PENDING' : 'GO with Conditions',
  }
}

/** The rows of a dry run: every scenario Blocked, "Not executed (`--dry-run`)" (reference §1.7 step 5). */
export function dryRunRows(catalog: readonly UatScenarioInfo[] = UAT_CATALOG): UatRow[] {
  return catalog.map((scenario) => ({...scenario, status: 'Blocked', evidence: 'Not executed (`--dry-run`)'}))
}

export interface UatReportInput {
  /** The UAT date, `YYYY-MM-DD`. */
  date: string
  environment: string
  /** The Build/Commit Ref line (upstream hard-codes `working tree local`). */
  build: string
  rows: readonly UatRow[]
  /** The command the Evidence Command section names. */
  evidenceCommand: string
}

/** A table cell: a pipe or a line break would break the Markdown row. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|')
}

/**
 * The report in upstream's format (reference §1.7 "Report format", §7.1 T8): the same sections, lines and
 * wording, `\n` line ends and one trailing newline.
 */
export function renderUatReport(input: UatReportInput): string {
  const summary = summarise(input.rows)
  const lines = [
    '# UAT Findings - Automated Pack',
    '',
    '## Header',
    '- Project: `SaaS Laundry`',
    `- UAT Date: \`${input.date}\``,
    `- Environment: \`${cell(input.environment)}\``,
    '- Tester(s): `ops:uat:run (automated)`',
    `- Build/Commit Ref: \`${cell(input.build)}\``,
    '',
    '## 1) Ringkasan Eksekusi',
    `- Total skenario: \`${summary.total}\``,
    `- Passed: \`${summary.passed}\``,
    `- Failed: \`${summary.failed}\``,
    `- Blocked: \`${summary.blocked}\``,
    `- Overall status: \`${summary.overall}\``,
    '',
    '## 2) Hasil Per Skenario',
    '',
    '| Scenario ID | Role | Result (Pass/Fail/Blocked) | Evidence Link/Ref | Notes |',
    '|---|---|---|---|---|',
    ...input.rows.map((row) => `| ${row.id} | ${cell(row.role)} | ${row.status} | ${cell(row.evidence)} | ${cell(row.notes)} |`),
    '',
    '## 3) Daftar Temuan',
    '',
    '| Issue ID | Severity (High/Medium/Low) | Summary | Steps to Reproduce | Expected | Actual | Owner | Target Fix Date | Status |',
    '|---|---|---|---|---|---|---|---|---|',
    '| - | - | Isi jika ada temuan pada eksekusi ini | - | - | - | - | - | Open/Closed |',
    '',
    '## 4) Keputusan Release',
    `- UAT decision: \`${summary.decision}\``,
    '- Approved by:',
    '  - Owner: `pending`',
    '  - Admin: `pending`',
    '  - Engineering: `auto`',
    `- Decision date: \`${input.date}\``,
    '',
    '## 5) Evidence Command',
    `- \`${input.evidenceCommand}\``,
  ]
  return `${lines.join('\n')}\n`
}

/** Upstream's default report file name for a date: `UAT-<YYYYMMDD>-automated-pack.md`. */
export function defaultReportName(date: string): string {
  return `UAT-${date.replace(/-/g, '')}-automated-pack.md`
}
