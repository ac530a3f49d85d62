// The shared snapshot: the whole state a replica rebuilds from (then catching up from its
// position), written by a writer whenever the ring drops entries the last one does not cover.
import { InvalidStateError } from '../errors'
import type { DatabaseState } from '../storage/change'
import { BinaryWriter } from '../values/binary'
import { decodeSnapshot, encodeSnapshot } from './codec'
import { SnapshotChunks } from './state-codec'
import { guardLock, guardTryLock, guardUnlock } from './guard'
import type { SharedMemory } from './memory'
import type { Rec } from '../values/types'

/** How errors name the snapshot's writer mutex. */
const SNAPSHOT_MUTEX = "the shared snapshot's writer mutex"

/** What a spare list holds between snapshots (no record). */
const EMPTY = Object.freeze({}) as Rec

/** Where a snapshot's state comes from (the replica's host). */
export interface StateSource {
  /** The whole local state; `listFor`: the array to list a table's records in. */
  rawState(listFor?: (table: string) => Rec[] | undefined): DatabaseState
}

/** One thread's writer of the shared snapshot. */
export class SnapshotWriter {
  readonly #memory: SharedMemory
  readonly #slot: number
  readonly #timeoutMs: number
  /**
   * The writer this thread's snapshots are encoded with, kept between them: a new buffer of the
   * snapshot's size (MiBs) took a page fault per 4 KiB each time (~1,050 for 100k records, ~23 µs
   * each on this machine's VM). Not the shared buffer itself: it is growable, and a `DataView`
   * or typed array over a growable buffer is another kind of object to V8, so the value writers
   * shared with the ring's entries (`putFlat`) turned polymorphic there and every update's
   * `DataView` store became a builtin call (callgrind: 3,161 → 3,428 instructions per update).
   */
  #writer: BinaryWriter | null = null
  /** Where this thread's last snapshot left its chunks in {@link #writer}'s buffer (see `SnapshotChunks`). */
  #chunks = new SnapshotChunks()
  /**
   * Per table, an array the next snapshot lists its records in: the one the snapshot before the
   * last listed them in (the last one's is held by its chunks, compared with the next), emptied
   * in place so that it keeps no replaced record alive. A new array of 100k records is a large
   * object on fresh pages: a page fault per 4 KiB (~5 ms a snapshot here).
   */
  #spares = new Map<string, Rec[]>()
  /** What `rawState` lists a table's records in (none yet: a new array, of the right size). */
  readonly #listFor = (table: string): Rec[] | undefined => this.#spares.get(table)

  constructor(memory: SharedMemory, slot: number, timeoutMs: number) {
    this.#memory = memory
    this.#slot = slot
    this.#timeoutMs = timeoutMs
  }

  /** Whether a snapshot must follow an append that moved the ring's head to `head`: the ring dropped entries the snapshot does not cover (or a snapshot failed since). */
  neededAfter(head: number): boolean {
    return this.#memory.snapshotPos < head
  }

