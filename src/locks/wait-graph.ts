import { ASYNC_RECORDS, H_TICKETS, L_WRITER, MAX_THREADS, T_TICKET } from '../shared/layout'
import { type SharedMemory } from '../shared/memory'

/**
 * The record id of a thread's synchronous wait. A synchronous wait blocks the whole thread, so
 * every lock the thread holds (in any async context) waits with it; an async wait blocks only
 * its own holder (async context), and only the locks that holder holds wait with it.
 */
export const SYNC_WAIT = ASYNC_RECORDS

/** One waiter's id in a cycle: its thread slot and wait record. */
export function waiterId(thread: number, record: number): number {
  return thread * (ASYNC_RECORDS + 1) + record
}

/** The threads holding a lock (writer, readers and single-record writers), other than `except`. */
export function holdersOf(mem: SharedMemory, lock: number, except: number): number[] {
  const out: number[] = []
  const writer = Atomics.load(mem.i32, mem.lock(lock) + L_WRITER) - 1
  if (writer >= 0 && writer !== except) out.push(writer)
  for (let t = 0; t < MAX_THREADS; t++) {
    if (t !== except && t !== writer && holdsShared(mem, lock, t)) out.push(t)
  }
  return out
}

/** Whether thread `t` holds lock `lock` (written or read). */
function threadHolds(mem: SharedMemory, lock: number, t: number): boolean {
  return Atomics.load(mem.i32, mem.lock(lock) + L_WRITER) === t + 1 || holdsShared(mem, lock, t)
}

/** Whether thread `t` holds a read grant of `lock`. */
function holdsShared(mem: SharedMemory, lock: number, t: number): boolean {
  return Atomics.load(mem.i32, mem.readers(lock, t)) > 0
}

/** The waits of thread `t` that keep it from releasing `lock`: pairs (lock waited for, record). */
function blockedWaits(mem: SharedMemory, lock: number, t: number): [number, number][] {
  const sync = mem.waitingFor(t)
  if (sync >= 0) return [[sync, SYNC_WAIT]]
  const mask = Atomics.load(mem.i32, mem.holds(lock, t))
  const out: [number, number][] = []
  for (let r = 0; mask !== 0 && r < ASYNC_RECORDS; r++) {
    if ((mask & (1 << r)) === 0) continue
    const waited = Atomics.load(mem.i32, mem.record(t, r))
    if (waited >= 0) out.push([waited, r])
  }
  return out
}

/**
 * A wait-for cycle through the waiter (`me`, `record`) that waits for `lock`: the ids of its
 * waiters, or null. Nodes are holders, not threads: a lock held by a thread blocks a cycle only
 * through a wait of the holder that holds it. A holder waiting for nothing (a timer, I/O) breaks
 * the chain, however many other holders of its thread wait. A thread's own holds never block
 * its own waits (its grants are per thread).
 */
export function findCycle(mem: SharedMemory, me: number, record: number, lock: number): number[] | null {
  const myId = waiterId(me, record)
  const holdsMine = (l: number): boolean =>
    record === SYNC_WAIT ? threadHolds(mem, l, me) : (Atomics.load(mem.i32, mem.holds(l, me)) & (1 << record)) !== 0
  const path = [myId]
  const seen = new Set<number>()
  const visit = (l: number, from: number): boolean => {
    const key = l * MAX_THREADS + from
    if (seen.has(key)) return false
    seen.add(key)
    for (const t of holdersOf(mem, l, from)) {
      if (t === me && holdsMine(l)) return true
      for (const [next, r] of blockedWaits(mem, l, t)) {
        const id = waiterId(t, r)
        if (id === myId) continue
        path.push(id)
        if (visit(next, t)) return true
        path.pop()
      }
    }
    return false
  }
  return visit(lock, me) ? path : null
}

/**
 * The waiter of a cycle that backs off. A transaction that lost a deadlock holds a ticket, taken
 * at its first loss and kept across its re-runs ({@link takeTicket}); first attempts, single
 * calls and async waits hold none. The loser is a waiter without a ticket if there is one, else
 * the youngest ticket; among equals, the highest id. So a re-run loses only to older re-runs,
 * and the oldest one in the database never loses: re-runs converge instead of losing again and
 * again to the same first attempts.
 */
export function victimOf(mem: SharedMemory, cycle: readonly number[]): number {
  let victim = -1
  let victimTicket = 0
  for (const id of cycle) {
    const ticket = ticketOf(mem, id)
    // Unsigned: no ticket (0) ranks above every ticket, and a younger ticket above an older one.
    const rank = (ticket - 1) >>> 0
    const best = (victimTicket - 1) >>> 0
    if (victim < 0 || rank > best || (rank === best && id > victim)) {
      victim = id
      victimTicket = ticket
    }
  }
  return victim
}

/** The ticket of waiter `id`: its thread's, for a synchronous wait (a transaction's); else 0. */
function ticketOf(mem: SharedMemory, id: number): number {
  const thread = Math.floor(id / (ASYNC_RECORDS + 1))
  if (id - thread * (ASYNC_RECORDS + 1) !== SYNC_WAIT) return 0
  return Atomics.load(mem.i32, mem.thread(thread) + T_TICKET)
}

/**
 * Gives thread `t`'s transaction, which just lost a deadlock, a ticket (once: a re-run keeps the
 * one of its first loss). Tickets grow; one of 2^31 deadlocks later wraps, harmlessly rare.
 */
export function takeTicket(mem: SharedMemory, t: number): void {
  const word = mem.thread(t) + T_TICKET
  if (Atomics.load(mem.i32, word) === 0) Atomics.store(mem.i32, word, (Atomics.add(mem.i32, H_TICKETS, 1) + 1) | 0 || 1)
}

/** Thread `t`'s transaction ended: its waits are first attempts' again. */
export function dropTicket(mem: SharedMemory, t: number): void {
  Atomics.store(mem.i32, mem.thread(t) + T_TICKET, 0)
}
