import { performance } from 'node:perf_hooks'
import type { Database, Logger } from '../../database'
import { InvalidArgumentError, InvalidStateError, describe } from '../../errors'
import { checkBoolean, checkFunction, checkLogger, checkOptions } from '../../options'
import { checkFormat } from '../database-file'
import { MAX_TIMER_MS, OPTIONS, checkCount, checkDelay, unref, type BackupOptions, type BackupResult } from './options'
import { restoreWithReport, type RestoreOptions, type RestoreReport } from './restore'
import { BackupWriter } from './writer'
import { shortPath } from '../../values/describe'

// When to back up is decided here (timers, debounce, one backup at a time, failures); what a
// backup writes, and the journal it writes from, in ./writer.ts.
/**
 * Backs a database up into a directory: full snapshots and, in incremental mode, deltas of the
 * committed changes between them (taken from the commit stream, never by diffing). Periodic once
 * started, on demand with `notifyChange()` (debounced) or the `backup*()` methods. Timers never
 * keep the process alive. Restore with `BackupManager.restore(dir)`.
 *
 * @example
 * ```ts
 * const backups = new BackupManager(db, './backups', { incremental: true, keep: 3 })
 * backups.start()                       // a backup every 5 minutes
 * db.onCommit(() => backups.notifyChange())   // and within 5 s of any change
 * // ...
 * await backups.stop()
 * const copy = BackupManager.restore('./backups')
 * ```
 */
export class BackupManager {
  readonly #dir: string
  readonly #intervalMs: number
  readonly #minIntervalMs: number
  readonly #incremental: boolean
  readonly #maxDeltas: number
  readonly #onFailure: ((error: Error, consecutiveFailures: number) => void) | undefined
  readonly #logger: Logger
  readonly #writer: BackupWriter
  #failures = 0
  /** Backups run one at a time, in call order. */
  #queue: Promise<unknown> = Promise.resolve()
  #interval: ReturnType<typeof setInterval> | null = null
  #debounce: ReturnType<typeof setTimeout> | null = null
  #lastStart = -Infinity
  #started = false

  constructor(db: Database, dir: string, options?: BackupOptions) {
    if (typeof db !== 'object' || db === null || typeof db.onCommit !== 'function') {
      throw new InvalidArgumentError(`Expected \`db\` to be a Database, got ${describe(db)}`)
    }
    if (typeof dir !== 'string' || dir === '') throw new InvalidArgumentError(`Expected \`dir\` to be a non-empty string, got ${describe(dir)}`)
    const opts = checkOptions(options, OPTIONS, 'new BackupManager()')
    this.#dir = dir
    this.#intervalMs = checkDelay(opts.intervalMs, 'intervalMs', 300_000)
    this.#minIntervalMs = checkDelay(opts.minIntervalMs, 'minIntervalMs', 5_000)
    const format = checkFormat(opts.format) ?? 'json'
    this.#incremental = checkBoolean(opts.incremental, 'incremental') ?? false
    this.#maxDeltas = checkCount(opts.maxDeltasBeforeFull, 'maxDeltasBeforeFull', 10)
    const keep = checkCount(opts.keep, 'keep', Infinity)
    if (opts.onFailure !== undefined) checkFunction(opts.onFailure, 'onFailure')
    this.#onFailure = opts.onFailure
    this.#logger = opts.logger === undefined ? console : checkLogger(opts.logger)
    this.#writer = new BackupWriter(db, { dir, format, incremental: this.#incremental, keep, logger: this.#logger })
    this.#writer.listen()
  }

  /** How many backups failed in a row (0 after a success). */
  get consecutiveFailures(): number {
    return this.#failures
  }

  /** Deltas written since the last full backup. */
  get deltasSinceFull(): number {
    return this.#writer.deltasSinceFull
  }

  /** Whether automatic backups are on (`start()` … `stop()`). */
  get started(): boolean {
    return this.#started
  }

