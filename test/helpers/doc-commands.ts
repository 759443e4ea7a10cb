/**
 * The `laundry-ops …` command lines of a Markdown document (the runbooks), and their check against the
 * CLI itself: the command id must exist (topics separated by spaces or colons, artisan aliases too), and
 * the rest of the line must parse as that command's start-up parses it (parseCommandLine: every flag known
 * to that command, option values in their allowed set and through their own checks, required arguments
 * present, flag relationships). A command that does not exist yet fails, by design: a runbook line is
 * valid only against a CLI that has its command.
 */
import type {Command} from '@oclif/core'

import {parseCommandLine} from '../../src/base-command.js'
import {COMMANDS} from '../../src/index.js'

export interface DocCommand {
  /** 1-based line in the document. */
  line: number
  /** The source text (the joined lines of a continuation). */
  source: string
  /** The words after the `laundry-ops` binary, with redirections and comments gone. */
  argv: string[]
}

export interface Resolved {
  id: string
  command: Command.Class
  argv: string[]
}

/** A shell word list of one simple command ("a && b" gives two). */
type Words = string[]

/**
 * Splits a shell line into simple commands of words: single and double quotes, backslash escapes, `#`
 * comments, the operators `&&`, `||`, `;`, `|`, `&`, and redirections (`> file`, `>> file`, `2>&1`, `< file`),
 * which are dropped with their target.
 */
export function shellCommands(line: string): Words[] {
  const commands: Words[] = [[]]
  let i = 0
  const current = () => commands[commands.length - 1]
  while (i < line.length) {
    const c = line[i]
    if (c === ' ' || c === '\t') {
      i++
      continue
    }
    if (c === '#') break
    const operator = /^(&&|\|\||;|\||&)/.exec(line.slice(i))
    if (operator) {
      commands.push([])
      i += operator[0].length
      continue
    }
    const redirection = /^\d*(>>|>&|>\||>|<)/.exec(line.slice(i))
    if (redirection) {
      i += redirection[0].length
      // `2>&1`: the target is part of the operator; otherwise the next word is the target.
      if (redirection[1] === '>&') {
        while (i < line.length && /[\w-]/.test(line[i])) i++
        continue
      }
      while (line[i] === ' ' || line[i] === '\t') i++
      i = readWord(line, i).end
      continue
    }
    const word = readWord(line, i)
    current().push(word.text)
    i = word.end
  }
  return commands.filter((words) => words.length > 0)
}

function readWord(line: string, start: number): {text: string; end: number} {
  let text = ''
  let i = start
  while (i < line.length) {
    const c = line[i]
    if (c === ' ' || c === '\t' || /[;&|<>]/.test(c)) break
    if (c === "'") {
      const close = line.indexOf("'", i + 1)
      if (close < 0) throw new Error(`unclosed ' in: ${line}`)
      text += line.slice(i + 1, close)
      i = close + 1
    } else if (c === '"') {
      i++
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length && /["\\$`]/.test(line[i + 1])) i++
        text += line[i]
        i++
      }
      if (i >= line.length) throw new Error(`unclosed " in: ${line}`)
      i++
    } else if (c === '\\' && i + 1 < line.length) {
      text += line[i + 1]
      i += 2
    } else {
      text += c
      i++
    }
  }
  return {text, end: i}
}

/** Words that run the next word as the command: `env`, `node`, `npx`, `exec`, `sudo -u user`, `nice`, `nohup`. */
const WRAPPERS = new Set(['env', '/usr/bin/env', 'node', '/usr/bin/node', '/usr/local/bin/node', 'npx', 'exec', 'sudo', 'nice', 'nohup', 'time'])
/** Options of those wrappers that take a value (`sudo -u laundry`). */
const WRAPPER_VALUE_OPTIONS = new Set(['-u', '-g', '-n'])
const isBinary = (word: string) => word === 'laundry-ops' || word.endsWith('/laundry-ops')

/**
 * The argv after `laundry-ops` when this simple command runs laundry-ops, else undefined. Understands a
 * crontab line's five time fields (or `@daily`), systemd's `ExecStart=` (and its `-@+!` prefixes),
 * environment assignments and the wrappers above.
 */
export function laundryOpsArgv(words: Words): string[] | undefined {
  let rest = [...words]
  if (/^@\w+$/.test(rest[0] ?? '')) rest = rest.slice(1)
  else if (/^[\d*][\d*/,-]*$/.test(rest[0] ?? '') && rest.length > 5) rest = rest.slice(5)
  const exec = /^Exec\w*=[-@+!]*(.*)$/.exec(rest[0] ?? '')
  if (exec) rest = exec[1] === '' ? rest.slice(1) : [exec[1], ...rest.slice(1)]
  for (;;) {
    const word = rest[0]
    if (word === undefined) return undefined
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) rest = rest.slice(1)
    else if (WRAPPERS.has(word)) {
      rest = rest.slice(1)
      while (rest[0]?.startsWith('-') && !isBinary(rest[0])) rest = WRAPPER_VALUE_OPTIONS.has(rest[0]) ? rest.slice(2) : rest.slice(1)
    } else break
  }
  return isBinary(rest[0]) ? rest.slice(1) : undefined
}

