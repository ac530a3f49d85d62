import type { RemoteParts } from '../database'
import { decodeOps, decodeState, encodeOps, encodeState, portableDefinition, type WireOp } from '../shared/codec'
import { replicaHost } from '../shared/host'
import type { ReplicaHost } from '../shared/replica'
import type { Op } from '../storage/change'

/**
 * A process's replica of a connected database: the same catalog and stores as a local database,
 * fed by the PostgreSQL log with the change codec of the worker_threads mode.
 */
export class ConnectedReplica {
  readonly #parts: RemoteParts
  readonly #host: ReplicaHost
  /** The log position this replica has applied. */
  position = 0

  constructor(parts: RemoteParts) {
    this.#parts = parts
    this.#host = replicaHost(parts.catalog, parts.tx)
  }

  /** Applies a log entry (one or more commits) made elsewhere, telling the listeners. */
  applyEntry(position: number, bytes: Uint8Array): void {
    for (const commit of unframe(bytes)) this.#host.applyRemote(decodeOps(commit), true)
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

  /** Tells the listeners about a commit of this process, once it is durable. */
  publish(ops: readonly Op[]): void {
    this.#parts.tx.publish({ ops: ops as Op[] })
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
