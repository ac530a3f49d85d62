import { parse } from 'csv-parse'
import type { Database } from '../database'
import { CorruptFileError, DictDBError, DuplicateTableError, InvalidArgumentError, describe } from '../errors'
import { checkBoolean, checkName, checkOptions } from '../options'
import { isStandardSchema, type FieldType, type Schema } from '../schema'
import type { Table } from '../table'
import { limits } from './document'
import { fileError, FileSystemError } from './errors'
import { io } from './fs'
import { castCell, inferCell } from './csv-values'
import { withFileForReading } from './read-file'
import { shortName, shortPath } from '../values/describe'

/** Options of `db.importCsv()`. */
export interface ImportCsvOptions {
  /** The field separator (default `,`). */
  delimiter?: string
  /** Whether the first row names the columns (default true). Without it, give `columns` or a type-string `schema`. */
  header?: boolean
  /** Column names when there is no header row (default: the fields of a type-string schema, in order). */
  columns?: string[]
  /** The new table's schema: a type-string schema also converts each cell to its field's type. */
  schema?: Schema
  /** Turn cells that look like numbers, booleans or JSON into those (default true); else every value is a string. */
  inferTypes?: boolean
  /** The new table's primary key (default `'id'`); rows without it get auto keys. */
  primaryKey?: string
}

const OPTIONS = ['delimiter', 'header', 'columns', 'schema', 'inferTypes', 'primaryKey'] as const
const BLOCK = 1 << 20

type Parser = ReturnType<typeof parse>

interface Row {
  readonly record: Record<string, unknown>
  readonly line: number
}

/** The checked options of one import. */
interface Import {
  readonly delimiter: string
  readonly header: boolean
  readonly primaryKey: string
  readonly schema: Schema | undefined
  /** The column names, when known before the header row (given, or a schema's fields). */
  readonly columns: string[] | null
  /** One cell's text as its field's value: cast by the schema, inferred, or kept as text. */
  readonly toValue: (text: string, field: string) => unknown
}

/**
 * `db.importCsv()`: creates `tableName` and fills it from the CSV file, in one transaction —
 * a row that fails (schema, duplicate key) names its line and nothing is imported. The file is
 * read and parsed a block at a time (csv-parse), rows inserted a chunk at a time.
 */
export function importCsv(db: Database, path: string, tableName: string, options?: ImportCsvOptions): number {
  const opts = checkOptions(options, OPTIONS, 'importCsv()')
  checkName(path, 'path')
  checkName(tableName, 'tableName')
  const { delimiter, header, primaryKey, schema, columns: given, toValue } = checkImport(opts)
  if (db.hasTable(tableName)) throw new DuplicateTableError(`Table \`${shortName(tableName)}\` already exists: importCsv() creates a new table`, { table: tableName })
  let columns = given
  let count = 0
  db.transaction(() => {
    const table = db.createTable(tableName, schema === undefined ? { primaryKey } : { primaryKey, schema })
    let batch: Row[] = []
    let headerRow = header
    readCsv(path, delimiter, (cells, line) => {
      if (headerRow) {
        headerRow = false
        // Given `columns` rename the header's columns; else the header names them.
        columns ??= checkColumns(cells.map((c) => c ?? ''), `the header of \`${shortPath(path)}\``)
        return
      }
      if (columns === null) return
      batch.push({ record: recordOf(cells, columns, toValue, line, path), line })
      if (batch.length >= limits.itemsPerChunk) {
        count += insertRows(table, batch, path)
        batch = []
      }
    })
    count += insertRows(table, batch, path)
  })
  return count
}

