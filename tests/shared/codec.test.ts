import { describe, expect, it } from 'vitest'
import { decodeOps, encodeOps } from '../../src/shared/codec'

describe('change codec', () => {
  it('encoded bytes are a copy that a later encoding does not overwrite', () => {
    const first = encodeOps([{ type: 'record', table: 'a', key: 1, after: { id: 1, name: 'first' } }])
    encodeOps([{ type: 'record', table: 'b', key: 2, after: { id: 2, name: 'second' } }])
    expect(decodeOps(first)).toEqual([{ type: 'record', table: 'a', key: 1, after: { id: 1, name: 'first' } }])
  })
})
