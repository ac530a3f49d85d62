// When a shared `get` may run bare (no lock, no catch-up): a table lock's `quiet()` compares the
// commit count, read plainly, with the count at which it last settled, and reads the count with
// `Atomics` every 64th time (src/locks/shared-lock.ts, src/shared/replica.ts `quietRead`).
// The memory model lets an optimized loop keep a plain read's value, and no test can make V8 do
// so; these tests give the reader a plain view of the count frozen at one value (what such a loop
// would see), so that only the `Atomics` reads can show it progress. No clock: a bound on calls.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Database, LockTimeoutError } from '../../src/index'
import { SharedMemory } from '../../src/shared/memory'
import { CHECKS_PER_ATOMIC_LOAD } from '../../src/shared/replica'
import { deferred, thrown } from '../support/helpers'

afterEach(() => vi.restoreAllMocks())

/**
 * From now on, each plain view of the commit count is a copy of it, frozen at its value now;
 * the function returned moves the copies to the count's value then (a loop that read it once more).
 */
function freezePlainViewsOfTheCount(): () => void {
  const views: { memory: SharedMemory; view: Int32Array }[] = []
  vi.spyOn(SharedMemory.prototype, 'commitsWord').mockImplementation(function (this: SharedMemory) {
    const view = new Int32Array([this.commits])
    views.push({ memory: this, view })
    return view
  })
  return () => {
    for (const { memory, view } of views) view[0] = memory.commits
  }
}

/** A shared database with one record, and a second replica of it in this thread (the reader). */
function writerAndReader() {
  const db = new Database({ shared: true })
  const t = db.createTable<{ id: number; v: number }>('t')
  t.insert({ id: 1, v: 0 })
  const reader = Database.attach(db.handle())
  return { t, rt: reader.getTable<{ id: number; v: number }>('t') }
}

/** Calls `rt.get(1)` until it shows `v`, at most `limit` times; how many calls it took. */
function callsUntilSeen(rt: ReturnType<typeof writerAndReader>['rt'], v: number, limit: number): number {
  let calls = 1
  while (rt.get(1)?.v !== v && calls < limit) calls++
  return calls
}

describe('a bare shared get', () => {
  it("sees another replica's commit within 64 calls when a plain read of the count never changes", () => {
    freezePlainViewsOfTheCount()
    const { t, rt } = writerAndReader()
    for (let i = 0; i < 3 * CHECKS_PER_ATOMIC_LOAD; i++) expect(rt.get(1)?.v).toBe(0) // settled: bare reads
    t.update({ v: 1 }, { id: 1 })
    expect(callsUntilSeen(rt, 1, 100 * CHECKS_PER_ATOMIC_LOAD)).toBeLessThanOrEqual(CHECKS_PER_ATOMIC_LOAD)
  })

  it('keeps seeing commits, one after another, each within 64 calls', () => {
    const readOnceMore = freezePlainViewsOfTheCount()
    const { t, rt } = writerAndReader()
    for (let v = 1; v <= 20; v++) {
      readOnceMore()
      for (let i = 0; i < 3 * CHECKS_PER_ATOMIC_LOAD; i++) rt.get(1) // settled again: bare reads
      t.update({ v }, { id: 1 })
      expect(callsUntilSeen(rt, v, 100 * CHECKS_PER_ATOMIC_LOAD)).toBeLessThanOrEqual(CHECKS_PER_ATOMIC_LOAD)
    }
  })

  it('does not run while an async holder in this thread has the write lock, though no commit came in between', async () => {
    const db = new Database({ shared: true, lockTimeoutMs: 10 * 60_000 })
    const t = db.createTable<{ id: number; v: number }>('t')
    t.insert({ id: 1, v: 0 })
    for (let i = 0; i < 3; i++) t.get(1) // settled: the next get would run bare
    const entered = deferred()
    const released = deferred()
    const done = t.lock.write(async () => {
      entered.resolve()
      await released.promise
    })
    await entered.promise
    // As in a local database: a synchronous read cannot wait for this thread's own async writer.
    expect(thrown(() => t.get(1))).toBeInstanceOf(LockTimeoutError)
    released.resolve()
    await done
    expect(t.get(1)).toEqual({ id: 1, v: 0 })
  })
})
