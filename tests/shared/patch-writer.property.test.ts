// An adversary's check of the compiled patch writer (compilePatchWriter, putFlat, patchWriterOf):
// random table and field names (any length, multi-byte UTF-8), random values of every kind that
// is not an object (bigint falls back to the writer), written into a fixed range at every
// alignment and near its end (as at the shared ring's end). Each write either gives exactly the
// generic encoder's bytes, which decode to the update, or throws WRITER_FULL; never a byte past
// the range. The same write through a whole shared database is tests/shared/patch-model.property.test.ts.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeOps, encodeOpsInPlace, encodePatchInto } from '../../src/shared/codec'
import { BinaryWriter, WRITER_FULL } from '../../src/values/binary'

const name = fc.oneof(fc.string({ minLength: 1, maxLength: 13 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }))
const flat = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 53, 0.1, -1e300, true, false, null, '', 'é', '𝄞'),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
)
const update = fc
  .record({
    table: name,
    names: fc.uniqueArray(name, { minLength: 1, maxLength: 5 }).filter((names) => !names.includes('__proto__')),
    key: fc.oneof(fc.integer(), fc.string({ unit: 'grapheme', maxLength: 8 }), fc.double({ noNaN: true, noDefaultInfinity: true })),
    before: fc.array(flat, { minLength: 5, maxLength: 5 }),
    after: fc.array(flat, { minLength: 5, maxLength: 5 }),
    same: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
  })
  .map(({ table, names, key, before, after, same }) => {
    const b: Record<string, unknown> = {}
    const a: Record<string, unknown> = {}
    names.forEach((n, i) => {
      b[n] = before[i]
      a[n] = same[i] ? before[i] : after[i]
    })
    // A record's field order is its keys' (integer-like names first): the table shape's fields.
    const fields = Object.keys(b)
    return { op: { type: 'record', table, key, before: Object.freeze(b), after: Object.freeze(a) } as const, fields }
  })

describe('the compiled patch writer, in a fixed range', () => {
  it('writes the generic encoder bytes, which decode to the update, or throws WRITER_FULL, never past the range, at every alignment and limit', () => {
    fc.assert(
      fc.property(update, fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 160 }), ({ op, fields }, start, room) => {
        const expected = (() => {
          const e = encodeOpsInPlace([op])
          return [...e.bytes.subarray(0, e.length)]
        })()
        const target = new Uint8Array(start + room + 32).fill(0xee)
        const w = new BinaryWriter().over(target, new DataView(target.buffer), start, start + room)
        let full = false
        try {
          encodePatchInto(w, op, fields)
        } catch (error) {
          if (error !== WRITER_FULL) throw error
          full = true
        }
        expect(target.subarray(start + room).every((b) => b === 0xee)).toBe(true)
        if (full) {
          // Only when the patch does not fit: with room for it and the writers' worst case, it is written.
          expect(expected.length).toBeGreaterThan(room - 3 * 64)
          return
        }
        expect([...target.subarray(start, w.length)]).toEqual(expected)
        const [decoded] = decodeOps(target, start, w.length)
        const changed = fields.filter((f) => !Object.is(op.before[f], op.after[f]))
        expect(decoded).toEqual({ type: 'patch', table: op.table, key: op.key, fields: changed.flatMap((f) => [f, op.after[f]]) })
      }),
      { numRuns: 300 },
    )
  })
})
