import { Packr, Unpackr } from 'msgpackr'
import { CorruptFileError } from '../errors'
import { canonicalItems, canonicalTaggedItems, itemBinaryForm, sortedForm } from './canonical-form'
import { crc32 } from './checksum'
import { BINARY_MAGIC, FORMAT_NAME, FORMAT_VERSION, checkHeader, limits, type DocumentReader, type DocumentSink, type Section } from './document'
import { preview } from '../values/describe'

/*
 * Binary format, version 3:
 *
 *   magic    8 bytes   89 44 44 42 0D 0A 1A 0A   ("\x89DDB\r\n\x1a\n")
 *   version  u16 BE    3
 *   flags    u16 BE    0 (reserved)
 *   reserved u32 BE    0
 *   frames   ...       type u8 | length u32 BE | payload (length bytes) | crc32 u32 BE of type+length+payload
 *
 * Frame types: 1 header (the header object), 2 section (its name), 3 items (an array of a
 * section's items), 4 end ({ sections, items } counts, checked on read). The first frame is the
 * header, the last the end frame; nothing may follow. Payloads are MessagePack (msgpackr, with
 * its record extension: a chunk of same-shaped records stores their keys once). Items are in the
 * JSON format's tagged form (json-values.ts): a Date is {"$date": ISO}, a bigint {"$bigint":
 * digits}, -0 {"$number": "-0"}, and a stored object with a single `$` key is escaped as
 * {"$object": ...}. So msgpackr is handed only plain data: its handling of Date and bigint (and
 * any extension) is looked up in tables global to the msgpackr module, shared with the
 * application, whose own `addExtension` would change what dictdb writes and reads.
 *
 * Older versions, still read: version 2 tagged only -0 and `$` objects, and left Date and bigint
 * to msgpackr's built-in timestamp (-1) and bigint (0x42) extensions; version 1 had no tags (an
 * object was always data) and wrote -0 as extension 0x2d, registered process-wide by dictdb. A
 * version 1 file holding -0 is refused (reading it would need that registration again), and so is
 * any version 1 or 2 file while the application has replaced msgpackr's timestamp or bigint
 * extension (its values would be read as the application's, silently).
 */

const HEADER_BYTES = 16
const FRAME_HEAD = 5
const FRAME_CRC = 4
const enum Frame {
  Header = 1,
  Section = 2,
  Items = 3,
  End = 4,
}
/** A frame longer than this is a damaged length field, not data (chunks are ~1 MB). */
const MAX_FRAME = 1 << 30

/** The extension type version 1 gave -0: msgpackr names it in its error when nothing is registered. */
const V1_NEGATIVE_ZERO = /^Unknown extension (type )?45$/

/** msgpackr's built-in extensions versions 1 and 2 rely on, each with a value in it and a check of what it must give. */
const BUILT_INS: ReadonlyArray<{ readonly name: string; readonly bytes: Uint8Array; readonly check: (value: unknown) => boolean }> = [
  { name: '-1 (timestamp, for Date)', bytes: Uint8Array.of(0xd6, 0xff, 0, 0, 0, 5), check: (v) => v instanceof Date && v.getTime() === 5000 },
  { name: '0x42 (bigint)', bytes: Uint8Array.of(0xd4, 0x42, 0x05), check: (v) => v === 5n },
]

const PACK_OPTIONS = { useRecords: true, useBigIntExtension: true, int64AsType: 'bigint', moreTypes: false } as const

function frame(type: Frame, payload: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(FRAME_HEAD + payload.length + FRAME_CRC)
  out.writeUInt8(type, 0)
  out.writeUInt32BE(payload.length, 1)
  out.set(payload, FRAME_HEAD)
  out.writeUInt32BE(crc32(out.subarray(0, FRAME_HEAD + payload.length)), FRAME_HEAD + payload.length)
  return out
}