  /**
   * Publishes the local state (caught up to `pos`) as the snapshot replicas rebuild from, unless
   * one at `covers` or later is there already (`force`: the state did not come through the log).
   * `covers`: the ring's head this snapshot is owed for (the caller's append moved it there).
   * Encoded outside the append mutex into this thread's buffer (a chunk of records unchanged since
   * its last snapshot is left as it is there), then copied in, all under the snapshot's own mutex:
   * a writer that finds another one encoding a snapshot that covers its head leaves the snapshot
   * to it (unless `force`), rather than encode the whole state too, to be discarded. The other's
   * was taken at its own append, near the tail, so it nearly always covers it. Two workers
   * writing took the same snapshot at once: a fresh worker's first is a full encode into a new
   * buffer (~3,400 page faults for 100k records), the bench's inc2 windows that held one ran at
   * 2/3 of the others. An encode that outlasted a whole ring pass (a tiny ring, a large database)
   * does not cover it: then this writer waits for the mutex and takes its own, since no other
   * thread can be counted on to write again (a thread that must rebuild would wait in vain).
   */
  write(source: StateSource, pos: number, force = false, covers = pos): void {
    const mem = this.#memory
    if (force) guardLock(mem.i32, mem.snapshotWord, this.#slot, this.#timeoutMs, SNAPSHOT_MUTEX)
    else if (!this.#take(covers)) return
    try {
      // Another writer may have published one that covers `covers` meanwhile: none is needed.
      if (!force && mem.snapshotPos >= covers && mem.snapshotLength > 0) return
      mem.snapshotTaking = pos
      try {
        this.#publish(source, pos)
      } finally {
        // A failed one is owed again: the next head move takes it (see `Replica.#makeRoom`).
        mem.snapshotTaking = mem.snapshotPos
      }
    } finally {
      guardUnlock(mem.i32, mem.snapshotWord)
    }
  }

  /**
   * Takes the snapshot's mutex for a snapshot owed for head `covers`; false if another thread
   * holds it to encode one that covers that head (see {@link write}). Its holder stores its
   * position (`snapshotTaking`) once it holds it and will encode; until then, and once it is
   * done, the word holds the published snapshot's position, which only grows: either way what
   * the holder leaves published covers the position read, unless its encode fails (then the next
   * head move takes one, as after any failed snapshot).
   */
  #take(covers: number): boolean {
    const mem = this.#memory
    if (guardTryLock(mem.i32, mem.snapshotWord, this.#slot)) return true
    if (mem.snapshotTaking >= covers) return false
    guardLock(mem.i32, mem.snapshotWord, this.#slot, this.#timeoutMs, SNAPSHOT_MUTEX)
    return true
  }

  /** Encodes the local state and publishes it as the snapshot at `pos` (the snapshot's mutex held). */
  #publish(source: StateSource, pos: number): void {
    const mem = this.#memory
    const buffer = mem.buffers.snapshot
    const state = source.rawState(this.#listFor)
    const last = this.#chunks.tables
    const writer = (this.#writer ??= new BinaryWriter(mem.snapshotLength + 4096))
    let bytes: Uint8Array
    try {
      bytes = encodeSnapshot(state, mem.snapshotLength, writer, this.#chunks)
    } catch (error) {
      this.#forget()
      throw error
    }
    this.#keepLists(last)
    // Kept for the next snapshot, unless far larger than this one needed (the tables shrank):
    // dropped, with its chunks, once the bytes below are copied (they are the writer's).
    const drop = writer.bytes.length > 4 * bytes.length + (1 << 20)
    try {
      if (bytes.length > buffer.maxByteLength) {
        throw new InvalidStateError(`The shared snapshot needs ${bytes.length} bytes, more than its limit of ${buffer.maxByteLength}`)
      }
      mem.bumpSnapshotSeq() // odd: being written
      if (buffer.byteLength < bytes.length) buffer.grow(Math.min(buffer.maxByteLength, Math.max(bytes.length, buffer.byteLength * 2)))
      new Uint8Array(buffer).set(bytes)
      mem.snapshotLength = bytes.length
      mem.snapshotPos = pos
      mem.bumpSnapshotSeq() // even: stable
    } finally {
      if (drop) this.#forget()
    }
  }

  /** Drops the kept writer and what its bytes hold. */
  #forget(): void {
    this.#writer = null
    this.#chunks = new SnapshotChunks()
  }

  /**
   * After a snapshot: the lists the one before (`last`, its chunks) listed records in become the
   * next one's, emptied in place (the arrays, and their pages, stay).
   */
  #keepLists(last: ReadonlyMap<string, { readonly records: readonly Rec[] }>): void {
    this.#spares.clear()
    for (const [name, table] of this.#chunks.tables) {
      const spare = last.get(name)?.records as Rec[] | undefined
      if (spare === undefined || spare === table.records) continue
      spare.fill(EMPTY)
      this.#spares.set(name, spare)
    }
  }
}

/** A consistent copy of the snapshot as it stands, and the log position it reflects. */
export interface SnapshotCopy {
  readonly pos: number
  /** Null: no snapshot was written (the state is empty). */
  readonly bytes: Uint8Array | null
}

/**
 * Copies the snapshot as it stands; null if it is being written, or behind the ring's head (a
 * replica cannot catch up from it: it waits for the next one). Decoded apart ({@link snapshotState}):
 * a rebuilding replica clears its stale flag in between, so a mark set during the decode stands.
 */
export function copySnapshot(mem: SharedMemory): SnapshotCopy | null {
  const seq = mem.snapshotSeq
  const pos = mem.snapshotPos
  const length = mem.snapshotLength
  const bytes = length === 0 ? null : new Uint8Array(mem.buffers.snapshot, 0, length).slice()
  if (seq % 2 !== 0 || seq !== mem.snapshotSeq || pos < mem.head) return null
  return { pos, bytes }
}

/** The state a {@link copySnapshot} holds. */
export function snapshotState(copy: SnapshotCopy): DatabaseState {
  return copy.bytes === null ? { tables: [] } : decodeSnapshot(copy.bytes)
}
