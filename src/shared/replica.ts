import { DeadlockError, DictDBError, InvalidStateError, LockTimeoutError } from '../errors'
import { sleepSync } from '../txn/backoff'
import { SnapshotFirst } from '../txn/shared-sync'
import type { DatabaseState } from '../storage/change'
import { decodeOps, encodeOpsInPlace, type EncodedOps, type WireOp } from './codec'
import { APPEND_HELD, BACKOFF_PAUSES, COMMIT_FLAGS, backOff, backedOff } from './append-mutex'
import { SharedLog, entrySize } from './log'
import { MAX_THREADS, T_STALE } from './layout'
import { OpenedPatches, patchesBeside, type RecordWrite } from './defer'
import type { Key, Rec } from '../values/types'
import type { PatchWriter } from '../values/binary-shapes'
import type { TableStore } from '../storage/table-store'
import { WRITER_FULL, type BinaryWriter } from '../values/binary'
import { tailAfter, type SharedMemory } from './memory'
import { SnapshotWriter, copySnapshot, snapshotState } from './snapshot'

/**
 * Of the plain reads of the commit count by `current()` (and by the bare reads of a thread: see
 * `quietRead`), each this-many-th is an `Atomics.load`.
 */
export const CHECKS_PER_ATOMIC_LOAD = 64
/** Deferred entries beyond this many are not remembered past their apply (`OpenedPatches`). */
const OPENED_KEPT = 4096
/**
 * Log bytes a catch-up copies and applies at a time (an entry that starts before the limit is
 * copied whole). A backlog copied at once made the log's copy buffer grow by doubling (a new
 * zeroed buffer each time, a page fault per 4 KiB, dropped again past 1 MiB), and the copy left
 * the cache before it was applied: 655 ns per entry for a backlog of 100k one-field updates,
 * against ~190 for 64. Within the buffer's kept size (64 KiB).
 */
const CATCH_UP_CHUNK = 1 << 15
/**
 * Log bytes an append copies under the append mutex, at most, to append beside them (entries
 * written since it caught up): past this (it waited long for the mutex), an express append
 * ({@link Replica.appendField}) lets go, catches up outside it and tries again, and a checked one
 * catches up under it (`#deferBeside`). A lagging writer's copy of 100k entries held the mutex
 * for milliseconds, and the log's read arrays, dropped past their kept size, grew again each time.
 */
const BESIDE_MAX = 1 << 12
/** {@link Replica.appendField}'s answers: appended; not (the general path sees to it); not, too far behind (catch up and try again). */
export const EXPRESS_DONE = 1
export const EXPRESS_NOT = 0
export const EXPRESS_BEHIND = -1
/** Appends that overwrite the ring free 1/32 of it at once (each freeing costs a walk over the thread slots). */
const RECLAIM_CHUNK_SHIFT = 5
/**
 * Appends of ops applied already ({@link Replica.append}) refused in a row with `SnapshotFirst`,
 * at most: past that (the snapshot taken each time was outrun again, by threads that appended
 * and detached meanwhile) the snapshot follows the append, as it did before: never a loop.
 */
const SNAPSHOT_FIRST_TRIES = 3

/** What a replica needs from its database. */
export interface ReplicaHost {
  /**
   * Applies ops committed by another thread (or re-applies this thread's own after a rebuild);
   * `position`: the log's offset after them, told to the listeners with the commit.
   */
  applyRemote(ops: readonly WireOp[], publish: boolean, position?: number): void
  /**
   * Applies the log entry `bytes[start, end)` without publishing it, if nobody listens and it is
   * one patch (an update by key): decoded straight into the record. False, with nothing read or
   * applied, otherwise (the caller then decodes it and uses `applyRemote`).
   */
  applyPatch(bytes: Uint8Array, start: number, end: number): boolean
  /**
   * Applies, without publishing, the patch of record `key` of `table` whose fields start at
   * `bytes[at]` (its head read already, see `patchesBeside`) and end at `end`. Called only while
   * nobody listens.
   */
  applyPatchFields(table: string, key: Key, bytes: Uint8Array, at: number, end: number): void
  /** Whether this thread has commit listeners (while it has none, catching up runs no user code). */
  listened(): boolean
  /** The whole local state, without taking locks; `listFor`: the array to list a table's records in, if the caller keeps one. */
  rawState(listFor?: (table: string) => Rec[] | undefined): DatabaseState
  /** Replaces the local state by a snapshot, keeping table objects alive where they persist. */
  resetFromState(state: DatabaseState): void
  /** Reports what cannot be thrown (a snapshot that failed after its commit stood). */
  reportError(error: unknown): void
}

/** A table lock as a bare read sees it (`SharedRWLock`). */
export interface QuietLock {
  /** Lets bare reads run from commit count `seen` on, unless a holder in this thread holds the lock. */
  settle(seen: number): boolean
}