  /** Turns on the periodic backup (every `intervalMs`). Calling it again does nothing. */
  start(): void {
    if (this.#started) return
    this.#started = true
    this.#writer.listen()
    if (this.#intervalMs > 0) this.#interval = unref(setInterval(() => this.#auto(), this.#intervalMs))
  }

  /**
   * Turns automatic backups off, writes what changed since the last backup (a delta in
   * incremental mode, else a full backup; nothing when nothing changed), stops following the
   * commit stream (the next backup after a restart is a full one) and gives the folder up.
   * Resolves once that last backup is on disk; rejects if it could not be written.
   * `{ discardPending: true }` writes nothing: what changed since the last backup is not kept.
   *
   * @example
   * ```ts
   * const db = new Database()
   * const backups = new BackupManager(db, './backups', { incremental: true })
   * backups.start()
   * const shutdown = async () => {
   *   await backups.stop()   // the last changes are on disk
   *   process.exit(0)
   * }
   * process.once('SIGTERM', shutdown)
   * process.once('SIGINT', shutdown)
   * ```
   */
  async stop(options?: { discardPending?: boolean }): Promise<void> {
    const discard = checkBoolean(checkOptions(options, ['discardPending'], 'stop()').discardPending, 'discardPending') ?? false
    this.#started = false
    if (this.#interval !== null) clearInterval(this.#interval)
    if (this.#debounce !== null) clearTimeout(this.#debounce)
    this.#interval = null
    this.#debounce = null
    try {
      if (!discard) {
        this.#writer.catchUp()
        // Never backed up, or changed since: the last backup.
        if (!this.#writer.written || this.#writer.changed) await this.#run(() => this.#now())
      }
      await this.flush()
    } finally {
      this.#writer.stop()
    }
  }

  /** Resolves once every backup under way or queued has finished (failed ones included). */
  async flush(): Promise<void> {
    for (let queue = this.#queue; ; queue = this.#queue) {
      await queue
      if (queue === this.#queue) return
    }
  }

  /**
   * Says that data changed: a backup follows, at once if none ran in the last `minIntervalMs`,
   * else when that much time has passed since the last one — several calls, one backup.
   */
  notifyChange(): void {
    if (this.#debounce !== null) return
    const wait = Math.max(0, this.#lastStart + this.#minIntervalMs - performance.now())
    this.#debounce = unref(
      setTimeout(() => {
        this.#debounce = null
        this.#auto()
      }, Math.min(wait, MAX_TIMER_MS)),
    )
  }

  /**
   * Backs up what changed: in incremental mode a delta (a full backup when none was written
   * yet, or after `maxDeltasBeforeFull` deltas), nothing when nothing changed; otherwise a full
   * backup. Resolves to the file written, or null.
   */
  backupNow(): Promise<BackupResult | null> {
    return this.#run(() => this.#now())
  }

  /** Writes a full backup. */
  backupFull(): Promise<BackupResult> {
    return this.#run(() => this.#writer.full())
  }

  /**
   * Writes a delta of the changes since the last backup (incremental mode only); a full backup
   * when there is none to build on; nothing (null) when nothing changed.
   */
  backupDelta(): Promise<BackupResult | null> {
    if (!this.#incremental) return Promise.reject(new InvalidStateError('backupDelta() needs a BackupManager created with `incremental: true`'))
    return this.#run(() => (this.#writer.needsFull ? this.#writer.full() : this.#writer.delta()))
  }

  /** Rebuilds the database from a backup directory (see {@link BackupManager.restoreWithReport}). */
  static restore(dir: string, options?: RestoreOptions): Database {
    return restoreWithReport(dir, options).db
  }

  /**
   * Rebuilds the database from a backup directory and says from which files: the latest valid
   * full backup plus its deltas in order, stopping at the first missing or corrupt delta; a
   * corrupt full backup falls back to the previous generation. `lost` lists the files whose
   * changes are missing (also reported as a warning through the logger).
   */
  static restoreWithReport(dir: string, options?: RestoreOptions): RestoreReport {
    return restoreWithReport(dir, options)
  }

  /** A timer's backup: skipped when nothing changed since the last one. */
  #auto(): void {
    try {
      this.#writer.catchUp()
    } catch (error) {
      this.#failed(error instanceof Error ? error : new Error(String(error)))
      return
    }
    if (this.#writer.written && !this.#writer.changed) return
    this.#run(() => this.#now()).catch(() => {
      // Reported by #run (onFailure or the logger); a timer has no caller to reject to.
    })
  }

  #now(): Promise<BackupResult | null> {
    const writer = this.#writer
    writer.catchUp()
    if (!this.#incremental || writer.needsFull) return writer.full()
    if (!writer.changed) return Promise.resolve(null)
    return writer.deltasSinceFull >= this.#maxDeltas ? writer.full() : writer.delta()
  }

  #run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(() => {
      this.#lastStart = performance.now()
      return task()
    })
    const settled = result.then(
      (value) => {
        this.#failures = 0
        return value
      },
      (error: unknown) => {
        this.#failed(error instanceof Error ? error : new Error(String(error)))
        throw error
      },
    )
    this.#queue = settled.catch(() => {})
    return settled
  }

  #failed(error: Error): void {
    this.#failures++
    if (this.#onFailure === undefined) {
      this.#logger.error(`dictdb: backup to \`${shortPath(this.#dir)}\` failed (${this.#failures} in a row)`, error)
      return
    }
    try {
      this.#onFailure(error, this.#failures)
    } catch (handlerError) {
      this.#logger.error('dictdb: the onFailure handler of a BackupManager threw', handlerError)
    }
  }
}
