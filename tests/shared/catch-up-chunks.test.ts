// A catch-up applies the log a chunk at a time (src/shared/replica.ts, CATCH_UP_CHUNK): a backlog
// of many chunks, of patches alone or mixed with other entries, listened to or not, must come out
// whole, in order, each commit heard once; and the copy buffer must stay small.
import { describe, expect, it, vi } from 'vitest'
import { increment, type Commit } from '../../src'
import { SharedLog } from '../../src/shared/log'
import { twoReplicas } from './two-replicas'

/** One-field updates of ~48 log bytes each: 5,000 make ~7 chunks of 32 KiB. */
const BACKLOG = 5000
const rows = (): Array<{ id: number; n: number }> => Array.from({ length: 50 }, (_, i) => ({ id: i + 1, n: 0 }))

/** `BACKLOG` updates by the writer; every `insertEvery`-th step also inserts a record (an entry that is not a patch). */
function writeBacklog(t: ReturnType<typeof twoReplicas>['t'], insertEvery = 0): void {
  for (let k = 0; k < BACKLOG; k++) {
    t.update({ n: increment(1) }, { id: 1 + (k % 50) })
    if (insertEvery > 0 && k % insertEvery === 0) t.insert({ id: 1000 + k, n: k })
  }
}

/** Each record op of the commits a listener hears, as `key:after`. */
function listen(db: ReturnType<typeof twoReplicas>['db']): string[] {
  const heard: string[] = []
  db.onCommit((c: Commit) => {
    for (const op of c.ops) if (op.type === 'record') heard.push(`${String(op.key)}:${JSON.stringify(op.after)}`)
  })
  return heard
}

describe('a catch-up of a backlog many chunks long', () => {
  it('copies it a piece at a time: the log\'s copy buffer never grows past its kept 64 KiB', () => {
    const { t, o } = twoReplicas(rows())
    writeBacklog(t)
    const sizes: number[] = []
    const read = SharedLog.prototype.read
    vi.spyOn(SharedLog.prototype, 'read').mockImplementation(function (this: SharedLog, ...args: Parameters<SharedLog['read']>) {
      const count = read.apply(this, args)
      sizes.push(this.bytes.length)
      return count
    })
    o.get(1)
    expect(sizes.length).toBeGreaterThan(1)
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1 << 16)
  })

  it('gives the other replica every update of a backlog of patches', () => {
    const { t, o } = twoReplicas(rows())
    writeBacklog(t)
    expect(o.select()).toEqual(t.select())
  })

  it('gives the other replica every change of a backlog of patches and inserts, nobody listening', () => {
    const { t, o } = twoReplicas(rows())
    writeBacklog(t, 97)
    expect(o.select()).toEqual(t.select())
  })

  it('gives the other replica a commit that the ring\'s end made skip more than a chunk', () => {
    const { t, o } = twoReplicas(rows(), { logBytes: 1 << 20 })
    // Past the ring's middle (~600 KB of 40-byte entries), then an entry of ~500 KB: it does not fit before the ring's end.
    for (let k = 0; k < 15_000; k++) t.update({ n: increment(1) }, { id: 1 + (k % 50) })
    expect(o.get(1)).toEqual(t.get(1)) // caught up: the skip is the next thing it reads
    t.insert({ id: 999, n: 1, s: 'x'.repeat(500_000) })
    t.update({ n: increment(1) }, { id: 2 })
    expect(o.get(999)).toEqual(t.get(999))
    expect(o.select()).toEqual(t.select())
  })

  it('tells a listener of the other replica each commit of a backlog of patches and inserts once, in commit order', () => {
    const { db, other, t, o } = twoReplicas(rows())
    const written = listen(db)
    const heard = listen(other)
    writeBacklog(t, 97)
    o.get(1)
    expect(heard).toEqual(written)
    expect(o.select()).toEqual(t.select())
  })
})
