import { InvalidArgumentError, InvalidStateError, describe } from '../errors'
import { checkName, checkOptions } from '../options'
import type { Commit } from '../storage/change'
import type { CommitListener } from '../txn/transactions'

/** Options of `db.changes()`. */
export interface ChangesOptions {
  /** Only commits touching these tables, with only their ops (default: every table). */
  tables?: string[]
  /** How many commits may wait for a slow consumer (default 10,000). */
  maxBuffered?: number
  /**
   * What a consumer that falls `maxBuffered` commits behind gets: `'error'` (default) a
   * `ChangeFeedOverflowError` from its next read, after the commits already buffered; `'reset'`
   * one `{ ops: [], reset: true, position }` commit in place of the buffered ones, then the commits
   * after it. The same when this thread's shared replica was rebuilt from a snapshot (it fell
   * behind the log): the commits in between were never delivered one by one.
   */
  onOverflow?: 'error' | 'reset'
  /**
   * Resumes after this `Commit.position` instead of starting from now: the commits after it
   * that this thread has not applied yet (a shared database's log still holds them) come first.
   * A position this thread's state has already passed cannot be replayed: `ChangeFeedOverflowError`,
   * or with `onOverflow: 'reset'` a reset first. A position past the end of the log is an
   * `InvalidArgumentError` (in a connected database, from the first read once the log was asked).
   */
  from?: number
}

/** What a change feed needs of its database's log. */
export interface FeedLog {
  subscribe(listener: CommitListener): () => void
  /** Where this thread's state stands (`Commit.position`), or undefined where positions are not kept. */
  position(): number | undefined
  /** The furthest position the log has reached (in any thread), as far as this thread knows. */
  tail(): number | undefined
  /** Where `tail()` may lag behind the log (a connected database): resolves once it has caught up. */
  refreshTail?: () => Promise<void>
  /** Applies (and delivers) what other threads committed. */
  sync(): void
}

/**
 * A change feed's consumer fell further behind than `maxBuffered` commits (`db.changes()`): the
 * feed stopped, so memory stays bounded. Read faster, raise `maxBuffered`, or use `onOverflow: 'reset'`.
 */
export class ChangeFeedOverflowError extends InvalidStateError {}

const DEFAULT_MAX_BUFFERED = 10_000
const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true })
const RESET: Commit = Object.freeze({ ops: Object.freeze([]), reset: true as const })

/**
 * The async iterator of `db.changes()`. It listens from its creation: commits wait in a bounded
 * queue until read. `break` (or `return()`) unsubscribes and drops the queue.
 */
export class ChangeFeed implements AsyncIterableIterator<Commit> {
  readonly #tables: ReadonlySet<string> | null
  readonly #max: number
  readonly #onOverflow: 'error' | 'reset'
  /** Queued commits: only items from `#head` onward are live. */
  #queue: Commit[] = []
  #head = 0
  #waiting: { resolve: (r: IteratorResult<Commit>) => void; reject: (e: unknown) => void } | null = null
  #error: Error | null = null
  /** After a reset is queued, commits are dropped until the consumer takes it (it reads afresh then). */
  #resetQueued = false
  #off: (() => void) | null
  readonly #log: FeedLog
  /** Commits at or before this position are skipped (a resumed feed catching up), or null. */
  #skipTo: number | null = null

