import { join } from 'node:path'
import type { Database, Logger } from '../../database'
import type { Commit } from '../../storage/change'
import { writeFileAtomic } from '../atomic'
import { encodeDatabase } from '../database-file'
import type { Format } from '../document'
import { encodeDocument } from '../encode'
import { fileError } from '../errors'
import { io } from '../fs'
import { snapshotAsync } from '../snapshot'
import { backupName, listBackups, pruneGenerations } from './files'
import { FolderLock } from './folder-lock'
import { journalItem, type JournalItem } from './journal'
import type { BackupResult } from './options'

/** What a backup took from the journal: put back in front of it if its file is not written. */
interface Taken {
  items: JournalItem[]
  changed: boolean
}

/**
 * The files of a {@link BackupManager} (./manager.ts): the journal of committed changes since the
 * last backup (taken from the commit stream), and the generations it writes from it — a full
 * backup, then deltas that build on it, one sequence number each, in a folder it holds locked.
 * The manager decides when; this writes one file at a time.
 */
export class BackupWriter {
  readonly #db: Database
  readonly #dir: string
  readonly #format: Format
  /** Whether the journal keeps the changes (for deltas), or only that there were some. */
  readonly #incremental: boolean
  readonly #keep: number
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
  /** The folder's lock: taken at the first write, given up by stop(). */
  readonly #folder: FolderLock

  constructor(db: Database, options: { dir: string; format: Format; incremental: boolean; keep: number; logger: Logger }) {
    this.#db = db
    this.#dir = options.dir
    this.#format = options.format
    this.#keep = options.keep
    this.#logger = options.logger
    this.#incremental = options.incremental
    this.#folder = new FolderLock(options.dir, options.logger)
  }

  /** Deltas written since the last full backup. */
  get deltasSinceFull(): number {
    return this.#deltasSinceFull
  }

  /** Whether a commit came since the last backup. */
  get changed(): boolean {
    return this.#changed
  }

  /** Whether the next backup must be a full one: none to build on, or the journal missed changes. */
  get needsFull(): boolean {
    return this.#base === null || !this.#intact
  }

  /** Whether a backup was written (since the last `stop`): a full one to build on. */
  get written(): boolean {
    return this.#base !== null
  }

  listen(): void {
    if (this.#unsubscribe !== null) return
    this.#unsubscribe = this.#db.onCommit((commit) => this.#onCommit(commit))
  }

  /** Stops following the commit stream, drops the journal, gives the folder up. */
  stop(): void {
    this.#unsubscribe?.()
    this.#unsubscribe = null
    this.#intact = false
    this.#pending = []
    this.#folder.release()
    // Given up: another writer may use the folder before this one writes again.
    this.#sequence = null
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
  catchUp(): void {
    this.#db.listTables()
  }

  async full(): Promise<BackupResult> {
    let taken: Taken = { items: [], changed: false }
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

  async delta(): Promise<BackupResult | null> {
    this.catchUp()
    if (this.#pending.length === 0) return null
    const taken: Taken = { items: this.#pending, changed: this.#changed }
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
    taken: Taken,
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
  #putBack(taken: Taken, file: string): void {
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
