import { CorruptFileError } from '../errors'
import { preview } from '../values/describe'

/*
 * Every dictdb file — a saved database, a full backup, a backup delta — is one "document":
 * a header object, then named sections of items (a table's records; a delta's ops), written
 * and read a chunk at a time so that no giant string or buffer is ever built. Two encodings
 * share this model: JSON (json-format.ts) and binary (binary-format.ts).
 */

/** The file formats. */
export type Format = 'json' | 'binary'

/** The format name every dictdb file carries. */
export const FORMAT_NAME = 'dictdb'
/**
 * The version of each encoding this code writes, and the newest it reads. Binary 2 keeps -0 as a
 * tagged value (as JSON does) where version 1 used a msgpackr extension registered process-wide;
 * binary 3 tags Date and bigint too, where version 2 left them to msgpackr's built-in extensions
 * (looked up in the same process-wide tables, which the application's own extensions change).
 */
export const FORMAT_VERSION: Readonly<Record<Format, number>> = { json: 1, binary: 3 }

/** One section of a document to write. */
export interface Section {
  readonly name: string
  readonly items: readonly unknown[]
}

/** Receives a document while it is read, in order: header, then per section its items, then end. */
export interface DocumentSink {
  header(header: Readonly<Record<string, unknown>>): void
  /** A section starts; `offset` is its byte position in the file. */
  section(name: string, offset: number): void
  /** Decoded items of the current section (a chunk; a section may have several). */
  items(items: unknown[]): void
  /** The document ended and checked out (checksums, counts); `offset` is the file size read. */
  end(offset: number): void
}

/** Incremental reader of one encoding: bytes in, sink events out. */
export interface DocumentReader {
  push(bytes: Uint8Array): void
  /** No more bytes: a document that did not end properly is a `CorruptFileError`. */
  finish(): void
}

/**
 * Chunking limits. Tests lower them to prove that big databases are written and read in
 * pieces; the defaults keep each chunk a few milliseconds of work (the async stall bound).
 */
export const limits = {
  /** Items (records, ops) encoded per chunk at most. */
  itemsPerChunk: 2048,
  /** A chunk is cut once its encoded text reaches this many bytes. */
  bytesPerChunk: 1 << 20,
  /**
   * Bytes read per read call: small enough that a block (and its text) is a young object that
   * dies young, not one of V8's large objects, which bring full garbage collections closer.
   */
  readBytes: 64 << 10,
  /** A JSON file not in dictdb's own line layout (reformatted by hand) is parsed whole up to this size. */
  maxWholeJsonBytes: 256 << 20,
}

/** The 8 bytes a binary file starts with (PNG-style: catches text-mode mangling). */
export const BINARY_MAGIC = Uint8Array.from([0x89, 0x44, 0x44, 0x42, 0x0d, 0x0a, 0x1a, 0x0a]) // \x89 D D B \r \n \x1a \n

/** The format of a file from its first bytes, or null when it is neither. */
export function detectFormat(head: Uint8Array): Format | null {
  if (head.length >= BINARY_MAGIC.length && BINARY_MAGIC.every((b, i) => head[i] === b)) return 'binary'
  let i = 0
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3 // a BOM an editor may add
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09)) i++
  return head[i] === 0x7b /* { */ ? 'json' : null
}

/** Checks the format name and version of a header; a newer version gets a clear message. */
export function checkHeader(header: unknown, where: string, format: Format): Record<string, unknown> {
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw notDictdb(where)
  const h = header as Record<string, unknown>
  if (h.format !== FORMAT_NAME) throw notDictdb(where)
  const version = h.version
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new CorruptFileError(`${where} has an invalid format version ${preview(version)}`)
  }
  if (version > FORMAT_VERSION[format]) {
    throw new CorruptFileError(
      `${where} was written in dictdb file format version ${version}; this version of dictdb reads version ${FORMAT_VERSION[format]}. Upgrade dictdb to read it.`,
    )
  }
  if (h.kind !== 'database' && h.kind !== 'delta') throw new CorruptFileError(`${where} has an unknown kind ${preview(h.kind)}`)
  return h
}

export function notDictdb(where: string): CorruptFileError {
  return new CorruptFileError(`${where} is not a dictdb file`)
}
