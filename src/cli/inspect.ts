import { CorruptFileError } from '../errors'
import type { DocumentSink, Format } from '../persist/document'
import { fileFormat, readDocumentSync } from '../persist/read-file'
import { shortName, shortPath } from '../values/describe'

/** What `dictdb inspect` shows of one table. */
export interface TableInfo {
  name: string
  primaryKey: string
  records: number
  nextAutoKey: number
  indexes: { field: string; type: string; unique: boolean }[]
  /** The type-string schema as saved, `{ standardSchema: vendor }`, or null without one. */
  schema: Record<string, unknown> | null
  /** Bytes of the file holding its records. */
  bytes: number
}

/** What `dictdb inspect` shows of a file. */
export interface FileInfo {
  file: string
  kind: string
  format: Format
  version: number
  bytes: number
  tables: TableInfo[]
}

/**
 * Reads a whole database file without building a database: the header's catalog, and per
 * table the records actually present and the bytes they take. Checksums are checked.
 */
export function inspectFile(path: string, onBytes?: (done: number, total: number) => void): FileInfo {
  const format = fileFormat(path)
  const info: FileInfo = { file: path, kind: '', format, version: 0, bytes: 0, tables: [] }
  readDocumentSync(path, counting(info), { onProgress: onBytes })
  return info
}

/** Fills `info` from a document as it is read: the header's tables, then each one's records and bytes. */
function counting(info: FileInfo): DocumentSink {
  const path = info.file
  let current: TableInfo | undefined
  let start = 0
  const close = (offset: number) => {
    if (current !== undefined) current.bytes = offset - start
  }
  return {
    header(header) {
      info.kind = String(header.kind)
      info.version = Number(header.version)
      if (header.kind !== 'database' || !Array.isArray(header.tables)) return
      for (const t of header.tables as Record<string, unknown>[]) info.tables.push(tableInfo(t))
    },
    section(name, offset) {
      close(offset)
      current = info.tables.find((t) => t.name === name)
      if (current === undefined && info.kind === 'database') throw new CorruptFileError(`\`${shortPath(path)}\` is corrupt: records of \`${shortName(name)}\`, a table its header does not list`)
      start = offset
    },
    items(items) {
      if (current !== undefined) current.records += items.length
    },
    end(offset) {
      close(offset)
      info.bytes = offset
    },
  }
}

/** A table as the header's catalog lists it; its records and bytes are counted as they are read. */
function tableInfo(t: Record<string, unknown>): TableInfo {
  return {
    name: String(t.name),
    primaryKey: String(t.primaryKey),
    records: 0,
    nextAutoKey: Number(t.nextAutoKey),
    indexes: Array.isArray(t.indexes) ? (t.indexes as TableInfo['indexes']) : [],
    schema: typeof t.standardSchema === 'string' ? { standardSchema: t.standardSchema } : isObject(t.schema) ? t.schema : null,
    bytes: 0,
  }
}

/** A schema as one table cell: `{ name, age }`, `zod (Standard Schema)` or `none`. */
export function schemaText(schema: TableInfo['schema']): string {
  if (schema === null) return 'none'
  if (typeof schema.standardSchema === 'string' && Object.keys(schema).length === 1) return `${schema.standardSchema} (Standard Schema)`
  return `{ ${Object.keys(schema).join(', ')} }`
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