/** A line of a code block that names laundry-ops as a command (the extraction must find a command in it). */
export const MENTIONS_COMMAND = /(^|[\s/=($`'"])laundry-ops\s+[a-z-]/

/**
 * Every laundry-ops command line of a Markdown text: in fenced code blocks (any language: shell, crontab,
 * systemd units), continuation lines joined, a leading `$ ` prompt dropped; and inline code spans that
 * start with `laundry-ops `. Also returns the code-block lines that mention laundry-ops as a command but
 * gave none (an extraction gap, which the runbook test refuses).
 */
export function extractDocCommands(markdown: string): {commands: DocCommand[]; missed: Array<{line: number; source: string}>} {
  const lines = markdown.split('\n')
  const commands: DocCommand[] = []
  const missed: Array<{line: number; source: string}> = []
  let fence: string | undefined
  // Inline code spans may wrap: they are read per paragraph (consecutive prose lines), joined by spaces.
  let paragraph: {line: number; text: string} | undefined
  const endParagraph = () => {
    if (!paragraph) return
    for (const span of paragraph.text.matchAll(/(?<!`)`(laundry-ops [^`]+)`(?!`)/g)) {
      const argv = shellCommands(span[1])
        .map(laundryOpsArgv)
        .find((a) => a !== undefined)
      if (argv) commands.push({line: paragraph.line, source: span[1], argv})
    }
    paragraph = undefined
  }
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]
    const marker = /^\s*(```+|~~~+)/.exec(raw)
    if (marker) {
      endParagraph()
      if (fence === undefined) fence = marker[1]
      else if (marker[1].startsWith(fence)) fence = undefined
      continue
    }
    if (fence === undefined) {
      if (raw.trim() === '') endParagraph()
      else if (paragraph) paragraph.text += ` ${raw.trim()}`
      else paragraph = {line: n + 1, text: raw.trim()}
      continue
    }
    const start = n
    let source = raw.replace(/^\s*\$ /, '')
    while (source.endsWith('\\') && n + 1 < lines.length) source = `${source.slice(0, -1)} ${lines[++n].trim()}`
    const found = shellCommands(source)
      .map(laundryOpsArgv)
      .filter((argv): argv is string[] => argv !== undefined)
    for (const argv of found) commands.push({line: start + 1, source, argv})
    if (found.length === 0 && MENTIONS_COMMAND.test(source.replace(/#.*$/, ''))) missed.push({line: start + 1, source})
  }
  endParagraph()
  return {commands, missed}
}

type CommandMap = Record<string, Command.Class>

/** Command ids and aliases (oclif's `hiddenAliases` and `aliases`) to the command class. */
function commandIndex(commands: CommandMap): Map<string, {id: string; command: Command.Class}> {
  const index = new Map<string, {id: string; command: Command.Class}>()
  for (const [id, command] of Object.entries(commands)) {
    index.set(id, {id, command})
    for (const alias of [...(command.aliases ?? []), ...(command.hiddenAliases ?? [])]) if (!index.has(alias)) index.set(alias, {id, command})
  }
  return index
}

/**
 * The command a line names: the longest run of leading words (space- or colon-separated: `db migrate`,
 * `ops:audit:archive`, `ops audit archive`) that is a command id or alias; the rest is its argv.
 */
export function resolveDocCommand(argv: string[], commands: CommandMap = COMMANDS): Resolved {
  const index = commandIndex(commands)
  let consumed = 0
  const leading: Array<{word: string; consumed: number}> = []
  for (const word of argv) {
    if (word.startsWith('-')) break
    consumed++
    for (const part of word.split(':')) leading.push({word: part, consumed})
  }
  for (let k = leading.length; k > 0; k--) {
    const id = leading
      .slice(0, k)
      .map((l) => l.word)
      .join(':')
    const hit = index.get(id)
    // A match must end on a whole word (`ops:audit:archive` is one word).
    if (hit && (k === leading.length || leading[k].consumed !== leading[k - 1].consumed)) return {...hit, argv: argv.slice(leading[k - 1].consumed)}
  }
  throw new Error(`laundry-ops has no command ${JSON.stringify(argv.slice(0, consumed).join(' '))}`)
}

/** Checks one command line as the CLI would at start-up; throws with the reason. */
export async function checkDocCommand(argv: string[], commands?: CommandMap): Promise<Resolved> {
  if (argv.length === 1 && ['--version', '-v', '--help', '-h'].includes(argv[0])) return {id: '', command: undefined as never, argv}
  const resolved = resolveDocCommand(argv, commands)
  // `--help` / `-h` is answered before any parsing: the id is what matters.
  if (resolved.argv.includes('--help') || resolved.argv.includes('-h')) return resolved
  await parseCommandLine(resolved.command, resolved.argv)
  return resolved
}
