import { describe, expect, it, vi } from 'vitest'
import { RecordNotFoundError, increment } from '../../src'
import { twoReplicas } from './two-replicas'
import { Replica } from '../../src/shared/replica'
import { setExpressUpdates } from '../../src/table/express'

// Two replicas in this thread stand for two threads. The first append of the test is made to run
// `meanwhile` (the other replica's write) before it takes the append mutex: exactly the window
// between planning a single-record write and appending it, in which another thread may write.
const pair = () =>
  twoReplicas([
    { id: 1, n: 0 },
    { id: 2, n: 0 },
  ])

/** Makes the next append run `meanwhile` first; returns the spy (it counts every append). */
function beforeNextAppend(meanwhile: () => void) {
  // The general path's window (the express update's own: express.test.ts); back on after each test.
  setExpressUpdates(false)
  const real = Replica.prototype.appendIf
  const spy = vi.spyOn(Replica.prototype, 'appendIf')
  spy.mockImplementationOnce(function (this: Replica, ...args: Parameters<Replica['appendIf']>) {
    meanwhile()
    return real.apply(this, args)
  })
  return spy
}

describe('an update by key whose record another thread changed after it was planned', () => {
  it('is merged into the newer record as it is appended, without being planned again', () => {
    const { t, o } = pair()
    const appends = beforeNextAppend(() => t.update({ n: increment(10) }, { id: 1 }))
    o.update({ n: increment(1) }, { id: 1 })
    // One append each: the other replica's, then this one's, merged (no failed check, no retry).
    expect(appends).toHaveBeenCalledTimes(2)
    expect(o.get(1)).toEqual({ id: 1, n: 11 })
    expect(t.get(1)).toEqual({ id: 1, n: 11 })
    expect(Object.isFrozen(o.select({ copy: false })[0])).toBe(true)
  })

  it('is told to a listener as it was merged', () => {
    const { o, other, t } = pair()
    const heard: unknown[] = []
    other.onCommit((c) => {
      for (const op of c.ops) if (op.type === 'record') heard.push(op.after)
    })
    beforeNextAppend(() => t.update({ n: increment(10) }, { id: 1 }))
    o.update({ n: increment(1) }, { id: 1 })
    expect(heard).toEqual([{ id: 1, n: 10 }, { id: 1, n: 11 }])
  })

  it('throws RecordNotFoundError, writing nothing, when the record was deleted meanwhile', () => {
    const { t, o } = pair()
    beforeNextAppend(() => t.delete({ id: 1 }))
    expect(() => o.update({ n: increment(1) }, { id: 1 })).toThrow(RecordNotFoundError)
    expect(o.select()).toEqual([{ id: 2, n: 0 }])
    expect(t.select()).toEqual([{ id: 2, n: 0 }])
  })
})

describe('sequence.next() while another thread takes a number', () => {
  it('takes the next number as it is appended: consecutive, each once, without being planned again', () => {
    const { db, other } = pair()
    const mine = db.sequence('s', { format: 'S{00}' })
    const theirs = other.sequence('s')
    let taken = ''
    const appends = beforeNextAppend(() => (taken = mine.next()))
    expect(theirs.next()).toBe('S02')
    expect(taken).toBe('S01')
    expect(appends).toHaveBeenCalledTimes(2)
    expect([mine.current, theirs.current]).toEqual([2, 2])
  })

  it('calls a format function again for the number it really takes', () => {
    const { db, other } = pair()
    const format = (n: number) => `F${n}`
    const mine = db.sequence('f', { format })
    const theirs = other.sequence('f', { format })
    let taken = ''
    beforeNextAppend(() => (taken = mine.next()))
    expect(theirs.next()).toBe('F2')
    expect(taken).toBe('F1')
  })

  it('gives its number back when the transaction around it rolls back', () => {
    const { db } = pair()
    const seq = db.sequence('r')
    expect(() =>
      db.transaction(() => {
        seq.next()
        throw new Error('rolled back')
      }),
    ).toThrow('rolled back')
    expect(seq.next()).toBe('1')
  })
})
