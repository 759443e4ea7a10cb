// The benchmarks' one argument parser (bench/startup.mjs runs on plain node, so this is JavaScript; its
// types are in args.d.mts). node:util parseArgs tokenises; the options are then taken in command-line
// order as before: `--name value` or `--name=value`, the last value wins (or every value, `multiple`),
// `-h`/`--help` prints the usage and exits 0, and any other argument, a missing value or a value the
// option's `parse` refuses is one line `bench/<benchmark>: ...` on stderr and exit 1.

import {parseArgs} from 'node:util'

/** A value an option's `parse` refuses; parseBenchArgs prints the message and exits 1. */
export class BenchArgError extends Error {}

function fail(benchmark, message) {
  process.stderr.write(`bench/${benchmark}: ${message}\n`)
  process.exit(1)
}

export function parseBenchArgs(benchmark, usage, spec, argv = process.argv.slice(2)) {
  const options = {help: {type: 'boolean', short: 'h'}}
  for (const [name, option] of Object.entries(spec)) options[name] = {type: option.type, multiple: option.multiple === true}
  const {tokens} = parseArgs({args: argv, options, strict: false, allowPositionals: true, tokens: true})
  const values = {}
  for (const token of tokens) {
    const raw = argv[token.index]
    if (token.kind !== 'option') fail(benchmark, `unknown argument '${raw}'\n${usage()}`)
    if (token.name === 'help' && token.value === undefined) {
      process.stdout.write(`${usage()}\n`)
      process.exit(0)
    }
    const option = Object.hasOwn(spec, token.name) ? spec[token.name] : undefined
    if (!option || (option.type === 'boolean' && token.value !== undefined)) fail(benchmark, `unknown argument '${raw}'\n${usage()}`)
    if (option.type === 'boolean') {
      values[token.name] = true
      continue
    }
    if (token.value === undefined) fail(benchmark, `${token.rawName} needs a value\n${usage()}`)
    let value = token.value
    try {
      if (option.parse) value = option.parse(token.value, token.rawName)
    } catch (error) {
      if (error instanceof BenchArgError) fail(benchmark, error.message)
      throw error
    }
    values[token.name] = option.multiple ? [...(values[token.name] ?? []), value] : value
  }
  return values
}

/** `--name N`: an integer >= 1. */
export function positiveInteger(raw, name) {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) throw new BenchArgError(`${name} needs a positive integer, got '${raw}'`)
  return n
}

/** `--name N[,N...]`: integers >= min. */
export function integerList(min, what = `integers >= ${min}`) {
  return (raw, name) => {
    const list = raw.split(',').map(Number)
    if (list.some((n) => !Number.isInteger(n) || n < min)) throw new BenchArgError(`${name} takes ${what}, got '${raw}'`)
    return list
  }
}

/** `--engines sqlite,pg`: the engines to run, in order. */
export function engineList(raw, name) {
  const list = raw.split(',')
  if (list.some((e) => e !== 'sqlite' && e !== 'pg')) throw new BenchArgError(`${name} takes sqlite and/or pg, got '${raw}'`)
  return list
}

/** `--name X`: one of the given words. */
export function oneOf(words) {
  return (raw, name) => {
    if (!words.includes(raw)) throw new BenchArgError(`${name} takes ${words.join(' or ')}, got '${raw}'`)
    return raw
  }
}
