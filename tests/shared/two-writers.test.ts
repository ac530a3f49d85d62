import { describe, expect, it, vi } from 'vitest'
import { Database, increment } from '../../src'
import { Replica } from '../../src/shared/replica'
import { setExpressUpdates } from '../../src/table/express'
import { twoReplicas } from './two-replicas'

// Two replicas in this thread stand for two threads writing distinct records in turn. A replica
// may apply the other's updates late (while its own writes go on) only if nothing that reads it
// can tell: these are the reads and writes that must see them.
const pair = () =>
  twoReplicas([
    { id: 1, n: 0, s: '' },
    { id: 2, n: 0, s: '' },
    { id: 3, n: 0, s: '' },
  ])

type Pair = ReturnType<typeof pair>

/** `rounds` times: the first replica increments record 1, then the other record 2. */
function inTurn({ t, o }: Pair, rounds: number): void {
  for (let i = 0; i < rounds; i++) {
    t.update({ n: increment(1) }, { id: 1 })
    o.update({ n: increment(1) }, { id: 2 })
  }
}

describe('updates by key of distinct records from two threads in turn', () => {
  it('are seen by a get of either replica right after', () => {
    const p = pair()
    inTurn(p, 5)
    expect(p.t.get(2)).toEqual({ id: 2, n: 5, s: '' })
    expect(p.o.get(1)).toEqual({ id: 1, n: 5, s: '' })
  })

  it('are seen by select, count and a transaction right after, records deep-frozen', () => {
    const p = pair()
    inTurn(p, 5)
    expect(p.t.count({ n: 5 })).toBe(2)
    inTurn(p, 1)
    expect(p.db.transaction(() => p.t.get(2)?.n)).toBe(6)
    inTurn(p, 1)
    const rows = p.t.select({ copy: false })
    expect(rows.map((r) => r.n)).toEqual([7, 7, 0])
    expect(rows.every((r) => Object.isFrozen(r))).toBe(true)
  })

  it('give a write of a record one of them changed the record as that update left it', () => {
    const p = pair()
    inTurn(p, 3)
    p.t.update({ n: increment(1) }, { id: 1 })
    // The other's last update of record 2 came before this replica's last write (nothing since):
    // its write of record 2 is merged over that update.
    p.t.update({ n: increment(10) }, { id: 2 })
    expect(p.t.get(2)?.n).toBe(13)
    expect(p.o.get(2)?.n).toBe(13)
  })

  it('let an update by key find a record another thread inserted meanwhile', () => {
    const p = pair()
    inTurn(p, 3)
    p.o.insert({ id: 9, n: 0, s: '' })
    p.t.update({ n: increment(1) }, { id: 9 })
    expect(p.o.get(9)?.n).toBe(1)
  })

  it('let an insert reuse the key of a record another thread deleted meanwhile', () => {
    const p = pair()
    inTurn(p, 3)
    p.o.delete({ id: 3 })
    p.t.insert({ id: 3, n: 5, s: '' })
    expect(p.o.get(3)?.n).toBe(5)
  })

  it('give a transaction that writes their record the record as they left it', () => {
    const p = pair()
    inTurn(p, 3)
    p.db.transaction(() => {
      const n = p.t.get(2)?.n as number
      p.t.update({ n: n + 10 }, { id: 2 })
    })
    expect(p.o.get(2)?.n).toBe(13)
  })

  it('reach a listener subscribed between them once each, in log order, applied before it hears them', () => {
    const p = pair()
    inTurn(p, 4)
    const heard: Array<{ position: number; key: unknown; n: unknown; seen: unknown }> = []
    p.db.onCommit((c) => {
      for (const op of c.ops) {
        if (op.type === 'record') heard.push({ position: c.position as number, key: op.key, n: op.after?.n, seen: p.t.get(op.key as number)?.n })
      }
    })
    inTurn(p, 4)
    expect(p.t.get(2)?.n).toBe(8)
    const positions = heard.map((h) => h.position)
    expect(positions).toEqual([...positions].sort((a, b) => a - b))
    expect(new Set(positions).size).toBe(positions.length)
    // Each change is applied when heard (the listener reads it back).
    for (const h of heard) expect(h.seen).toBeGreaterThanOrEqual(h.n as number)
    // Every change after the subscription is heard, each once; none is heard twice.
    expect(heard.filter((h) => h.key === 1).map((h) => h.n)).toEqual([5, 6, 7, 8])
    const others = heard.filter((h) => h.key === 2).map((h) => h.n as number)
    expect(others.slice(-4)).toEqual([5, 6, 7, 8])
    expect(others).toEqual([...new Set(others)].sort((a, b) => a - b))
  })

  it('stay right when the ring overwrites their log entries', () => {
    const p = twoReplicas(
      [1, 2, 3].map((id) => ({ id, n: 0, s: '' })),
      { logBytes: 1 << 16 },
    )
    const big = (i: number) => `${i}`.padEnd(8000, '.')
    // The other replica's update of record 2, then the ring goes round (64 KiB, 8 KB entries).
    p.o.update({ n: increment(1) }, { id: 2 })
    for (let i = 0; i < 10; i++) {
      p.t.update({ s: big(i) }, { id: 1 })
      p.o.update({ s: big(i) }, { id: 3 })
    }
    expect(p.t.select()).toEqual(p.o.select())
    expect(p.t.get(2)?.n).toBe(1)
    expect(p.t.get(3)?.s).toBe(big(9))
  })

  it('are in the snapshot a replica attached later starts from', () => {
    const rows = Array.from({ length: 11 }, (_, i) => ({ id: i + 1, n: 0, s: '' }))
    const p = twoReplicas(rows, { logBytes: 1 << 16 })
    const big = (i: number) => `${i}`.padEnd(8000, '.')
    // Each of the other replica's updates is the last of its record: one left out of the
    // snapshot would not be made good by a later one.
    for (let i = 0; i < 10; i++) {
      p.t.update({ s: big(i) }, { id: 1 })
      p.o.update({ n: increment(1) }, { id: i + 2 })
    }
    const third = Database.attach(p.db.handle())
    try {
      expect(third.getTable('t').select()).toEqual(p.o.select())
      expect(p.t.select()).toEqual(p.o.select())
    } finally {
      third.close()
    }
  })
})

