import { InvalidArgumentError, InvalidStateError, describe } from '../errors'
import { APPEND_MUTEX, COMMIT_FLAGS, appendLocked, lockAppend, tryLockAppend, unlockAppend, waitAppend } from './append-mutex'
import {
  CATALOG_LOCK, CONTROL_WORDS, H_CLOSED, H_COMMITS, H_FOLLOWERS, H_HEAD, H_MAGIC, H_NEXT_LOCK, H_PROTOCOL, H_SNAPSHOTS,
  H_SNAP_LEN, H_SNAP_MUTEX, H_SNAP_POS, H_SNAP_SEQ, H_SNAP_TAKING, MAGIC, MAX_LOCKS, PROTOCOL, T_FOLLOWS,
} from './layout'
import { ThreadSlots } from './thread-slots'

/**
 * Largest shared log ring: a replica rebuilds the full tail from the 30-bit count of the commit
 * word and a position at most this far below it ({@link tailAfter}); 4 GiB leaves another 4 GiB
 * of appends between the two reads.
 */
export const MAX_LOG_BYTES = 2 ** 32

/** The count of log position `tail` (a multiple of 8): `tail / 8` modulo 2^30, shifted left by 2 (see `H_COMMITS`). */
export function tailWord(tail: number): number {
  return (tail / 8) << 2
}

/**
 * The log position whose count is `count`, given a position `base` at most that tail and less
 * than 8 GiB (2^30 words of 8 bytes) below it: `base` plus the words from `base`'s word to
 * `count`'s, modulo 2^30. A replica passes its applied position (at most the tail, which never moves
 * back); if it was overtaken by more than that, the result is short of the tail, and the read of
 * the log from its position finds the ring's head past it (the check that catches every overtaken
 * read) and the replica rebuilds.
 */
export function tailAfter(base: number, count: number): number {
  return base + (((count >>> 2) - base / 8) & 0x3fffffff) * 8
}
export { APPEND_MUTEX }

/** The Int32 words of the 64-bit head's low and high halves (the halves' order follows the platform's). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
const HEAD_LOW = LITTLE_ENDIAN ? H_HEAD : H_HEAD + 1
const HEAD_HIGH = LITTLE_ENDIAN ? H_HEAD + 1 : H_HEAD

/** The buffers that make one shared database; structured-cloneable into a worker. */
export interface SharedBuffers {
  readonly control: SharedArrayBuffer
  readonly log: SharedArrayBuffer
  readonly snapshot: SharedArrayBuffer
}

/**
 * Typed access to a shared database's control block and log ring: the header (the commit word
 * and append mutex, the waits for commits, the ring's head, the snapshot's bookkeeping), and
 * through {@link ThreadSlots} the thread slots, lock words and per-(thread, lock) words.
 */
export class SharedMemory extends ThreadSlots {
  readonly buffers: SharedBuffers
  readonly #i64: BigInt64Array
  readonly log: Uint8Array
  /** The log ring as 32-bit words (entries are 8-byte aligned: copies go a word at a time). */
  readonly logWords: Int32Array
  readonly logView: DataView
  /** The log ring's size in bytes (a field: read on every append). */
  readonly capacity: number

  constructor(buffers: SharedBuffers) {
    super(buffers.control)
    this.buffers = buffers
    this.#i64 = new BigInt64Array(buffers.control)
    this.log = new Uint8Array(buffers.log)
    this.logWords = new Int32Array(buffers.log)
    this.logView = new DataView(buffers.log)
    this.capacity = this.log.length
  }

