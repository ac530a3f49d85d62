// Where the control block's words lie: words that different parties write often must never share
// a cache line, wherever the buffer starts within one (Node does not line-align a
// SharedArrayBuffer; see APART in src/shared/layout.ts). Offsets only: nothing here is timed.
import { describe, expect, it } from 'vitest'
import { SharedMemory } from '../../src/shared/memory'
import * as layout from '../../src/shared/layout'
import {
  APART,
  CONTROL_WORDS,
  H_COMMITS,
  H_HEAD,
  LOCK_USED,
  MAX_LOCKS,
  MAX_PARENTS,
  MAX_THREADS,
  PARENTS_BASE,
  THREAD_USED,
} from '../../src/shared/layout'

const RARE = 0
const COMMIT = 1
const threadOwner = (t: number): number => 2 + t
const lockOwner = (lock: number): number => 2 + MAX_THREADS + lock

/** Each word of the control block in use, with the one party that writes it often (or RARE). */
function owners(mem: SharedMemory): Int32Array {
  const owner = new Int32Array(CONTROL_WORDS).fill(-1)
  const own = (word: number, who: number): void => {
    if (owner[word] !== -1 && owner[word] !== who) throw new Error(`word ${word} belongs to ${owner[word]} and ${who}`)
    owner[word] = who
  }
  const commitGroup = [H_COMMITS, H_HEAD, H_HEAD + 1]
  for (const w of commitGroup) own(w, COMMIT)
  // Every other named header word, two words each (some are 64-bit).
  for (const [name, w] of Object.entries(layout)) {
    if (name.startsWith('H_') && !commitGroup.includes(w as number)) for (const x of [w as number, (w as number) + 1]) own(x, RARE)
  }
  for (let t = 0; t < MAX_THREADS; t++) {
    for (let w = 0; w < THREAD_USED; w++) own(mem.thread(t) + w, threadOwner(t))
    for (let lock = 0; lock < MAX_LOCKS; lock++) {
      for (const w of [mem.readers(lock, t), mem.waits(lock, t), mem.holds(lock, t)]) own(w, threadOwner(t))
    }
  }
  for (let lock = 0; lock < MAX_LOCKS; lock++) for (let w = 0; w < LOCK_USED; w++) own(mem.lock(lock) + w, lockOwner(lock))
  for (let w = PARENTS_BASE; w < PARENTS_BASE + 2 * MAX_PARENTS; w++) own(w, RARE)
  return owner
}

/** Pairs of words of different parties closer than a cache line: [word, its owner, word, its owner]. */
function closePairs(owner: Int32Array): number[][] {
  const out: number[][] = []
  let last = -1
  for (let w = 0; w < owner.length; w++) {
    const who = owner[w] as number
    if (who === -1) continue
    // Between any two close words of different parties lie owned words each closer to the
    // next, so comparing each word with the previous one in use finds every such pair.
    if (last >= 0 && owner[last] !== who && w - last < APART) out.push([last, owner[last] as number, w, who])
    last = w
  }
  return out
}

describe('the control block layout', () => {
  it('puts no two threads\' read-grant counts of one table within 64 bytes of each other', () => {
    const mem = SharedMemory.create(1 << 16)
    for (const lock of [0, 1, 7, MAX_LOCKS - 1]) {
      for (let a = 0; a < MAX_THREADS; a++) {
        for (let b = a + 1; b < MAX_THREADS; b++) expect(Math.abs(mem.readers(lock, a) - mem.readers(lock, b))).toBeGreaterThanOrEqual(APART)
      }
    }
  })

  it('keeps every word a party writes often at least 64 bytes from every other party\'s words', () => {
    expect(closePairs(owners(SharedMemory.create(1 << 16))).slice(0, 5)).toEqual([])
  })

  it('names every thread-slot word and lock word within the part of a slot the distances cover', () => {
    const named = (prefix: string): number[] => Object.entries(layout).filter(([name]) => name.startsWith(prefix)).map(([, w]) => (w as number) + 1)
    // + 1: a 64-bit word takes the next one too; the async records end the thread slot.
    expect(Math.max(...named('T_'), layout.T_RECORDS + layout.ASYNC_RECORDS)).toBeLessThanOrEqual(THREAD_USED)
    expect(Math.max(...named('L_'))).toBeLessThanOrEqual(LOCK_USED)
  })

  it('keeps the commit word and the head in one 16-byte-aligned stretch: one line wherever a (16-byte aligned) buffer starts', () => {
    const words = [H_COMMITS, H_HEAD, H_HEAD + 1]
    const first = Math.min(...words)
    expect(first % 4).toBe(0)
    expect(Math.max(...words) - first).toBeLessThan(4)
  })
})
