/*
 * A replica's side of the thread rings (./rings.ts): its express writes through this thread's
 * ring, its catch-up of the entries other threads published in theirs, the seals it makes as a
 * holder of the append mutex, and the seals it reads in the log. Owned by the replica
 * (./replica.ts), which keeps the log's side: kept apart so that each reads on its own.
 */
import { tailAfter, tailWord, type SharedMemory } from './memory'
import type { SharedLog } from './log'
import type { ReplicaHost } from './replica-host'
import { Rings } from './rings'
import { SealEnds, markSealed, sealRings, waitForWriters } from './ring-seal'
import { applyDecodedSeal, applyPublished, applySeal, decodeSeal, type ApplyPatch, type DecodedSeal } from './ring-read'
import type { PatchWriter } from '../values/binary-shapes'
import type { TableStore } from '../storage/table-store'
import type { Key, Rec } from '../values/types'

/** Tries of a catch-up of the rings that finds a ring's entries overwritten while it copied them (then it seals). */
const COPY_TRIES = 8

/** What the ring side needs of its replica (its private state and steps). */
export interface RingOwner {
  /** The commit count the replica stands at. */
  seen(): number
  /** Catches the replica's log up to commit word `word` (rebuilding if `canRebuild` and it must). */
  catchUpLog(canRebuild: boolean, word: number): void
  /** After a failed apply (a bug): the next access rebuilds the replica. */
  markBroken(): void
  /** A seal this thread made at count `count` was caught up with: the replica publishes a snapshot if one is due. */
  sealed(count: number): void
  /** Frees the log up to position `end` before an entry at `tail` is written there (append mutex held). */
  makeRoom(tail: number, end: number): void
}

/** One replica's side of the thread rings (see the file's comment). */
export class RingSide {
  /** The rings as this replica has them: `Replica.current()` reads them on its hot path. */
  readonly rings: Rings
  readonly #memory: SharedMemory
  readonly #slot: number
  readonly #timeoutMs: number
  readonly #host: ReplicaHost
  readonly #log: SharedLog
  readonly #owner: RingOwner
  readonly #applyPatch: ApplyPatch
  /** Whether the replica has the log up to the commit word (`Atomics.load`). */
  readonly #logCurrent: () => boolean

