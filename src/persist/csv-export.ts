import { stringify } from 'csv-stringify/sync'
import { InvalidArgumentError, describe } from '../errors'
import { checkBoolean, checkName, checkOptions } from '../options'
import type { Where } from '../query/where'
import type { Table } from '../table'
import { writeFileAtomicSync } from './atomic'
import { limits } from './document'
import { toCell } from './csv-values'
import { fieldOf } from '../values/own-field'

/** Options of `table.exportCsv()`. */
export interface ExportCsvOptions<T> {
  /** The columns, in order (default: `table.columns()`, the primary key first). */
  columns?: string[]
  /** Only the records matching this. */
  where?: Where<T>
  /** The field separator (default `,`). */
  delimiter?: string
  /** Write a header row of column names (default true). */
  header?: boolean
  /** Start with a UTF-8 byte order mark, for spreadsheet programs that need one (default false). */
  bom?: boolean
  /**
   * How records end: `'lf'` (`\n`, the default, as Unix tools and PostgreSQL's `COPY` write) or
   * `'crlf'` (`\r\n`, as RFC 4180 and Excel write). Line breaks inside quoted fields are kept as
   * they are. `importCsv` reads both.
   */
  lineEnding?: 'lf' | 'crlf'
}

const OPTIONS = ['columns', 'where', 'delimiter', 'header', 'bom', 'lineEnding'] as const

/**
 * `table.exportCsv()`: writes the matching records as CSV (RFC 4180 quoting, UTF-8), atomically,
 * and returns how many rows it wrote. Rows are taken under one read lock (references to the
 * frozen records), then stringified and written a chunk at a time.
 */
export function exportCsv<T extends object>(table: Table<T>, path: string, options?: ExportCsvOptions<T>): number {
  const opts = checkOptions(options, OPTIONS, 'exportCsv()')
  checkName(path, 'path')
  const delimiter = opts.delimiter ?? ','
  if (typeof delimiter !== 'string' || delimiter.length === 0 || /["\r\n]/.test(delimiter)) {
    throw new InvalidArgumentError(`Expected \`delimiter\` to be a non-empty string without quotes or line breaks, got ${describe(delimiter)}`)
  }
  const header = checkBoolean(opts.header, 'header') ?? true
  const bom = checkBoolean(opts.bom, 'bom') ?? false
  const lineEnding = opts.lineEnding ?? 'lf'
  if (lineEnding !== 'lf' && lineEnding !== 'crlf') throw new InvalidArgumentError(`Expected \`lineEnding\` to be 'lf' or 'crlf', got ${describe(lineEnding)}`)
  if (opts.columns !== undefined && (!Array.isArray(opts.columns) || opts.columns.some((c) => typeof c !== 'string' || c === ''))) {
    throw new InvalidArgumentError(`Expected \`columns\` to be a list of field names, got ${describe(opts.columns)}`)
  }
  // Checks the columns against a schema (an unknown field is a likely typo), through select's own check.
  if (opts.columns !== undefined) table.select({ columns: opts.columns as (keyof T & string)[], limit: 0 })
  const columns = opts.columns ?? table.columns()
  const rows = opts.where === undefined ? table.select({ copy: false }) : table.select({ where: opts.where, copy: false })
  writeFileAtomicSync(path, csvChunks(rows as readonly Record<string, unknown>[], columns, { delimiter, header, bom, lineEnding }))
  return rows.length
}

interface Format {
  delimiter: string
  header: boolean
  bom: boolean
  lineEnding: 'lf' | 'crlf'
}

function* csvChunks(rows: readonly Record<string, unknown>[], columns: readonly string[], { delimiter, header, bom, lineEnding }: Format): Generator<Uint8Array> {
  // Empty strings are quoted (`""`), missing values are not: an import tells them apart.
  const options = { delimiter, quoted_match: /^$/, record_delimiter: lineEnding === 'crlf' ? '\r\n' : '\n' }
  let text = (bom ? '\uFEFF' : '') + (header ? stringify([columns as string[]], options) : '')
  for (let i = 0; i < rows.length; i += limits.itemsPerChunk) {
    const cells = rows.slice(i, i + limits.itemsPerChunk).map((row) => columns.map((c) => toCell(fieldOf(row, c))))
    text += stringify(cells, options)
    yield Buffer.from(text, 'utf8')
    text = ''
  }
  if (text !== '') yield Buffer.from(text, 'utf8')
}
