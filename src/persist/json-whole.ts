import { CorruptFileError } from '../errors'
import { canonicalItems } from './canonical-form'
import { checkHeader, limits, notDictdb, type DocumentSink } from './document'
import { untag } from './json-values'

/**
 * A JSON document not in dictdb's line layout (edited by hand, reformatted): every byte is kept,
 * up to `limits.maxWholeJsonBytes`, and the whole is parsed at the end. Such a file has no
 * checksum to check (reformatting breaks it), so one that still carries it is refused.
 */
export class WholeJson {
  readonly #where: string
  readonly #blocks: Uint8Array[] = []
  #bytes = 0

  constructor(where: string) {
    this.#where = where
  }

  keep(bytes: Uint8Array): void {
    this.#bytes += bytes.length
    if (this.#bytes > limits.maxWholeJsonBytes) {
      throw new CorruptFileError(
        `${this.#where} is not in dictdb's line-per-record JSON layout, and too large (over ${limits.maxWholeJsonBytes} bytes) to be parsed whole`,
      )
    }
    this.#blocks.push(Uint8Array.prototype.slice.call(bytes))
  }

  /** Parses what was kept and hands it to `sink`, as the line reader would. */
  parse(sink: DocumentSink): void {
    const bytes = Buffer.concat(this.#blocks)
    const { sections, checksum, ...header } = this.#document(bytes)
    sink.header(checkHeader(header, this.#where, 'json'))
    if (checksum !== undefined) {
      throw new CorruptFileError(`${this.#where} was reformatted, so its checksum cannot be checked: remove the "checksum" field to load it`)
    }
    if (!Array.isArray(sections)) throw new CorruptFileError(`${this.#where} is corrupt: "sections" is missing or not a list`)
    for (const s of sections as unknown[]) {
      const { section, items } = (s ?? {}) as { section?: unknown; items?: unknown }
      if (typeof section !== 'string' || !Array.isArray(items)) throw new CorruptFileError(`${this.#where} is corrupt: a section is not { "section": name, "items": [...] }`)
      sink.section(section, 0)
      for (let i = 0; i < items.length; i++) items[i] = untag(items[i])
      canonicalItems(items)
      if (items.length > 0) sink.items(items)
    }
    sink.end(bytes.length)
  }

  #document(bytes: Buffer): Record<string, unknown> {
    let doc: unknown
    try {
      doc = JSON.parse(bytes.toString('utf8').replace(/^\uFEFF/, ''))
    } catch (error) {
      // Our own first line, unfinished: a file cut short (other layouts are simply not JSON).
      const ours = bytes.subarray(0, 10).toString() === '{"format":'
      const what = ours ? 'is truncated or damaged: it is not valid JSON' : 'is not valid JSON'
      throw new CorruptFileError(`${this.#where} ${what}: ${(error as Error).message}`, { cause: error })
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw notDictdb(this.#where)
    return doc as Record<string, unknown>
  }
}
