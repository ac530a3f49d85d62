import type { Commit, RecordChange } from '../storage/change'

/** Receives every committed change set, in commit order. */
export type CommitListener = (commit: Commit) => void

/** The longest delivery queue kept, once drained, for the next commits. */
const MAX_KEPT_QUEUE = 64

/**
 * The commit listeners of one database and the commits queued for them. Commits are queued in
 * commit order and delivered each to every listener once; when to deliver (outside every lock
 * and transaction) is the caller's ({@link Transactions}') decision.
 */
export class Delivery {
  /** Each listener, with the number of the first commit it hears (the count at subscription). */
  readonly #listeners = new Map<CommitListener, number>()
  /** The listeners as a list, made again only when they change (not for every commit delivered). */
  #listenerList: [CommitListener, number][] | null = null
  /** The listeners that can tell a lone record change they would ignore (live views), and how. */
  readonly #ignores = new Map<CommitListener, (change: RecordChange) => boolean>()
  /** Their tests while every listener has one (else null): see {@link ignoredByAll}. */
  #ignoreList: ((change: RecordChange) => boolean)[] | null = null
  /**
   * Commits applied in this thread, not yet delivered, in commit order: slots `[#head, #tail)`.
   * Drained, it is reused from slot 0 (not made anew), so a commit costs no queue allocation.
   */
  #queue: (Commit | undefined)[] = []
  #head = 0
  #tail = 0
  /** Commits queued so far: `#queued - (#tail - #head)` numbers the one at `#head`. */
  #queued = 0
  #delivering = false
  readonly #reportError: (error: unknown) => void

  constructor(reportError: (error: unknown) => void) {
    this.#reportError = reportError
  }

  /** The number of listeners subscribed. */
  get size(): number {
    return this.#listeners.size
  }

  /** Whether commits wait to be delivered. */
  get pending(): boolean {
    return this.#head !== this.#tail
  }

  /** See {@link Transactions.subscribe}. */
  subscribe(listener: CommitListener, ignores?: (change: RecordChange) => boolean): () => void {
    if (!this.#listeners.has(listener)) {
      this.#listeners.set(listener, this.#queued)
      if (ignores !== undefined) this.#ignores.set(listener, ignores)
      this.#listenersChanged()
    }
    return () => {
      if (this.#listeners.delete(listener)) {
        this.#ignores.delete(listener)
        this.#listenersChanged()
      }
    }
  }

  #listenersChanged(): void {
    this.#listenerList = null
    this.#ignoreList = this.#ignores.size === this.#listeners.size ? [...this.#ignores.values()] : null
  }

  /**
   * Whether the commit of a lone local change need not be published: every listener says it
   * would ignore it. Asked only when every commit so far was delivered (their state is current).
   */
  ignoredByAll(change: RecordChange): boolean {
    const tests = this.#ignoreList
    if (tests === null || this.#head !== this.#tail || this.#delivering) return false
    for (let i = 0; i < tests.length; i++) if (!(tests[i] as (change: RecordChange) => boolean)(change)) return false
    return true
  }

  /** Queues a commit for the listeners (delivered by the next {@link drain}). */
  enqueue(commit: Commit): void {
    if (this.#tail === this.#queue.length) this.#queue.push(commit)
    else this.#queue[this.#tail] = commit
    this.#tail++
    this.#queued++
  }

  /**
   * Delivers the queued commits, in order, each to every listener once. Not re-entrant: a
   * listener's own writes are queued behind the current commit and delivered by this same loop.
   */
  drain(): void {
    if (this.#head === this.#tail || this.#delivering) return
    this.#delivering = true
    try {
      while (this.#head < this.#tail) {
        const number = this.#queued - (this.#tail - this.#head)
        const commit = this.#queue[this.#head] as Commit
        this.#queue[this.#head++] = undefined
        // A copy: a listener may subscribe or unsubscribe others while the commit is delivered.
        const list = (this.#listenerList ??= [...this.#listeners])
        for (let i = 0; i < list.length; i++) {
          const [listener, from] = list[i] as [CommitListener, number]
          if (from <= number && this.#listeners.has(listener)) this.#call(listener, commit)
        }
      }
    } finally {
      if (this.#head === this.#tail) {
        // A burst's long queue is let go; a short one is kept for the next commits.
        if (this.#queue.length > MAX_KEPT_QUEUE) this.#queue = []
        this.#head = 0
        this.#tail = 0
      }
      this.#delivering = false
    }
  }

  #call(listener: CommitListener, commit: Commit): void {
    try {
      listener(commit)
    } catch (error) {
      // The commit stands; a failing observer must not look like a failed write.
      this.#reportError(error)
    }
  }
}
