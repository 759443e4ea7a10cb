/**
 * The runbooks cannot drift from the CLI: every `laundry-ops …` command line of docs/RUNBOOK.md and
 * docs/RUNBOOK.id.md (fenced code blocks, crontab and systemd ExecStart= lines included, and inline code
 * spans that start with `laundry-ops `) is checked against the command classes the CLI registers (the
 * COMMANDS map oclif loads): the command exists (topics, artisan aliases), every flag is that command's,
 * option values pass the flag's own checks, required arguments are there. One test per line, so a
 * failure names the file, the line and the reason. The two runbooks have the same structure (headings) and
 * the same command lines. The extraction itself is tested below, with lines that must fail.
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {ROOT} from '../helpers/cli.js'
import {checkDocCommand, extractDocCommands, laundryOpsArgv, resolveDocCommand, shellCommands} from '../helpers/doc-commands.js'
import {rejection} from '../helpers/rejection.js'

const RUNBOOKS = ['docs/RUNBOOK.md', 'docs/RUNBOOK.id.md']
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8')
const headingLevels = (markdown: string) => {
  let fenced = false
  const levels: number[] = []
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced
    const heading = /^(#{1,6}) /.exec(line)
    if (!fenced && heading) levels.push(heading[1].length)
  }
  return levels
}

for (const file of RUNBOOKS) {
  describe(`${file}: every laundry-ops command line parses against the CLI`, () => {
    const {commands, missed} = extractDocCommands(read(file))

    it('has the command lines of a runbook, and every code line that runs laundry-ops was understood', () => {
      expect(commands.length).to.be.above(40)
      expect(missed, 'lines that mention `laundry-ops <command>` but gave no command').to.deep.equal([])
    })

    for (const command of commands) {
      it(`${path.basename(file)}:${command.line} laundry-ops ${command.argv.join(' ')}`, async () => {
        try {
          await checkDocCommand(command.argv)
        } catch (error) {
          throw new Error(`${file}:${command.line}: ${command.source}\n  ${(error as Error).message}`, {cause: error})
        }
      })
    }
  })
}

describe('the English and Indonesian runbooks', () => {
  it('have the same structure (headings, level by level) and the same command lines', () => {
    const [en, id] = RUNBOOKS.map(read)
    expect(headingLevels(id)).to.deep.equal(headingLevels(en))
    const lines = (markdown: string) =>
      extractDocCommands(markdown)
        .commands.map((c) => c.argv.join(' '))
        .sort()
    expect(lines(id)).to.deep.equal(lines(en))
  })
})

describe('the runbook command-line parser', () => {
  const argvOf = (line: string) => {
    const found = extractDocCommands(`\`\`\`sh\n${line}\n\`\`\`\n`)
    expect(found.commands, line).to.have.length.above(0)
    return found.commands[0].argv
  }
  const check = (line: string) => checkDocCommand(argvOf(line))

  it('finds the command in shell, crontab and systemd lines: env assignments, wrappers, quotes, redirections, comments, continuations', () => {
    expect(argvOf('laundry-ops readiness check --strict   # the gate')).to.deep.equal(['readiness', 'check', '--strict'])
    expect(argvOf('$ LAUNDRY_OPS_ENV=production DATABASE_URL="postgres://u@h/db" laundry-ops db migrate --force')).to.deep.equal(['db', 'migrate', '--force'])
    expect(argvOf('* * * * * cd /srv/laundry-ops && ./node_modules/.bin/laundry-ops schedule run >> storage/logs/schedule.log 2>&1')).to.deep.equal([
      'schedule',
      'run',
    ])
    expect(argvOf('ExecStart=/usr/bin/env node /srv/laundry-ops/node_modules/.bin/laundry-ops queue work --queue default,messaging')).to.deep.equal([
      'queue',
      'work',
      '--queue',
      'default,messaging',
    ])
    expect(argvOf("sudo -u laundry npx laundry-ops wa redrive --reason 'NETWORK_ERROR' --limit=100 | tee out.txt")).to.deep.equal([
      'wa',
      'redrive',
      '--reason',
      'NETWORK_ERROR',
      '--limit=100',
    ])
    expect(argvOf('laundry-ops uat run \\\n  --junit reports/uat.xml')).to.deep.equal(['uat', 'run', '--junit', 'reports/uat.xml'])
    expect(shellCommands('cd /srv/laundry-ops && laundry-ops release').map(laundryOpsArgv)).to.deep.equal([undefined, ['release']])
    expect(laundryOpsArgv(['WorkingDirectory=/srv/laundry-ops'])).to.equal(undefined)
    // A line that names laundry-ops as a command but is not understood is reported, not silently passed.
    expect(extractDocCommands('```sh\nfoo $(laundry-ops wa redrive)\n```\n').missed).to.have.length(1)
    // Inline code spans in prose count too.
    expect(extractDocCommands('Run `laundry-ops queue failed --json` first.').commands.map((c) => c.argv)).to.deep.equal([['queue', 'failed', '--json']])
  })

  it('resolves topics, colon ids and artisan aliases to the command, the rest being its argv', () => {
    expect(resolveDocCommand(['queue', 'retry', 'all'])).to.include({id: 'queue:retry'})
    expect(resolveDocCommand(['queue', 'retry', 'all']).argv).to.deep.equal(['all'])
    expect(resolveDocCommand(['ops:audit:archive', '--days=90'])).to.include({id: 'audit:archive'})
    expect(resolveDocCommand(['ops', 'wa', 'redrive-failed'])).to.include({id: 'wa:redrive'})
    expect(resolveDocCommand(['migrate', '--force'])).to.include({id: 'db:migrate'})
  })

  it('passes good lines', async () => {
    for (const line of [
      'laundry-ops release --migrate --force --junit reports/release.xml',
      'laundry-ops queue retry all',
      'laundry-ops wa remind --bucket d8_14 --as-of 2026-02-17 --dry-run',
      'laundry-ops schedule history --status failed',
      'laundry-ops ops:readiness:check --strict',
      'laundry-ops serve --help',
    ]) {
      await check(line)
    }
  })

  it('fails a line with an unknown flag, a flag of another command, an unknown command, a missing argument, a value outside the allowed set or bounds, a broken flag relationship', async () => {
    const cases: Array<[string, RegExp]> = [
      ['laundry-ops readiness check --strcit', /Nonexistent flag: --strcit/],
      ['laundry-ops queue failed --dry-run', /Nonexistent flag: --dry-run/],
      ['laundry-ops db backups list', /has no command "db backups list"/],
      ['laundry-ops queue retry', /Missing 1 required arg/],
      ['laundry-ops schedule history --status lost', /Expected --status=lost to be one of: running, done, failed, skipped/],
      ['laundry-ops wa redrive --limit 0', /--limit/],
      ['laundry-ops quota reconcile 2026-13', /2026-13/],
      ['laundry-ops release --force', /--migrate/],
      ['laundry-ops audit archive --channel ""', /--channel is empty/],
    ]
    for (const [line, reason] of cases) {
      const error = (await rejection(check(line))) as Error
      expect(error.message, line).to.match(reason)
    }
  })
})