/** Encodes a document in the binary format, a frame (Buffer) at a time. */
export function* encodeBinary(header: Readonly<Record<string, unknown>>, sections: Iterable<Section>, onItems?: (done: number) => void): Generator<Uint8Array> {
  const packr = new Packr(PACK_OPTIONS)
  const head = Buffer.alloc(HEADER_BYTES)
  head.set(BINARY_MAGIC, 0)
  head.writeUInt16BE(FORMAT_VERSION.binary, 8)
  yield head
  yield frame(Frame.Header, packr.pack({ format: FORMAT_NAME, version: FORMAT_VERSION.binary, ...(sortedForm(header) as object) }))
  let sectionCount = 0
  let itemCount = 0
  // Items per frame adapts so that a frame stays near `bytesPerChunk` whatever the record size.
  let per = Math.min(256, limits.itemsPerChunk)
  for (const { name, items } of sections) {
    yield frame(Frame.Section, packr.pack(name))
    sectionCount++
    for (let i = 0; i < items.length; ) {
      // Keys in canonical order: msgpackr writes them as it enumerates them (same state, same bytes).
      const chunk = items.slice(i, i + per).map(itemBinaryForm)
      const payload = packr.pack(chunk)
      yield frame(Frame.Items, payload)
      i += chunk.length
      itemCount += chunk.length
      onItems?.(itemCount)
      if (payload.length > limits.bytesPerChunk && per > 1) per = Math.max(1, per >> 1)
      else if (payload.length * 2 < limits.bytesPerChunk && per < limits.itemsPerChunk) per = Math.min(limits.itemsPerChunk, per * 2)
    }
  }
  yield frame(Frame.End, packr.pack({ sections: sectionCount, items: itemCount }))
}

/** Reads a binary document pushed in blocks of bytes, a frame at a time. */
export class BinaryReader implements DocumentReader {
  readonly #sink: DocumentSink
  readonly #where: string
  readonly #unpackr = new Unpackr(PACK_OPTIONS)
  #blocks: Uint8Array[] = []
  #buffered = 0
  #offset = 0
  #sawHeader = false
  #needHeaderBytes = true
  /** The format version in the file header. */
  #version = 0
  #done = false
  #sections = 0
  #items = 0
  /** Bytes left in the file after what was pushed, when known: a length past it is corrupt. */
  readonly #size: number | undefined

