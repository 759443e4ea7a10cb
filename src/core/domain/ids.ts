import {randomBytes} from 'node:crypto'

let lastMs = -1
let lastRand: Buffer | undefined

/**
 * UUIDv7 (RFC 9562) as Laravel's `Str::uuid7()` writes it: lower-case, 36 characters, time-ordered.
 * Within one millisecond the random tail is incremented so keys made in a loop stay ordered.
 */
export function uuid7(now: number = Date.now()): string {
  let rand: Buffer
  if (now <= lastMs && lastRand) {
    now = lastMs
    rand = Buffer.from(lastRand)
    for (let i = rand.length - 1; i >= 0; i--) {
      rand[i] = (rand[i] + 1) & 0xff
      if (rand[i] !== 0) break
    }
  } else {
    rand = randomBytes(10)
  }
  lastMs = now
  lastRand = rand
  const b = Buffer.alloc(16)
  b.writeUIntBE(now, 0, 6)
  b[6] = 0x70 | (rand[0] & 0x0f)
  b[7] = rand[1]
  b[8] = 0x80 | (rand[2] & 0x3f)
  rand.copy(b, 9, 3, 10)
  const h = b.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

// The shape checks live in a module without node:crypto: command flags parse with them at start-up.
export {assertOutletId, assertTenantId, isLaravelUuid} from './id-input.js'
