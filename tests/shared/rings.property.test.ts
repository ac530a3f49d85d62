// The thread rings' path (src/shared/rings.ts) against the append mutex's: the same random writes,
// once with ring writes on and once off (`setRingWrites`), on a shared database and two more
// replicas attached to it (three replicas in this thread stand for three threads: each one's
// writes go to its own ring). Express updates and increments of a few records (claims change
// hands), and some writes of the general path (inserts, deletes, transactions, which seal the
// rings first). The third replica listens: it must hear the same commits, each once, in the same
// order (the program's: each write happens before the next), and every replica must end with the
// same records, whichever path the writes took.
import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Database, increment, type Commit } from '../../src'
import { RingSide } from '../../src/shared/ring-side'
import { setRingWrites } from '../../src/shared/rings'
import { tag } from './value-tag'

afterEach(() => {
  setRingWrites(true)
  vi.restoreAllMocks()
})

const on = fc.constantFrom(0, 0, 1, 1, 2)
const id = fc.integer({ min: 1, max: 4 })
const op = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('increment' as const), on, id, by: fc.constantFrom(1, 2, -1) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), on, id, value: fc.integer({ min: -5, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), on, id: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), on, id: fc.integer({ min: 3, max: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('transaction' as const), on, id, value: fc.integer({ min: -5, max: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('read' as const), on, id }) },
)
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never

/** What a run did: each write's result, the listener's commits, and each replica's records at the end. */
interface Outcome {
  results: string[]
  heard: string[]
  finals: string[]
}

function commitText(commit: Commit): string {
  return commit.ops.map((o) => (o.type === 'record' ? `${String(o.key)}:${tag(o.before?.n)}>${tag(o.after?.n)}` : o.type)).join(' ')
}

function play(ops: Op[], rings: boolean): Outcome {
  setRingWrites(rings)
  const db = new Database({ shared: true, logBytes: 1 << 16 })
  const dbs: Database[] = [db]
  try {
    db.createTable('t').insert([1, 2, 3, 4].map((k) => ({ id: k, n: 0 })))
    dbs.push(Database.attach(db.handle()), Database.attach(db.handle()))
    const heard: string[] = []
    const positions: number[] = []
    ;(dbs[2] as Database).onCommit((commit) => {
      heard.push(commitText(commit))
      positions.push(commit.position ?? -1)
    })
    // Each replica's table, taken once (getTable catches the replica up, rings and all, which a
    // write in another thread need not be preceded by).
    const tables = dbs.map((d) => d.getTable('t'))
    const results = ops.map((o) => {
      const d = dbs[o.on] as Database
      const t = tables[o.on] as (typeof tables)[number]
      try {
        if (o.kind === 'increment') return tag(t.update({ n: increment(o.by) }, { id: o.id }))
        if (o.kind === 'set') return tag(t.update({ n: o.value }, { id: o.id }))
        if (o.kind === 'insert') return tag(t.insert({ id: o.id, n: 10 }))
        if (o.kind === 'delete') return tag(t.delete({ id: o.id }))
        if (o.kind === 'transaction') return tag(d.transaction(() => [t.update({ n: o.value }, { id: o.id }), t.update({ n: increment(1) }, { id: 1 + (o.id % 4) })]))
        return tag(t.get(o.id)?.n)
      } catch (error) {
        return `${(error as Error).name}`
      }
    })
    const finals = dbs.map((d) => tag(d.getTable('t').select({ orderBy: 'id' })))
    // Each commit heard once: positions only grow.
    expect(positions.every((p, i) => i === 0 || p > (positions[i - 1] as number))).toBe(true)
    return { results, heard, finals }
  } finally {
    for (const d of dbs.reverse()) d.close()
  }
}

describe('express writes through the thread rings, against the same writes through the append mutex', () => {
  it('give the same results, the same commits to a listener (each once, in the program\'s order) and the same records in every replica', () => {
    // The ring path must have been taken (a run without a ring write would prove nothing).
    let ringWrites = 0
    const real = RingSide.prototype.write
    vi.spyOn(RingSide.prototype, 'write').mockImplementation(function (this: RingSide, ...args: Parameters<RingSide['write']>) {
      const done = real.apply(this, args)
      if (done) ringWrites++
      return done
    })
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
        const withRings = play(ops, true)
        const without = play(ops, false)
        expect(withRings).toEqual(without)
        expect(new Set(withRings.finals).size).toBe(1)
      }),
      { numRuns: 60 },
    )
    expect(ringWrites).toBeGreaterThan(100)
  })
})