  constructor(sink: DocumentSink, where: string, size?: number) {
    this.#sink = sink
    this.#where = where
    this.#size = size
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return
    this.#blocks.push(bytes)
    this.#buffered += bytes.length
    while (this.#step());
  }

  finish(): void {
    if (!this.#done) {
      throw new CorruptFileError(`${this.#where} is truncated: it ends at byte ${this.#offset + this.#buffered} before the end frame of a dictdb file`)
    }
  }

  /** Consumes one header or frame if all its bytes are there. */
  #step(): boolean {
    if (this.#needHeaderBytes) {
      if (this.#buffered < HEADER_BYTES) return false
      this.#fileHeader(this.#take(HEADER_BYTES))
      return true
    }
    if (this.#done) {
      if (this.#buffered > 0) throw this.#corrupt(`unexpected bytes after the end frame (at byte ${this.#offset})`)
      return false
    }
    if (this.#buffered < FRAME_HEAD) return false
    const head = this.#peek(FRAME_HEAD)
    const type = head.readUInt8(0)
    const length = head.readUInt32BE(1)
    const total = FRAME_HEAD + length + FRAME_CRC
    if (length > MAX_FRAME || (this.#size !== undefined && this.#offset + total > this.#size)) {
      throw new CorruptFileError(`${this.#where} is truncated or damaged: the frame at byte ${this.#offset} claims ${length} bytes, past the end of the file`)
    }
    if (this.#buffered < total) return false
    const bytes = this.#take(total)
    const expected = bytes.readUInt32BE(FRAME_HEAD + length)
    if (crc32(bytes.subarray(0, FRAME_HEAD + length)) !== expected) throw this.#corrupt(`checksum mismatch in the frame at byte ${this.#offset - total}`)
    this.#frame(type, bytes.subarray(FRAME_HEAD, FRAME_HEAD + length))
    return true
  }

  #fileHeader(bytes: Buffer): void {
    if (!BINARY_MAGIC.every((b, i) => bytes[i] === b)) throw new CorruptFileError(`${this.#where} is not a dictdb file`)
    const version = bytes.readUInt16BE(8)
    if (version > FORMAT_VERSION.binary) {
      throw new CorruptFileError(
        `${this.#where} was written in dictdb binary format version ${version}; this version of dictdb reads version ${FORMAT_VERSION.binary}. Upgrade dictdb to read it.`,
      )
    }
    if (version < 1) throw this.#corrupt(`invalid format version ${version}`)
    // Versions 1 to 3 define no flag: a set bit is damage (a later version that uses them is version 4).
    if (bytes.readUInt16BE(10) !== 0 || bytes.readUInt32BE(12) !== 0) throw this.#corrupt('reserved header bytes are not zero')
    if (version < 3) this.#checkBuiltIns(version)
    this.#version = version
    this.#needHeaderBytes = false
  }

  /**
   * A version 1 or 2 file holds Dates and bigints as msgpackr's built-in extensions: refused when
   * the application has replaced one (its values would silently read as the application's).
   */
  #checkBuiltIns(version: number): void {
    for (const { name, bytes, check } of BUILT_INS) {
      let intact: boolean
      try {
        intact = check(this.#unpackr.unpack(bytes))
      } catch {
        intact = false
      }
      if (!intact) {
        throw new CorruptFileError(
          `${this.#where} is in dictdb binary format version ${version}, which stores Dates and bigints as msgpackr's built-in extensions, and the application replaced msgpackr extension ${name} in this process (addExtension): those values would be read as the application's. Load the file in a process without that extension and save it again (dictdb writes version ${FORMAT_VERSION.binary}, which needs no extension).`,
        )
      }
    }
  }

  #frame(type: number, payload: Uint8Array): void {
    let value: unknown
    try {
      value = this.#unpackr.unpack(payload)
    } catch (error) {
      if (this.#version === 1 && error instanceof Error && V1_NEGATIVE_ZERO.test(error.message)) {
        throw new CorruptFileError(
          `${this.#where} is in dictdb binary format version 1 and holds -0 as msgpackr extension 0x2d, which this version of dictdb no longer reads (it registered that extension process-wide). Load it with the dictdb that wrote it and save it as JSON, then load that.`,
          { cause: error },
        )
      }
      throw new CorruptFileError(`${this.#where} is corrupt: a frame does not decode`, { cause: error })
    }
    if (!this.#sawHeader && type !== Frame.Header) throw this.#corrupt('the first frame is not the header')
    switch (type) {
      case Frame.Header:
        if (this.#sawHeader) throw this.#corrupt('a second header frame')
        this.#sawHeader = true
        return this.#sink.header(this.#header(value))
      case Frame.Section:
        if (typeof value !== 'string') throw this.#corrupt('a section frame without a name')
        this.#sections++
        return this.#sink.section(value, this.#offset - payload.length - FRAME_HEAD - FRAME_CRC)
      case Frame.Items:
        if (!Array.isArray(value) || this.#sections === 0) throw this.#corrupt('an items frame outside a section')
        this.#items += value.length
        if (this.#version === 1) canonicalItems(value)
        else canonicalTaggedItems(value)
        return this.#sink.items(value)
      case Frame.End:
        return this.#end(value)
      default:
        throw this.#corrupt(`unknown frame type ${type}`)
    }
  }

  /** The header frame: its version must be the file header's. */
  #header(value: unknown): Record<string, unknown> {
    const header = checkHeader(value, this.#where, 'binary')
    if (header.version !== this.#version) throw this.#corrupt(`the header frame says format version ${preview(header.version)}, the file header ${this.#version}`)
    return header
  }

  /** The end frame: its counts must be what the file held. */
  #end(value: unknown): void {
    const counts = value as { sections?: unknown; items?: unknown } | null
    if (counts?.sections !== this.#sections || counts?.items !== this.#items) {
      throw this.#corrupt(`the end frame counts ${preview(counts?.sections)} sections and ${preview(counts?.items)} items, the file holds ${this.#sections} and ${this.#items}`)
    }
    this.#done = true
    this.#sink.end(this.#offset)
  }

  #peek(n: number): Buffer {
    const first = this.#blocks[0] as Uint8Array
    if (first.length >= n) return Buffer.from(first.buffer, first.byteOffset, n)
    this.#blocks = [Buffer.concat(this.#blocks)]
    return this.#peek(n)
  }

  #take(n: number): Buffer {
    const out = Buffer.from(this.#peek(n))
    const first = this.#blocks[0] as Uint8Array
    if (first.length === n) this.#blocks.shift()
    else this.#blocks[0] = first.subarray(n)
    this.#buffered -= n
    this.#offset += n
    return out
  }

  #corrupt(why: string): CorruptFileError {
    return new CorruptFileError(`${this.#where} is corrupt: ${why}`)
  }
}
