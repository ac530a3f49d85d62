import { threadId, type Worker } from 'node:worker_threads'
import { processWide } from '../brand'
import { InvalidStateError } from '../errors'
import { SharedRWLock } from '../locks/shared-lock'
import { CATALOG_LOCK, MAX_THREADS } from './layout'
import { SharedMemory, type SharedBuffers } from './memory'
import { reapThread } from './reaper'
import { Replica, type ReplicaHost } from './replica'

/** What `db.handle()` returns: structured-cloneable, for `workerData` or `postMessage`. */
export interface DatabaseHandle {
  readonly kind: 'dictdb-shared-database'
  readonly buffers: SharedBuffers
  readonly lockTimeoutMs: number
}

/** Default size of the shared log ring. */
export const DEFAULT_LOG_BYTES = 64 * 1024 * 1024

/**
 * The shared databases open in this thread, each reaping the workers this thread started. One set
 * per thread, not per copy of this module: the ESM and CommonJS builds loaded together share it,
 * and the one listener below serves both.
 */
// Weak: a database dropped without close() must not be kept alive by this module.
const openHere = processWide('shared-databases', () => new Set<WeakRef<SharedParts>>())

function* openParts(): Generator<SharedParts> {
  for (const ref of openHere) {
    const parts = ref.deref()
    if (parts === undefined) openHere.delete(ref)
    else yield parts
  }
}

// Listening from import on, not from a database's creation: a worker pool started before the
// database (its handle posted later) must be reaped too. Node's 'worker' event fires once the
// worker is online; its 'exit' is the only sign, in any thread, that a thread is gone (a
// terminated worker runs no 'exit' handler of its own).
// The only effect of importing dictdb; it is needed only by shared databases, so a bundler may
// drop it with the rest of an unused dictdb (package.json `"sideEffects": false`).
processWide('worker-reaper', () =>
  process.on('worker', (worker: Worker) => {
    const id = worker.threadId
    // If this thread dies, its workers die with it and their 'exit' fires here, where nobody
    // listens any more: record the parentage so whoever reaps this thread reaps them too.
    for (const parts of openParts()) {
      if (!parts.memory.recordChild(id, threadId)) {
        process.emitWarning(`dictdb: too many live workers to record thread ${id}'s parent; if this thread dies, its workers' locks go at their timeout`)
      }
    }
    worker.once('exit', () => {
      for (const parts of openParts()) {
        try {
          parts.reap(id)
        } catch (error) {
          // An exit handler must not throw; the dead thread's locks then go at their timeout.
          process.emitWarning(`dictdb: could not release what thread ${id} held: ${String(error)}`)
        }
      }
    })
  }),
)

/** A shared database's per-thread machinery: memory, replica, catalog lock, dead-thread reaper. */
export class SharedParts {
  readonly memory: SharedMemory
  readonly replica: Replica
  readonly catalogLock: SharedRWLock
  readonly #attached: boolean
  readonly #timeoutMs: number
  readonly #ref = new WeakRef(this)

  constructor(memory: SharedMemory, host: ReplicaHost, timeoutMs: number, attached: boolean) {
    this.memory = memory
    this.#attached = attached
    this.#timeoutMs = timeoutMs
    this.replica = new Replica(memory, host, timeoutMs)
    this.catalogLock = new SharedRWLock({ name: '(catalog)', timeoutMs, memory, lockSlot: CATALOG_LOCK, threadSlot: this.replica.slot })
    // A worker started from this thread that exits or is terminated gives back what it held.
    openHere.add(this.#ref)
  }

  /** Loads the current state (an attaching thread). */
  start(): void {
    if (this.#attached) this.replica.join()
  }

  handle(lockTimeoutMs: number): DatabaseHandle {
    return { kind: 'dictdb-shared-database', buffers: this.memory.buffers, lockTimeoutMs }
  }

  close(): void {
    openHere.delete(this.#ref)
    // A thread may end right after closing, before its pending waits for commits uncount themselves.
    this.memory.uncountFollows(this.replica.slot, true)
    this.replica.detach()
    if (!this.#attached) this.memory.markClosed()
  }

  /**
   * Gives back what the (dead) thread `threadId` held in this database, and its workers'; then
   * takes the snapshot one of them may have owed (see `Replica.snapshotIfOwed`).
   */
  reap(threadId: number): void {
    if (this.#reapTree(threadId, new Set<number>())) this.replica.snapshotIfOwed()
  }

  /** Reaps `threadId` and its workers; whether any of them was attached. */
  #reapTree(threadId: number, seen: Set<number>): boolean {
    if (seen.has(threadId)) return false
    seen.add(threadId)
    let reaped = false
    for (let slot = 0; slot < MAX_THREADS; slot++) {
      if (this.memory.isAttached(slot) && this.memory.threadIdOf(slot) === threadId) {
        reapThread(this.memory, slot, this.#timeoutMs)
        reaped = true
      }
    }
    for (const child of this.memory.childrenOf(threadId)) reaped = this.#reapTree(child, seen) || reaped
    this.memory.forgetChild(threadId)
    return reaped
  }
}

/** Creates a shared database, or opens the one a handle refers to. */
export function connectShared(
  host: ReplicaHost,
  options: { handle: DatabaseHandle | undefined; logBytes: number | undefined; timeoutMs: number },
): SharedParts {
  if (options.handle === undefined) {
    return new SharedParts(SharedMemory.create(options.logBytes ?? DEFAULT_LOG_BYTES), host, options.timeoutMs, false)
  }
  const memory = SharedMemory.open(options.handle.buffers)
  if (memory.closed) throw new InvalidStateError('This shared database was closed by the thread that created it; it cannot be attached')
  return new SharedParts(memory, host, options.timeoutMs, true)
}
