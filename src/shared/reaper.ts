import { recoverAppend } from './append-mutex'
import { guardLock, guardRecover, guardUnlock } from './guard'
import { ASYNC_RECORDS, L_GUARD, L_READERS, L_VERSION, L_WAITERS, L_WRITER, L_WRITER_DEPTH, L_WRITERS_WAITING, MAX_THREADS, WAIT_WRITER } from './layout'
import { type SharedMemory } from './memory'

/**
 * Gives back everything a dead thread held: its lock grants, every wait it had in flight (per
 * lock: its count of waiters and of registered writers, however many async waits it had; its
 * waits for commits), the append and snapshot mutexes, lock guards, its wait records and its
 * slot. Its uncommitted changes were never appended, so nothing else needs undoing.
 */
export function reapThread(mem: SharedMemory, deadSlot: number, timeoutMs: number): void {
  recoverAppend(mem.i32, deadSlot)
  // Its waits for commits, never uncounted: appends would notify for them for good.
  mem.uncountFollows(deadSlot, false)
  // Dead while encoding a snapshot: it never came (see `SnapshotWriter.write`).
  if (guardRecover(mem.i32, mem.snapshotWord, deadSlot)) mem.snapshotTaking = mem.snapshotPos
  for (let lock = 0; lock < mem.lockCount; lock++) releaseDeadHolds(mem, lock, deadSlot, timeoutMs)
  mem.setWaitingFor(deadSlot, -1)
  for (let r = 0; r < ASYNC_RECORDS; r++) Atomics.store(mem.i32, mem.record(deadSlot, r), -1)
  mem.detachThread(deadSlot)
}

function releaseDeadHolds(mem: SharedMemory, lock: number, dead: number, timeoutMs: number): void {
  const i32 = mem.i32
  const base = mem.lock(lock)
  guardRecover(i32, base + L_GUARD, dead)
  // A slot number no thread uses: the reaper (reapers in several threads may share it).
  guardLock(i32, base + L_GUARD, MAX_THREADS, timeoutMs, `the guard word of lock ${lock}`, true)
  const reads = i32[mem.readers(lock, dead)] as number
  const waits = Atomics.exchange(i32, mem.waits(lock, dead), 0)
  const writersWaiting = Math.floor(waits / WAIT_WRITER)
  const waiting = waits % WAIT_WRITER
  let changed = reads > 0 || writersWaiting > 0
  i32[base + L_READERS] = (i32[base + L_READERS] as number) - reads
  i32[mem.readers(lock, dead)] = 0
  i32[base + L_WRITERS_WAITING] = Math.max(0, (i32[base + L_WRITERS_WAITING] as number) - writersWaiting)
  if (i32[base + L_WRITER] === dead + 1) {
    i32[base + L_WRITER] = 0
    i32[base + L_WRITER_DEPTH] = 0
    changed = true
  }
  Atomics.store(i32, mem.holds(lock, dead), 0)
  guardUnlock(i32, base + L_GUARD)
  if (waiting > 0) Atomics.sub(i32, base + L_WAITERS, waiting)
  if (changed) {
    Atomics.add(i32, base + L_VERSION, 1)
    Atomics.notify(i32, base + L_VERSION)
  }
}
