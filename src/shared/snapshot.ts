// The shared snapshot: the whole state a replica rebuilds from (then catching up from its
// position), written by a writer whenever the ring drops entries the last one does not cover.
import { InvalidStateError } from '../errors'
import type { DatabaseState } from '../storage/change'
import { BinaryWriter, WRITER_FULL } from '../values/binary'
import { decodeSnapshot, encodeSnapshot } from './codec'
import { SnapshotChunks } from './state-codec'
import { guardLock, guardUnlock } from './guard'
import { H_SNAP_SEQ } from './layout'
import type { SharedMemory } from './memory'
import type { Rec } from '../values/types'

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
   * Writes each snapshot straight into the shared buffer (`BinaryWriter.over`). A private buffer,
   * copied into it after, took a page fault per 4 KiB when new (~1,050 for 100k records, ~23 µs
   * each on this machine's VM), and the copy wrote every page of the shared buffer, which a fork
   * of the process (`child_process`) leaves copy-on-write: a fault each again.
   */
  readonly #writer = new BinaryWriter(16)
  /** Where this thread's last snapshot left its chunks in the shared buffer (see `SnapshotChunks`). */
  #chunks = new SnapshotChunks()
  /** The snapshot sequence number this thread's last snapshot left; another means another thread wrote one since. */
  #seq = -1
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
   * Publishes `state` (the local state, caught up to `pos`) as the snapshot replicas rebuild
   * from, unless one at `pos` or later is there already (`force`: the state did not come through
   * the log). Encoded in place under the snapshot's own mutex (never the append mutex), the
   * sequence number odd meanwhile: a replica that rebuilds waits for it, as it waits for any
   * snapshot once the ring passed the last one.
   */
  write(source: StateSource, pos: number, force = false): void {
    const mem = this.#memory
    guardLock(mem.i32, mem.snapshotWord, this.#slot, this.#timeoutMs, "the shared snapshot's writer mutex")
    try {
      // Another writer may have published a later snapshot meanwhile: keep the newest.
      if (!force && mem.snapshotPos >= pos && mem.snapshotLength > 0) return
      // The buffer holds this thread's last snapshot, as its chunks say, only if nobody wrote one since.
      if (mem.snapshotSeq !== this.#seq) this.#chunks = new SnapshotChunks()
      const state = source.rawState(this.#listFor)
      const last = this.#chunks.tables
      mem.bumpSnapshotSeq() // odd: being written
      let length: number
      try {
        length = this.#encode(state)
      } catch (error) {
        // Partly written over: no snapshot stands (replicas that need one wait for the next).
        this.#chunks = new SnapshotChunks()
        mem.snapshotPos = -1
        Atomics.add(mem.i32, H_SNAP_SEQ, 1) // even, not counted as taken
        throw error
      }
      mem.snapshotLength = length
      mem.snapshotPos = pos
      mem.bumpSnapshotSeq() // even: stable
      this.#seq = mem.snapshotSeq
      this.#keepLists(last)
    } finally {
      guardUnlock(mem.i32, mem.snapshotWord)
    }
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

  /** Encodes `state` into the shared buffer, growing it as needed; returns its length. */
  #encode(state: DatabaseState): number {
    const buffer = this.#memory.buffers.snapshot
    for (;;) {
      try {
        return encodeSnapshot(state, 0, this.#writer.over(new Uint8Array(buffer), new DataView(buffer), 0, buffer.byteLength), this.#chunks).length
      } catch (error) {
        if (error !== WRITER_FULL) throw error
      }
      if (buffer.byteLength >= buffer.maxByteLength) {
        throw new InvalidStateError(`The shared snapshot needs more than its limit of ${buffer.maxByteLength} bytes`)
      }
      // Generously: each try encodes again, and pages past the snapshot's end are never touched
      // (a growable buffer's memory is reserved, and backed only where written).
      const wanted = Math.ceil(this.#chunks.wanted * 1.125)
      buffer.grow(Math.min(buffer.maxByteLength, Math.max(buffer.byteLength * 4, wanted, 1 << 20)))
      // Encoded again from the start: what the last try wrote is no chunk of the last snapshot.
      this.#chunks = new SnapshotChunks()
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
