import { describe, expect, it, vi } from 'vitest'
import { increment } from '../../src'
import { twoReplicas } from './two-replicas'
import { TableStore } from '../../src/storage/table-store'
import { setExpressUpdates } from '../../src/table/express'

// Two replicas in this thread stand for two threads: each reads its own replica.
const pair = () =>
  twoReplicas([
    { id: 1, n: 0, s: 'a', b: false },
    { id: 2, n: 0, s: 'b', b: true },
  ])

/** A pair on the smallest ring (64 KiB), which small updates wrap many times. */
const smallRing = () =>
  twoReplicas(
    [
      { id: 1, n: 0, s: 'a', b: false },
      { id: 2, n: 0, s: 'b', b: true },
    ],
    { logBytes: 1 << 16 },
  )

/** What `vouchedFields` answered during `fn` (the patch encoder runs only when it gives fields). */
function vouched(fn: () => void): Array<readonly string[] | undefined> {
  const answers: Array<readonly string[] | undefined> = []
  // The general path's encoding (the express update encodes without a vouch); back on after each test.
  setExpressUpdates(false)
  const real = TableStore.prototype.vouchedFields
  vi.spyOn(TableStore.prototype, 'vouchedFields').mockImplementation(function (this: TableStore, rec, from) {
    const fields = real.call(this, rec, from)
    answers.push(fields)
    return fields
  })
  fn()
  return answers
}

describe('a shared update by key of a table of flat records', () => {
  it('is encoded from the fields of the table shape when the planner vouched for it', () => {
    const { t } = pair()
    expect(vouched(() => t.update({ n: increment(1) }, { id: 1 }))).toEqual([['id', 'n', 's', 'b']])
  })

  it('reaches the other replica, deep-frozen, with every kind of value that is not an object', () => {
    const { t, o } = pair()
    const values = [7, -0, 0.25, 2 ** 53, -1e300, 'ünïcödé', '', true, null, 5n]
    for (const n of values) {
      t.update({ n, s: `n=${String(n)}` }, { id: 2 })
      expect(o.get(2)).toEqual(t.get(2))
      expect(Object.is(o.get(2)?.n, n)).toBe(true)
    }
    expect(o.select({ copy: false }).every((r) => Object.isFrozen(r))).toBe(true)
  })

  it('is encoded the generic way when it adds a field, stores an object or a date, and the other replica agrees', () => {
    const { t, o } = pair()
    const answers = vouched(() => {
      t.update({ extra: 1 }, { id: 1 })
      t.update({ n: { deep: [1, 2] } }, { id: 2 })
      t.update({ n: new Date(5) }, { id: 1 })
    })
    expect(answers.every((a) => a === undefined)).toBe(true)
    expect(o.select()).toEqual(t.select())
    const [stored] = o.select({ where: { id: 2 }, copy: false }) as Array<{ n: { deep: number[] } }>
    expect(Object.isFrozen(stored?.n.deep)).toBe(true)
  })

  it('is encoded the generic way once the table holds a record of another shape, and the other replica agrees', () => {
    const { t, o } = pair()
    t.insert({ id: 3, other: 'shape' })
    expect(vouched(() => t.update({ n: increment(1) }, { id: 1 })).every((a) => a === undefined)).toBe(true)
    expect(o.select()).toEqual(t.select())
  })

  it('keeps both replicas equal through deletes and inserts among the updates', () => {
    const { t, o } = pair()
    t.update({ n: increment(1) }, { id: 1 })
    t.delete({ id: 2 })
    t.insert({ id: 2, n: 5, s: 'again', b: false })
    t.update({ n: increment(1) }, { id: 2 })
    expect(o.select()).toEqual(t.select())
  })

  describe('encoded straight into the ring', () => {
    it('reaches the other replica at every offset of a ring it wraps many times', () => {
      const { t, o } = smallRing()
      // Entries of every length from ~40 to ~140 bytes, so that they end at every offset near the ring's end.
      for (let i = 0; i < 4000; i++) {
        t.update({ n: increment(1), s: 'ü'.repeat(i % 50) }, { id: 1 + (i % 2) })
        expect(o.get(1 + (i % 2))).toEqual(t.get(1 + (i % 2)))
      }
      expect(o.select()).toEqual([
        { id: 1, n: 2000, s: 'ü'.repeat(48), b: false },
        { id: 2, n: 2000, s: 'ü'.repeat(49), b: true },
      ])
    })

    it('reaches the other replica when it is larger than the room for one (a long string)', () => {
      const { t, o } = smallRing()
      for (const length of [4000, 4100, 9000, 20_000]) {
        t.update({ s: 'x'.repeat(length) }, { id: 1 })
        t.update({ n: increment(1) }, { id: 2 })
        expect(o.select()).toEqual(t.select())
      }
    })
  })
})
