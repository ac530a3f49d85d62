import { Database, type DatabaseOptions, type Logger } from '../database'
import { CorruptFileError, DictDBError, InvalidArgumentError, describe } from '../errors'
import { checkOptions } from '../options'
import type { Schema } from '../schema'
import type { DatabaseState, TableDefinition, TableState } from '../storage/change'
import { writeFileAtomic, writeFileAtomicSync } from './atomic'
import { catalogEntry, checkSchemasOption, loadCounters, loadDefinition, type CatalogEntry } from './catalog'
import type { DocumentSink, Format, Section } from './document'
import { encodeDocument } from './encode'
import { readDocument, readDocumentSync, yieldToLoop } from './read-file'
import { snapshotAsync } from './snapshot'
import { canonical } from '../values/canonical'

/** Options of `db.save()` / `db.saveAsync()`. */
export interface SaveOptions {
  /** `'json'` (default: readable, diffable) or `'binary'` (smaller, faster). */
  format?: Format
}

/** Options of `Database.load()` / `Database.loadAsync()`: the new database's options, plus: */
export interface LoadOptions extends DatabaseOptions {
  /** The expected format; detected from the file when omitted. */
  format?: Format
  /**
   * Validators to attach by table name. Needed for tables saved with a Standard Schema
   * (zod, valibot…): a file holds only type-string schemas. Overrides the stored schema.
   */
  schemas?: Readonly<Record<string, Schema>>
}

const SAVE_OPTIONS = ['format'] as const
const LOAD_OPTIONS = ['format', 'schemas', 'shared', 'lockTimeoutMs', 'logger'] as const

export function checkFormat(format: unknown): Format | undefined {
  if (format === undefined || format === 'json' || format === 'binary') return format
  throw new InvalidArgumentError(`Expected \`format\` to be 'json' or 'binary', got ${describe(format)}`)
}

function checkPath(path: unknown): string {
  if (typeof path !== 'string' || path === '') throw new InvalidArgumentError(`Expected \`path\` to be a non-empty string, got ${describe(path)}`)
  return path
}

/** The header and sections of a database file for a snapshot. */
export function databaseDocument(state: DatabaseState): { header: Record<string, unknown>; sections: Section[] } {
  return {
    header: { kind: 'database', tables: state.tables.map(catalogEntry) },
    sections: state.tables.map((t) => ({ name: t.definition.name, items: t.records })),
  }
}

/** The chunks of a database file, in a format (`extra` header fields: a backup's sequence). */
export function encodeDatabase(state: DatabaseState, format: Format, extra?: Record<string, unknown>, onItems?: (done: number) => void): Generator<Uint8Array> {
  const { header, sections } = databaseDocument(state)
  return encodeDocument(extra === undefined ? header : { ...header, ...extra }, sections, format, onItems)
}

/** Progress hooks of the CLI (not public options). */
export interface Progress {
  /** Saving: records written so far, out of `total`. */
  readonly onItems?: (done: number, total: number) => void
  /** Loading: bytes read so far, out of `total`. */
  readonly onBytes?: (done: number, total: number) => void
}

/** `db.save()`: a snapshot, written atomically. */
export function saveDatabase(db: Database, path: string, options?: SaveOptions, progress?: Progress): void {
  checkPath(path)
  const format = checkFormat(checkOptions(options, SAVE_OPTIONS, 'save()').format) ?? 'json'
  const state = db.exportState()
  const total = state.tables.reduce((n, t) => n + t.records.length, 0)
  const onItems = progress?.onItems
  writeFileAtomicSync(path, encodeDatabase(state, format, undefined, onItems && ((done) => onItems(done, total))))
}

/** `db.saveAsync()`: a snapshot under awaited read locks, encoded and written a chunk at a time. */
export async function saveDatabaseAsync(db: Database, path: string, options?: SaveOptions): Promise<void> {
  checkPath(path)
  const format = checkFormat(checkOptions(options, SAVE_OPTIONS, 'saveAsync()').format) ?? 'json'
  const state = await snapshotAsync(db)
  await writeFileAtomic(path, encodeDatabase(state, format))
}

function splitLoadOptions(options: LoadOptions | undefined, what: string) {
  const { format, schemas, ...dbOptions } = checkOptions(options, LOAD_OPTIONS, what)
  return { format: checkFormat(format), schemas, dbOptions }
}

/** `Database.load()`. */
export function loadDatabase(path: string, options?: LoadOptions, progress?: Progress): Database {
  checkPath(path)
  const { format, schemas, dbOptions } = splitLoadOptions(options, 'Database.load()')
  const builder = new DatabaseBuilder(path, dbOptions, schemas, false)
  readDocumentSync(path, builder, { format, onProgress: progress?.onBytes })
  return builder.result()
}

/** `Database.loadAsync()`: reads and fills the tables a chunk at a time, yielding in between. */
export async function loadDatabaseAsync(path: string, options?: LoadOptions): Promise<Database> {
  checkPath(path)
  const { format, schemas, dbOptions } = splitLoadOptions(options, 'Database.loadAsync()')
  const builder = new DatabaseBuilder(path, dbOptions, schemas, true)
  await readDocument(path, builder, { format, afterBlock: () => builder.drain() })
  await builder.drain() // what the end of the file produced (a JSON file parsed whole)
  return builder.result()
}

