// What a replica (./replica.ts) needs from its database and its writers: the interfaces alone,
// apart from the replica's code (imported by its ring side too, ./ring-side.ts).
import type { DatabaseState } from '../storage/change'
import type { BinaryWriter } from '../values/binary'
import type { Key, Rec } from '../values/types'
import type { EncodedOps, WireOp } from './codec'

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
