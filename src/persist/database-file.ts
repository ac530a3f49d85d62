import type { Database, DatabaseOptions, Logger } from '../database'
import { CorruptFileError, InvalidArgumentError, describe } from '../errors'
import { checkOptions } from '../options'
import { withoutExpired } from '../live/ttl'
import type { Schema } from '../schema'
import type { DatabaseState } from '../storage/change'
import { writeFileAtomic, writeFileAtomicSync } from './atomic'
import { catalogEntry, checkSchemasOption, loadCounters, loadDefinition, type CatalogEntry } from './catalog'
import type { DocumentSink, Format, Section } from './document'
import { encodeDocument } from './encode'
import { buildDatabase, buildDatabaseAsync, type IncomingTable } from './ingest'
import { readDocument, readDocumentSync } from './read-file'
import { snapshotAsync } from './snapshot'
import { shortName, shortPath } from '../values/describe'

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
  const state = withoutExpired(db.exportState())
  const total = state.tables.reduce((n, t) => n + t.records.length, 0)
  const onItems = progress?.onItems
  writeFileAtomicSync(path, encodeDatabase(state, format, undefined, onItems && ((done) => onItems(done, total))))
}

/** `db.saveAsync()`: a snapshot under awaited read locks, encoded and written a chunk at a time. */
export async function saveDatabaseAsync(db: Database, path: string, options?: SaveOptions): Promise<void> {
  checkPath(path)
  const format = checkFormat(checkOptions(options, SAVE_OPTIONS, 'saveAsync()').format) ?? 'json'
  const state = withoutExpired(await snapshotAsync(db))
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
  const builder = new DatabaseBuilder(path, dbOptions, schemas)
  readDocumentSync(path, builder, { format, onProgress: progress?.onBytes })
  return buildDatabase(builder.tables(), dbOptions, builder.where)
}

/** `Database.loadAsync()`: read a block at a time, then applied a chunk at a time, yielding in between. */
export async function loadDatabaseAsync(path: string, options?: LoadOptions): Promise<Database> {
  checkPath(path)
  const { format, schemas, dbOptions } = splitLoadOptions(options, 'Database.loadAsync()')
  const builder = new DatabaseBuilder(path, dbOptions, schemas)
  await readDocument(path, builder, { format })
  return buildDatabaseAsync(builder.tables(), dbOptions, builder.where)
}

/**
 * Collects a database document: its catalog (definitions checked, counters, stated counts) and
 * each table's decoded records. Nothing is applied while the file is read, so a damaged file
 * (checksum, structure) is reported as such before its content is looked at; the tables then go
 * through the one way in (`ingest.ts`), whoever reads them — load, loadAsync, a restore.
 */
export class DatabaseBuilder implements DocumentSink {
  readonly where: string
  readonly #options: DatabaseOptions
  readonly #schemas: Readonly<Record<string, Schema>> | undefined
  readonly #checkSchemaNames: boolean
  #tables: (IncomingTable & { records: unknown[] })[] = []
  #seen = new Set<string>()
  #current: unknown[] | null = null
  #done = false
  /** The header, once read (a backup reads its sequence number there). */
  headerFields: Readonly<Record<string, unknown>> = {}

  /** `checkSchemaNames`: a `schemas` option naming a table the file lacks is a typo (not in a restore, whose deltas may create it). */
  constructor(path: string, options: DatabaseOptions, schemas: Readonly<Record<string, Schema>> | undefined, checkSchemaNames = true) {
    this.where = `\`${shortPath(path)}\``
    this.#options = options
    this.#schemas = schemas
    this.#checkSchemaNames = checkSchemaNames
  }

  header(header: Readonly<Record<string, unknown>>): void {
    if (header.kind !== 'database') {
      throw new CorruptFileError(`${this.where} is a backup delta, not a database: restore its directory with BackupManager.restore()`)
    }
    if (!Array.isArray(header.tables)) throw new CorruptFileError(`${this.where} is corrupt: its header has no table list`)
    this.headerFields = header
    const entries = header.tables as unknown[]
    if (this.#checkSchemaNames) checkSchemasOption(this.#schemas, entries.map((e) => String((e as CatalogEntry | null)?.name)), this.where)
    const logger: Logger = this.#options.logger ?? console
    const source = { schemas: this.#schemas, warn: (message: string) => logger.warn(message) }
    const names = new Set<string>()
    this.#tables = entries.map((entry) => {
      const definition = loadDefinition(entry, this.where, source)
      if (names.has(definition.name)) throw new CorruptFileError(`${this.where} is corrupt: the table \`${shortName(definition.name)}\` appears twice`)
      names.add(definition.name)
      return { definition, ...loadCounters(entry as Record<string, unknown>, this.where), records: [] }
    })
  }

  section(name: string): void {
    const table = this.#tables.find((t) => t.definition.name === name)
    if (table === undefined) throw new CorruptFileError(`${this.where} is corrupt: records of \`${shortName(name)}\`, a table its header does not list`)
    if (this.#seen.has(name)) throw new CorruptFileError(`${this.where} is corrupt: the records of \`${shortName(name)}\` appear twice`)
    this.#seen.add(name)
    this.#current = table.records
  }

  items(records: unknown[]): void {
    const into = this.#current as unknown[]
    for (let i = 0; i < records.length; i++) into.push(records[i])
  }

  end(): void {
    this.#done = true
  }

  /** The tables read, once the whole file was. */
  tables(): readonly IncomingTable[] {
    if (!this.#done) throw new CorruptFileError(`${this.where} is truncated`)
    return this.#tables
  }
}
