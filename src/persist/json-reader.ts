import { isAscii } from 'node:buffer'
import { CorruptFileError } from '../errors'
import { crc32, crcHex } from './checksum'
import { checkHeader, limits, type DocumentReader, type DocumentSink } from './document'
import { canonicalItems } from './canonical-form'
import { SECTION_PREFIX, SECTION_SUFFIX, TEXT_CHUNK_CHARS, TRAILER } from './json-format'
import { untag } from './json-values'
import { WholeJson } from './json-whole'

type State = 'header' | 'between' | 'items' | 'done' | 'whole'

/** Reads a JSON document pushed in blocks of bytes, line by line; see the layout in ./json-format.ts. */
export class JsonReader implements DocumentReader {
  readonly #sink: DocumentSink
  readonly #where: string
  #state: State = 'header'
  /** Bytes after the last complete line. */
  #partial: Uint8Array[] = []
  /** Byte offset of the start of the region being read. */
  #offset = 0
  #line = 0
  #crc = 0
  /**
   * Item lines read but not parsed yet, as they are in the file (each with its newline, and a
   * comma before it but for a section's last), and how many: parsed a chunk at a time.
   */
  #carry = ''
  #carryLines = 0
  /** The last item flushed had no comma: only the end of its section may follow. */
  #lacksComma = false
  /** After a section's `]},` another section must follow; after `]}` only the closing line. */
  #more: boolean | null = null
  /** Every block, kept only when the file must be parsed whole (not in the line layout). */
  #whole: WholeJson | null = null

  constructor(sink: DocumentSink, where: string) {
    this.#sink = sink
    this.#where = where
  }

