import { CorruptFileError } from '../errors'
import { BinaryReader } from './binary-format'
import { detectFormat, limits, type DocumentReader, type DocumentSink, type Format } from './document'
import { fileError, FileSystemError } from './errors'
import { io } from './fs'
import { JsonReader } from './json-reader'
import { shortPath } from '../values/describe'

/** Options of reading a document file. */
export interface ReadOptions {
  /** The expected format; detected from the first bytes when omitted. */
  readonly format?: Format | undefined
  /** Called after every block read: bytes read so far, file size. */
  readonly onProgress?: ((bytes: number, total: number) => void) | undefined
  /** Async reads only: awaited after every block (to work off what the block produced). */
  readonly afterBlock?: (() => Promise<void>) | undefined
}

/** Bytes read per call by the async reader: smaller blocks, shorter event-loop stalls. */
const ASYNC_BLOCK = 256 << 10

function describeFile(path: string): string {
  return `\`${shortPath(path)}\``
}

function checkedSize(path: string, fd: number): number {
  const stat = io.fstatSync(fd)
  if (stat.isDirectory()) throw new FileSystemError(`Cannot read \`${shortPath(path)}\`: it is a directory, not a dictdb file`, path)
  return stat.size
}

function startReader(path: string, head: Uint8Array, size: number, sink: DocumentSink, expected: Format | undefined): DocumentReader {
  const where = describeFile(path)
  if (size === 0) throw new CorruptFileError(`${where} is empty, not a dictdb file`)
  const format = detectFormat(head)
  if (format === null) throw new CorruptFileError(`${where} is not a dictdb file (neither the JSON nor the binary format)`)
  if (expected !== undefined && expected !== format) {
    throw new CorruptFileError(`${where} is a ${format} dictdb file, not ${expected}: omit \`format\` to detect it`)
  }
  return format === 'json' ? new JsonReader(sink, where) : new BinaryReader(sink, where, size)
}

/** Opens `path` for reading (a clear `FileSystemError` if it cannot be), runs `fn`, closes. */
export function withFileForReading<R>(path: string, fn: (fd: number) => R): R {
  let fd: number
  try {
    fd = io.openSync(path, 'r')
  } catch (error) {
    throw fileError('read', path, error)
  }
  try {
    return fn(fd)
  } finally {
    io.closeSync(fd)
  }
}

/** The format of a dictdb file, from its first bytes; `CorruptFileError` when it is neither. */
export function fileFormat(path: string): Format {
  return withFileForReading(path, (fd) => {
    const size = checkedSize(path, fd)
    const head = Buffer.alloc(16)
    const n = io.readSync(fd, head, 0, head.length, null)
    const format = detectFormat(head.subarray(0, n))
    if (size === 0 || format === null) throw new CorruptFileError(`${describeFile(path)} is not a dictdb file`)
    return format
  })
}

/**
 * The options given, on no prototype: one not given reads as undefined, whatever a library of the
 * application put on Object.prototype (a `format` there made every backup restore refuse its files).
 */
function ownOptions(options: ReadOptions): ReadOptions {
  return Object.assign(Object.create(null) as ReadOptions, options)
}

/** Reads the document in `path` into `sink`, a block at a time. */
export function readDocumentSync(path: string, sink: DocumentSink, given: ReadOptions = {}): void {
  const options = ownOptions(given)
  withFileForReading(path, (fd) => {
    const feed = new Feed(path, checkedSize(path, fd), sink, options)
    for (;;) {
      const block = Buffer.allocUnsafe(feed.nextSize(limits.readBytes))
      let n: number
      try {
        n = io.readSync(fd, block, 0, block.length, null)
      } catch (error) {
        throw fileError('read', path, error)
      }
      if (!feed.push(block, n)) break
    }
    feed.finish()
  })
}

/** {@link readDocumentSync} without blocking: awaited reads, and a turn of the event loop between blocks. */
export async function readDocument(path: string, sink: DocumentSink, given: ReadOptions = {}): Promise<void> {
  const options = ownOptions(given)
  let fd: number
  try {
    fd = await io.open(path, 'r')
  } catch (error) {
    throw fileError('read', path, error)
  }
  try {
    const feed = new Feed(path, checkedSize(path, fd), sink, options)
    for (;;) {
      const block = Buffer.allocUnsafe(feed.nextSize(Math.min(ASYNC_BLOCK, limits.readBytes)))
      let n: number
      try {
        n = await io.read(fd, block, 0, block.length, null)
      } catch (error) {
        throw fileError('read', path, error)
      }
      if (!feed.push(block, n)) break
      await (options.afterBlock?.() ?? yieldToLoop())
    }
    feed.finish()
  } finally {
    await io.close(fd)
  }
}

/**
 * The blocks of one file on their way to its document reader (started on the first block, which
 * tells the format): the sync and async reads above differ only in how they get a block.
 */
class Feed {
  #reader: DocumentReader | undefined
  #read = 0

  constructor(
    readonly path: string,
    readonly size: number,
    readonly sink: DocumentSink,
    readonly options: ReadOptions,
  ) {}

  /** The size of the next block: what is left of the file (16 bytes at least), `max` at most. */
  nextSize(max: number): number {
    return Math.max(16, Math.min(max, this.size - this.#read || 16))
  }

  /** Takes the `n` bytes read into `block`; false at the end of the file. */
  push(block: Buffer, n: number): boolean {
    this.#reader ??= startReader(this.path, block.subarray(0, n), this.size, this.sink, this.options.format)
    if (n === 0) return false
    this.#read += n
    this.#reader.push(block.subarray(0, n))
    this.options.onProgress?.(this.#read, this.size)
    return true
  }

  finish(): void {
    ;(this.#reader as DocumentReader).finish()
  }
}

/** Lets timers, I/O callbacks and other tasks run. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

class HeaderRead extends Error {
  constructor(readonly header: Readonly<Record<string, unknown>>) {
    super('header read')
  }
}

/** The header of a document file, reading no further than it (checksums are not checked). */
export function readHeaderSync(path: string): Readonly<Record<string, unknown>> {
  try {
    readDocumentSync(path, {
      header(header) {
        throw new HeaderRead(header)
      },
      section() {},
      items() {},
      end() {},
    })
  } catch (error) {
    if (error instanceof HeaderRead) return error.header
    throw error
  }
  throw new CorruptFileError(`\`${shortPath(path)}\` has no header`)
}
