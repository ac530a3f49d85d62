// Workers read and write a few registers at random; their history, stamped with a common clock,
// must be linearizable. The checker itself is tested first, on histories that are not.
import { afterEach, describe, expect, it } from 'vitest'
import { Workers, sharedInts } from './support'
import { checkLinearizable, type Operation } from './linearizability'

const workers = new Workers()
afterEach(() => workers.terminate())

/** Builds operations from `[process, kind, value, start, end]` rows on key `k`. */
function ops(...rows: [number, Operation['kind'], number, number, number][]): Operation[] {
  return rows.map(([process, kind, value, start, end]) => ({ process, key: 'k', kind, value, start, end }))
}

describe('the linearizability checker', () => {
  it('accepts a sequential history that follows the register', () => {
    expect(checkLinearizable(ops([0, 'write', 1, 0, 1], [1, 'read', 1, 2, 3], [0, 'increment', 2, 4, 5], [1, 'read', 3, 6, 7])).ok).toBe(true)
  })

  it('accepts a read overlapping a write returning either the old or the new value', () => {
    expect(checkLinearizable(ops([0, 'write', 1, 0, 10], [1, 'read', 0, 1, 2], [1, 'read', 1, 3, 4])).ok).toBe(true)
    expect(checkLinearizable(ops([0, 'write', 1, 0, 10], [1, 'read', 1, 1, 2], [2, 'read', 1, 3, 4])).ok).toBe(true)
  })

  it('rejects a stale read: a read invoked after a write returned sees the value before it', () => {
    const verdict = checkLinearizable(ops([0, 'write', 1, 0, 1], [1, 'read', 0, 2, 3]))
    expect(verdict).toMatchObject({ ok: false, key: 'k' })
  })

  it('rejects a new-then-old inversion between two reads that overlap the same write', () => {
    expect(checkLinearizable(ops([0, 'write', 1, 0, 10], [1, 'read', 1, 1, 2], [2, 'read', 0, 3, 4])).ok).toBe(false)
  })

  it('rejects a lost update: two increments, then a read that sees only one', () => {
    expect(checkLinearizable(ops([0, 'increment', 1, 0, 5], [1, 'increment', 1, 1, 6], [2, 'read', 1, 7, 8])).ok).toBe(false)
    expect(checkLinearizable(ops([0, 'increment', 1, 0, 5], [1, 'increment', 1, 1, 6], [2, 'read', 2, 7, 8])).ok).toBe(true)
  })

  it('rejects a read of a value nobody wrote, and checks each key on its own', () => {
    const history = [...ops([0, 'write', 1, 0, 1]), { process: 1, key: 'other', kind: 'read' as const, value: 5, start: 2, end: 3 }]
    expect(checkLinearizable(history)).toMatchObject({ ok: false, key: 'other' })
    expect(checkLinearizable(history, (key) => (key === 'other' ? 5 : 0)).ok).toBe(true)
  })

  it('finds the one order that works among many overlapping operations', () => {
    // Three overlapping writes, then reads that pin down 3 → 1 → 2 as their order.
    const history = ops([0, 'write', 1, 0, 20], [1, 'write', 2, 0, 20], [2, 'write', 3, 0, 20], [3, 'read', 3, 1, 2], [3, 'read', 1, 3, 4], [3, 'read', 2, 5, 6])
    expect(checkLinearizable(history).ok).toBe(true)
    expect(checkLinearizable([...history, ...ops([3, 'read', 3, 21, 22])]).ok).toBe(false)
  })
})

describe('linearizability across worker_threads', () => {
  it('3 workers doing random reads, writes and increments on 3 keys leave a linearizable history', async () => {
    const db = workers.database()
    const keys = ['k0', 'k1', 'k2']
    db.createTable('reg').insert(keys.map((id) => ({ id, v: 0 })))
    const clock = sharedInts(1)
    const ws = workers.spawnMany('registers', 3, (i) => ({ db: db.handle(), i, seed: 7 + i, keys, ops: 100, clock }))
    await workers.start(ws)
    const history: Operation[] = (await workers.results<Operation[]>(ws)).flat()
    expect(history).toHaveLength(300)
    const verdict = checkLinearizable(history)
    expect(verdict.ok, `not linearizable on ${verdict.key}: ${JSON.stringify(verdict.history)}`).toBe(true)
    // And the final values are what the history leads to, read in the main thread.
    for (const key of keys) {
      const last = db.getTable('reg').get(key)?.v as number
      expect(checkLinearizable([...history, { process: 99, key, kind: 'read', value: last, start: Atomics.add(clock, 0, 1), end: Atomics.add(clock, 0, 1) }]).ok).toBe(true)
    }
  })
})