  /** Allocates the buffers of a new shared database. */
  static create(logBytes: number): SharedMemory {
    if (!Number.isInteger(logBytes) || logBytes < 1 << 16 || logBytes > MAX_LOG_BYTES || logBytes % 8 !== 0) {
      throw new InvalidArgumentError(`Expected \`logBytes\` to be a multiple of 8 from 65536 to ${MAX_LOG_BYTES}, got ${describe(logBytes)}`)
    }
    const control = new SharedArrayBuffer(CONTROL_WORDS * 4)
    const log = new SharedArrayBuffer(logBytes)
    const snapshot = new SharedArrayBuffer(0, { maxByteLength: 2 ** 32 })
    const mem = new SharedMemory({ control, log, snapshot })
    mem.i32[H_MAGIC] = MAGIC
    mem.i32[H_PROTOCOL] = PROTOCOL
    mem.i32[H_NEXT_LOCK] = CATALOG_LOCK + 1
    return mem
  }

  /** Wraps buffers received from another thread, checking they are a shared database. */
  static open(buffers: unknown): SharedMemory {
    const b = buffers as SharedBuffers | undefined
    if (!(b?.control instanceof SharedArrayBuffer) || !(b.log instanceof SharedArrayBuffer) || !(b.snapshot instanceof SharedArrayBuffer)) {
      throw new InvalidArgumentError(`Expected a database handle from db.handle(), got ${describe(buffers)}`)
    }
    if (b.control.byteLength < 8 || new Int32Array(b.control, 0, 1)[0] !== MAGIC) {
      throw new InvalidArgumentError('This handle is not a dictdb shared database')
    }
    const protocol = Atomics.load(new Int32Array(b.control, 0, 2), H_PROTOCOL)
    if (protocol !== PROTOCOL || b.control.byteLength !== CONTROL_WORDS * 4) {
      throw new InvalidArgumentError(
        `This handle comes from another build of dictdb (shared protocol ${protocol}, this one reads ${PROTOCOL}): ` +
          'every thread of a shared database must load the same dictdb',
      )
    }
    const mem = new SharedMemory(b)
    return mem
  }


  /**
   * The log's tail (the end of every committed entry), from any thread, at any time: the commit
   * word read against the ring's head, read first (see {@link tailAfter}: the head is at most the
   * tail, and at most the ring's capacity, which `create` bounds, below it).
   */
  get tail(): number {
    const head = this.head
    return tailAfter(head, this.commits)
  }

  /**
   * The count, read with `Atomics.load`: the log's tail in 8-byte units, modulo 2^30, shifted
   * left by 2 (the commit word without the append mutex's bits). Every append moves it forward
   * (an entry takes 8 bytes or more), so it is also the cheap "anything new?" check, compared for
   * equality: it repeats only after 8 GiB of log. Read by a thread that catches up, it is also
   * the tail up to which it may read ({@link tailAfter}).
   */
  get commits(): number {
    return Atomics.load(this.i32, H_COMMITS) & ~COMMIT_FLAGS
  }
  /**
   * The commit word alone, for reads without `Atomics` (an inlined load, where `Atomics.load` is
   * a call in Node 20): masked with `~COMMIT_FLAGS`, enough to tell whether anything is new; never
   * to read the log after it (see `Replica.current`). Unmasked, it differs from the count also
   * while a thread holds the append mutex, which only sends the reader to look again.
   */
  commitsWord(): Int32Array {
    return new Int32Array(this.buffers.control, H_COMMITS * 4, 1)
  }
  /**
   * Takes the append mutex as thread `slot` (see ./append-mutex.ts); returns the count it was
   * taken at, `guess` being the caller's best guess of it (its replica's).
   */
  lockAppend(slot: number, timeoutMs: number, guess: number): number {
    return lockAppend(this.i32, slot, timeoutMs, guess)
  }
  /** Takes the append mutex if it is free, without waiting: the count, or `APPEND_HELD` (see ./append-mutex.ts). */
  tryLockAppend(slot: number, guess: number): number {
    return tryLockAppend(this.i32, slot, guess)
  }
  /** Takes the append mutex once it is free, for a caller that backed off already (see ./append-mutex.ts). */
  waitAppend(slot: number, timeoutMs: number): number {
    return waitAppend(this.i32, slot, timeoutMs)
  }
  /**
   * Publishes an append and lets go of the append mutex in one swap (its holder, thread `slot`,
   * its entry written): the count of the new tail `tail`; returns it. The threads that follow the
   * log while idle are woken only if there are any (see {@link commitsChanged}).
   */
  commit(slot: number, tail: number): number {
    const count = tailWord(tail)
    unlockAppend(this.i32, slot, count)
    return count
  }
  /** Lets go of the append mutex, taken by thread `slot` at count `count`, having appended nothing. */
  unlockAppend(slot: number, count: number): void {
    unlockAppend(this.i32, slot, count)
  }
  /** Whether any thread holds the append mutex. */
  get appendLocked(): boolean {
    return appendLocked(this.i32)
  }
  /** Set once this thread gave back its waits for commits (its database closed): a wait still pending leaves the counts alone. */
  #followsGivenBack = false

