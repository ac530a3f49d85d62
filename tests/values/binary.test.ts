// The binary writer's pre-encoded names (a patch's table and field names), written a 32-bit
// word at a time: the same bytes as the string encoding, whatever the name's length.
import { describe, expect, it } from 'vitest'
import { BinaryReader, BinaryWriter, RepeatedString, WRITER_FULL, putFlat } from '../../src/values/binary'
import { encodedName, encoderOf } from '../../src/values/binary-shapes'

const NAMES = ['', 'a', 'ab', 'abc', 'abcd', 'score', 'people', 'abcdefg', 'abcdefgh', 'naïve', 'テーブル', '😀x']

function written(write: (w: BinaryWriter) => void): number[] {
  const w = new BinaryWriter()
  w.reset()
  write(w)
  return [...w.bytes.subarray(0, w.length)]
}

describe('BinaryWriter.name', () => {
  it.each(NAMES)('writes %j as the bytes of the same string written bare', (name) => {
    expect(written((w) => w.name(encodedName(name)))).toEqual(written((w) => w.string(name, -1)))
  })

  it('lets what follows a name overwrite its padding, at every alignment', () => {
    for (let lead = 0; lead < 4; lead++) {
      for (const name of NAMES) {
        const viaName = written((w) => {
          for (let i = 0; i < lead; i++) w.byte(0xee)
          w.name(encodedName(name))
          w.byte(0x7f)
          w.name(encodedName(name))
        })
        const viaString = written((w) => {
          for (let i = 0; i < lead; i++) w.byte(0xee)
          w.string(name, -1)
          w.byte(0x7f)
          w.string(name, -1)
        })
        expect(viaName).toEqual(viaString)
      }
    }
  })

  it('grows the buffer for a name at its end, padding included', () => {
    const w = new BinaryWriter()
    w.reset()
    const long = 'x'.repeat(4093) // the writer starts with 4096 bytes
    w.raw(new Uint8Array(2))
    w.name(encodedName(long))
    w.byte(1)
    expect(w.length).toBe(2 + 4 + 4093 + 1)
    expect(w.bytes[2 + 4 + 4092]).toBe(0x78)
    expect(w.bytes[2 + 4 + 4093]).toBe(1)
  })
})

