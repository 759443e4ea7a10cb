import {Args, Flags} from '@oclif/core'

import {isLaravelUuid} from './core/domain/id-input.js'
import {type Bound} from './core/limits.js'

interface BoundedOptions<D> {
  description: string
  default?: D
  hidden?: boolean
}

const range = (bound: Bound) => `${bound.min}-${bound.max}`

/**
 * A whole-number flag within `bound` (src/core/limits.ts): anything else (empty, NaN, a fraction, 2^53,
 * a negative where none is allowed) is refused while parsing, exit 2, before anything runs.
 */
export function boundedInteger(bound: Bound, options: BoundedOptions<number> & {default: number}): ReturnType<typeof integerWithDefault>
export function boundedInteger(bound: Bound, options: BoundedOptions<number>): ReturnType<typeof integerWithoutDefault>
export function boundedInteger(bound: Bound, options: BoundedOptions<number>) {
  const description = `${options.description} (${range(bound)})`
  return options.default === undefined
    ? integerWithoutDefault(bound, description, options.hidden)
    : integerWithDefault(bound, description, options.default, options.hidden)
}

function integerWithDefault(bound: Bound, description: string, value: number, hidden?: boolean) {
  return Flags.integer({min: bound.min, max: bound.max, description, default: value, hidden})
}

function integerWithoutDefault(bound: Bound, description: string, hidden?: boolean) {
  return Flags.integer({min: bound.min, max: bound.max, description, hidden})
}

/** A number flag (fractions allowed, e.g. seconds or a percentage) within `bound`. */
export function boundedNumber(bound: Bound, options: BoundedOptions<number> & {default: number}) {
  const parse = Flags.custom<number>({
    parse(input) {
      // Plain decimal notation only: Number() would also read 0x10, +5, 1e1 and ' 5 '.
      const value = /^-?(\d+(\.\d*)?|\.\d+)$/.test(input) ? Number(input) : Number.NaN
      if (!Number.isFinite(value) || value < bound.min || value > bound.max) {
        return Promise.reject(new Error(`Expected a number of ${bound.unit} from ${bound.min} to ${bound.max} but received: ${input}`))
      }
      return Promise.resolve(value)
    },
  })
  return parse({description: `${options.description} (${range(bound)})`, default: options.default, hidden: options.hidden})
}

/**
 * A string flag whose value `check` (a pure input check of src/core: a period, a date, a UUID, a list
 * member) validates while parsing: a bad value is refused at start-up, exit 2, with the check's own error
 * code, and a schedule file naming the command line is refused with it when it is read. A blank value is
 * left to BaseCommand's empty-value refusal. The value itself is unchanged.
 */
export function checkedString(check: (value: string) => unknown) {
  return Flags.custom<string>({
    parse(input) {
      if (input.trim() !== '') check(input)
      return Promise.resolve(input)
    },
  })
}

/** An argument checked like checkedString: the error is the check's own, unwrapped. */
export function checkedArg(check: (value: string) => unknown) {
  return Args.custom<string>({
    parse(input) {
      if (input.trim() !== '') check(input)
      return Promise.resolve(input)
    },
  })
}

/**
 * A tenant or outlet id, checked as checkedString does. A UUID is compared in lower case, as Laravel
 * writes it: PostgreSQL's uuid columns match an upper-case id, SQLite's text columns would not (the same
 * flag gave two answers).
 */
export function uuidFlag(check: (value: string) => unknown, description: string) {
  return Flags.custom<string>({
    parse(input) {
      if (input.trim() !== '') check(input)
      return Promise.resolve(isLaravelUuid(input) ? input.toLowerCase() : input)
    },
  })({description})
}

/**
 * `--quiet` of the commands that show progress on stderr (src/render/progress.ts): no progress display.
 * Notes, warnings and errors still go to stderr, and stdout is the same with or without it.
 */
export const quietFlag = Flags.boolean({description: 'show no progress on stderr (notes and errors are still printed; stdout is the same)'})
