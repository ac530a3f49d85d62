import { describe, expect, it, vi } from 'vitest'
import { decodeOps, decodeSnapshot, encodeOps, encodeOpsInPlace, encodePatchInPlace, encodePatchInto, encodeSnapshot, openSinglePatch, patchFieldsOffset, readPatchCount, readPatchFields, readPatchKey, readPatchName, readPatchValue, seekPatchFields, type WireOp, type WireRecord } from '../../src/shared/codec'
import type { FieldPatch } from '../../src/storage/change'
import { BinaryWriter, WRITER_FULL } from '../../src/values/binary'

/** A copy of `rec` with a patch's fields laid over it, as a replica applies them. */
function laidOver(rec: object, patch: FieldPatch): Record<string, unknown> {
  const out: Record<string, unknown> = { ...rec }
  for (let i = 0; i < patch.count; i++) out[patch.names[i] as string] = patch.values[i]
  return out
}

const record = (after: object): WireOp => ({ type: 'record', table: 't', key: 1, after: Object.freeze(after) as never })
const roundTrip = (ops: WireOp[]): WireOp[] => decodeOps(encodeOps(ops))
/** An update as a shared database appends it (with its `before`), decoded. */
const sharedRoundTrip = (before: object, after: object): WireOp[] => {
  const encoded = encodeOpsInPlace([{ type: 'record', table: 't', key: 1, before: Object.freeze(before) as never, after: Object.freeze(after) as never }])
  return decodeOps(encoded.bytes.slice(0, encoded.length))
}