/**
 * A change planned beside other writers of its table (with no cross-thread grant): appended only if
 * `holds()` once the replica has caught up under the append mutex, then applied with `apply()`.
 * An object with methods rather than two closures: a closure made per write costs as much as
 * the write (the build names every closure it makes, with a `defineProperty` call).
 */
export interface CheckedWrite {
  /** Its ops, encoded in place (`encodeOpsInPlace`, or a faster encoder of the same bytes). */
  encode(): EncodedOps
  /** The same bytes as {@link encode}, written into `w` from where it stands (the log's ring). */
  encodeInto(w: BinaryWriter): void
  /**
   * Whether the write may be appended (under the append mutex, the replica caught up). It may
   * plan the write again from records that changed meanwhile: it then sets {@link replanned},
   * and the entry is made of {@link encode} again. `unchanged`: the mutex was taken at count
   * {@link plannedAt}, which this replica stands at, so nothing was appended since the write was
   * planned (counts do not repeat short of 8 GiB of log): its records need no second look.
   */
  holds(unchanged: boolean): boolean
  readonly replanned: boolean
  /** The commit count this replica stood at when the write was planned (`Replica.refresh`); -1: unknown (no count: counts have their low bits clear). */
  readonly plannedAt: number
  apply(): void
  /** Whether this write changes record `key` of `table`. */
  touches(table: string, key: Key): boolean
}

/**
 * One thread's view of a shared database: it keeps its replica caught up with the shared log and
 * appends this thread's commits. Checking for new commits costs a plain read (see `current()`).
 */
export class Replica {
  readonly memory: SharedMemory
  readonly slot: number
  readonly #log: SharedLog
  readonly #host: ReplicaHost
  readonly #timeoutMs: number
  #applied: number
  /** The commit count when this replica last caught up to the tail. */
  #seen = -1
  /** The ring's head as this thread last read it (it never moves back). */
  #headSeen = 0
  /** `current()` checks left before one answers false (its caller then catches up, with `Atomics`). */
  #checks = CHECKS_PER_ATOMIC_LOAD

  /** The commit count's word, read plainly by `current()`. */
  readonly #commitsWord: Int32Array
  /** This thread's stale flag, read plainly before a catch-up (see `#overtaken`). */
  readonly #staleWord: Int32Array
  /** Set by an append that found the snapshot behind the ring's head: a snapshot follows it. */
  #snapshotDue = false
  /** This thread's writer of the shared snapshot (see ./snapshot.ts). */
  readonly #snapshots: SnapshotWriter
  /**
   * Entries of the last log read that an append left to apply once it has let go of the append
   * mutex (see `#deferBeside`): the replica's position is already past them.
   */
  #deferred = 0
  /** The deferred entries' tables, keys and fields (read once, when they were checked). */
  readonly #opened = new OpenedPatches()
  /** The ring head the last `SnapshotFirst` was thrown for: {@link snapshotAtTail} covers it. */
  #firstFor = 0
  /** `SnapshotFirst`s thrown since the last append went through (see `SNAPSHOT_FIRST_TRIES`). */
  #firstTries = 0

  constructor(memory: SharedMemory, host: ReplicaHost, timeoutMs: number) {
    this.memory = memory
    this.#commitsWord = memory.commitsWord()
    this.#log = new SharedLog(memory)
    this.#host = host
    this.#timeoutMs = timeoutMs
    this.#applied = 0
    this.slot = memory.attachThread(0)
    this.#staleWord = new Int32Array(memory.buffers.control, (memory.thread(this.slot) + T_STALE) * 4, 1)
    this.#snapshots = new SnapshotWriter(memory, this.slot, timeoutMs)
  }

  /** Loads the shared state into a new replica (a thread attaching to an existing database). */
  join(): void {
    this.#rebuild()
  }

  /**
   * Applies every entry committed since the last catch-up. `canRebuild` is false while this
   * thread holds uncommitted changes: a replica that fell too far behind then asks for a retry.
   */
  /** The log offset this replica has applied up to (`Commit.position` in a shared database). */
  get position(): number {
    return this.#applied
  }

