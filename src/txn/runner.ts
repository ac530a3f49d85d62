import type { Commit, Op, RecordChange } from '../storage/change'
import { Delivery, type CommitListener } from './delivery'
import { SnapshotFirst, type SharedSync } from './shared-sync'
import { withRetries, type RetryCatalog } from './retry'
import { asyncBody, isAsyncFunction, type Tx } from './tx'

/** What the transaction manager needs from the catalog. */
export interface Catalog extends RetryCatalog {
  reportListenerError(error: unknown): void
}

/**
 * The transaction runner and commit delivery: runs a transaction (retries, savepoints), commits
 * its ops to the shared log or the local count, and hands commits to the listeners once the
 * outermost call in progress ends. The per-call write path ({@link Transactions}, in
 * ./transactions.ts) extends it and shares its state (hence protected fields, not #private ones).
 */
export class TransactionRunner {
  readonly #catalog: Catalog
  protected readonly delivery: Delivery
  /** Calls in progress in this thread (outside a transaction): delivery waits for the outermost. */
  protected depth = 0
  protected tx: Tx | null = null
  protected shared: SharedSync | null = null
  /** Commits made in a local database (its log position). */
  protected commits = 0

  constructor(catalog: Catalog) {
    this.#catalog = catalog
    this.delivery = new Delivery((error) => catalog.reportListenerError(error))
  }

  /** Connects a shared database's replica (set once, at construction). */
  share(sync: SharedSync): void {
    this.shared = sync
  }

  /** Catches a shared replica up (rebuilding only when no uncommitted change is held). */
  sync(): void {
    this.depth++
    try {
      this.shared?.catchUp(this.tx === null || this.tx.log.length === 0)
    } finally {
      if (--this.depth === 0) this.deliver()
    }
  }

  /**
   * Where this thread's state stands in the log (`Commit.position` of the last commit applied
   * here), or undefined where positions are not kept.
   */
  get position(): number | undefined {
    const shared = this.shared
    return shared === null ? this.commits : shared.position?.()
  }

  /**
   * True outside every transaction and call in progress, with no listener: a write made now
   * commits alone, and has nothing to deliver (the express update, src/table/express.ts).
   */
  get idle(): boolean {
    return this.tx === null && this.depth === 0 && this.delivery.size === 0
  }

  /** Whether any listener is subscribed (else a commit needs no change list kept for them). */
  get listened(): boolean {
    return this.delivery.size !== 0
  }

  /**
   * Subscribes to commits made from now on; returns the unsubscribe function. `ignores(change)`,
   * if given, tells that the listener would do nothing with the commit of that one change alone
   * (it must call no user code, and answer from the state the listener has after every commit
   * delivered so far).
   */
  subscribe(listener: CommitListener, ignores?: (change: RecordChange) => boolean): () => void {
    return this.delivery.subscribe(listener, ignores)
  }

  /**
   * Runs `fn` as a transaction; nested calls are savepoints. A top-level transaction that loses a
   * deadlock is rolled back and run again, up to `retries` times, after a backoff: holding from
   * the start the write locks of what it locked before, and outranking
   * first attempts in the deadlocks it meets, so that its re-runs converge ({@link withRetries}).
   */
  run<R>(fn: () => R, tables: readonly string[], retries: number): R {
    if (isAsyncFunction(fn)) throw asyncBody()
    const outer = this.tx
    if (outer !== null) return outer.savepoint(fn, tables)
    this.depth++
    try {
      return withRetries(this.#catalog, tables, retries, (tx, upfront) => this.#top(tx, fn, upfront))
    } finally {
      if (--this.depth === 0) this.deliver()
    }
  }

  /** One attempt: locks `upfront` (sorted) for writing, runs the body, commits. */
  #top<R>(tx: Tx, fn: () => R, upfront: readonly string[]): R {
    this.tx = tx
    try {
      tx.holdUpfront(upfront)
      const result = tx.level(fn, 0)
      this.tx = null
      if (tx.log.length > 0) this.commit(tx.log, tx)
      return result
    } finally {
      this.tx = null
      tx.release()
    }
  }

  /**
   * Commits ops that are applied locally: appends them to the shared log (locks still held), then
   * tells the listeners. If the append fails (a commit too large for the log), undoes them.
   */
  protected commit(ops: Op[], tx?: Tx): void {
    if (this.shared !== null) {
      try {
        this.shared.append(ops)
      } catch (error) {
        // A single call undoes its own changes (see write/schema); a transaction is undone here,
        // and after a `SnapshotFirst` runs again (`withRetries`) once the snapshot is published.
        if (tx !== undefined) {
          tx.rollbackAll()
          if (error instanceof SnapshotFirst) this.snapshotFirst()
        }
        throw error
      }
      if (this.shared.defersPublish === true) return
    } else this.commits++
    // Nobody listens: no commit object to build.
    if (this.delivery.size !== 0) this.publish({ ops, position: this.position })
  }

  /**
   * After a `SnapshotFirst` from the append of ops now taken out of the replica: publishes the
   * snapshot it asked for (its failure is thrown, the commit undone), before they are committed again.
   */
  protected snapshotFirst(): void {
    this.shared?.snapshotAtTail?.()
  }

  /**
   * Queues a commit (local, or replayed from another thread) for the listeners. It is delivered
   * when the outermost call in progress ends, outside every lock and mutex that call took; at
   * once if no call is in progress (a log that learns of a commit later publishes it that way).
   */
  publish(commit: Commit): void {
    if (this.delivery.size === 0) return
    this.delivery.enqueue(commit)
    this.deliver()
  }

  protected deliver(): void {
    if (this.depth === 0 && this.tx === null) this.delivery.drain()
  }
}