  push(bytes: Uint8Array): void {
    if (this.#whole !== null) return this.#whole.keep(bytes)
    const last = bytes.lastIndexOf(0x0a)
    if (last < 0) {
      this.#partial.push(Uint8Array.prototype.slice.call(bytes))
      return
    }
    let region = Buffer.from(bytes.buffer, bytes.byteOffset, last + 1)
    if (this.#partial.length > 0) {
      region = Buffer.concat([...this.#partial, region])
      this.#partial = []
    }
    const rest = bytes.subarray(last + 1)
    this.#region(region)
    const whole = this.#whole as WholeJson | null // #region may have found another layout
    if (whole !== null) whole.keep(rest)
    else if (rest.length > 0) this.#partial.push(Uint8Array.prototype.slice.call(rest))
  }

  finish(): void {
    if (this.#whole !== null) return this.#parseWhole()
    if (this.#partial.length > 0) {
      const rest = Buffer.concat([...this.#partial, NEWLINE])
      this.#partial = []
      this.#region(rest)
      if (this.#whole !== null) return this.#parseWhole()
    }
    if (this.#state !== 'done') {
      throw new CorruptFileError(`${this.#where} is truncated: it ends after line ${this.#line} without the closing line of a dictdb file`)
    }
  }

  /**
   * Reads complete lines (`region` ends with a newline), decoded once. Item lines go to
   * {@link #items}; the others are cut apart and read one by one.
   */
  #region(region: Buffer): void {
    // Most files are ASCII, decoded as such ~10× faster than as UTF-8 (the same text).
    const ascii = isAscii(region)
    const text = region.toString(ascii ? 'latin1' : 'utf8')
    /** Byte offset in the file of char `pos` of `text` (cheap for ASCII, exact otherwise). */
    const at = (pos: number) => this.#offset + (ascii ? pos : Buffer.byteLength(text.slice(0, pos)))
    let pos = 0
    // The checksum covers every byte before the closing line.
    let summed = this.#state === 'done'
    while (pos < text.length) {
      if (this.#state === 'items') {
        pos = this.#items(text, pos)
        continue
      }
      const nl = text.indexOf('\n', pos)
      const raw = text.slice(pos, nl)
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
      this.#line++
      switch (this.#state) {
        case 'header':
          if (this.#line === 1 && !(line.startsWith('{"format":') && line.endsWith('"sections":['))) return this.#toWhole(region)
          this.#sink.header(checkHeader(this.#parse(`${line}]}`), this.#where, 'json'))
          this.#state = 'between'
          break
        case 'between':
          if (line.startsWith(']')) {
            this.#crc = crc32(region.subarray(0, at(pos) - this.#offset), this.#crc)
            summed = true
            this.#end(line, at(nl + 1))
            break
          }
          if (!line.startsWith(SECTION_PREFIX) || !line.endsWith(SECTION_SUFFIX)) throw this.#bad('expected a section or the closing line')
          this.#sink.section(this.#sectionName(line), at(pos))
          this.#state = 'items'
          break
        default:
          if (line.trim() !== '') throw this.#bad('unexpected content after the closing line')
      }
      pos = nl + 1
    }
    if (!summed) this.#crc = crc32(region, this.#crc)
    this.#offset += region.length
  }

  #sectionName(text: string): string {
    if (this.#more === false) throw this.#bad('a section follows the last one (its `]}` has no comma)')
    const name = (this.#parse(`${text}]}`) as { section?: unknown }).section
    if (typeof name !== 'string') throw this.#bad('a section without a name')
    return name
  }

  #end(text: string, endOffset: number): void {
    if (this.#more === true) throw this.#bad('the last section ends with `]},` (a comma before the closing line)')
    const match = TRAILER.exec(text)
    if (match !== null) {
      const actual = crcHex(this.#crc)
      if (match[1] !== actual) {
        throw new CorruptFileError(
          `${this.#where} is corrupt: its checksum is crc32:${match[1]} but its content gives crc32:${actual}` +
            ' (if you edited it by hand, remove the "checksum" field to load it)',
        )
      }
    } else if (text !== ']}') {
      throw this.#bad('expected the closing line `],"checksum":"crc32:…"}`')
    }
    this.#state = 'done'
    this.#sink.end(endOffset)
  }

  /**
   * Reads item lines from `pos` to the end of their section or of `text`, and returns where it
   * stopped. The lines are not cut apart: a chunk of them is parsed as it stands in the file
   * (newlines are JSON whitespace), so an item costs one `JSON.parse` pass and no string of its own.
   */
  #items(text: string, pos: number): number {
    // Per line: one indexOf and one char look (locals, not fields: this loop runs per record).
    const maxLines = limits.itemsPerChunk
    const maxChars = Math.min(limits.bytesPerChunk, TEXT_CHUNK_CHARS)
    let start = pos
    let lines = this.#carryLines
    let chars = this.#carry.length
    while (pos < text.length) {
      const nl = text.indexOf('\n', pos)
      if (text.charCodeAt(pos) === 93 /* ] */) {
        const line = text.slice(pos, text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl)
        if (line === ']}' || line === ']},') {
          this.#line += lines - this.#carryLines + 1
          this.#take(text, start, pos, lines)
          this.#flush(true)
          this.#lacksComma = false
          this.#state = 'between'
          this.#more = line === ']},'
          return nl + 1
        }
      }
      if (this.#lacksComma) {
        this.#line += lines - this.#carryLines + 1
        throw this.#bad('the line before lacks its comma')
      }
      lines++
      if (lines >= maxLines || chars + (nl + 1 - start) >= maxChars) {
        this.#line += lines - this.#carryLines
        this.#take(text, start, nl + 1, lines)
        this.#flush(false)
        start = nl + 1
        lines = 0
        chars = 0
      }
      pos = nl + 1
    }
    // The block ends mid-section: its lines wait for the next block (chunks do not depend on blocks).
    this.#line += lines - this.#carryLines
    this.#take(text, start, pos, lines)
    return pos
  }

  /** Adds whole lines `text[from, to)` to the lines waiting to be parsed; `lines` of them wait then. */
  #take(text: string, from: number, to: number, lines: number): void {
    if (to > from) this.#carry = this.#carry === '' ? text.slice(from, to) : this.#carry + text.slice(from, to)
    this.#carryLines = lines
  }

  /** Parses the waiting item lines as one JSON array and hands them to the sink. */
  #flush(last: boolean): void {
    const lines = this.#carryLines
    if (lines === 0) return
    const body = this.#carry
    this.#carry = ''
    this.#carryLines = 0
    // `body` ends with a newline (maybe \r\n); before it, a comma unless it is the section's last
    // item. Mid-section, a chunk may end on the section's last item (no comma), or on a comma.
    let end = body.length - 1
    if (body.charCodeAt(end - 1) === 13) end--
    const comma = body.charCodeAt(end - 1) === 44 /* , */
    if (last && comma) throw this.#bad('the last item of a section ends with a comma')
    this.#lacksComma = !last && !comma
    const firstLine = this.#line - lines - (last ? 1 : 0)
    let items: unknown[]
    try {
      items = JSON.parse(`[${comma ? body.slice(0, end - 1) : body}]`) as unknown[]
    } catch (error) {
      throw new CorruptFileError(`${this.#where} is corrupt: invalid JSON in lines ${firstLine + 1}–${firstLine + lines}`, { cause: error })
    }
    if (items.length !== lines) throw new CorruptFileError(`${this.#where} is corrupt: lines ${firstLine + 1}–${firstLine + lines} are not one item per line`)
    // Tags are `{"$…` objects: a chunk without that text has none to undo.
    if (body.includes('{"$')) for (let i = 0; i < items.length; i++) items[i] = untag(items[i])
    canonicalItems(items)
    this.#sink.items(items)
  }

  #parse(text: string): unknown {
    try {
      return JSON.parse(text)
    } catch (error) {
      throw new CorruptFileError(`${this.#where} is corrupt: invalid JSON at line ${this.#line}`, { cause: error })
    }
  }

  #bad(why: string): CorruptFileError {
    return new CorruptFileError(`${this.#where} is corrupt at line ${this.#line}: ${why}`)
  }

  /** Not dictdb's line layout: keep every byte and parse the whole file at the end. */
  #toWhole(region: Uint8Array): void {
    this.#state = 'whole'
    this.#whole = new WholeJson(this.#where)
    this.#whole.keep(region)
  }

  #parseWhole(): void {
    ;(this.#whole as WholeJson).parse(this.#sink)
    this.#state = 'done'
  }
}

const NEWLINE = Uint8Array.of(0x0a)
