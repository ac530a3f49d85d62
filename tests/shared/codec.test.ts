import { describe, expect, it } from 'vitest'
import { decodeOps, encodeOps, type WireOp } from '../../src/shared/codec'

const record = (after: object): WireOp => ({ type: 'record', table: 't', key: 1, after: Object.freeze(after) as never })
const roundTrip = (ops: WireOp[]): WireOp[] => decodeOps(encodeOps(ops))

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

  it('records decode with their fields in the order they were written', () => {
    const out = roundTrip([record({ id: 1, b: 1, a: 2 }), record({ a: 2, id: 1, b: 1 })]).map((op) => Object.keys((op as { after: object }).after))
    expect(out).toEqual([['id', 'b', 'a'], ['a', 'id', 'b']])
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
})
