// Types of bench/lib/args.mjs (JavaScript, so bench/startup.mjs can use it on plain node).

export type BenchOption = {type: 'boolean'} | {type: 'string'; multiple?: boolean; parse?: (raw: string, name: string) => unknown}

type ValueOf<O> = O extends {type: 'boolean'}
  ? boolean
  : O extends {parse: (raw: string, name: string) => infer T}
    ? O extends {multiple: true}
      ? T[]
      : T
    : O extends {multiple: true}
      ? string[]
      : string

/** The options given on the command line, each parsed; an option not given is undefined. */
export type BenchArgs<S extends Record<string, BenchOption>> = {[K in keyof S]?: ValueOf<S[K]>}

export class BenchArgError extends Error {}

export function parseBenchArgs<const S extends Record<string, BenchOption>>(benchmark: string, usage: () => string, spec: S, argv?: string[]): BenchArgs<S>

export function positiveInteger(raw: string, name: string): number
export function integerList(min: number, what?: string): (raw: string, name: string) => number[]
export function engineList(raw: string, name: string): Array<'sqlite' | 'pg'>
export function oneOf<const W extends string>(words: readonly W[]): (raw: string, name: string) => W
