export type CheckStatus = 'pass' | 'warn' | 'fail'

export interface Check {
  key: string
  status: CheckStatus
  message: string
}

export interface Summary {
  pass: number
  warn: number
  fail: number
}

export function summarise(checks: Check[]): Summary {
  const summary: Summary = {pass: 0, warn: 0, fail: 0}
  for (const c of checks) summary[c.status]++
  return summary
}

/** A gate fails on any fail, and under --strict on any warn too. */
export function gateFailed(summary: Summary, strict: boolean): boolean {
  return summary.fail > 0 || (strict && summary.warn > 0)
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** JUnit XML: one test case per check; `fail` is a failure, and `warn` too under --strict. */
export function junitXml(suite: string, checks: Check[], strict: boolean, timestamp: Date): string {
  const failures = checks.filter((c) => c.status === 'fail' || (strict && c.status === 'warn')).length
  const cases = checks.map((c) => {
    const failing = c.status === 'fail' || (strict && c.status === 'warn')
    const body = failing
      ? `\n    <failure type="${c.status}" message="${xml(c.message)}">${xml(`${c.status.toUpperCase()}: ${c.message}`)}</failure>\n  `
      : c.status === 'warn'
        ? `\n    <system-out>${xml(`WARN: ${c.message}`)}</system-out>\n  `
        : ''
    return `  <testcase classname="${xml(suite)}" name="${xml(c.key)}">${body}</testcase>`
  })
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuite name="${xml(suite)}" tests="${checks.length}" failures="${failures}" errors="0" skipped="0" timestamp="${timestamp.toISOString()}">\n` +
    `${cases.join('\n')}\n</testsuite>\n`
  )
}

/** One test case of a JUnit suite that is not a list of gate checks (the release checklist's steps). */
export interface JunitCase {
  name: string
  outcome: 'pass' | 'fail' | 'skip'
  message: string
  seconds: number
}

/** JUnit XML with failures and skipped cases (`<skipped message="…"/>`), each case with its time. */
export function junitCasesXml(suite: string, cases: JunitCase[], timestamp: Date): string {
  const count = (outcome: JunitCase['outcome']) => cases.filter((c) => c.outcome === outcome).length
  const seconds = (s: number) => (Math.round(s * 1000) / 1000).toFixed(3)
  const body = cases.map((c) => {
    const inner =
      c.outcome === 'fail'
        ? `\n    <failure type="fail" message="${xml(c.message)}">${xml(`FAIL: ${c.message}`)}</failure>\n  `
        : c.outcome === 'skip'
          ? `\n    <skipped message="${xml(c.message)}"/>\n  `
          : c.message
            ? `\n    <system-out>${xml(c.message)}</system-out>\n  `
            : ''
    return `  <testcase classname="${xml(suite)}" name="${xml(c.name)}" time="${seconds(c.seconds)}">${inner}</testcase>`
  })
  const total = cases.reduce((sum, c) => sum + c.seconds, 0)
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuite name="${xml(suite)}" tests="${cases.length}" failures="${count('fail')}" errors="0" skipped="${count('skip')}" time="${seconds(total)}" timestamp="${timestamp.toISOString()}">\n` +
    `${body.join('\n')}\n</testsuite>\n`
  )
}
