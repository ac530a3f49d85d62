import type { RemoteParts } from '../database'
import { decodeOps, decodeState, encodeOps, encodeState, portableDefinition, type WireOp } from '../shared/codec'
import { replicaHost } from '../shared/host'
import type { ReplicaHost } from '../shared/replica'
import type { Op } from '../storage/change'

/**
 * A commit's `position` in a connected database: its log entry's position × this, minus the
 * number of commits after it in the entry. Group commit puts several commits in one entry, so the
 * last one is exactly `entry × COMMITS_PER_ENTRY` and those before it count down from there; every
 * process reads the same entries, so the same commit has the same position everywhere. An entry
 * holds fewer commits than this (see MAX_GROUP in log.ts), and positions stay safe integers up to
 * 2^43 entries.
 */
export const COMMITS_PER_ENTRY = 1024

/**
 * A process's replica of a connected database: the same catalog and stores as a local database,
 * fed by the PostgreSQL log with the change codec of the worker_threads mode.
 */
export class ConnectedReplica {
  readonly #parts: RemoteParts
  readonly #host: ReplicaHost
  /** The log position this replica has applied (an entry's, not a commit's: see {@link at}). */
  position = 0
  /** While an entry is being applied: the position of its last commit applied so far. */
  #mid: number | null = null

  constructor(parts: RemoteParts) {
    this.#parts = parts
    this.#host = replicaHost(parts.catalog, parts.tx)
  }

  /**
   * Where the state stands as a `Commit.position`: the position of the last commit it holds
   * (`position × COMMITS_PER_ENTRY` once an entry is applied whole).
   */
  get at(): number {
    return this.#mid ?? this.position * COMMITS_PER_ENTRY
  }

  /** Applies a log entry (one or more commits) made elsewhere, telling the listeners. */
  applyEntry(position: number, bytes: Uint8Array): void {
    const commits = unframe(bytes)
    let at = position * COMMITS_PER_ENTRY - commits.length
    try {
      for (const commit of commits) {
        this.#mid = ++at
        this.#host.applyRemote(decodeOps(commit), true, at)
      }
    } finally {
      this.#mid = null
    }
    this.position = position
  }

  /** Replaces the state by a snapshot taken at `position`. */
  reset(position: number, state: Uint8Array | null): void {
    this.#host.resetFromState(state === null ? { tables: [] } : decodeState(state))
    this.position = position
  }

  /** The whole state, encoded (the caller is between commits). */
  snapshot(): Uint8Array {
    return encodeState(this.#host.rawState())
  }

  /**
   * Tells the listeners about this process's commits, once they are durable as the entry at
   * `position` (the replica's position by now), each with its `Commit.position`.
   */
  publish(position: number, commits: readonly (readonly Op[])[]): void {
    let at = position * COMMITS_PER_ENTRY - commits.length
    for (const ops of commits) this.#parts.tx.publish({ ops: ops as Op[], position: ++at })
  }

  /**
   * Undoes commits of this process that did not reach the log, newest first. Record changes and
   * created tables are undone here; other catalog changes cannot be (a dropped table's records
   * are gone): false, and the caller rebuilds the replica from the log.
   */
  undo(commits: readonly (readonly Op[])[]): boolean {
    const catalog = this.#parts.catalog
    for (let c = commits.length - 1; c >= 0; c--) {
      const ops = commits[c] as readonly Op[]
      for (let i = ops.length - 1; i >= 0; i--) {
        const op = ops[i] as Op
        if (op.type === 'record') catalog.context(op.table).store.undo(op)
        else if (op.type === 'createTable') catalog.remove(op.table)
        else return false
      }
    }
    return true
  }
}

/** An op as it goes into the log: records without `before` (each replica has its own). */
export function toWire(op: Op): WireOp {
  if (op.type === 'record') return { type: 'record', table: op.table, key: op.key, after: op.after }
  // A lock slot means nothing across processes: every replica's tables have local locks.
  if (op.type === 'createTable') return { type: 'createTable', table: op.table, definition: portableDefinition(op.definition), lockSlot: 0 }
  return op
}

/** Several commits in one log entry: a count, then each commit's length and bytes. */
export function frame(commits: readonly (readonly Op[])[]): Buffer {
  const parts = commits.map((ops) => encodeOps(ops.map(toWire)))
  const out = Buffer.allocUnsafe(4 + parts.reduce((n, p) => n + 4 + p.length, 0))
  let at = out.writeUInt32LE(parts.length, 0)
  for (const part of parts) {
    at = out.writeUInt32LE(part.length, at)
    out.set(part, at)
    at += part.length
  }
  return out
}

function unframe(bytes: Uint8Array): Uint8Array[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const commits: Uint8Array[] = []
  let at = 4
  for (let i = buf.readUInt32LE(0); i > 0; i--) {
    const length = buf.readUInt32LE(at)
    commits.push(buf.subarray(at + 4, at + 4 + length))
    at += 4 + length
  }
  return commits
}
