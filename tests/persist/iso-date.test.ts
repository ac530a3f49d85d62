import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isoString, parseIso } from '../../src/persist/iso-date'

/** Every time value a Date can hold (±8.64e15 ms), weighted towards the years people use. */
const times = fc.oneof(fc.integer({ min: -8.64e15, max: 8.64e15 }), fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2200, 0, 1) }), fc.integer({ min: -62198755200000, max: -59011459200000 }))

/** A Date's ISO text with one character replaced: bad digits, day or hour overflows, other separators. */
const nearIso = fc.tuple(times, fc.nat(23), fc.constantFrom('0', '1', '2', '3', '4', '5', '9', '-', ':', 'T', '.', 'Z', ' ', 'x')).map(([t, at, c]) => {
  const text = new Date(t).toISOString()
  return text.slice(0, at) + c + text.slice(at + 1)
})

const same = (a: Date, b: Date) => Object.is(a.getTime(), b.getTime())

describe('ISO dates in files', () => {
  it('isoString gives what toISOString gives, for every time value', () => {
    fc.assert(fc.property(times, (t) => isoString(new Date(t)) === new Date(t).toISOString()), { numRuns: 20_000 })
  })

  it('isoString throws the RangeError toISOString throws for an invalid Date', () => {
    expect(() => isoString(new Date(NaN))).toThrow(RangeError)
  })

  it('parseIso gives what new Date gives for the text of every time value', () => {
    fc.assert(fc.property(times, (t) => same(parseIso(new Date(t).toISOString()), new Date(new Date(t).toISOString()))), { numRuns: 20_000 })
  })

  it('parseIso gives what new Date gives for texts one character off the ISO form', () => {
    fc.assert(fc.property(nearIso, (text) => same(parseIso(text), new Date(text))), { numRuns: 20_000 })
  })

  it.each(['2023-02-30T00:00:00.000Z', '2024-02-29T12:00:00.000Z', '2023-02-29T00:00:00.000Z', '2100-02-29T00:00:00.000Z', '2000-02-29T00:00:00.000Z', '2023-01-01T24:00:00.000Z', '0099-01-01T00:00:00.000Z', '0100-03-01T00:00:00.000Z', '2023-01-01T00:00:00.000+00:00', '+012345-01-01T00:00:00.000Z', '2023-13-01T00:00:00.000Z'])('parseIso gives what new Date gives for %s', (text) => {
    expect(parseIso(text).getTime()).toStrictEqual(new Date(text).getTime())
  })
})