describe("the other thread's update of a record, applied as its log entry is read", () => {
  it('adding a field: reads of this replica give the record with it', () => {
    const p = pair()
    inTurn(p, 2)
    p.o.update({ extra: 1 }, { id: 2 })
    inTurn(p, 1)
    expect(p.t.get(2)).toEqual({ id: 2, n: 3, s: '', extra: 1 })
    expect(p.t.select({ where: { id: 2 } })).toEqual([{ id: 2, n: 3, s: '', extra: 1 }])
  })

  it('setting a field to an object: reads of this replica give copies to change freely', () => {
    const p = pair()
    inTurn(p, 2)
    p.o.update({ s: { a: 1 } }, { id: 2 })
    inTurn(p, 1)
    const copy = p.t.get(2) as { s: { a: number } }
    copy.s.a = 2
    expect(p.t.get(2)).toEqual({ id: 2, n: 3, s: { a: 1 } })
  })
})

describe("the other thread's update that comes between an update's planning and its append", () => {
  /** Makes `other` run once, in the next update by key of any replica, after it was planned. */
  function between(other: () => void): void {
    // The general path's window (the express update's own: express.test.ts); back on after each test.
    setExpressUpdates(false)
    let done = false
    const appendIf = Replica.prototype.appendIf
    vi.spyOn(Replica.prototype, 'appendIf').mockImplementation(function (this: Replica, write) {
      if (!done) {
        done = true
        other()
      }
      return appendIf.call(this, write)
    })
  }

  it('of another record: both replicas end with both updates', () => {
    const p = pair()
    inTurn(p, 2)
    between(() => p.o.update({ n: increment(10) }, { id: 2 }))
    p.t.update({ n: increment(1) }, { id: 1 })
    expect(p.t.select()).toEqual([{ id: 1, n: 3, s: '' }, { id: 2, n: 12, s: '' }, { id: 3, n: 0, s: '' }])
    expect(p.o.select()).toEqual(p.t.select())
  })

  it('several, of other records: each is applied with its own fields, and both replicas agree', () => {
    const p = pair()
    inTurn(p, 2)
    between(() => {
      p.o.update({ n: increment(10) }, { id: 2 })
      p.o.update({ s: 'three' }, { id: 3 })
      p.o.update({ n: increment(5), s: 'two' }, { id: 2 })
    })
    p.t.update({ n: increment(1) }, { id: 1 })
    expect(p.t.select()).toEqual([{ id: 1, n: 3, s: '' }, { id: 2, n: 17, s: 'two' }, { id: 3, n: 0, s: 'three' }])
    expect(p.o.select()).toEqual(p.t.select())
  })

  it('more than 4,096 of other records: each is applied, and both replicas agree', () => {
    const p = pair()
    between(() => {
      for (let i = 0; i < 5000; i++) p.o.update({ n: increment(1) }, { id: 2 + (i % 2) })
    })
    p.t.update({ n: increment(1) }, { id: 1 })
    p.t.update({ n: increment(1) }, { id: 1 })
    expect(p.t.select()).toEqual([{ id: 1, n: 2, s: '' }, { id: 2, n: 2500, s: '' }, { id: 3, n: 2500, s: '' }])
    expect(p.o.select()).toEqual(p.t.select())
  })

  it('of the same record: the update is merged over it, and both replicas agree', () => {
    const p = pair()
    inTurn(p, 2)
    between(() => p.o.update({ n: increment(10) }, { id: 1 }))
    p.t.update({ n: increment(1) }, { id: 1 })
    expect(p.t.get(1)).toEqual({ id: 1, n: 13, s: '' })
    expect(p.o.select()).toEqual(p.t.select())
  })
})