describe('BinaryWriter.over', () => {
  const values: unknown[] = [1, -0, 0.5, 'ünï ✓', 12n, null, true, undefined, Object.freeze({ a: 1, b: ['x'] })]

  it('writes the same bytes into the given range as into its own buffer', () => {
    const target = new Uint8Array(new SharedArrayBuffer(256)).fill(0xee)
    const w = new BinaryWriter().over(target, new DataView(target.buffer), 8, 200)
    for (const v of values) w.value(v)
    expect([...target.subarray(8, w.length)]).toEqual(written((own) => values.forEach((v) => own.value(v))))
    expect(target[7]).toBe(0xee)
  })

  it('throws WRITER_FULL instead of writing past the range, and does not grow', () => {
    const target = new Uint8Array(64).fill(0xee)
    const w = new BinaryWriter().over(target, new DataView(target.buffer), 0, 16)
    w.value(1) // 5 bytes
    let thrown: unknown
    try {
      w.value('a string longer than what is left')
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBe(WRITER_FULL)
    expect(w.bytes).toBe(target)
    expect([...target.subarray(16)].every((b) => b === 0xee)).toBe(true)
  })
})

describe('BinaryReader.repeatedString', () => {
  /** Reads `names`, each written bare after `lead` bytes, with one `RepeatedString` throughout. */
  function readBack(names: readonly string[], lead: number): string[] {
    const w = new BinaryWriter()
    w.reset()
    for (let i = 0; i < lead; i++) w.byte(0)
    for (const name of names) w.string(name, -1)
    const r = new BinaryReader(w.bytes.slice(0, w.length))
    for (let i = 0; i < lead; i++) r.byte()
    const last = new RepeatedString()
    return names.map(() => r.repeatedString(last))
  }

  it('reads back names that differ from the last one read in a single byte, at every place, length and alignment', () => {
    for (let length = 1; length <= 13; length++) {
      const base = 'abcdefghijklm'.slice(0, length)
      for (let at = 0; at < length; at++) {
        const other = `${base.slice(0, at)}Z${base.slice(at + 1)}`
        const names = [base, other, base, base, other, other]
        for (let lead = 0; lead < 4; lead++) expect(readBack(names, lead), `${other} after ${base}, lead ${lead}`).toEqual(names)
      }
    }
  })

  it('reads back names of other lengths and characters in turn', () => {
    const names = [...NAMES, ...NAMES.slice().reverse(), 'people', 'people', 'peoplf', 'score', 'scorf', 'score']
    for (let lead = 0; lead < 4; lead++) expect(readBack(names, lead)).toEqual(names)
  })
})

describe('putFlat', () => {
  const flat: unknown[] = [0, 1, -1, 2 ** 31, -0, 0.5, Number.NaN, -Infinity, '', 'text', 'ünïcödé ✓', '😀', true, false, null, undefined]

  it.each(flat.map((v) => [v]))('writes %j as the bytes of BinaryWriter.value', (v) => {
    const target = new Uint8Array(64).fill(0xee)
    const end = putFlat(target, new DataView(target.buffer), 3, 64, v)
    expect([...target.subarray(3, end)]).toEqual(written((w) => w.value(v)))
    expect(target[2]).toBe(0xee)
  })

  it('refuses, writing nothing past the limit, a value that does not fit before it', () => {
    for (const v of flat) {
      const size = written((w) => w.value(v)).length
      // Room for a number's widest form, a string's widest UTF-8 form: anything less is refused.
      const needs = typeof v === 'number' ? 9 : typeof v === 'string' ? 5 + 3 * v.length : 1
      for (let limit = 0; limit < needs; limit++) {
        const target = new Uint8Array(64).fill(0xee)
        expect(putFlat(target, new DataView(target.buffer), 0, limit, v), String(v)).toBe(-1)
        expect([...target.subarray(limit)].every((b) => b === 0xee)).toBe(true)
      }
      const target = new Uint8Array(64)
      expect(putFlat(target, new DataView(target.buffer), 0, needs, v)).toBe(size)
    }
  })

  it('refuses objects and bigints (a writer writes them)', () => {
    const target = new Uint8Array(64)
    for (const v of [{}, [], new Date(0), 5n]) expect(putFlat(target, new DataView(target.buffer), 0, 64, v)).toBe(-1)
  })
})

describe('BinaryWriter.fields', () => {
  const records: object[] = [
    { id: 1, name: 'a', score: 0.5, ok: true, none: null },
    { id: -0, name: 'ünïcödé ✓ 😀', score: 2 ** 31, ok: false, none: undefined },
    { id: 3, name: 'x'.repeat(5000), score: Number.NaN, ok: true, none: null },
    // Not flat: the compiled writer gives up and the shape's general writer writes the object.
    { id: 4, name: 'b', score: 1, ok: new Date(7), none: null },
    { id: 5, name: 'c', score: 2, ok: true, none: Object.freeze({ deep: [1, 'two'] }) },
    { id: 6, name: 'd', score: 3, ok: true, none: 5n },
  ]

  it('writes an object\'s values as its shape\'s general writer does, flat or not, from any room left in the buffer', () => {
    for (const rec of records) {
      const shape = encoderOf(rec)
      const expected = written((w) => shape.write(rec, w))
      // Writers with room for the whole record, and writers that must grow within it: the record
      // starts at every offset of the first 24.
      for (const initial of [16, 64, 1 << 16]) {
        for (let lead = 0; lead < 24; lead++) {
          const w = new BinaryWriter(initial)
          w.reset()
          for (let i = 0; i < lead; i++) w.byte(0xaa)
          w.fields(shape, rec)
          expect([...w.bytes.subarray(lead, w.length)], `${JSON.stringify(Object.keys(rec))}, ${initial} bytes, at ${lead}`).toEqual(expected)
        }
      }
    }
  })

  it('reads back as the object it was given', () => {
    for (const rec of records) {
      const w = new BinaryWriter()
      w.reset()
      w.value(rec)
      const bytes = w.copy()
      const shape = encoderOf(rec)
      const v = new BinaryWriter()
      v.reset()
      v.byte(bytes[0] as number) // the tag
      v.raw(shape.names)
      v.fields(shape, rec)
      expect(new BinaryReader(v.copy()).value()).toEqual(rec)
    }
  })
})
