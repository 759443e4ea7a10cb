import type {Hook} from '@oclif/core'

function distance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = current
    }
  }
  return row[b.length]
}

/** An unknown command is bad usage: one line, exit 2, a suggestion when one is close (SPEC §3). */
const hook: Hook<'command_not_found'> = function (options) {
  const typed = options.id.replace(/:/g, ' ')
  const known = [...this.config.commands.flatMap((c) => [c.id, ...c.aliases, ...(c.hiddenAliases ?? [])])]
  const best = known
    .map((id) => ({id, d: distance(options.id, id)}))
    .filter((c) => c.d <= Math.max(2, Math.floor(options.id.length / 4)))
    .sort((a, b) => a.d - b.d)[0]
  const suggestion = best ? `; did you mean "${best.id.replace(/:/g, ' ')}"?` : ''
  const message = `unknown command "${typed}"${suggestion} (see: ${this.config.bin} --help)`
  process.exitCode = 2
  if ((options.argv ?? []).includes('--json')) {
    process.stdout.write(`${JSON.stringify({error: {code: 'USAGE', message, exit: 2}}, null, 2)}\n`)
  } else {
    process.stderr.write(`error: ${message}\n`)
  }
  return Promise.resolve(null)
}

export default hook