/** Checks the values of the options of `importCsv()` and completes them with their defaults. */
function checkImport(opts: ImportCsvOptions): Import {
  const delimiter = opts.delimiter ?? ','
  if (typeof delimiter !== 'string' || delimiter.length === 0 || /["\r\n]/.test(delimiter)) {
    throw new InvalidArgumentError(`Expected \`delimiter\` to be a non-empty string without quotes or line breaks, got ${describe(delimiter)}`)
  }
  const header = checkBoolean(opts.header, 'header') ?? true
  const infer = checkBoolean(opts.inferTypes, 'inferTypes') ?? true
  const primaryKey = opts.primaryKey === undefined ? 'id' : checkName(opts.primaryKey, 'primaryKey')
  const types = fieldTypes(opts.schema)
  let columns = opts.columns === undefined ? null : checkColumns(opts.columns, 'columns')
  if (!header && columns === null) {
    if (types === null) throw new InvalidArgumentError('importCsv() with `header: false` needs `columns` (or a type-string `schema`) to name the fields')
    columns = [...types.keys()]
  }
  const toValue = (text: string, field: string): unknown => {
    const type = types?.get(field)
    return type !== undefined ? castCell(text, type) : infer ? inferCell(text) : text
  }
  return { delimiter, header, primaryKey, schema: opts.schema, columns, toValue }
}

/** The record of one row's cells; a missing value (null) leaves its field out. */
function recordOf(cells: readonly (string | null)[], columns: readonly string[], toValue: Import['toValue'], line: number, path: string): Record<string, unknown> {
  if (cells.length !== columns.length) {
    throw new CorruptFileError(`Line ${line} of \`${shortPath(path)}\` has ${cells.length} field(s), the header has ${columns.length}`)
  }
  const record: Record<string, unknown> = {}
  for (let i = 0; i < columns.length; i++) {
    const text = cells[i]
    if (text !== null && text !== undefined) record[columns[i] as string] = toValue(text, columns[i] as string)
  }
  return record
}

/** Inserts a chunk; if it fails, finds the first failing row and reports its line. */
function insertRows(table: Table<Record<string, unknown>>, rows: readonly Row[], path: string): number {
  if (rows.length === 0) return 0
  try {
    return table.insert(rows.map((r) => r.record)).length
  } catch (error) {
    // The chunk insert is atomic (nothing stored); insert row by row to find the culprit. Rows
    // before it are stored, but the whole import's transaction rolls back on the throw.
    for (const row of rows) {
      try {
        table.insert(row.record)
      } catch (rowError) {
        throw atLine(rowError, row.line, path)
      }
    }
    throw error
  }
}

/** The same error, its message prefixed with the line of the CSV file (and `line` set). */
function atLine(error: unknown, line: number, path: string): unknown {
  if (!(error instanceof DictDBError)) return error
  const message = `Line ${line} of \`${shortPath(path)}\`: ${error.message}`
  // FileSystemError is made of (message, path, cause), not (message, context): its system error
  // is the cause that gives its code (a validator may read a file through dictdb).
  if (error instanceof FileSystemError) return Object.assign(new FileSystemError(message, error.path, error.cause), { line })
  const Kind = error.constructor as new (message: string, context: object) => DictDBError
  const context: Record<string, unknown> = { cause: error }
  if (error.table !== undefined) context.table = error.table
  if (error.field !== undefined) context.field = error.field
  if ('key' in error) context.key = error.key
  return Object.assign(new Kind(message, context), { line })
}

/**
 * Reads the CSV file a block at a time, calling `onRow` with each row's cells (null for an
 * unquoted empty cell, a missing value; "" for a quoted one) and the line it starts on. Blank
 * lines are skipped. csv-parse's own per-field `cast` hook is not used: it costs 5× the parse.
 *
 * csv-parse's documented stream API, driven synchronously (an import runs inside a synchronous
 * transaction): `write` parses a block at once, `read` takes the rows it produced, `end` the last
 * one; a parse error is on `errored` as soon as the write returns.
 */
function readCsv(path: string, delimiter: string, onRow: (cells: (string | null)[], line: number) => void): void {
  const parser = parse({ delimiter, bom: true, raw: true, relax_column_count: true, skip_empty_lines: false })
  parser.on('error', () => {
    // Read from `parser.errored` after each step; the event itself is not needed.
  })
  let line = 1
  const drain = () => {
    line = takeRows(parser, path, delimiter, line, onRow)
  }
  withFileForReading(path, (fd) => {
    if (io.fstatSync(fd).isDirectory()) throw new FileSystemError(`Cannot read \`${shortPath(path)}\`: it is a directory, not a CSV file`, path)
    const block = Buffer.allocUnsafe(BLOCK)
    for (;;) {
      let n: number
      try {
        n = io.readSync(fd, block, 0, block.length, null)
      } catch (error) {
        throw fileError('read', path, error)
      }
      if (n === 0) break
      // csv-parse keeps a copy of what it needs of an unfinished row: the block can be reused.
      parser.write(Buffer.from(block.subarray(0, n)))
      drain()
    }
    parser.end()
    drain()
  })
}

/** Hands the rows parsed so far to `onRow`, from line `line` on; returns the line after them. */
function takeRows(parser: Parser, path: string, delimiter: string, line: number, onRow: (cells: (string | null)[], line: number) => void): number {
  csvStep(parser.errored, path)
  for (let row: CsvRow | null; (row = parser.read() as CsvRow | null) !== null; ) {
    const { record, raw } = row
    const start = line
    line += 1 + lineBreaks(record)
    if (record.length === 1 && record[0] === '') continue // a blank line
    let quoted: boolean[] | undefined
    for (let i = 0; i < record.length; i++) {
      if (record[i] !== '') continue
      quoted ??= quotedCells(raw, delimiter)
      if (quoted[i] !== true) record[i] = null
    }
    onRow(record, start)
  }
  return line
}

/** Line breaks inside a row's cells (quoted multi-line fields): the row spans that many more lines. */
function lineBreaks(cells: readonly (string | null)[]): number {
  let breaks = 0
  for (const cell of cells) {
    if (cell === null || cell.length === 0) continue
    for (let i = cell.indexOf('\n'); i >= 0; i = cell.indexOf('\n', i + 1)) breaks++
  }
  return breaks
}

/** Which cells of a raw row are quoted (only asked for rows with an empty cell). */
function quotedCells(raw: string, delimiter: string): boolean[] {
  const out: boolean[] = []
  let i = 0
  for (;;) {
    if (raw[i] === '"') {
      out.push(true)
      for (i++; ; ) {
        const q = raw.indexOf('"', i)
        if (q < 0) return out
        i = q + (raw[q + 1] === '"' ? 2 : 1)
        if (raw[q + 1] !== '"') break
      }
    } else {
      out.push(false)
    }
    const d = raw.indexOf(delimiter, i)
    if (d < 0) return out
    i = d + delimiter.length
  }
}

/** A row as csv-parse gives it with `raw: true`. */
interface CsvRow {
  readonly record: (string | null)[]
  readonly raw: string
}

function csvStep(error: Error | null, path: string): void {
  if (error === null) return
  if (error instanceof DictDBError) throw error
  throw new CorruptFileError(`\`${shortPath(path)}\` is not valid CSV: ${error.message}`, { cause: error })
}

function checkColumns(columns: unknown, what: string): string[] {
  if (!Array.isArray(columns) || columns.some((c) => typeof c !== 'string' || c === '')) {
    throw new InvalidArgumentError(`Expected ${what} to be a list of non-empty column names, got ${describe(columns)}`)
  }
  const seen = new Set<string>()
  for (const c of columns as string[]) {
    if (seen.has(c)) throw new InvalidArgumentError(`${what} names the column \`${shortName(c)}\` twice`)
    if (c === '__proto__') throw new InvalidArgumentError(`${what} has the column name \`__proto__\`, which cannot be a field`)
    seen.add(c)
  }
  return columns as string[]
}

/** The field types of a type-string schema (null for none or a Standard Schema). */
function fieldTypes(schema: unknown): Map<string, FieldType> | null {
  if (schema === undefined || isStandardSchema(schema) || typeof schema !== 'object' || schema === null) return null
  const out = new Map<string, FieldType>()
  for (const [field, spec] of Object.entries(schema)) {
    const type = typeof spec === 'string' ? spec : (spec as { type?: unknown } | null)?.type
    if (typeof type === 'string') out.set(field, type as FieldType)
  }
  return out
}
