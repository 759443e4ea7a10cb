import {Chalk, type ChalkInstance} from 'chalk'

/** Colour only for a terminal, never with NO_COLOR; FORCE_COLOR wins (SPEC §3). */
export function styleFor(stream: NodeJS.WriteStream = process.stdout): ChalkInstance {
  const force = process.env.FORCE_COLOR
  if (force !== undefined && force !== '0' && force !== 'false') return new Chalk({level: 1})
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return new Chalk({level: 0})
  return new Chalk({level: stream.isTTY ? 1 : 0})
}
