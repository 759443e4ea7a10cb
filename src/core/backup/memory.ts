import v8 from 'node:v8'
import vm from 'node:vm'

let collect: (() => void) | null | undefined

/**
 * A full garbage collection, for loops that stream millions of rows: V8 otherwise lets the heap grow
 * to tens of megabytes of dead rows between its own collections, and the backup's peak memory with it.
 * The collector is reached as Node's --expose-gc would expose it (set at run time, read in a new context).
 */
export function collectGarbage(): void {
  if (collect === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc')
      collect = vm.runInNewContext('gc') as () => void
    } catch {
      collect = null
    }
  }
  collect?.()
}
