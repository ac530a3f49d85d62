import { ASYNC_RECORDS, H_TICKETS, L_WRITER, MAX_THREADS, T_TICKET } from '../shared/layout'
import { type SharedMemory } from '../shared/memory'

/**
 * The record id of a thread's synchronous wait. A synchronous wait blocks the whole thread, so
 * every lock the thread holds (in any async context) waits with it; an async wait blocks only
 * its own holder (async context), and only the locks that holder holds wait with it.
 */
export const SYNC_WAIT = ASYNC_RECORDS

/**
 * Marks a wait record as an in-thread wait: one async context of the thread waiting in a lock's
 * in-thread queue, for the holders of that lock in its own thread (not for other threads).
 */
const IN_THREAD = 1 << 30

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

/**
 * The waits of thread `t` that keep it from releasing `lock`: pairs (record's value: the lock
 * waited for, with {@link IN_THREAD} for an in-thread wait; record).
 */
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

/** Whether record `r` of thread `t` belongs to an async context holding `lock`'s in-thread part. */
function recordHoldsLocal(mem: SharedMemory, lock: number, t: number, r: number): boolean {
  // A cross-thread wait for `lock` itself comes from a context that took its in-thread part first.
  return (Atomics.load(mem.i32, mem.holds(lock, t)) & (1 << r)) !== 0 || Atomics.load(mem.i32, mem.record(t, r)) === lock
}

/**
 * The waits of thread `t` that keep the holders of `lock`'s in-thread part in `t` from letting it
 * go, other than the in-thread wait `via` itself: the thread's synchronous wait (it blocks every
 * context), else the async records of contexts holding that part.
 */
function localHolderWaits(mem: SharedMemory, lock: number, t: number, via: number): [number, number][] {
  const sync = mem.waitingFor(t)
  if (sync >= 0) return [[sync, SYNC_WAIT]]
  const out: [number, number][] = []
  for (let r = 0; r < ASYNC_RECORDS; r++) {
    const waited = Atomics.load(mem.i32, mem.record(t, r))
    if (waited >= 0 && waiterId(t, r) !== via && recordHoldsLocal(mem, lock, t, r)) out.push([waited, r])
  }
  return out
}

/**
 * A wait-for cycle through the waiter (`me`, `record`) that waits for `lock` (its in-thread part,
 * if `inThread`): the ids of its waiters, or null. Nodes are holders, not threads: a lock held
 * by a thread blocks a cycle only through a wait of the holder that holds it. A holder waiting
 * for nothing (a timer, I/O) breaks the chain, however many other holders of its thread wait.
 * Across threads, a thread's own holds never block its own waits (its grants are per thread);
 * an in-thread wait is blocked by the holders in its own thread only.
 */
export function findCycle(mem: SharedMemory, me: number, record: number, lock: number, inThread = false): number[] | null {
  const search = new CycleSearch(mem, me, record)
  return search.visit(lock, me, inThread, search.myId) ? search.path : null
}

/** One depth-first search of {@link findCycle}: from waiter (`me`, `record`) back to it. */
class CycleSearch {
  readonly #mem: SharedMemory
  readonly #me: number
  readonly #record: number
  readonly myId: number
  /** The waiters from this one to where the search is. */
  readonly path: number[]
  /** The (lock, thread, in-thread part) nodes visited. */
  readonly #seen = new Set<number>()

  constructor(mem: SharedMemory, me: number, record: number) {
    this.#mem = mem
    this.#me = me
    this.#record = record
    this.myId = waiterId(me, record)
    this.path = [this.myId]
  }

  /** Whether lock `l`, waited for by waiter `via` of thread `from` (its in-thread part if `local`), leads back to this waiter. */
  visit(l: number, from: number, local: boolean, via: number): boolean {
    // Back in this thread, at a lock whose in-thread part this waiter's context holds.
    if (local && from === this.#me && via !== this.myId && (this.#record === SYNC_WAIT || recordHoldsLocal(this.#mem, l, this.#me, this.#record))) return true
    const key = (l * MAX_THREADS + from) * 2 + (local ? 1 : 0)
    if (this.#seen.has(key)) return false
    this.#seen.add(key)
    if (local) return this.#follow(localHolderWaits(this.#mem, l, from, via), from)
    for (const t of holdersOf(this.#mem, l, from)) {
      if (t === this.#me && this.#holdsMine(l)) return true
      if (this.#follow(blockedWaits(this.#mem, l, t), t)) return true
    }
    return false
  }

  /** Whether one of `waits` (of thread `t`) leads back to this waiter. */
  #follow(waits: [number, number][], t: number): boolean {
    for (const [value, r] of waits) {
      const id = waiterId(t, r)
      if (id === this.myId) continue
      this.path.push(id)
      if (this.visit(value & ~IN_THREAD, t, (value & IN_THREAD) !== 0, id)) return true
      this.path.pop()
    }
    return false
  }

  /** Whether this waiter holds lock `l`: its thread, for a synchronous wait; else its context. */
  #holdsMine(l: number): boolean {
    const mem = this.#mem
    return this.#record === SYNC_WAIT ? threadHolds(mem, l, this.#me) : (Atomics.load(mem.i32, mem.holds(l, this.#me)) & (1 << this.#record)) !== 0
  }
}

/**
 * Publishes a wait of an async context of thread `me` in a free record: `waited` (a lock slot,
 * with {@link IN_THREAD} for an in-thread wait) and the locks the context holds (`tags`). Record
 * -1 if every record is taken: that wait takes no part in detection (its timeout still holds).
 */
export function publishWait(mem: SharedMemory, me: number, waited: number, tags: readonly number[]): { record: number; withdraw(): void } {
  const i32 = mem.i32
  let record = 0
  while (record < ASYNC_RECORDS && Atomics.load(i32, mem.record(me, record)) >= 0) record++
  if (record === ASYNC_RECORDS) return { record: -1, withdraw: () => {} }
  const bit = 1 << record
  for (const tag of tags) Atomics.or(i32, mem.holds(tag, me), bit)
  Atomics.store(i32, mem.record(me, record), waited)
  return {
    record,
    withdraw: () => {
      Atomics.store(i32, mem.record(me, record), -1)
      for (const tag of tags) Atomics.and(i32, mem.holds(tag, me), ~bit)
    },
  }
}

/**
 * Publishes the in-thread wait of an async context of thread `me` for lock `lock` (its holders
 * in this thread hold it), holding the locks `tags`, and tells whether that wait closes a cycle,
 * through other threads too: then the caller withdraws it and backs off at once. Such a wait is
 * never the loser a waiter across threads picks ({@link victimOf}): it does not poll.
 */
export function publishInThreadWait(mem: SharedMemory, me: number, lock: number, tags: readonly number[]): { cycle: boolean; withdraw(): void } {
  const published = publishWait(mem, me, lock | IN_THREAD, tags)
  const cycle = published.record >= 0 && findCycle(mem, me, published.record, lock, true) !== null
  return { cycle, withdraw: published.withdraw }
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
    if (inThread(mem, id)) continue
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

/** Whether waiter `id` is an in-thread wait (it waits in a queue and cannot see a verdict). */
function inThread(mem: SharedMemory, id: number): boolean {
  const thread = Math.floor(id / (ASYNC_RECORDS + 1))
  const r = id - thread * (ASYNC_RECORDS + 1)
  if (r === SYNC_WAIT) return false
  const value = Atomics.load(mem.i32, mem.record(thread, r))
  return value >= 0 && (value & IN_THREAD) !== 0
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
