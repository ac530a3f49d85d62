import { crc32, crcHex } from './checksum'
import { FORMAT_NAME, FORMAT_VERSION, limits, type Section } from './document'
import { sortedForm } from './canonical-form'
import { toJsonText } from './json-values'

/*
 * JSON format, version 1 — one valid JSON document, laid out one item per line so that it can
 * be written and read a chunk at a time (JSON.parse of the whole file is never needed):
 *
 *   {"format":"dictdb","version":1,"kind":"database",...header...,"sections":[
 *   {"section":"users","items":[
 *   {"id":1,"name":"Ada"},
 *   {"id":2,"name":"Alan"}
 *   ]},
 *   {"section":"orders","items":[
 *   ]}
 *   ],"checksum":"crc32:1c291ca3"}
 *
 * The checksum is the CRC-32 of every byte before the last line. A file edited by hand loads
 * if it drops the checksum (then it may even be reformatted: it is parsed whole).
 *
 * Written here; read by `JsonReader` (./json-reader.ts), a file in another layout by `WholeJson`
 * (./json-whole.ts).
 */

/**
 * Item lines are encoded and parsed this many chars at a time at most: a string this short is a
 * young object that dies young, where a larger one goes to V8's large-object space and brings
 * the next full garbage collection closer.
 */
export const TEXT_CHUNK_CHARS = 64 << 10

export const SECTION_PREFIX = '{"section":'
export const SECTION_SUFFIX = ',"items":['
export const TRAILER = /^\],"checksum":"crc32:([0-9a-f]{8})"\}$/

/** Encodes a document as JSON, a chunk (Buffer) at a time. */
export function* encodeJson(header: Readonly<Record<string, unknown>>, sections: Iterable<Section>, onItems?: (done: number) => void): Generator<Uint8Array> {
  let crc = 0
  const emit = (text: string): Uint8Array => {
    const buf = Buffer.from(text, 'utf8')
    crc = crc32(buf, crc)
    return buf
  }
  // The envelope's name and version first (readers look for them), then the header in canonical order.
  const head = JSON.stringify({ format: FORMAT_NAME, version: FORMAT_VERSION.json, ...(sortedForm(header) as object) })
  yield emit(`${head.slice(0, -1)},"sections":[\n`)
  const list = [...sections]
  let done = 0
  for (let s = 0; s < list.length; s++) {
    const { name, items } = list[s] as Section
    yield emit(`${SECTION_PREFIX}${JSON.stringify(name)}${SECTION_SUFFIX}\n`)
    for (const [text, count] of itemChunks(items, s === list.length - 1)) {
      yield emit(text)
      if (count > 0) onItems?.((done += count))
    }
  }
  const sum = crcHex(crc)
  yield Buffer.from(`],"checksum":"crc32:${sum}"}\n`, 'utf8')
}

/** A section's items as JSON text, one item a line, in chunks of `limits`; the last chunk closes the section. */
function* itemChunks(items: readonly unknown[], lastSection: boolean): Generator<[text: string, items: number]> {
  let text = ''
  let count = 0
  for (let i = 0; i < items.length; i++) {
    text += toJsonText(items[i])
    text += i === items.length - 1 ? '\n' : ',\n'
    if (++count >= limits.itemsPerChunk || text.length >= Math.min(limits.bytesPerChunk, TEXT_CHUNK_CHARS)) {
      yield [text, count]
      text = ''
      count = 0
    }
  }
  yield [`${text}]}${lastSection ? '' : ','}\n`, count]
}
