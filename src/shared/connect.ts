import { type Worker } from 'node:worker_threads'
import { InvalidStateError } from '../errors'
import { SharedRWLock } from '../locks/shared-lock'
import { CATALOG_LOCK, MAX_THREADS, SharedMemory, type SharedBuffers } from './memory'
import { Replica, reapThread, type ReplicaHost } from './replica'

/** What `db.handle()` returns: structured-cloneable, for `workerData` or `postMessage`. */
export interface DatabaseHandle {
  readonly kind: 'dictdb-shared-database'
  readonly buffers: SharedBuffers
  readonly lockTimeoutMs: number
}

/** Default size of the shared log ring. */
export const DEFAULT_LOG_BYTES = 64 * 1024 * 1024

/** A shared database's per-thread machinery: memory, replica, catalog lock, dead-thread reaper. */
export class SharedParts {
  readonly memory: SharedMemory
  readonly replica: Replica
  readonly catalogLock: SharedRWLock
  readonly #attached: boolean
  readonly #onWorker: (worker: Worker) => void

  constructor(memory: SharedMemory, host: ReplicaHost, timeoutMs: number, attached: boolean) {
    this.memory = memory
    this.#attached = attached
    this.replica = new Replica(memory, host, timeoutMs)
    this.catalogLock = new SharedRWLock({ name: '(catalog)', timeoutMs, memory, lockSlot: CATALOG_LOCK, threadSlot: this.replica.slot })
    // A worker started from this thread that exits or is terminated gives back what it held.
    this.#onWorker = (worker) => {
      const id = worker.threadId
      worker.once('exit', () => this.#reap(id))
    }
    process.on('worker', this.#onWorker)
  }

  /** Loads the current state (an attaching thread). */
  start(): void {
    if (this.#attached) this.replica.join()
  }

  handle(lockTimeoutMs: number): DatabaseHandle {
    return { kind: 'dictdb-shared-database', buffers: this.memory.buffers, lockTimeoutMs }
  }

  close(): void {
    process.off('worker', this.#onWorker)
    this.replica.detach()
    if (!this.#attached) this.memory.markClosed()
  }

  #reap(threadId: number): void {
    for (let slot = 0; slot < MAX_THREADS; slot++) {
      if (this.memory.isAttached(slot) && this.memory.threadIdOf(slot) === threadId) reapThread(this.memory, slot)
    }
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