describe('change codec', () => {
  it('encoded bytes are a copy that a later encoding does not overwrite', () => {
    const first = encodeOps([{ type: 'record', table: 'a', key: 1, after: { id: 1, name: 'first' } }])
    encodeOps([{ type: 'record', table: 'b', key: 2, after: { id: 2, name: 'second' } }])
    expect(decodeOps(first)).toEqual([{ type: 'record', table: 'a', key: 1, after: { id: 1, name: 'first' } }])
  })

  it('an object without fields and one whose only field is named "" decode as written', () => {
    expect(roundTrip([record({ id: 1, o: {} }), record({ id: 1, o: { '': 5 } }), record({ id: 1, o: {} })]).map((op) => (op as { after: unknown }).after)).toEqual([
      { id: 1, o: {} },
      { id: 1, o: { '': 5 } },
      { id: 1, o: {} },
    ])
  })

  it('field names holding the character a joined list would split on decode as written', () => {
    const a = { id: 1, 'a\u0000': 1, b: 2 }
    const b = { id: 1, a: 1, '\u0000b': 2 }
    const out = roundTrip([record(a), record(b)]).map((op) => (op as { after: object }).after)
    expect(out.map((o) => Object.entries(o))).toEqual([Object.entries(a), Object.entries(b)])
  })

  it('change sets read from two buffers in turn, then from a third, decode each as written', () => {
    const buffers = [1, 2, 3].map((n) => encodeOps([record({ id: 1, n, s: 'x'.repeat(n) })]))
    for (const i of [0, 1, 0, 1, 2, 0, 2, 1]) {
      const bytes = buffers[i] as Uint8Array
      expect(decodeOps(bytes)).toEqual([{ type: 'record', table: 't', key: 1, after: { id: 1, n: i + 1, s: 'x'.repeat(i + 1) } }])
    }
  })

  it('records decode with their fields in the order they were written', () => {
    const out = roundTrip([record({ id: 1, b: 1, a: 2 }), record({ a: 2, id: 1, b: 1 })]).map((op) => Object.keys((op as { after: object }).after))
    expect(out).toEqual([['id', 'b', 'a'], ['a', 'id', 'b']])
  })

  it('records with a field more or fewer than the record before decode with their own fields', () => {
    // The encoder reuses the last record's shape when the fields match it: a prefix or a longer list must not.
    const written = [{ id: 1, a: 1 }, { id: 1, a: 1, b: 2 }, { id: 1 }, { id: 1, a: 1 }, {}]
    expect(roundTrip(written.map(record)).map((op) => Object.entries((op as { after: object }).after))).toEqual(written.map((o) => Object.entries(o)))
  })

  it('a field named __proto__ decodes as data, not as the prototype', () => {
    const [op] = roundTrip([record(JSON.parse('{"id":1,"__proto__":{"x":5}}') as object)])
    const after = (op as { after: object }).after
    expect(Object.getPrototypeOf(after)).toBe(Object.prototype)
    expect(Object.keys(after)).toEqual(['id', '__proto__'])
  })

  it('decoded records are deep-frozen', () => {
    const [op] = roundTrip([record({ id: 1, tags: ['x'], at: new Date(0), nested: { ok: true } })])
    const after = (op as unknown as { after: { tags: string[]; nested: object } }).after
    expect(Object.isFrozen(after) && Object.isFrozen(after.tags) && Object.isFrozen(after.nested)).toBe(true)
  })

  it('change sets written in the first layout (fields one by one, op kinds as tagged ints) still decode', () => {
    // Written by the codec before records were encoded per shape (a PostgreSQL log may hold them).
    const bytes = Buffer.from(
      '020000000400000000010000006104010000000a070000000200000069640401000000040000006e616d650605000000666972737404000000746167730901000000060100000078020000006174080000000000000000010000006e05000000000000f83f03000000626967070100000032060000006e65737465640a01000000020000006f6b0304040000000100000061040000006e616d65',
      'hex',
    )
    expect(decodeOps(bytes)).toEqual([
      { type: 'record', table: 'a', key: 1, after: { id: 1, name: 'first', tags: ['x'], at: new Date(0), n: 1.5, big: 2n, nested: { ok: true } } },
      { type: 'dropIndex', table: 'a', field: 'name' },
    ])
  })

  it('non-ASCII strings and field names decode as written', () => {
    const [op] = roundTrip([record({ id: 1, 'naïve': 'café ☕ 𝄞', long: 'é'.repeat(100) })])
    expect((op as { after: unknown }).after).toEqual({ id: 1, 'naïve': 'café ☕ 𝄞', long: 'é'.repeat(100) })
  })

  it('an op of a kind this build does not know is refused, not guessed', () => {
    // One op: kind byte 16 + 40, then the table name "t".
    const bytes = new Uint8Array([1, 0, 0, 0, 16 + 40, 1, 0, 0, 0, 0x74])
    expect(() => decodeOps(bytes)).toThrow(/unknown op kind/)
  })

  describe('updates in a shared database', () => {
    it('an update that keeps its record\'s fields travels as the changed fields only', () => {
      expect(sharedRoundTrip({ id: 1, name: 'ann', score: 1 }, { id: 1, name: 'ann', score: 2 })).toEqual([
        { type: 'patch', table: 't', key: 1, fields: ['score', 2] },
      ])
    })

    it('a zero that changes sign is a change', () => {
      expect(sharedRoundTrip({ id: 1, score: 0 }, { id: 1, score: -0 })).toEqual([{ type: 'patch', table: 't', key: 1, fields: ['score', -0] }])
    })

    it('an update that adds, removes or reorders fields travels as the whole record', () => {
      const cases = [
        [{ id: 1, a: 1 }, { id: 1, a: 1, b: 2 }],
        [{ id: 1, a: 1, b: 2 }, { id: 1, a: 1 }],
        [{ id: 1, a: 1, b: 2 }, { id: 1, b: 2, a: 1 }],
      ]
      for (const [before, after] of cases) {
        expect(sharedRoundTrip(before as object, after as object)).toEqual([{ type: 'record', table: 't', key: 1, after }])
      }
    })

    it('inserts and deletes travel whole, and a log for other processes never holds patches', () => {
      const before = Object.freeze({ id: 1, a: 1 })
      const after = Object.freeze({ id: 1, a: 2 })
      const ops: WireRecord[] = [
        { type: 'record', table: 't', key: 1, before: undefined, after },
        { type: 'record', table: 't', key: 1, before, after: undefined },
      ]
      const encoded = encodeOpsInPlace(ops)
      expect(decodeOps(encoded.bytes.slice(0, encoded.length))).toEqual(ops.map(({ before: _, ...op }) => op))
      expect(decodeOps(encodeOps([{ type: 'record', table: 't', key: 1, before, after }]))).toEqual([{ type: 'record', table: 't', key: 1, after }])
    })

    it('patches of different fields keep their field names', () => {
      const out = [sharedRoundTrip({ id: 1, a: 1, b: 1 }, { id: 1, a: 2, b: 1 }), sharedRoundTrip({ id: 1, a: 1, b: 1 }, { id: 1, a: 1, b: 2 })]
      expect(out.map((ops) => (ops[0] as unknown as { fields: unknown[] }).fields)).toEqual([['a', 2], ['b', 2]])
    })

    it('ops on several tables keep their table names', () => {
      const rec = (id: number): WireRecord => ({ type: 'record', table: id % 2 === 0 ? 'even' : 'odd', key: id, after: Object.freeze({ id }) })
      const ops = [rec(1), rec(2), rec(3), rec(3), rec(4)]
      expect(decodeOps(encodeOps(ops)).map((op) => op.table)).toEqual(['odd', 'even', 'odd', 'odd', 'even'])
    })

    it('a change set of one patch is read straight into a copy of the record, with its table and key', () => {
      const before = Object.freeze({ id: 7, a: 1, tags: Object.freeze(['x']), b: 'same' })
      const after = Object.freeze({ id: 7, a: 2, tags: Object.freeze(['x', 'y']), b: 'same' })
      const encoded = encodeOpsInPlace([{ type: 'record', table: 'things', key: 7, before, after }])
      const bytes = encoded.bytes.slice(0, encoded.length)
      expect(openSinglePatch(bytes, 0, bytes.length)).toBe('things')
      expect(readPatchKey()).toBe(7)
      const out = laidOver(before, readPatchFields())
      expect(out).toEqual(after)
      expect(Object.isFrozen(out.tags)).toBe(true)
    })

    it("a patch's fields read again from where they start give the same fields, its head not read", () => {
      const before = Object.freeze({ id: 7, a: 1, b: 'x', c: true })
      const after = Object.freeze({ id: 7, a: 2, b: 'y', c: true })
      const encoded = encodeOpsInPlace([{ type: 'record', table: 'things', key: 7, before, after }])
      const bytes = encoded.bytes.slice(0, encoded.length)
      openSinglePatch(bytes, 0, bytes.length)
      readPatchKey()
      const at = patchFieldsOffset()
      openSinglePatch(encodeOps([{ type: 'dropTable', table: 'other' }]), 0, 10)
      seekPatchFields(bytes, at, bytes.length)
      expect(laidOver(before, readPatchFields())).toEqual(after)
    })

    it("a patch of one field is read as its count, then the field's name and value, from its head or from where its fields start", () => {
      const before = Object.freeze({ id: 7, a: 1, b: 'x' })
      const after = Object.freeze({ id: 7, a: 1, b: 'yz' })
      const encoded = encodeOpsInPlace([{ type: 'record', table: 'things', key: 7, before, after }])
      const bytes = encoded.bytes.slice(0, encoded.length)
      openSinglePatch(bytes, 0, bytes.length)
      readPatchKey()
      const at = patchFieldsOffset()
      expect([readPatchCount(), readPatchName(), readPatchValue()]).toEqual([1, 'b', 'yz'])
      seekPatchFields(bytes, at, bytes.length)
      expect([readPatchCount(), readPatchName(), readPatchValue()]).toEqual([1, 'b', 'yz'])
    })

    it('only a change set of exactly one patch is read straight into a record', () => {
      const rec = (a: number): WireRecord => ({ type: 'record', table: 't', key: 1, before: Object.freeze({ id: 1, a: 0 }), after: Object.freeze({ id: 1, a }) })
      const insert: WireRecord = { type: 'record', table: 't', key: 2, before: undefined, after: Object.freeze({ id: 2 }) }
      for (const ops of [[rec(1), rec(2)], [insert], [rec(1), insert], [{ type: 'dropTable', table: 't' } as WireOp]]) {
        const encoded = encodeOpsInPlace(ops)
        expect(openSinglePatch(encoded.bytes.slice(0, encoded.length), 0, encoded.length)).toBeNull()
      }
    })
  })

  describe('the patch encoder of updates whose fields are known', () => {
    /** A frozen record of the fields `id, a, b` with `a` set to `value`. */
    const rec = (value: unknown, b: unknown = 'same'): Readonly<Record<string, unknown>> => Object.freeze({ id: 9, a: value, b })
    const bytesOf = (encoded: { bytes: Uint8Array; length: number }): number[] => [...encoded.bytes.slice(0, encoded.length)]
    const flatValues: unknown[] = [1, -1, 2 ** 40, 0.5, -0, Number.NaN, Infinity, 'text', 'ünïcödé ✓', '', true, false, null, undefined, 12n]

    it('writes the same bytes as the generic encoder for every value that is not an object', () => {
      for (const value of flatValues) {
        const op = { type: 'record', table: 'things', key: 9, before: rec(0), after: rec(value) } as const
        const fast = bytesOf(encodePatchInPlace(op, ['id', 'a', 'b']))
        expect(fast, String(value)).toEqual(bytesOf(encodeOpsInPlace([op])))
      }
    })

    it('is read back into the record as the update made it, for every value that is not an object', () => {
      for (const value of flatValues) {
        const before = rec(0, 'x')
        const after = rec(value, 'y')
        const encoded = encodePatchInPlace({ type: 'record', table: 'tàble', key: 'k✓', before, after }, ['id', 'a', 'b'])
        const bytes = encoded.bytes.slice(0, encoded.length)
        expect(openSinglePatch(bytes, 0, bytes.length)).toBe('tàble')
        expect(readPatchKey()).toBe('k✓')
        const out = laidOver(before, readPatchFields())
        expect(out).toEqual(after)
        expect(Object.is(out.a, value)).toBe(true)
      }
    })

    it('writes only the fields that changed, with names that are not ASCII', () => {
      const fields = ['id', 'näme', 'n']
      const before = Object.freeze({ id: 1, näme: 'a', n: 1 })
      const after = Object.freeze({ id: 1, näme: 'b', n: 1 })
      const encoded = encodePatchInPlace({ type: 'record', table: 't', key: 1, before, after }, fields)
      expect(decodeOps(encoded.bytes, 0, encoded.length)).toEqual([{ type: 'patch', table: 't', key: 1, fields: ['näme', 'b'] }])
    })

    it('writes a patch of flat values with no call of the writer per value or name (a compiled writer per table and shape)', () => {
      const w = new BinaryWriter()
      const calls: string[] = []
      for (const method of ['value', 'name', 'string', 'uint', 'byte'] as const) {
        const real = w[method].bind(w) as (...args: unknown[]) => void
        ;(w as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
          calls.push(method)
          real(...args)
        }
      }
      const fields = ['id', 'a', 'b']
      for (const value of [1, 'text', true, null]) {
        const op = { type: 'record', table: 'compiled', key: 9, before: rec(0), after: rec(value) } as const
        encodePatchInto(w, op, fields)
        expect(calls, String(value)).toEqual([])
        expect([...w.bytes.subarray(0, w.length)]).toEqual(bytesOf(encodeOpsInPlace([op])))
        w.reset()
      }
    })

    it('in a fixed range, writes the whole patch or throws WRITER_FULL, never past the range, at every limit', () => {
      const before = Object.freeze({ id: 'key', a: 0, b: 'ü' })
      const after = Object.freeze({ id: 'key', a: 2 ** 40, b: 'ünï' })
      const op = { type: 'record', table: 'people', key: 'key', before, after } as const
      const expected = bytesOf(encodeOpsInPlace([op]))
      for (let limit = 8; limit <= 8 + expected.length + 16; limit++) {
        const target = new Uint8Array(128).fill(0xee)
        const w = new BinaryWriter().over(target, new DataView(target.buffer), 8, limit)
        let full = false
        try {
          encodePatchInto(w, op, ['id', 'a', 'b'])
        } catch (error) {
          if (error !== WRITER_FULL) throw error
          full = true
        }
        expect([...target.subarray(limit)].every((b) => b === 0xee), `limit ${limit}`).toBe(true)
        if (!full) expect([...target.subarray(8, w.length)]).toEqual(expected)
        // Room for the patch and its widest values' worst case: it is written.
        if (limit >= 8 + expected.length + 12) expect(full).toBe(false)
      }
    })

    it('given the one field an update set, writes the same bytes as the generic encoder for every value that is not an object, and nothing for a value that did not change', () => {
      for (const value of [...flatValues, 0]) {
        const op = { type: 'record', table: 'one', key: 9, before: rec(0), after: rec(value) } as const
        const w = new BinaryWriter()
        encodePatchInto(w, op, ['id', 'a', 'b'], 'a')
        expect([...w.bytes.subarray(0, w.length)], String(value)).toEqual(bytesOf(encodeOpsInPlace([op])))
      }
    })

    it('given the one field an update set, writes that field when fields alternate between calls', () => {
      const op = (a: unknown, b: unknown) => ({ type: 'record', table: 'alt', key: 9, before: rec(0, 'x'), after: rec(a, b) }) as const
      for (const [field, a, b] of [['a', 1, 'x'], ['b', 0, 'y'], ['a', 2, 'x'], ['b', 0, 'z']] as const) {
        const w = new BinaryWriter()
        encodePatchInto(w, op(a, b), ['id', 'a', 'b'], field)
        expect(decodeOps(w.bytes, 0, w.length), field).toEqual([{ type: 'patch', table: 'alt', key: 9, fields: field === 'a' ? ['a', a] : ['b', b] }])
      }
    })

    it('given the one field an update set, finds each table\'s writer again when tables alternate, without compiling or naming it anew', () => {
      const op = (table: string) => ({ type: 'record', table, key: 9, before: rec(0), after: rec(1) }) as const
      const w = new BinaryWriter()
      for (const table of ['alt1', 'alt2']) encodePatchInto(w, op(table), ['id', 'a', 'b'], 'a')
      // A writer not found is looked up by a signature (JSON), then compiled if need be.
      const signatures = vi.spyOn(JSON, 'stringify')
      const written: Uint8Array[] = []
      let calls = -1
      try {
        for (let i = 0; i < 10; i++) {
          w.reset()
          encodePatchInto(w, op(i % 2 === 0 ? 'alt1' : 'alt2'), ['id', 'a', 'b'], 'a')
          written.push(w.bytes.slice(0, w.length))
        }
        calls = signatures.mock.calls.length
      } finally {
        signatures.mockRestore()
      }
      expect(calls).toBe(0)
      written.forEach((bytes, i) => expect(decodeOps(bytes)).toEqual([{ type: 'patch', table: i % 2 === 0 ? 'alt1' : 'alt2', key: 9, fields: ['a', 1] }]))
    })

    it('keeps the table name of each call when tables alternate', () => {
      const op = (table: string) => ({ type: 'record', table, key: 1, before: rec(0), after: rec(1) }) as const
      for (const table of ['a', 'b', 'a', 'people', 'a']) {
        const encoded = encodePatchInPlace(op(table), ['id', 'a', 'b'])
        expect(openSinglePatch(encoded.bytes, 0, encoded.length)).toBe(table)
      }
    })
  })

  describe('the shared snapshot', () => {
    const definition = (name: string) => ({ name, primaryKey: 'id', indexes: [{ field: 'city', type: 'hash', unique: false }] }) as never
    const state = {
      tables: [
        {
          definition: definition('people'),
          nextAutoKey: 7,
          lockSlot: 3,
          records: [
            Object.freeze({ id: 1, name: 'ünï ✓', city: 'x', score: -0.5, big: 12n, when: new Date(5), tags: Object.freeze(['a', Object.freeze({ deep: null })]), none: undefined }),
            Object.freeze({ id: 2, other: true }),
            Object.freeze({ id: 3, other: false }),
            Object.freeze({ id: 4, name: 'b', city: 'y', score: 1, big: 0n, when: new Date(6), tags: Object.freeze([]), none: undefined }),
            Object.freeze({ id: 5, other: null }),
          ],
        },
        { definition: definition('empty'), nextAutoKey: 1, lockSlot: 4, records: [] },
      ],
    }

    it('decodes to the tables, auto keys, lock slots and records it was encoded from', () => {
      const decoded = decodeSnapshot(encodeSnapshot(state))
      expect(decoded).toEqual(state)
      expect(decoded.tables.map((t) => t.records.map((r) => Object.keys(r)))).toEqual(state.tables.map((t) => t.records.map((r) => Object.keys(r))))
    })

    it('decodes records deep-frozen, dates included', () => {
      const [rec] = decodeSnapshot(encodeSnapshot(state)).tables[0]?.records ?? []
      expect(Object.isFrozen(rec)).toBe(true)
      expect(Object.isFrozen(rec?.tags)).toBe(true)
      expect(Object.isFrozen((rec?.tags as unknown[])[1])).toBe(true)
      expect(Object.isFrozen(rec?.when)).toBe(true)
      expect(() => (rec?.when as Date).setTime(0)).toThrow()
    })

    it('refuses bytes whose first record says it has the shape of a record before it', () => {
      const one = { tables: [{ definition: definition('one'), nextAutoKey: 1, lockSlot: 5, records: [Object.freeze({ id: 1 })] }] }
      const bytes = encodeSnapshot(one)
      bytes[4 + 4] = 1 // the first record's mark (after the meta block's offset and the count): "same shape as the one before"
      expect(() => decodeSnapshot(bytes)).toThrow(expect.objectContaining({ code: 'InvalidArgumentError' }))
    })

    it('decodes the same with a size hint smaller or larger than what it takes', () => {
      for (const hint of [0, 10, 1 << 20]) expect(decodeSnapshot(encodeSnapshot(state, hint))).toEqual(state)
    })

    it('decodes a table of thousands of records whose later records are far larger than its first ones (room made from the first ones)', () => {
      const records = Array.from({ length: 5000 }, (_, i) =>
        Object.freeze(i < 2000 ? { id: i, s: 'x', n: i } : i % 3 === 0 ? { id: i, s: 'y'.repeat(i % 700), n: -i / 3, tags: Object.freeze([i]) } : { id: i, s: 'ü'.repeat(i % 500), n: i * 1.5 }),
      )
      const big = { tables: [{ definition: definition('big'), nextAutoKey: 5000, lockSlot: 6, records }, state.tables[0] as (typeof state.tables)[0]] }
      for (const hint of [0, 1 << 22]) expect(decodeSnapshot(encodeSnapshot(big, hint))).toEqual(big)
    })
  })
})