  /**
   * Takes thread `slot`'s waits for commits out of `H_FOLLOWERS`: a closing thread's own (`own`;
   * it may end before its pending waits do), or a dead thread's (the reaper's).
   */
  uncountFollows(slot: number, own: boolean): void {
    if (own) this.#followsGivenBack = true
    const follows = Atomics.exchange(this.i32, this.thread(slot) + T_FOLLOWS, 0)
    if (follows > 0) Atomics.sub(this.i32, H_FOLLOWERS, follows)
  }

  /**
   * Resolves once the count is no longer `seen`, or after `timeoutMs`. The waiter is counted under
   * the append mutex (taken as thread `slot`, giving up after `lockTimeoutMs`), so that appenders
   * read the count of waiters plainly (see `unlockAppend`). Why no wake-up is missed:
   * - Counted under the mutex, the waiter's `Atomics.add` happens before every later holder's
   *   plain read. Every change of the commit word is an `Atomics` read-modify-write, each reading
   *   the one before it, so all earlier changes happen before that add too: the read sees the
   *   add or a later change, and later ones keep this waiter counted until it uncounts itself.
   * - An appender that held the mutex before the waiter counted itself published its count
   *   before letting go: the wait then finds the count moved and returns at once. One that holds
   *   it after reads the waiter counted and notifies; `waitAsync` compares and queues, and
   *   `notify` wakes, in one critical section of the waiter list, so either the compare sees the
   *   new word or the notify sees the waiter.
   * - The word also changes when a thread takes the mutex, or marks it to sleep on it, with the
   *   count unchanged: the wait then finds a word it did not expect, reads it again and waits on
   *   that. Each such turn follows a change of the word, and every change but a publication is
   *   undone only by the release that notifies.
   * If the mutex cannot be had in time, the waiter is not counted and its wait simply lasts
   * until `timeoutMs` (or a notify for another waiter).
   */
  async commitsChanged(seen: number, timeoutMs: number, slot: number, lockTimeoutMs: number): Promise<void> {
    const i32 = this.i32
    let counted = false
    try {
      const count = lockAppend(i32, slot, lockTimeoutMs, seen)
      // Also counted in this thread's slot, after the total: a thread that dies waiting never
      // uncounts itself, and its reaper takes back what the slot says (a death between the two
      // adds leaves one count too many, never too few: a needless notify, not a lost wake-up).
      Atomics.add(i32, H_FOLLOWERS, 1)
      Atomics.add(i32, this.thread(slot) + T_FOLLOWS, 1)
      counted = true
      unlockAppend(i32, slot, count)
    } catch {
      // Not counted: the wait lasts until its timeout.
    }
    try {
      await this.#whileCount(seen, timeoutMs)
    } finally {
      // Outside the mutex: a holder that still reads this waiter counted only notifies in vain.
      if (counted && !this.#followsGivenBack) {
        Atomics.sub(i32, this.thread(slot) + T_FOLLOWS, 1)
        Atomics.sub(i32, H_FOLLOWERS, 1)
      }
    }
  }

