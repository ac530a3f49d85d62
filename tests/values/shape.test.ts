import { describe, expect, it } from 'vitest'
import { thaw } from '../../src/values/freeze'
import { shapeOf } from '../../src/values/shape'

describe('compiled record shapes', () => {
  it('copies a frozen record for a reader into a new mutable object with the same fields in the same order', () => {
    const rec = Object.freeze({ id: 1, name: 'a', n: 2.5, ok: true, none: null })
    const copy = shapeOf(rec, thaw).copy(rec)
    expect(copy).not.toBe(rec)
    expect(Object.isFrozen(copy)).toBe(false)
    expect(Object.keys(copy)).toEqual(['id', 'name', 'n', 'ok', 'none'])
    expect(copy).toEqual(rec)
  })

  it('gives readers a copier other than the one that starts an update, so that each has its own allocation site', () => {
    const shape = shapeOf(Object.freeze({ a: 1, b: 'x' }), thaw)
    expect(shape.copy).not.toBe(shape.shallow)
    expect(shape.copy({ a: 1, b: 'x' })).toEqual(shape.shallow({ a: 1, b: 'x' }))
  })
})
