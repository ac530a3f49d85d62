// The Database façade's persistence entry points: files (save, load, CSV import) and the
// snapshot and ingest seams that persistence, backups and restores go through.
import type { Database } from '../database'
import { importCsv, type ImportCsvOptions } from '../persist/csv-import'
import { loadDatabase, loadDatabaseAsync, saveDatabase, saveDatabaseAsync, type LoadOptions, type SaveOptions } from '../persist/database-file'
import { buildDatabase } from '../persist/ingest'
import type { Schema } from '../schema'
import type { DatabaseState } from '../storage/change'
import { ownsKey } from '../values/own-field'
import { OPEN, asDatabase } from './core'
import { DatabaseTables } from './tables'
import { DEFAULT_RETRIES, type DatabaseOptions } from './types'
import { PARTS } from './wiring'

/** The persistence entry points of {@link Database} (a layer of it, never made alone). */
export class DatabaseFiles extends DatabaseTables {
  /**
   * @internal A consistent snapshot of every table (definitions, key counters, frozen records),
   * taken under the read locks of all tables. Cheap: records are shared, not copied.
   * `atSnapshot` runs right after it is taken, before any listener hears a later commit (the
   * backup journal drops exactly what the snapshot holds).
   */
  exportState(atSnapshot?: () => void): DatabaseState {
    const parts = this[OPEN]()
    const take = (): DatabaseState => {
      // Every read lock first, in name order (as declared transactions lock), then read.
      const contexts = parts.catalog.contexts()
      for (const ctx of [...contexts].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        parts.tx.withLock(ctx.lock, 'read', () => undefined)
      }
      return parts.catalog.state(contexts)
    }
    // Shared: the catalog's read lock keeps other threads from creating or dropping tables while
    // the list is taken, and taking it catches this replica up, so the list is the latest one.
    const shared = parts.shared
    parts.tx.sync() // listeners hear what came before the snapshot, before it is taken
    return parts.tx.run(() => {
      const state = shared === null ? take() : parts.tx.withLock(shared.catalogLock, 'read', take)
      atSnapshot?.()
      return state
    }, [], DEFAULT_RETRIES)
  }

  /**
   * @internal Builds a database from a snapshot, through the same way in as a loaded file
   * (`persist/ingest.ts`). `schemas` re-attaches validators that could not be serialized.
   */
  static fromState(state: DatabaseState, options?: DatabaseOptions, schemas?: Readonly<Record<string, Schema>>): Database {
    const tables = state.tables.map((t) => {
      const schema = schemas !== undefined && ownsKey(schemas, t.definition.name) ? schemas[t.definition.name] : undefined
      return schema === undefined ? t : { ...t, definition: { ...t.definition, schema } }
    })
    return buildDatabase(tables, options ?? {}, 'the snapshot')
  }

  /**
   * @internal The way in of persisted records (load, restore): one change set through the write
   * path, see `Catalog.ingest`.
   */
  ingest(table: string, records: readonly unknown[], replace: boolean): void {
    this[OPEN]().catalog.ingest(table, records, replace)
  }

  /** @internal A loaded table's auto-key counter, as its file kept it. */
  raiseNextAutoKey(table: string, next: number): void {
    this[OPEN]().catalog.raiseNextAutoKey(table, next)
  }

  /**
   * @internal After a load: the key counters were set outside the change log, so threads that
   * attach to a shared database start from a snapshot of the loaded state.
   */
  publishLoaded(): void {
    this[PARTS].shared?.replica.publishSnapshot()
  }

  /**
   * Saves the database to `path` (format `'json'`, the default, or `'binary'`). The file is
   * written aside and renamed over `path`: a crash mid-save leaves the previous file intact.
   *
   * @example
   * ```ts
   * db.save('shop.json')
   * db.save('shop.dictdb', { format: 'binary' })
   * ```
   */
  save(path: string, options?: SaveOptions): void {
    this[OPEN]()
    saveDatabase(asDatabase(this), path, options)
  }

  /**
   * {@link Database.save} without blocking the event loop: the snapshot waits for read locks
   * with `await`, and encoding and writing go a chunk at a time.
   *
   * @example
   * ```ts
   * await db.saveAsync('shop.json')
   * ```
   */
  async saveAsync(path: string, options?: SaveOptions): Promise<void> {
    this[OPEN]()
    await saveDatabaseAsync(asDatabase(this), path, options)
  }

  /**
   * Loads a database saved by {@link Database.save} (format detected from the file). A missing,
   * truncated or corrupt file throws (`FileSystemError`, `CorruptFileError`); nothing is half-loaded.
   * `schemas` re-attaches Standard Schema validators, which a file cannot hold.
   *
   * @example
   * ```ts
   * const db = Database.load('shop.json', { schemas: { users: UserSchema } })
   * ```
   */
  static load(path: string, options?: LoadOptions): Database {
    return loadDatabase(path, options)
  }

  /**
   * {@link Database.load} without blocking the event loop: read, decoded and inserted a chunk at
   * a time.
   *
   * @example
   * ```ts
   * const db = await Database.loadAsync('shop.json')
   * ```
   */
  static loadAsync(path: string, options?: LoadOptions): Promise<Database> {
    return loadDatabaseAsync(path, options)
  }

  /**
   * Creates the table `tableName` from a CSV file (header row, `delimiter`, a schema or type
   * inference) and returns how many rows it imported. All or nothing: a bad row names its line.
   *
   * @example
   * ```ts
   * const n = db.importCsv('users.csv', 'users', { schema: { name: 'string', age: 'integer' } })
   * ```
   */
  importCsv(path: string, tableName: string, options?: ImportCsvOptions): number {
    this[OPEN]()
    return importCsv(asDatabase(this), path, tableName, options)
  }
}
