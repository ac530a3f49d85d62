import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { Database, Logger } from '../../database'
import { InvalidArgumentError, InvalidStateError, describe } from '../../errors'
import { checkBoolean, checkFunction, checkLogger, checkOptions } from '../../options'
import type { Commit } from '../../storage/change'
import { writeFileAtomic } from '../atomic'
import { checkFormat, encodeDatabase } from '../database-file'
import type { Format } from '../document'
import { encodeDocument } from '../encode'
import { fileError } from '../errors'
import { io } from '../fs'
import { snapshotAsync } from '../snapshot'
import { backupName, listBackups, pruneGenerations } from './files'
import { FolderLock } from './folder-lock'
import { MAX_TIMER_MS, OPTIONS, checkCount, checkDelay, unref, type BackupOptions, type BackupResult } from './options'
import { journalItem, type JournalItem } from './journal'
import { restoreWithReport, type RestoreOptions, type RestoreReport } from './restore'


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
  readonly #db: Database
  readonly #dir: string
  readonly #intervalMs: number
  readonly #minIntervalMs: number
  readonly #format: Format
  readonly #incremental: boolean
  readonly #maxDeltas: number
  readonly #keep: number
  readonly #onFailure: ((error: Error, consecutiveFailures: number) => void) | undefined
  readonly #logger: Logger
  /** The last sequence number used in the directory (read from it on the first write). */
  #sequence: number | null = null
  /** The full backup the current chain of deltas builds on, and the chain's last file. */
  #base: number | null = null
  #last: number | null = null
  /** Committed changes since the last backup, as delta items (incremental mode). */
  #pending: JournalItem[] = []
  #changed = false
  /** Unsubscribes from the commit stream; null while not listening. */
  #unsubscribe: (() => void) | null = null
  /** The journal saw every commit since `#base` was written: a delta can follow it. */
  #intact = false
  #deltasSinceFull = 0
  #failures = 0
  /** Backups run one at a time, in call order. */
  #queue: Promise<unknown> = Promise.resolve()
  #interval: ReturnType<typeof setInterval> | null = null
  #debounce: ReturnType<typeof setTimeout> | null = null
  #lastStart = -Infinity
  #started = false
  /** The folder's lock: taken at the first write, given up by stop(). */
  readonly #folder: FolderLock

  constructor(db: Database, dir: string, options?: BackupOptions) {
    if (typeof db !== 'object' || db === null || typeof db.onCommit !== 'function') {
      throw new InvalidArgumentError(`Expected \`db\` to be a Database, got ${describe(db)}`)
    }
    if (typeof dir !== 'string' || dir === '') throw new InvalidArgumentError(`Expected \`dir\` to be a non-empty string, got ${describe(dir)}`)
    const opts = checkOptions(options, OPTIONS, 'new BackupManager()')
    this.#db = db
    this.#dir = dir
    this.#intervalMs = checkDelay(opts.intervalMs, 'intervalMs', 300_000)
    this.#minIntervalMs = checkDelay(opts.minIntervalMs, 'minIntervalMs', 5_000)
    this.#format = checkFormat(opts.format) ?? 'json'
    this.#incremental = checkBoolean(opts.incremental, 'incremental') ?? false
    this.#maxDeltas = checkCount(opts.maxDeltasBeforeFull, 'maxDeltasBeforeFull', 10)
    this.#keep = checkCount(opts.keep, 'keep', Infinity)
    if (opts.onFailure !== undefined) checkFunction(opts.onFailure, 'onFailure')
    this.#onFailure = opts.onFailure
    this.#logger = opts.logger === undefined ? console : checkLogger(opts.logger)
    this.#folder = new FolderLock(dir, this.#logger)
    this.#listen()
  }

  /** How many backups failed in a row (0 after a success). */
  get consecutiveFailures(): number {
    return this.#failures
  }

  /** Deltas written since the last full backup. */
  get deltasSinceFull(): number {
    return this.#deltasSinceFull
  }

  /** Whether automatic backups are on (`start()` … `stop()`). */
  get started(): boolean {
    return this.#started
  }

  /** Turns on the periodic backup (every `intervalMs`). Calling it again does nothing. */
  start(): void {
    if (this.#started) return
    this.#started = true
    this.#listen()
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
        this.#catchUp()
        // Never backed up, or changed since: the last backup.
        if (this.#base === null || this.#changed) await this.#run(() => this.#now())
      }
      await this.flush()
    } finally {
      this.#unsubscribe?.()
      this.#unsubscribe = null
      this.#intact = false
      this.#pending = []
      this.#folder.release()
      // Given up: another writer may use the folder before this one writes again.
      this.#sequence = null
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
    return this.#run(() => this.#full())
  }

  /**
   * Writes a delta of the changes since the last backup (incremental mode only); a full backup
   * when there is none to build on; nothing (null) when nothing changed.
   */
  backupDelta(): Promise<BackupResult | null> {
    if (!this.#incremental) return Promise.reject(new InvalidStateError('backupDelta() needs a BackupManager created with `incremental: true`'))
    return this.#run(() => (this.#base === null || !this.#intact ? this.#full() : this.#delta()))
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

  #listen(): void {
    if (this.#unsubscribe !== null) return
    this.#unsubscribe = this.#db.onCommit((commit) => this.#onCommit(commit))
  }

  /** The commit listener: runs inside every commit, so it only records (cheap). */
  #onCommit(commit: Commit): void {
    this.#changed = true
    // A replica rebuilt from a snapshot skipped changes: the next backup must be a full one.
    if (commit.reset === true) this.#intact = false
    if (this.#incremental) for (const op of commit.ops) this.#pending.push(journalItem(op))
  }

  /**
   * Brings in the commits of other threads (a shared database's replica catches up on any call):
   * their ops reach the journal through the commit listener before a backup looks at it.
   */
  #catchUp(): void {
    this.#db.listTables()
  }

  /** A timer's backup: skipped when nothing changed since the last one. */
  #auto(): void {
    try {
      this.#catchUp()
    } catch (error) {
      this.#failed(error instanceof Error ? error : new Error(String(error)))
      return
    }
    if (this.#base !== null && !this.#changed) return
    this.#run(() => this.#now()).catch(() => {
      // Reported by #run (onFailure or the logger); a timer has no caller to reject to.
    })
  }

  #now(): Promise<BackupResult | null> {
    this.#catchUp()
    if (!this.#incremental || this.#base === null || !this.#intact) return this.#full()
    if (!this.#changed) return Promise.resolve(null)
    return this.#deltasSinceFull >= this.#maxDeltas ? this.#full() : this.#delta()
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
      this.#logger.error(`dictdb: backup to \`${this.#dir}\` failed (${this.#failures} in a row)`, error)
      return
    }
    try {
      this.#onFailure(error, this.#failures)
    } catch (handlerError) {
      this.#logger.error('dictdb: the onFailure handler of a BackupManager threw', handlerError)
    }
  }

  async #full(): Promise<BackupResult> {
    let taken = { items: [] as JournalItem[], changed: false }
    const wasListening = this.#unsubscribe !== null
    const state = await snapshotAsync(this.#db, () => {
      taken = { items: this.#pending, changed: this.#changed }
      this.#pending = []
      this.#changed = false
    })
    const { file, sequence } = await this.#writeNext('full', taken, (sequence) => encodeDatabase(state, this.#format, { sequence }))
    this.#base = sequence
    this.#last = sequence
    this.#deltasSinceFull = 0
    this.#intact = wasListening && this.#unsubscribe !== null
    if (Number.isFinite(this.#keep)) pruneGenerations(this.#dir, this.#keep, this.#logger)
    return { kind: 'full', file, sequence, count: state.tables.reduce((n, t) => n + t.records.length, 0) }
  }

  async #delta(): Promise<BackupResult | null> {
    this.#catchUp()
    if (this.#pending.length === 0) return null
    const taken = { items: this.#pending, changed: this.#changed }
    this.#pending = []
    this.#changed = false
    const { file, sequence } = await this.#writeNext('delta', taken, (sequence) => {
      const header = { kind: 'delta', sequence, base: this.#base, previous: this.#last, count: taken.items.length }
      return encodeDocument(header, [{ name: 'ops', items: taken.items }], this.#format)
    })
    this.#last = sequence
    this.#deltasSinceFull++
    return { kind: 'delta', file, sequence, count: taken.items.length }
  }

  /** Writes the next generation's `kind` file, made by `encode`; if that fails, puts `taken` back. */
  async #writeNext(
    kind: 'full' | 'delta',
    taken: { items: JournalItem[]; changed: boolean },
    encode: (sequence: number) => Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  ): Promise<{ file: string; sequence: number }> {
    let file = ''
    try {
      const sequence = this.#nextSequence()
      file = join(this.#dir, backupName(kind, sequence, this.#format))
      await writeFileAtomic(file, encode(sequence))
      return { file, sequence }
    } catch (error) {
      this.#putBack(taken, file)
      throw error
    }
  }

  /**
   * After a failed write: the changes go back in front of the journal (the next backup carries
   * them), and the file is removed in case the failure came after its rename. Its sequence
   * number is not reused; a delta written again from the same point supersedes it on restore.
   */
  #putBack(taken: { items: JournalItem[]; changed: boolean }, file: string): void {
    this.#pending = taken.items.concat(this.#pending)
    this.#changed ||= taken.changed
    if (file === '') return // no file name yet: the folder could not be had
    try {
      io.unlinkSync(file)
    } catch {
      // Usually ENOENT: the write failed before the rename, so there is nothing to remove.
    }
  }

  /** The next sequence number; the first time, after the highest one in the directory (created if needed). */
  #nextSequence(): number {
    if (this.#sequence === null) {
      try {
        io.mkdirSync(this.#dir, { recursive: true })
      } catch (error) {
        throw fileError('create the backup directory', this.#dir, error)
      }
    }
    // Ours before anything is written; a sequence number read once the folder is ours.
    this.#folder.acquire()
    this.#sequence ??= listBackups(this.#dir).reduce((max, f) => Math.max(max, f.sequence), 0)
    return ++this.#sequence
  }

}
