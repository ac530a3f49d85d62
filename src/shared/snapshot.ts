// The shared snapshot: the whole state a replica rebuilds from (then catching up from its
// position), written by a writer whenever the ring drops entries the last one does not cover.
import { InvalidStateError } from '../errors'
import type { DatabaseState } from '../storage/change'
import { BinaryWriter } from '../values/binary'
import { decodeSnapshot, encodeSnapshot } from './codec'
import { SnapshotChunks } from './state-codec'
import { guardLock, guardUnlock } from './guard'
import type { SharedMemory } from './memory'

/** One thread's writer of the shared snapshot. */
export class SnapshotWriter {
  readonly #memory: SharedMemory
  readonly #slot: number
  readonly #timeoutMs: number
  /**
   * The writers this thread's snapshots are encoded with, in turn, kept between them: a new
   * buffer of the snapshot's size (MiBs) took a page fault per 4 KiB each time (~1,240 for 100k
   * records, 5-15 ms of a 30 ms snapshot here). Two: each snapshot copies the chunks of records
   * unchanged since the last from the other's bytes (`SnapshotChunks`).
   */
  #writers: [BinaryWriter, BinaryWriter] | null = null
  /** Which of {@link #writers} the next snapshot is encoded with. */
  #turn = 0
  #chunks = new SnapshotChunks()

  constructor(memory: SharedMemory, slot: number, timeoutMs: number) {
    this.#memory = memory
    this.#slot = slot
    this.#timeoutMs = timeoutMs
  }

  #forget(): void {
    this.#writers = null
    this.#chunks = new SnapshotChunks()
  }

  /** Whether a snapshot must follow an append that moved the ring's head to `head`: the ring dropped entries the snapshot does not cover (or a snapshot failed since). */
  neededAfter(head: number): boolean {
    return this.#memory.snapshotPos < head
  }

  /**
   * Publishes `state` (the local state, caught up to `pos`) as the snapshot replicas rebuild
   * from, unless one at `pos` or later is there already (`force`: the state did not come through
   * the log).
   */
  write(state: DatabaseState, pos: number, force = false): void {
    const mem = this.#memory
    const buffer = mem.buffers.snapshot
    const writers = (this.#writers ??= [new BinaryWriter(mem.snapshotLength + 4096), new BinaryWriter(mem.snapshotLength + 4096)])
    const writer = writers[this.#turn] as BinaryWriter
    this.#turn ^= 1
    const bytes = encodeSnapshot(state, mem.snapshotLength, writer, this.#chunks)
    // Kept for the next snapshot, unless far larger than this one needed (the tables shrank):
    // dropped, with the chunks (once the bytes below are copied: they are the writer's).
    const drop = writer.bytes.length > 4 * bytes.length + (1 << 20)
    if (bytes.length > buffer.maxByteLength) {
      throw new InvalidStateError(`The shared snapshot needs ${bytes.length} bytes, more than its limit of ${buffer.maxByteLength}`)
    }
    guardLock(mem.i32, mem.snapshotWord, this.#slot, this.#timeoutMs, "the shared snapshot's writer mutex")
    try {
      // Another writer may have published a later snapshot meanwhile: keep the newest.
      if (!force && mem.snapshotPos >= pos && mem.snapshotLength > 0) return
      mem.bumpSnapshotSeq() // odd: being written
      if (buffer.byteLength < bytes.length) buffer.grow(Math.min(buffer.maxByteLength, Math.max(bytes.length, buffer.byteLength * 2)))
      new Uint8Array(buffer).set(bytes)
      mem.snapshotLength = bytes.length
      mem.snapshotPos = pos
      mem.bumpSnapshotSeq() // even: stable
    } finally {
      guardUnlock(mem.i32, mem.snapshotWord)
      if (drop) this.#forget()
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