/**
 * Builds a database from a database document. `load`: the records are collected per table and
 * the database is built in one `Database.fromState` call (definitions, indexes, key counters;
 * records checked and frozen). `loadAsync`: the catalog becomes empty tables at once, then each
 * chunk of records is inserted through the public write path, a turn of the event loop between
 * chunks. Any inconsistency is a `CorruptFileError`; a half-built database is dropped.
 */
export class DatabaseBuilder implements DocumentSink {
  readonly #where: string
  readonly #options: DatabaseOptions
  readonly #schemas: Readonly<Record<string, Schema>> | undefined
  readonly #deferred: boolean
  #db: Database | null = null
  /** The catalog, with the records read so far (sync mode). */
  #state: { definition: TableDefinition; nextAutoKey: number; records: unknown[] }[] = []
  #tables: string[] = []
  #seen = new Set<string>()
  #current: string | null = null
  #done = false
  /** In async mode, chunks wait here so that inserting them can yield between chunks. */
  #queue: { table: string; records: unknown[] }[] = []

  constructor(path: string, options: DatabaseOptions, schemas: Readonly<Record<string, Schema>> | undefined, deferred: boolean) {
    this.#where = `\`${path}\``
    this.#options = options
    this.#schemas = schemas
    this.#deferred = deferred
  }

  header(header: Readonly<Record<string, unknown>>): void {
    if (header.kind !== 'database') {
      throw new CorruptFileError(`${this.#where} is a backup delta, not a database: restore its directory with BackupManager.restore()`)
    }
    if (!Array.isArray(header.tables)) throw new CorruptFileError(`${this.#where} is corrupt: its header has no table list`)
    const entries = header.tables as unknown[]
    const names = entries.map((e) => String((e as CatalogEntry | null)?.name))
    checkSchemasOption(this.#schemas, names, this.#where)
    const logger: Logger = this.#options.logger ?? console
    const source = { schemas: this.#schemas, warn: (message: string) => logger.warn(message) }
    this.#state = entries.map((entry) => {
      const definition = loadDefinition(entry, this.#where, source)
      return { definition, nextAutoKey: loadCounters(entry as Record<string, unknown>, this.#where).nextAutoKey, records: [] }
    })
    this.#tables = names
    if (this.#deferred) this.#db = this.#build()
  }

  section(name: string): void {
    if (!this.#tables.includes(name)) throw new CorruptFileError(`${this.#where} is corrupt: records of \`${name}\`, a table its header does not list`)
    if (this.#seen.has(name)) throw new CorruptFileError(`${this.#where} is corrupt: the records of \`${name}\` appear twice`)
    this.#seen.add(name)
    this.#current = name
  }

  items(records: unknown[]): void {
    const table = this.#current as string
    if (this.#deferred) {
      this.#queue.push({ table, records })
      return
    }
    const into = (this.#state[this.#tables.indexOf(table)] as { records: unknown[] }).records
    for (let i = 0; i < records.length; i++) into.push(records[i])
  }

  end(): void {
    this.#done = true
  }

  /** Inserts the queued chunks, a turn of the event loop after each. */
  async drain(): Promise<void> {
    do {
      const next = this.#queue.shift()
      if (next !== undefined) this.#insert(next.table, next.records)
      await yieldToLoop()
    } while (this.#queue.length > 0)
  }

  result(): Database {
    if (!this.#done) throw new CorruptFileError(`${this.#where} is truncated`)
    this.#db ??= this.#build()
    return this.#db
  }

  #build(): Database {
    for (const table of this.#state) checkUnique(table, this.#where)
    try {
      return Database.fromState({ tables: this.#state as TableState[] }, this.#options)
    } catch (error) {
      const table = error instanceof DictDBError ? error.table : undefined
      throw this.#corrupt(table === undefined ? 'its tables' : `the records of \`${table}\``, error)
    }
  }

  #insert(table: string, records: unknown[]): void {
    try {
      ;(this.#db as Database).getTable(table).insert(records as Record<string, unknown>[])
    } catch (error) {
      throw this.#corrupt(`the records of \`${table}\``, error)
    }
  }

  #corrupt(what: string, error: unknown): Error {
    if (error instanceof CorruptFileError) return error
    const message = error instanceof Error ? error.message : String(error)
    const wrapped = new CorruptFileError(`${this.#where} is corrupt: ${what} cannot be loaded: ${message}`, { cause: error })
    if (error instanceof DictDBError && error.table !== undefined) wrapped.table = error.table
    return wrapped
  }
}

/**
 * Unique indexes hold in the file (as an insert would check them): `fromState` trusts a snapshot
 * taken from a live table, but a file may have been edited.
 */
function checkUnique(table: { definition: TableDefinition; records: readonly unknown[] }, where: string): void {
  for (const index of table.definition.indexes) {
    if (!index.unique) continue
    const seen = new Set<unknown>()
    for (const rec of table.records) {
      const value = (rec as Record<string, unknown> | null)?.[index.field]
      if (value == null) continue
      const key = canonical(value)
      if (seen.has(key)) {
        const error = new CorruptFileError(`${where} is corrupt: the records of \`${table.definition.name}\` repeat the value ${describe(value)} of the unique index on \`${index.field}\``)
        error.table = table.definition.name
        error.field = index.field
        throw error
      }
      seen.add(key)
    }
  }
}
