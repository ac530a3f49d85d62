import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BinaryReader, encodeBinary } from '../../src/persist/binary-format'
import type { DocumentSink } from '../../src/persist/document'
import { encodeJson } from '../../src/persist/json-format'
import { JsonReader } from '../../src/persist/json-reader'
import { toJsonText, untag } from '../../src/persist/json-values'

/** Stored values: JSON-like (-0 included), Date, bigint, and objects whose keys look like the JSON tags. */
const key = fc.oneof(fc.string(), fc.constantFrom('$date', '$bigint', '$object', '$x', '$', 'a')).filter((k) => k !== '__proto__')
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.string(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constant(-0),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.bigInt(),
    fc.date({ noInvalidDate: true }),
  ),
  node: fc.oneof({ depthSize: 'small' }, tie('leaf'), fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(key, tie('node'), { maxKeys: 4 })),
})).node

function readBack(bytes: Uint8Array, format: 'json' | 'binary'): unknown[] {
  const items: unknown[] = []
  const sink: DocumentSink = { header() {}, section() {}, items: (chunk) => void items.push(...chunk), end() {} }
  const reader = format === 'json' ? new JsonReader(sink, 'x') : new BinaryReader(sink, 'x', bytes.length)
  reader.push(bytes)
  reader.finish()
  return items
}

describe('stored values', () => {
  it('round-trip through the JSON tags', () => {
    fc.assert(
      fc.property(value, (v) => {
        const text = toJsonText(v)
        expect(text).not.toContain('\n')
        expect(untag(JSON.parse(text))).toEqual(v)
      }),
      { numRuns: 500 },
    )
  })

  it('are written with every field after a value of another shape whose key list joins to the same text', () => {
    // `[]` and `['']` (or `['a\u0000b']` and `['a', 'b']`) are different shapes.
    for (const [first, second] of [[{}, { '': 1n }], [{ 'a\u0000b': 1 }, { a: 1, b: new Date(0) }]] as const) {
      toJsonText(first)
      expect(untag(JSON.parse(toJsonText(second)))).toEqual(second)
    }
  })

  it.each(['json', 'binary'] as const)('round-trip through a %s document', (format) => {
    fc.assert(
      fc.property(fc.array(fc.dictionary(key, value, { maxKeys: 5 }), { maxLength: 20 }), (records) => {
        const encode = format === 'json' ? encodeJson : encodeBinary
        const bytes = Buffer.concat([...encode({ kind: 'database' }, [{ name: 't', items: records }])])
        expect(readBack(bytes, format)).toEqual(records)
      }),
      { numRuns: 200 },
    )
  })
})
