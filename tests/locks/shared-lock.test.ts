// SharedRWLock: the shared lock suite in one thread, then the cross-thread behaviour with real
// worker_threads (the lock of a shared database's table, taken from workers and the main thread).
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { LockTimeoutError } from 'dictdb'
import { SharedRWLock } from '../../src/locks/shared-lock'
import { SharedMemory } from '../../src/shared/memory'
import { Workers, lockWaiters, sharedInts, waitUntil, writersWaiting } from '../workers/support'
import { rwlockSuite } from './rwlock-suite'
import { CHILD_LIMIT_MS } from '../support/limits'

const memory = SharedMemory.create(1 << 16)
const threadSlot = memory.attachThread(0)
rwlockSuite('SharedRWLock', (options) => new SharedRWLock({ ...options, memory, lockSlot: memory.allocateLock(), threadSlot }))

const workers = new Workers()
afterEach(() => workers.terminate())

// Shared flags of the lock fixture (tests/workers/fixtures/lock.mjs): let holders go; threads
// inside; overlaps a reader-writer lock forbids; how many entered, then their ids in entry order.
const RELEASE = 0
const INSIDE = 1
const VIOLATIONS = 4
const ORDER = 5
// Start flags of workers parked before they ask for the lock (after ORDER's list of ids).
const GO = 40
// A lock timeout (and a wait) only a hang reaches: these scenarios assert order, not speed.
const PATIENT = 120_000

function setup(lockTimeoutMs = 5000) {
  const db = workers.database({ lockTimeoutMs })
  db.createTable('a')
  return { db, lock: db.getTable('a').lock, flags: sharedInts(64) }
}

/** A worker that takes `a`'s lock in `mode` (see fixtures/lock.mjs). */
function locker(db: ReturnType<typeof setup>['db'], flags: Int32Array, data: Record<string, unknown>) {
  return workers.spawn('lock', { db: db.handle(), flags, ...data })
}

describe('SharedRWLock across worker_threads', () => {
  it('lets readers in two threads (and the main thread) hold the lock at once', async () => {
    const { db, lock, flags } = setup()
    const first = locker(db, flags, { mode: 'read', id: 1, holdUntilRelease: true })
    await first.next('in')
    // If reads did not share, this worker would time out instead of entering.
    const second = locker(db, flags, { mode: 'read', id: 2, timeoutMs: 2000 })
    expect(await second.result).toMatchObject({ ok: true })
    expect(lock.readSync(() => Atomics.load(flags, INSIDE), { timeoutMs: 2000 })).toBe(1)
    Atomics.store(flags, RELEASE, 1)
    expect(await first.result).toMatchObject({ ok: true })
    expect(lock.locked).toBe(false)
  })

  it('a writer in one thread excludes readers and writers in the others until it leaves', async () => {
    const { db, lock, flags } = setup()
    const writer = locker(db, flags, { mode: 'write', id: 1, holdUntilRelease: true })
    await writer.next('in')
    for (const mode of ['read', 'write']) {
      expect(await locker(db, flags, { mode, id: 2, timeoutMs: 100 }).result).toMatchObject({ ok: false, error: { name: 'LockTimeoutError' } })
    }
    expect(() => lock.readSync(() => 'never', { timeoutMs: 50 })).toThrow(LockTimeoutError)
    const waiting = locker(db, flags, { mode: 'write', id: 3, timeoutMs: 5000 })
    await waitUntil(() => writersWaiting(db) === 1, PATIENT, 'the second writer to wait')
    Atomics.store(flags, RELEASE, 1)
    expect(await waiting.result).toMatchObject({ ok: true })
    expect(await writer.result).toMatchObject({ ok: true })
  })

  it('never lets a writer in with anyone else, under contention from 3 threads', async () => {
    const { db, flags } = setup()
    const ws = [0, 1, 2].map((id) => locker(db, flags, { mode: 'mixed', id, rounds: 300, timeoutMs: 5000 }))
    await workers.start(ws)
    for (const r of await workers.results(ws)) expect(r).toMatchObject({ ok: true })
    expect(Atomics.load(flags, VIOLATIONS)).toBe(0)
    expect(Atomics.load(flags, INSIDE)).toBe(0)
  })

  it('prefers a waiting writer: a reader arriving after it waits behind it, across threads', async () => {
    const { db, lock, flags } = setup()
    // Every worker is started (and attached) before the writer waits: its wait must only span the
    // scenario, not other workers' start-up, which under load can take longer than a lock timeout.
    const reader = locker(db, flags, { mode: 'read', id: 1, holdUntilRelease: true })
    const arriving = locker(db, flags, { mode: 'read', id: 3, timeoutMs: 100, go: GO })
    const late = locker(db, flags, { mode: 'read', id: 4, timeoutMs: PATIENT, go: GO + 1 })
    await Promise.all([reader.next('in'), arriving.next('attached'), late.next('attached')])
    const writer = locker(db, flags, { mode: 'write', id: 2, timeoutMs: PATIENT })
    await waitUntil(() => writersWaiting(db) === 1, PATIENT, 'the writer to wait')
    // A new reader, in another worker or in this thread, is not admitted past the waiting writer.
    open(flags, GO)
    expect(await arriving.result).toMatchObject({ ok: false, error: { name: 'LockTimeoutError' } })
    expect(() => lock.readSync(() => 'never', { timeoutMs: 50 })).toThrow(LockTimeoutError)
    open(flags, GO + 1)
    await waitUntil(() => lockWaiters(db) === 2, PATIENT, 'the late reader to wait behind the writer')
    Atomics.store(flags, RELEASE, 1)
    await Promise.all([reader.result, writer.result, late.result])
    expect(entryOrder(flags)).toEqual([1, 2, 4])
  }, 4 * PATIENT)

  it('an async lock.write in the main thread waits for a worker without blocking the event loop', async () => {
    const { db, lock, flags } = setup()
    const holder = locker(db, flags, { mode: 'write', id: 1, holdUntilRelease: true })
    await holder.next('in')
    let ticks = 0
    const ticker = setInterval(() => void ticks++, 5)
    const acquired = lock.write(() => Atomics.load(flags, INSIDE))
    await new Promise((resolve) => setTimeout(resolve, 100))
    const ticksWhileWaiting = ticks
    Atomics.store(flags, RELEASE, 1)
    // The worker was out when this ran.
    expect(await acquired).toBe(0)
    clearInterval(ticker)
    expect(ticksWhileWaiting).toBeGreaterThan(3)
  })

  it('a process whose only pending work is an async lock.write does not exit before it is granted', () => {
    // A pending Atomics.waitAsync does not keep Node alive: run a real process to see it stay.
    const script = fileURLToPath(new URL('../workers/fixtures/async-wait-main.mjs', import.meta.url))
    const out = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: CHILD_LIMIT_MS })
    expect(out.stderr).toBe('')
    expect(out.stdout.trim()).toBe('granted after the worker let go')
    expect(out.status).toBe(0)
  })
})

/** Sets `flags[index]` and wakes the worker sleeping on it. */
function open(flags: Int32Array, index: number): void {
  Atomics.store(flags, index, 1)
  Atomics.notify(flags, index)
}

/** The ids of the threads that entered, in order. */
function entryOrder(flags: Int32Array): number[] {
  const n = Atomics.load(flags, ORDER)
  return Array.from({ length: n }, (_, i) => Atomics.load(flags, ORDER + 1 + i))
}