  constructor(memory: SharedMemory, slot: number, timeoutMs: number, host: ReplicaHost, log: SharedLog, owner: RingOwner) {
    this.rings = new Rings(memory, slot)
    this.#memory = memory
    this.#slot = slot
    this.#timeoutMs = timeoutMs
    this.#host = host
    this.#log = log
    this.#owner = owner
    this.#applyPatch = (bytes, start, end) => host.applyPatch(bytes, start, end)
    this.#logCurrent = () => memory.commits === owner.seen()
    // Every holder of the append mutex in this thread seals the rings first (`SharedMemory.sealer`).
    memory.sealer = { seal: (count, mask) => this.#sealHeld(count, mask), published: () => markSealed(this.rings.i32, this.#ends) }
  }

  /** Per ring, the position up to which the replica has its entries (stored with a snapshot; set by a rebuild). */
  get at(): Int32Array {
    return this.rings.at
  }

  /**
   * Whether no thread ring holds a published entry the replica lacks (plain reads: see
   * `Rings.current`). With `SharedRWLock.quiet`, the bare-read check: ring writes do not move
   * the commit count.
   */
  current(): boolean {
    return this.rings.current()
  }

  /** {@link current} with `Atomics` loads. */
  currentAtomic(): boolean {
    return this.rings.currentAtomic()
  }

  /**
   * The express update through this thread's ring: writes the patch `write` makes of record `key`
   * (`before` → `after`) to the ring and stores `after`, if the ring can take it (`Rings.write`:
   * `seen`, the commit count the update was planned at, must still be the commit word; `claim`,
   * the record's claim slot); false with nothing done otherwise. Called only while nobody listens
   * in this thread (`Transactions.idle`), as `Replica.appendField`.
   */
  write(seen: number, lock: { heldElsewhere(): boolean }, write: PatchWriter, store: TableStore, key: Key, before: Rec, after: Rec, field: string, claim: number): boolean {
    const rings = this.rings
    if (!rings.write(seen, lock, claim, write, key, before, after)) return false
    try {
      store.replaceField(key, before, after, field)
    } catch (error) {
      this.#owner.markBroken()
      throw error
    }
    // Half the own ring unsealed: seal it, so its writes find room (a writer never waits for a reader).
    if (rings.sealDue) this.#sealNow(true)
    else if (rings.lookDue && !rings.current()) this.catchUp(true)
    return true
  }


  /**
   * Under the append mutex, for a write of the record of claim slot `claim` (-1: none) through it:
   * a record another thread's ring wrote is contended from now on (see `Rings.takeClaim`), its
   * writes all take the mutex, after this entry (the other ring's entries so far were sealed).
   */
  takeClaim(claim: number): void {
    if (claim >= 0) this.rings.takeClaim(claim)
  }

  /**
   * Applies the other threads' published ring entries the replica lacks (after the log: they
   * come after it in its order). A thread with listeners seals them instead and reads them
   * from the log, so its listeners hear them in the log's order, each once. A ring whose entries
   * were overwritten while copied has them sealed in the log: the log is caught up and the copy
   * tried again, a few times, then this thread seals.
   */
  catchUp(canRebuild: boolean): void {
    const rings = this.rings
    if (rings.currentAtomic()) return
    if (this.#host.listened()) return this.#sealNow(canRebuild)
    for (let tries = 0; !applyPublished(rings, this.#applyPatch, this.#logCurrent); tries++) {
      if (tries === COPY_TRIES) return this.#sealNow(canRebuild)
      this.#owner.catchUpLog(canRebuild, this.#memory.commits)
    }
  }

  /**
   * The log's entry `i` of its last read, a seal, applied with nothing published (nobody listens):
   * its entries the replica lacks. False, with nothing applied, if this thread listens (the
   * caller decodes it: {@link decode}).
   */
  applySeal(log: SharedLog, i: number): boolean {
    if (this.#host.listened()) return false
    applySeal(this.rings, log.bytes, log.start(i), log.length(i), this.#applyPatch)
    return true
  }

  /** The log's entry `i` of its last read, a seal, decoded (to apply with {@link applyDecoded}). */
  decode(log: SharedLog, i: number): DecodedSeal {
    return decodeSeal(log.bytes, log.start(i), log.length(i))
  }

  /**
   * Applies a decoded seal that ends at log position `end`: its entries the replica lacks, each
   * told to the listeners as a commit at a position of its own within the seal's entry
   * (positions grow from commit to commit).
   */
  applyDecoded(seal: DecodedSeal, end: number): void {
    applyDecodedSeal(this.rings, seal, (ops, rest) => this.#host.applyRemote(ops, true, end - rest))
  }

  /** Seals every ring into the log (through the append mutex), then catches the log up. */
  #sealNow(canRebuild: boolean): void {
    const mem = this.#memory
    const count = mem.lockAppend(this.#slot, this.#timeoutMs, this.#owner.seen())
    mem.unlockAppend(this.#slot, count)
    this.#owner.catchUpLog(canRebuild, count)
    this.#owner.sealed(count)
  }

  /** Where the last seal this thread made took each ring, marked once its release published it (`markSealed`). */
  readonly #ends = new SealEnds()

  /**
   * `SharedMemory.sealer`: the append mutex held at count `count`, seals the rings (`mask`: those
   * ever written); the new count.
   */
  #sealHeld(count: number, mask: number): number {
    const found = waitForWriters(this.rings, mask, this.#timeoutMs)
    if (found === 0) return count
    const tail = tailAfter(this.#memory.head, count)
    const end = sealRings(this.rings, this.#log, tail, (from, to) => this.#owner.makeRoom(from, to), this.#ends)
    return end === tail ? count : tailWord(end)
  }
}
