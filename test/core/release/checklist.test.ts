import {expect} from 'chai'

import {checklistPassed, planChecklist, releaseJunit, type ReleaseStep, type ReleaseStepName, runChecklist} from '../../../src/core/release/checklist.js'

/** A step that records that it ran and answers as told. */
function step(name: ReleaseStepName, answer: {ok: boolean; detail: string} | Error, ran: string[], skip?: string): ReleaseStep {
  return {
    name,
    command: `cmd ${name}`,
    skip,
    plan: `would ${name}`,
    run() {
      ran.push(name)
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer)
    },
  }
}

const describeError = (error: unknown) => `described: ${(error as Error).message}`

describe('the release checklist (core)', () => {
  it('runs the steps in order; skipped steps do not stop it; all passing is ok', async () => {
    const ran: string[] = []
    const steps = [
      step('migrate', {ok: true, detail: 'x'}, ran, 'no --migrate'),
      step('readiness', {ok: true, detail: 'r'}, ran),
      step('observe', {ok: true, detail: 'o'}, ran),
    ]
    const {results, interrupted} = await runChecklist(steps, {describeError})
    expect(ran).to.deep.equal(['readiness', 'observe'])
    expect(results.map((r) => r.status)).to.deep.equal(['skipped', 'passed', 'passed'])
    expect(results[0].detail).to.equal('no --migrate')
    expect(checklistPassed(results)).to.equal(true)
    expect(interrupted).to.equal(false)
  })

  it('stops at the first failing step (a false outcome or a throw): the later steps are not run, with the reason', async () => {
    for (const failure of [{ok: false, detail: 'fail=1'}, new Error('boom')]) {
      const ran: string[] = []
      const steps = [step('readiness', failure, ran), step('observe', {ok: true, detail: 'o'}, ran), step('uat', {ok: true, detail: 'u'}, ran)]
      const {results} = await runChecklist(steps, {describeError})
      expect(ran).to.deep.equal(['readiness'])
      expect(results.map((r) => r.status)).to.deep.equal(['failed', 'not_run', 'not_run'])
      expect(results[0].detail).to.equal(failure instanceof Error ? 'described: boom' : 'fail=1')
      expect(results[1]).to.include({duration_ms: 0, detail: 'not run: the readiness step failed'})
      expect(checklistPassed(results)).to.equal(false)
    }
  })

  it('an aborted signal (Ctrl-C) leaves the remaining steps not run', async () => {
    const controller = new AbortController()
    const ran: string[] = []
    const steps: ReleaseStep[] = [
      {...step('readiness', {ok: true, detail: 'r'}, ran), run: () => (controller.abort(), Promise.resolve({ok: true, detail: 'r'}))},
      step('observe', {ok: true, detail: 'o'}, ran),
    ]
    const {results, interrupted} = await runChecklist(steps, {describeError, signal: controller.signal})
    expect(results.map((r) => r.status)).to.deep.equal(['passed', 'not_run'])
    expect(results[1].detail).to.equal('not run: interrupted (Ctrl-C)')
    expect(interrupted).to.equal(true)
  })

  it('--dry-run plans without running; JUnit has one case per step: failure for failed, skipped for skipped / not run / planned', async () => {
    const ran: string[] = []
    const plan = planChecklist([step('migrate', {ok: true, detail: ''}, ran, 'no --migrate'), step('readiness', {ok: true, detail: ''}, ran)])
    expect(ran).to.deep.equal([])
    expect(plan.map((r) => [r.status, r.detail])).to.deep.equal([
      ['skipped', 'no --migrate'],
      ['planned', 'would readiness'],
    ])
    const {results} = await runChecklist(
      [
        step('migrate', {ok: true, detail: 'm'}, ran, 'no --migrate'),
        step('readiness', {ok: true, detail: 'ok & <fine>'}, ran),
        step('observe', {ok: false, detail: 'warn "x"'}, ran),
        step('uat', {ok: true, detail: ''}, ran),
      ],
      {describeError},
    )
    const xml = releaseJunit(results, new Date('2026-12-02T00:00:00Z'))
    expect(xml).to.include('<testsuite name="laundry-ops release" tests="4" failures="1" errors="0" skipped="2"')
    expect(xml.match(/<testcase /g)).to.have.length(4)
    expect(xml).to.include('<failure type="fail" message="warn &quot;x&quot;">FAIL: warn &quot;x&quot;</failure>')
    expect(xml).to.include('<skipped message="not run: the observe step failed"/>')
    expect(xml).to.include('<system-out>ok &amp; &lt;fine&gt;</system-out>')
    expect(releaseJunit(plan, new Date())).to.include('<skipped message="dry run: would readiness"/>')
  })
})