  /**
   * True only if this replica has every commit that happens before this call (planning a write:
   * `SharedSync.refresh`); false sends the caller to `catchUp`. The same argument as
   * {@link quietRead}'s: a plain read of the count, and an `Atomics.load` every 64th time.
   */
  current(): boolean {
    return ((this.#commitsWord[0] as number) & ~COMMIT_FLAGS) === this.#seen && this.#staleWord[0] === 0 && --this.#checks > 0
  }

  /**
   * This thread's stale flag, for the bare-read check (`SharedRWLock.quiet`). The count repeats
   * after 8 GiB of log: a thread idle across exactly that much would take its old state for
   * current by the count alone, but the ring overtook it, so its flag is set.
   */
  get staleWord(): Int32Array {
    return this.#staleWord
  }

  /**
   * Whether a `get` of `lock`'s table may run bare (no lock, no catch-up), once the lock's own
   * look (`SharedRWLock.quiet()`: the plain count equals the one it was settled at, and its
   * countdown has not run out) said no. Reads the count with `Atomics`; if this replica has every commit
   * up to it, the lock settles there (unless a holder in this thread holds it). Why a bare read
   * that passes the lock's look sees every commit that happens before it:
   * - The count is the commit word (`SharedMemory.commits`) without the append mutex's bits.
   *   Every change of the word is an `Atomics` read-modify-write (an append takes the mutex and
   *   publishes the next count as it lets go), each reading the one before, so they are ordered
   *   by happens-before, and a read of the count that happens after a commit (it was told through
   *   a message, an `Atomics` operation or a lock) cannot see a count older than that commit's
   *   (ECMAScript memory model: happens-before consistency; an aligned Int32 read is tear-free).
   *   Counts do not repeat (short of 8 GiB of log), so seeing the settled count means nothing
   *   newer happened before, and this replica, which had every commit up to it, still has them all.
   *   (The lock's plain look compares the whole word: held, it differs, and the read settles again.)
   * - Nothing in this thread took the lock since it settled: every way of taking it first moves
   *   the settled count one back, to a value already passed (equal to no word short of 8 GiB of log).
   * - A plain read is never used to read the log: a count that moved fails the look, and this
   *   method reads it again with `Atomics.load` (acquire) before `catchUp` reads the log's bytes.
   * - A polling loop with no other synchronization might, once optimized, keep a plain read's
   *   value; the lock's countdown makes every 64th look fail, so the count is read here with
   *   `Atomics.load`, and such a loop still sees progress within 64 reads.
   */
  quietRead(lock: QuietLock): boolean {
    const seen = this.#seen
    return this.memory.commits === seen && this.#staleWord[0] === 0 && lock.settle(seen)
  }

  /**
   * Catches up unless {@link current} says nothing is new (planning a write that is checked
   * again under the append mutex); returns the commit count this replica then stands at.
   */
  refresh(): number {
    if (!this.current()) this.catchUp(true)
    return this.#seen
  }

  catchUp(canRebuild = true): void {
    this.#checks = CHECKS_PER_ATOMIC_LOAD
    const word = this.memory.commits
    if (word === this.#seen && this.#staleWord[0] === 0) return
    this.#catchUpSlow(canRebuild, word)
  }

  /**
   * Appends this thread's committed ops as one entry. Called holding the write locks of every
   * table the ops touch, so the entry is ordered after everything it depends on. The ops are
   * applied in this replica already: if the append must publish a snapshot before it moves the
   * ring's head (see `#reclaim`), it throws `SnapshotFirst` with nothing appended, for the caller
   * to take the ops out and call {@link snapshotAtTail} before it commits them again.
   */
  append(ops: readonly WireOp[]): void {
    // Valid until the next encoding: nothing below encodes ops before the ring has these bytes.
    this.#append(encodeOpsInPlace(ops), null)
  }

  /**
   * Appends `write`'s ops, not yet applied here (planned with no cross-thread grant, beside other
   * writers of their tables), only if `write.holds()` once this replica has caught up under the
   * append mutex; then applies them, before anything else reads the replica. False if the check failed.
   */
  appendIf(write: CheckedWrite): boolean {
    return this.#append(null, write)
  }

  /**
   * The express path of the commonest write (an update by key of one field, outside a
   * transaction, nobody listening here, planned on this replica): appends the patch `write` makes
   * of `before` → `after` (record `key`) straight into the ring, then stores `after` in `store`.
   * The same entry, and the same state, as `appendIf` with that update's check (`beside`: which
   * record it changes). Entries appended since this replica caught up are deferred as that path
   * defers them (`#deferBeside`): if each is a patch of another record, they are copied under the
   * mutex and applied after it, before `after` is stored. Nothing written or applied
   * whenever that path would have anything else to do: an entry appended since that is not such a
   * patch (the record may have changed), another thread holds `lock`, the entry does not fit in
   * place, or `write` cannot write it (EXPRESS_NOT: the caller then takes the general path, which
   * sees to each case); EXPRESS_BEHIND if more than `BESIDE_MAX` bytes were appended since (the
   * caller catches up outside the mutex and may try again); EXPRESS_DONE once appended.
   */
  appendField(beside: RecordWrite, lock: { heldElsewhere(): boolean }, write: PatchWriter, store: TableStore, key: Key, before: Rec, after: Rec, field: string): number {
    const mem = this.memory
    let count = mem.tryLockAppend(this.slot, this.#seen)
    if (count === APPEND_HELD) count = this.#lockAppendBeside(beside)
    let end = -1
    let behind = false
    try {
      if (!lock.heldElsewhere()) {
        // The count it was taken at is the one this replica stands at: nothing appended since.
        // Else the tail after the entries deferred, or -1.
        behind = count !== this.#seen && this.#besideTooLong(count)
        const tail = count === this.#seen ? this.#applied : behind ? -1 : this.#readBeside(beside, count)
        if (tail >= 0) end = this.#writeField(tail, write, key, before, after)
      }
    } finally {
      if (end < 0) {
        this.#deferred = 0 // the next catch-up reads them again
        mem.unlockAppend(this.slot, count)
      }
    }
    if (end < 0) return behind ? EXPRESS_BEHIND : EXPRESS_NOT
    this.#seen = mem.commit(this.slot, end)
    if (this.#deferred > 0) this.#applyDeferred()
    try {
      store.replaceField(key, before, after, field)
    } catch (error) {
      this.#markBroken()
      throw error
    }
    if (this.#snapshotDue) {
      this.#snapshotDue = false
      this.#snapshotAfterCommit(end)
    }
    return EXPRESS_DONE
  }

  /** Writes {@link appendField}'s entry in place at log position `tail` (append mutex held); its end, or -1 with nothing published. */
  #writeField(tail: number, write: PatchWriter, key: Key, before: Rec, after: Rec): number {
    const log = this.#log
    const w = log.writerAt(tail)
    if (w === null) return -1
    this.#makeRoom(tail, log.inPlaceEnd)
    const at = write(w.bytes, w.view, w.length, w.limit, key, before, after)
    if (at < 0) return -1
    w.skipTo(at)
    const end = tail + entrySize(log.seal(this.slot))
    this.#setApplied(end)
    return end
  }

  /** `payload` null: `check`'s ops, encoded under the mutex once it holds (straight into the ring). */
  #append(payload: EncodedOps | null, check: CheckedWrite | null): boolean {
    const mem = this.memory
    // Entries appended since this write was planned are applied now, if they can be, rather than
    // copied under the mutex (`#deferBeside`): the other writers wait less for it.
    if (check !== null && ((this.#commitsWord[0] as number) & ~COMMIT_FLAGS) !== this.#seen) this.#catchUpBeside(check)
    // The mutex is taken here, not through a callback: a closure per append costs as much as a
    // third of the section it guards. Taking it gives the count (nothing is appended while it is
    // held), and letting go publishes the new one (`commit`).
    let count = mem.tryLockAppend(this.slot, this.#seen)
    if (count === APPEND_HELD) count = check !== null ? this.#lockAppendBeside(check) : mem.lockAppend(this.slot, this.#timeoutMs, this.#seen)
    let end = -1
    try {
      end = this.#appendHeld(payload, check, count)
    } catch (error) {
      // Thrown before the entry was written (a commit too large for the ring): nothing was
      // applied, and the next catch-up reads the deferred entries again.
      this.#deferred = 0
      throw error
    } finally {
      if (end < 0) mem.unlockAppend(this.slot, count)
    }
    if (end < 0) return false
    // Publishes the entry and lets go: this replica is at the tail (nothing else was appended).
    this.#seen = mem.commit(this.slot, end)
    this.#firstTries = 0
    if (this.#deferred > 0) this.#applyDeferred()
    if (check !== null) this.#applyOwn(check)
    // Publish this replica's state, which is exactly the log up to `end`, encoded outside the
    // append mutex (other writers go on). `#snapshotDue` was set under the mutex.
    if (this.#snapshotDue) {
      this.#snapshotDue = false
      this.#snapshotAfterCommit(end)
    }
    return true
  }

  /**
   * The append proper, holding the append mutex taken at count `count` (the tail published
   * last): catch up, check, write the entry. Returns the entry's end, or -1 if the check failed;
   * the caller publishes it.
   */
  #appendHeld(payload: EncodedOps | null, check: CheckedWrite | null, count: number): number {
    let deferredTail = -1
    if (count === this.#seen) {
      // Caught up already.
    } else if (check !== null && (deferredTail = this.#deferBeside(check, count)) >= 0) {
      // Caught up but for deferred entries of other records (copied out in the log's buffer).
    } else if (!this.#tryCatchUp(count)) {
      this.#rebuild(true)
      // Unapplied ops were planned from records the rebuild replaced: they are planned again.
      if (check !== null) return -1
      // Overtaken while holding these changes: rebuild from the snapshot (which cannot contain
      // changes to the tables this thread holds), catch up, and re-apply our own ops on top.
      const ops = payload as EncodedOps
      this.#host.applyRemote(decodeOps(ops.bytes, 0, ops.length), false)
    }
    if (check !== null && !check.holds(count === this.#seen && count === check.plannedAt)) {
      this.#deferred = 0 // the next catch-up reads them again
      return -1
    }
    // Under the append mutex, caught up (or deferring): this replica's position is the tail.
    const tail = deferredTail >= 0 ? deferredTail : this.#applied
    let end = -1
    // A checked write is encoded now, as `holds()` left it (planned again if its record changed):
    // no user code runs in an encoding.
    if (payload === null) end = this.#appendInPlace(tail, check as CheckedWrite)
    // A transaction's ops (`payload`) are applied here already: this replica is then past `tail`.
    if (end < 0) end = this.#appendCopy(tail, payload ?? (check as CheckedWrite).encode(), payload === null)
    this.#setApplied(end)
    return end
  }

  /**
   * Encodes `write` straight into the ring at `tail` (no copy); returns the entry's end, or -1,
   * with nothing published, if it does not fit there (near the ring's end, or a large commit).
   */
  #appendInPlace(tail: number, write: CheckedWrite): number {
    const log = this.#log
    const writer = log.writerAt(tail)
    if (writer === null) return -1
    this.#makeRoom(tail, log.inPlaceEnd)
    try {
      write.encodeInto(writer)
    } catch (error) {
      if (error === WRITER_FULL) return -1
      throw error
    }
    return tail + entrySize(log.seal(this.slot))
  }

  /**
   * Copies `payload` into the ring as the entry after `tail` (which may skip to the ring's start);
   * returns its end. `atTail`: see {@link #makeRoom}.
   */
  #appendCopy(tail: number, payload: EncodedOps, atTail: boolean): number {
    const start = this.#log.place(tail, payload.length)
    const end = start + entrySize(payload.length)
    this.#makeRoom(tail, end, atTail)
    this.#log.write(tail, start, this.slot, payload)
    return end
  }

  /**
   * Makes the ring free up to log position `end` (reclaiming past the head if need be) before it
   * is written. `atTail`: this replica's state, once the entries it deferred are applied, is
   * exactly the log up to `tail` (so it may be published as the snapshot at `tail`, see
   * `#reclaim`); false for a transaction's append, whose ops it holds applied already.
   */
  #makeRoom(tail: number, end: number, atTail = true): void {
    const mem = this.memory
    const reclaimTo = end - mem.capacity
    // `head` only grows: what this thread saw of it is a lower bound, read again only when the
    // entry would overwrite past it (reclaiming a chunk at a time makes that rare).
    if (reclaimTo > this.#headSeen) {
      this.#headSeen = mem.head
      if (reclaimTo > this.#headSeen) {
        this.#reclaim(reclaimTo + Math.floor(mem.capacity / 2 ** RECLAIM_CHUNK_SHIFT), tail, atTail)
        // The ring dropped entries the snapshot does not cover (or a snapshot failed since). Only
        // the writer that moved the head takes it: another that finds the head moved (its holder
        // may be encoding that snapshot right now) would encode the whole state again, to be
        // discarded (two workers writing snapshotted every ring pass twice at once). A snapshot
        // that fails is taken again by the next writer that moves the head.
        this.#snapshotDue = this.#snapshots.neededAfter(this.#headSeen)
      }
    }
  }

  /**
   * Under the append mutex, for a single-record write: copies the entries this replica lacks and,
   * if each is a patch of another record and nobody here listens, leaves them to apply after the
   * mutex is given back (`#deferred`), so that the mutex is held only to check and write. The
   * write's check is sound without them: none changes its record, and none is of a kind that
   * could change a check (a table's lock, a unique index). They are applied, from the copy, before
   * anything reads this replica (`#applyDeferred`, before the write's own change): no user code
   * runs in between. Returns the log's tail, or -1, with nothing deferred, if it cannot defer
   * (the caller catches up as usual).
   */
  #deferBeside(check: CheckedWrite, count: number): number {
    // `count` is what taking the mutex read: the last append happened before it. A long backlog
    // is caught up instead (the caller's `#tryCatchUp`, a chunk at a time; see `BESIDE_MAX`).
    return this.#besideTooLong(count) ? -1 : this.#readBeside(check, count)
  }

  /** Whether more than `BESIDE_MAX` log bytes were appended past this replica's position, up to commit count `count`. */
  #besideTooLong(count: number): boolean {
    return tailAfter(this.#applied, count) - this.#applied > BESIDE_MAX
  }

  /**
   * Copies the entries up to commit word `word`'s tail into the log's buffer and leaves them
   * deferred (`#deferred`), if each is a patch of another record than `check`'s and nobody here
   * listens (see `#deferBeside`); returns that tail, or -1 with nothing deferred.
   */
  #readBeside(check: RecordWrite, word: number): number {
    if (this.#host.listened()) return -1
    const tail = tailAfter(this.#applied, word)
    if (this.#overtaken(tail)) return -1
    const count = this.#log.read(this.#applied, tail)
    if (count <= 0 || !patchesBeside(this.#log, count, check, this.#opened)) return -1
    this.#deferred = count
    return tail
  }

  /**
   * Before the append mutex, for a single-record write planned on this replica: applies the
   * entries appended since, if each is a patch of another record and nobody here listens (what
   * `#deferBeside` would otherwise copy under the mutex, for the same reasons: the write's plan
   * and check stay sound, and no user code runs). Else leaves them to the append.
   */
  #catchUpBeside(check: RecordWrite): void {
    // `Atomics.load` (acquire): the entries up to this word's tail are whole.
    const word = this.memory.commits
    const tail = tailAfter(this.#applied, word)
    if (this.#host.listened() || this.#overtaken(tail)) return
    // A chunk at a time (see `CATCH_UP_CHUNK`): a long backlog read at once grew the log's
    // arrays past their kept size, to be dropped and grown again at the next one.
    const log = this.#log
    while (this.#applied < tail) {
      const count = log.read(this.#applied, tail, this.#applied + CATCH_UP_CHUNK)
      if (count <= 0 || !patchesBeside(log, count, check, this.#opened)) return
      this.#deferred = count
      this.#applyDeferred()
      this.#setApplied(log.end(count - 1))
    }
    this.#seen = word
  }

  /**
   * Takes the append mutex, found held, for a single-record write planned on this replica
   * (`check`): backs off as `lockAppend` does (see `BACKOFF_PAUSES` in ./append-mutex.ts), and
   * meanwhile applies the entries the holder published (`#catchUpBeside`), which it would apply
   * anyway, copied under the mutex or after it (`backedOff` adapts the pauses to what it found).
   * Then spins and sleeps, with the lock timeout
   * (`waitAppend`, which refuses at once a mutex this thread holds itself: no append runs inside
   * another, so that is a bug, told after the pauses).
   */
  #lockAppendBeside(check: RecordWrite): number {
    const mem = this.memory
    for (let pause = 0; pause < BACKOFF_PAUSES; pause++) {
      backOff(pause)
      this.#catchUpBeside(check)
      const count = mem.tryLockAppend(this.slot, this.#seen)
      if (count !== APPEND_HELD) {
        backedOff(pause)
        return count
      }
    }
    backedOff(BACKOFF_PAUSES)
    return mem.waitAppend(this.slot, this.#timeoutMs)
  }

  /** Applies the entries an append deferred; if that fails (a bug), the replica rebuilds from the log. */
  #applyDeferred(): void {
    const log = this.#log
    const count = this.#deferred
    this.#deferred = 0
    const opened = this.#opened
    const { tables, keys, fieldsAt } = opened
    try {
      for (let i = 0; i < count; i++) this.#host.applyPatchFields(tables[i] as string, keys[i] as Key, log.bytes, fieldsAt[i] as number, log.start(i) + log.length(i))
      // A long backlog's keys and names are not kept (the log's own buffers are bounded alike).
      if (count > OPENED_KEPT) opened.clear()
    } catch (error) {
      this.#markBroken()
      throw error
    }
  }

  /** Applies ops this thread just appended; if that fails (a bug), the replica rebuilds from the log. */
  #applyOwn(write: CheckedWrite): void {
    try {
      write.apply()
    } catch (error) {
      this.#markBroken()
      throw error
    }
  }

  /** After a failed apply (a bug): the next access rebuilds this replica. */
  #markBroken(): void {
    this.memory.setStale(this.slot, true)
    this.#seen = Number.NaN // the next catch-up looks at the log (and finds this replica stale)
  }

  /**
   * Publishes this replica's state as the snapshot, for state that did not come through the log
   * (a database loaded from a file before any other thread attached).
   */
  publishSnapshot(): void {
    this.#withAppendMutex(() => {
      if (!this.#tryCatchUp()) throw new DeadlockError('This replica fell behind while publishing a snapshot')
      // Caught up under the mutex: its position is the tail.
      this.#snapshots.write(this.#host, this.#applied, true)
    })
  }

  /**
   * The snapshot a `SnapshotFirst` asked for (thrown by {@link append}, whose caller has since
   * taken its ops out of this replica): under the append mutex, caught up, this replica's state
   * is the log up to its tail; published there unless a snapshot covers the head that append
   * would have moved to. Nobody else can append meanwhile, as when the snapshot is taken inside
   * the reclaim (`#snapshotBeforeReclaim`): each other replica must rebuild from it. A failed
   * encode is thrown (as a `DictDBError`), nothing published: the commit then fails, undone.
   */
  snapshotAtTail(): void {
    const covers = this.#firstFor
    try {
      this.#withAppendMutex(() => {
        if (!this.#tryCatchUp()) this.#rebuild(true)
        this.#snapshotOrThrow(this.#applied, covers)
      })
    } catch (error) {
      // The commit fails: the next one asks again (the tries bound snapshots outrun, not failures).
      this.#firstTries = 0
      throw error
    }
  }

  /**
   * After a dead thread was reaped (on its `exit` event: no call of this thread in progress):
   * takes the snapshot the ring's head calls for if none covers it, and this replica can catch up
   * to the tail. A writer that moved the head owes the next snapshot, and died owing it if it
   * died before publishing it (after its reclaim, holding the append mutex, or while encoding);
   * once writes stop, no other thread can be counted on to take it, and a thread that must
   * rebuild would wait for it in vain. A replica the dead writer overtook cannot (nor can anyone
   * until a writer moves the head again, if no live replica was past the new head).
   */
  snapshotIfOwed(): void {
    this.#headSeen = this.memory.head
    if (this.#snapshots.neededAfter(this.#headSeen) && this.#tryCatchUp()) this.#snapshotAfterCommit(this.#applied)
  }

  /** Gives this thread's slot back. */
  detach(): void {
    this.memory.detachThread(this.slot)
  }

  #catchUpSlow(canRebuild: boolean, word: number): void {
    if (this.#tryCatchUp(word)) return
    if (!canRebuild) {
      throw new DeadlockError('This thread fell too far behind the shared log during a transaction; the transaction is retried')
    }
    this.#rebuild()
  }

  /**
   * Applies the log from `applied` to the tail of commit word `word` (read with `Atomics.load`,
   * which orders the entries' bytes before the reads below); false if this replica was overtaken.
   * One pass: later commits are the next catch-up's.
   */
  #tryCatchUp(word = this.memory.commits): boolean {
    const tail = tailAfter(this.#applied, word)
    // Checked even when the count did not move: it repeats after 8 GiB of log (see `staleWord`).
    if (this.#overtaken(tail)) return false
    // A chunk of the log at a time (see `CATCH_UP_CHUNK`). The position is read again each time:
    // a listener's read may have caught up further meanwhile (a catch-up within this one).
    while (this.#applied < tail) {
      const log = this.#log
      const count = log.read(this.#applied, tail, this.#applied + CATCH_UP_CHUNK)
      if (count < 0) return false
      // `read` gives an entry whenever the position is short of the tail: without one this loop would never end.
      if (count === 0) throw new InvalidStateError('dictdb internal: a catch-up read no entry short of the log\'s tail')
      // Patches while nobody listens are applied as they are decoded (no user code runs, so the
      // log's buffer stays as it is); from the first other entry on, all are decoded before any
      // is applied: a listener may read the log again, reusing its buffer.
      const i = this.#applyPatches(count)
      if (i === count - 1) {
        this.#applyEntry(decodeOps(log.bytes, log.start(i), log.start(i) + log.length(i)), log.end(i))
      } else if (i < count) {
        this.#applyDecoded(i, count)
      }
    }
    this.#seen = word
    return true
  }

  /**
   * Whether this replica must rebuild rather than read the log up to `tail`: it was marked stale,
   * or it is more than a ring behind (refused before copying). Overtaken while copying, `read`
   * finds it by the ring's head (an `Atomics.load` after the copy: the one check safety rests on,
   * since writers move the head before they overwrite). So the stale flag is read plainly: a hint.
   * Another thread sets it (under the append mutex) only for a replica whose published position
   * is behind the head it then moves to; a read that misses it either finds that head past its
   * position too, or reads from a position the head has not passed (the published position lags
   * this replica's own by at most a catch-up), whose entries are whole. This thread's own mark
   * (`#markBroken`) it sees in program order.
   */
  #overtaken(tail: number): boolean {
    return (this.#staleWord[0] as number) !== 0 || tail - this.#applied > this.memory.capacity
  }

  /**
   * Applies the leading patches of the last log read as they are decoded (nobody listens);
   * returns how many. The position is published once, after them (a reader of it takes it as a
   * lower bound), and moves past each applied one even if one throws (a bug).
   */
  #applyPatches(count: number): number {
    const log = this.#log
    let i = 0
    try {
      while (i < count && this.#host.applyPatch(log.bytes, log.start(i), log.start(i) + log.length(i))) i++
    } finally {
      if (i > 0) this.#setApplied(log.end(i - 1))
    }
    return i
  }

  /** Decodes entries `from` to `to` of the last log read, then applies them. */
  #applyDecoded(from: number, to: number): void {
    const log = this.#log
    const decoded = new Array<WireOp[]>(to - from)
    const ends = new Array<number>(to - from)
    for (let i = from; i < to; i++) {
      decoded[i - from] = decodeOps(log.bytes, log.start(i), log.start(i) + log.length(i))
      ends[i - from] = log.end(i)
    }
    for (let i = 0; i < decoded.length; i++) this.#applyEntry(decoded[i] as WireOp[], ends[i] as number)
  }

  #applyEntry(ops: WireOp[], end: number): void {
    this.#host.applyRemote(ops, true, end)
    this.#setApplied(end)
  }

  #setApplied(pos: number): void {
    this.#applied = pos
    this.memory.setApplied(this.slot, pos)
  }

  /**
   * Frees ring space up to `min` (at most to `tail`): replicas still behind it are marked stale
   * (they will rebuild). If that overtakes every other attached replica and the new head passes
   * the snapshot, the commits past the snapshot are in this replica only: it publishes the
   * snapshot at `tail` before it moves the head, holding the append mutex (`atTail`: its state is
   * the log up to `tail`). Taken after the append, outside the mutex (as when another replica is
   * not overtaken), it was lost for good with this thread if it was terminated in between: every
   * thread's rebuild then timed out. Nobody else could make progress meanwhile anyway: each other
   * replica must rebuild from that very snapshot. Not with no other replica attached (nobody to
   * lose it for: a thread that attaches later waits for the snapshot after the append). A failed
   * one fails the append, before the head moves. A commit's ops applied here already (`append`,
   * `atTail` false: this state is past the tail) are first taken out by the caller (`SnapshotFirst`).
   */
  #reclaim(min: number, tail: number, atTail: boolean): void {
    const mem = this.memory
    const head = this.#log.boundaryAfter(Math.min(min, tail), tail)
    if (this.#snapshots.neededAfter(head) && this.#overtakesAll(head)) {
      if (atTail) this.#snapshotBeforeReclaim(tail, head)
      else if (this.#firstTries < SNAPSHOT_FIRST_TRIES) {
        // A commit's ops applied here already (`append`): this state is past the tail. Nothing is
        // written yet: the caller takes them out, and `snapshotAtTail` publishes the state without them.
        this.#firstTries++
        this.#firstFor = head
        throw new SnapshotFirst()
      }
    }
    for (let t = 0; t < MAX_THREADS; t++) {
      if (t !== this.slot && mem.isAttached(t) && mem.applied(t) < head) mem.setStale(t, true)
    }
    mem.head = head
    this.#headSeen = head
  }

  /** Whether a head at `head` would overtake every other attached replica, and there is one. */
  #overtakesAll(head: number): boolean {
    const mem = this.memory
    let others = 0
    for (let t = 0; t < MAX_THREADS; t++) {
      if (t === this.slot || !mem.isAttached(t)) continue
      if (mem.applied(t) >= head) return false
      others++
    }
    return others > 0
  }

  /**
   * The snapshot at `tail` (the append mutex held, before this append's entry is written) owed for
   * head `head` (see `#reclaim`). The entries deferred under the mutex are applied first: the
   * state is then the log up to `tail`. If it fails, the append fails before the head moves,
   * nothing written (the write is not applied here yet): moved anyway, every other replica had to
   * rebuild from a snapshot that was not there (a `LockTimeoutError` each, until this thread's
   * next head move), and the commits past the last one lived in this thread only.
   */
  #snapshotBeforeReclaim(tail: number, head: number): void {
    if (this.#deferred > 0) {
      this.#applyDeferred()
      this.#setApplied(tail)
    }
    this.#snapshotOrThrow(tail, head)
  }

  /**
   * The snapshot at `pos` (the log's tail: the append mutex held, this state the log up to it)
   * owed for head `covers`, before that head is stored. A failed encode (memory, say) is thrown
   * as a `DictDBError` (`InvalidStateError`, the encoder's error as its cause), nothing published.
   */
  #snapshotOrThrow(pos: number, covers: number): void {
    try {
      this.#snapshots.write(this.#host, pos, false, covers)
    } catch (error) {
      if (error instanceof DictDBError) throw error
      throw new InvalidStateError('The shared snapshot this commit must publish before it frees log space could not be written; nothing was committed', { cause: error })
    }
  }

  /** A snapshot after this thread's commit (owed for the head its append moved, `#headSeen`): the commit stands whatever happens to it. */
  #snapshotAfterCommit(pos: number): void {
    try {
      this.#snapshots.write(this.#host, pos, false, this.#headSeen)
    } catch (error) {
      // Replicas that need it wait for the next writer's snapshot, or time out saying why.
      this.#host.reportError(error)
    }
  }

  /** Rebuilds the local state from the latest snapshot, then catches up from its position. */
  /**
   * Rebuilds from the snapshot, then catches up from its position. `held`: this thread holds the
   * append mutex (no entry can be overwritten meanwhile).
   */
  #rebuild(held = false): void {
    const deadline = Date.now() + this.#timeoutMs
    for (let lost = 0; ; lost++) {
      // A writer that never pauses may wrap the ring while the snapshot decodes, every time: after
      // one lost race, rebuild holding the append mutex (writers wait one decode, within their
      // lock timeout, instead of this thread losing until its own).
      if (held || lost === 0 ? this.#tryRebuild() : this.#withAppendMutex(() => this.#tryRebuild())) return
      if (Date.now() > deadline) throw new LockTimeoutError('Timed out rebuilding this thread\'s replica from the shared snapshot')
      sleepSync(1)
    }
  }

  /** One rebuild: false if the snapshot was being written, is behind the ring, or the ring overtook the catch-up. */
  #tryRebuild(): boolean {
    const copy = copySnapshot(this.memory)
    if (copy === null) return false
    this.memory.setStale(this.slot, false)
    this.#host.resetFromState(snapshotState(copy))
    this.#setApplied(copy.pos)
    return this.#tryCatchUp()
  }

  #withAppendMutex<R>(fn: () => R): R {
    const mem = this.memory
    const count = mem.lockAppend(this.slot, this.#timeoutMs, this.#seen)
    try {
      return fn()
    } finally {
      mem.unlockAppend(this.slot, count)
    }
  }
}