  async #whileCount(seen: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const word = Atomics.load(this.i32, H_COMMITS)
      const left = deadline - Date.now()
      if ((word & ~COMMIT_FLAGS) !== seen || left <= 0) return
      const wait = Atomics.waitAsync(this.i32, H_COMMITS, word, left)
      if (wait.async) await wait.value
    }
  }

  get head(): number {
    return Number(Atomics.load(this.#i64, H_HEAD / 2))
  }
  /**
   * Whether the ring's head is past log position `pos`: the check after every log read (see
   * `SharedLog.read`). The head's two 32-bit halves are read with `Atomics.load`, low then high,
   * instead of the 64-bit word and its conversion from a BigInt (~2 ns more per read here, more
   * where V8 does not compile the BigInt load down to a number). The halves
   * of one 64-bit store are not read as one, but the head only grows, so the high half read
   * second is at least the one that went with the low half: the sum is at least the head as it
   * was at the first load (after the caller's copy), never below it. A carry between the two
   * loads overstates it by up to 4 GiB: a needless rebuild, once per 4 GiB of log at worst.
   */
  headPast(pos: number): boolean {
    const low = Atomics.load(this.i32, HEAD_LOW) >>> 0
    return Atomics.load(this.i32, HEAD_HIGH) * 2 ** 32 + low > pos
  }
  set head(pos: number) {
    Atomics.store(this.#i64, H_HEAD / 2, BigInt(pos))
  }
  get snapshotPos(): number {
    return Number(Atomics.load(this.#i64, H_SNAP_POS / 2))
  }
  set snapshotPos(pos: number) {
    Atomics.store(this.#i64, H_SNAP_POS / 2, BigInt(pos))
  }
  /** The log position of the snapshot the snapshot's mutex holder encodes; else the snapshot's own ({@link snapshotPos}). */
  get snapshotTaking(): number {
    return Number(Atomics.load(this.#i64, H_SNAP_TAKING / 2))
  }
  set snapshotTaking(pos: number) {
    Atomics.store(this.#i64, H_SNAP_TAKING / 2, BigInt(pos))
  }
  get snapshotLength(): number {
    return Number(Atomics.load(this.#i64, H_SNAP_LEN / 2))
  }
  set snapshotLength(n: number) {
    Atomics.store(this.#i64, H_SNAP_LEN / 2, BigInt(n))
  }
  /** Snapshots written over the database's life. */
  get snapshotsTaken(): number {
    return Atomics.load(this.i32, H_SNAPSHOTS)
  }
  get snapshotSeq(): number {
    return Atomics.load(this.i32, H_SNAP_SEQ)
  }
  bumpSnapshotSeq(): void {
    // Odd to even: one more snapshot written.
    if (Atomics.add(this.i32, H_SNAP_SEQ, 1) % 2 === 1) Atomics.add(this.i32, H_SNAPSHOTS, 1)
  }

  get closed(): boolean {
    return Atomics.load(this.i32, H_CLOSED) === 1
  }
  markClosed(): void {
    Atomics.store(this.i32, H_CLOSED, 1)
  }

  /** Allocates a lock slot for a new table. */
  allocateLock(): number {
    const slot = Atomics.add(this.i32, H_NEXT_LOCK, 1)
    if (slot >= MAX_LOCKS) throw new InvalidStateError(`A shared database can create at most ${MAX_LOCKS - 1} tables over its life`)
    return slot
  }

  /** How many lock slots were handed out (the catalog lock included). */
  get lockCount(): number {
    return Math.min(Atomics.load(this.i32, H_NEXT_LOCK), MAX_LOCKS)
  }

  /** The snapshot writer mutex word index (same guard protocol). */
  get snapshotWord(): number {
    return H_SNAP_MUTEX
  }
}