  constructor(log: FeedLog, options: ChangesOptions | undefined) {
    const opts = checkOptions(options, ['tables', 'maxBuffered', 'onOverflow', 'from'], 'changes()')
    this.#tables = opts.tables === undefined ? null : new Set(checkTables(opts.tables))
    this.#max = opts.maxBuffered ?? DEFAULT_MAX_BUFFERED
    if (!Number.isSafeInteger(this.#max) || this.#max < 1) {
      throw new InvalidArgumentError(`Expected \`maxBuffered\` to be a positive integer, got ${describe(opts.maxBuffered)}`)
    }
    const onOverflow = opts.onOverflow ?? 'error'
    if (onOverflow !== 'error' && onOverflow !== 'reset') {
      throw new InvalidArgumentError(`Expected \`onOverflow\` to be 'error' or 'reset', got ${describe(onOverflow)}`)
    }
    this.#onOverflow = onOverflow
    this.#log = log
    // From now: every commit made anywhere before this call is left out.
    if (opts.from === undefined) log.sync()
    else this.#resume(opts.from)
    this.#off = log.subscribe(this.#onCommit)
    if (this.#skipTo !== null) log.sync()
  }

  /** Starts after `from`: skips what comes up to it, or starts with a gap (the error or a reset). */
  #resume(from: unknown): void {
    if (typeof from !== 'number' || !Number.isSafeInteger(from) || from < 0) {
      throw new InvalidArgumentError(`Expected \`from\` to be a position (a non-negative integer, a commit's \`position\`), got ${describe(from)}`)
    }
    const at = this.#log.position()
    const tail = this.#log.tail()
    if (at === undefined || tail === undefined) throw new InvalidArgumentError('changes(): `from` needs a log with positions')
    if (from > tail && this.#log.refreshTail === undefined) throw pastTheEnd(from, tail)
    if (from >= at) {
      this.#skipTo = from
      if (from > tail) this.#checkTail(from)
      return
    }
    const why = `changes(): the commits after position ${from} cannot be replayed: this thread's state is already at ${at}`
    if (this.#onOverflow === 'error') {
      throw new ChangeFeedOverflowError(`${why}. Read the state afresh, then resume from its position, or pass \`onOverflow: 'reset'\``)
    }
    this.#queueReset()
  }

  /** A position past what this process has heard of: asks the log, and stops the feed if it is past its end. */
  #checkTail(from: number): void {
    const refresh = this.#log.refreshTail as () => Promise<void>
    refresh().then(
      () => {
        const tail = this.#log.tail() as number
        if (from > tail && this.#off !== null) this.#fail(pastTheEnd(from, tail))
      },
      (error: unknown) => {
        if (this.#skipTo !== null && this.#off !== null) this.#fail(error instanceof Error ? error : new Error(String(error)))
      },
    )
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  /** How many commits wait to be read. */
  get buffered(): number {
    return this.#queue.length - this.#head
  }

  next(): Promise<IteratorResult<Commit>> {
    if (this.#head < this.#queue.length) return Promise.resolve({ value: this.#take(), done: false })
    if (this.#error !== null) {
      const error = this.#error
      this.#error = null
      return Promise.reject(error)
    }
    if (this.#off === null) return Promise.resolve(DONE)
    if (this.#waiting !== null) return Promise.reject(new InvalidStateError('changes(): next() called again before the previous read resolved'))
    return new Promise((resolve, reject) => (this.#waiting = { resolve, reject }))
  }

  return(): Promise<IteratorResult<Commit>> {
    this.#stop()
    this.#error = null
    this.#waiting?.resolve(DONE)
    this.#waiting = null
    return Promise.resolve(DONE)
  }

  #take(): Commit {
    const commit = this.#queue[this.#head] as Commit
    this.#queue[this.#head++] = undefined as never
    if (this.#head === this.#queue.length) {
      this.#queue = []
      this.#head = 0
    }
    return commit.reset === true ? this.#stamp() : commit
  }

  /**
   * The reset the consumer takes now: this thread catches up (what that delivers is in the state,
   * so it is dropped), the reset carries the position the state is at, and the commits queued
   * behind it that the state already holds are dropped.
   */
  #stamp(): Commit {
    if (this.#off !== null) {
      this.#resetQueued = true
      try {
        this.#log.sync()
      } finally {
        this.#resetQueued = false
      }
    }
    this.#resetQueued = false
    const position = this.#log.position()
    if (position === undefined) return RESET
    for (let i = this.#head; i < this.#queue.length; i++) {
      const p = (this.#queue[i] as Commit).position
      if (p !== undefined && p <= position) this.#queue[i] = undefined as never
    }
    this.#queue = this.#queue.slice(this.#head).filter((c) => c !== undefined)
    this.#head = 0
    return { ops: [], reset: true, position }
  }

  #queueReset(): void {
    this.#queue = [RESET]
    this.#head = 0
    this.#resetQueued = true
  }

  readonly #onCommit = (commit: Commit): void => {
    if (this.#skipTo !== null) {
      if (commit.position !== undefined && commit.position <= this.#skipTo) return
      this.#skipTo = null
    }
    const filtered = this.#filter(commit)
    if (filtered === null) return
    if (filtered.reset === true && this.#onOverflow === 'error') {
      return this.#overflow(
        'changes(): this thread fell so far behind the shared log that its state was rebuilt from a snapshot: ' +
          "the commits in between are not in the feed, which stopped. Pass `onOverflow: 'reset'` to get a reset and read the state afresh",
      )
    }
    const waiting = this.#waiting
    if (waiting !== null) {
      this.#waiting = null
      return waiting.resolve({ value: filtered.reset === true ? this.#stamp() : filtered, done: false })
    }
    if (this.#resetQueued && filtered.reset !== true) return
    if (this.buffered < this.#max) {
      this.#queue.push(filtered)
      return
    }
    if (this.#onOverflow === 'reset') return this.#queueReset()
    this.#overflow(
      `changes(): the consumer fell more than ${this.#max} commits behind; the feed stopped. ` +
        'Read faster, raise `maxBuffered`, or pass `onOverflow: \'reset\'` to get a reset and read the state afresh',
    )
  }

  #overflow(message: string): void {
    this.#fail(new ChangeFeedOverflowError(message))
  }

  /** Stops the feed: the consumer gets what is queued, then `error`. */
  #fail(error: Error): void {
    this.#stop()
    const waiting = this.#waiting
    if (waiting === null) this.#error = error
    else {
      this.#waiting = null
      waiting.reject(error)
    }
  }

  #filter(commit: Commit): Commit | null {
    const tables = this.#tables
    if (tables === null || commit.reset === true) return commit
    const ops = commit.ops.filter((op) => tables.has(op.table))
    if (ops.length === 0) return null
    if (ops.length === commit.ops.length) return commit
    return commit.position === undefined ? { ops } : { ops, position: commit.position }
  }

  #stop(): void {
    this.#off?.()
    this.#off = null
  }
}

function pastTheEnd(from: number, tail: number): InvalidArgumentError {
  return new InvalidArgumentError(`changes(): the position ${from} is past the end of the log (${tail})`)
}

function checkTables(tables: unknown): string[] {
  if (!Array.isArray(tables)) throw new InvalidArgumentError(`Expected \`tables\` to be a list of table names, got ${describe(tables)}`)
  return tables.map((t) => checkName(t, 'tables[]'))
}
