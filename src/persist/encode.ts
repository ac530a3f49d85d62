import { encodeBinary } from './binary-format'
import type { Format, Section } from './document'
import { encodeJson } from './json-format'

/** The chunks of a document in a format; `onItems` hears how many items are encoded so far. */
export function encodeDocument(
  header: Readonly<Record<string, unknown>>,
  sections: Iterable<Section>,
  format: Format,
  onItems?: (done: number) => void,
): Generator<Uint8Array> {
  return format === 'binary' ? encodeBinary(header, sections, onItems) : encodeJson(header, sections, onItems)
}
