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
   * one `{ ops: [], reset: true }` commit in place of the buffered ones, then the commits after it.
   */
  onOverflow?: 'error' | 'reset'
}

/**
 * A change feed's consumer fell further behind than `maxBuffered` commits (`db.changes()`): the
 * feed stopped, so memory stays bounded. Read faster, raise `maxBuffered`, or use `onOverflow: 'reset'`.
 */
export class ChangeFeedOverflowError extends InvalidStateError {}

const DEFAULT_MAX_BUFFERED = 10_000
const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true })

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

  constructor(subscribe: (listener: CommitListener) => () => void, options: ChangesOptions | undefined) {
    const opts = checkOptions(options, ['tables', 'maxBuffered', 'onOverflow'], 'changes()')
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
    this.#off = subscribe(this.#onCommit)
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
    if (commit.reset === true) this.#resetQueued = false
    return commit
  }

  readonly #onCommit = (commit: Commit): void => {
    const filtered = this.#filter(commit)
    if (filtered === null) return
    const waiting = this.#waiting
    if (waiting !== null) {
      this.#waiting = null
      return waiting.resolve({ value: filtered, done: false })
    }
    if (this.#resetQueued && filtered.reset !== true) return
    if (this.buffered < this.#max) {
      this.#queue.push(filtered)
      return
    }
    if (this.#onOverflow === 'reset') {
      this.#queue = [{ ops: [], reset: true }]
      this.#head = 0
      this.#resetQueued = true
      return
    }
    this.#error = new ChangeFeedOverflowError(
      `changes(): the consumer fell more than ${this.#max} commits behind; the feed stopped. ` +
        'Read faster, raise `maxBuffered`, or pass `onOverflow: \'reset\'` to get a reset and read the state afresh',
    )
    this.#stop()
  }

  #filter(commit: Commit): Commit | null {
    const tables = this.#tables
    if (tables === null || commit.reset === true) return commit
    const ops = commit.ops.filter((op) => tables.has(op.table))
    if (ops.length === 0) return null
    return ops.length === commit.ops.length ? commit : { ops }
  }

  #stop(): void {
    this.#off?.()
    this.#off = null
  }
}

function checkTables(tables: unknown): string[] {
  if (!Array.isArray(tables)) throw new InvalidArgumentError(`Expected \`tables\` to be a list of table names, got ${describe(tables)}`)
  return tables.map((t) => checkName(t, 'tables[]'))
}
