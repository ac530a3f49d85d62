import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyRate, formatMinor, toMinor, toPositiveMinor, toRatio } from '../../src/helpers/money'
import { expectDictDBError } from '../support/helpers'

describe('amounts', () => {
  it('reads numbers and bigints as minor units and decimal strings as major units', () => {
    expect(toMinor(1050, 2)).toBe(1050n)
    expect(toMinor(1050n, 2)).toBe(1050n)
    expect(toMinor('10.50', 2)).toBe(1050n)
    expect(toMinor('10.5', 2)).toBe(1050n)
    expect(toMinor('10', 2)).toBe(1000n)
    expect(toMinor('10.500', 2)).toBe(1050n)
    expect(toMinor('7', 0)).toBe(7n)
    expect(toMinor('123456789012345678901234.99', 2)).toBe(12345678901234567890123499n)
  })

  it('refuses a fraction of a minor unit', () => {
    expectDictDBError(() => toMinor('10.505', 2), 'InvalidArgumentError', /fraction of a minor unit/)
    expectDictDBError(() => toMinor(10.5, 2), 'InvalidArgumentError', /fraction of a minor unit/)
    expectDictDBError(() => toMinor('1.5', 0), 'InvalidArgumentError', /fraction of a minor unit/)
  })

  it('refuses negatives, unsafe integers, non-numbers and malformed strings', () => {
    for (const bad of [-1, -1n, '-0.01', 2 ** 53, NaN, Infinity, '1e3', ' 1', '1,50', '+1', '.5', '', null, undefined, {}]) {
      expectDictDBError(() => toMinor(bad, 2), 'InvalidArgumentError')
    }
  })

  it('takes zero as an amount but not as a movement', () => {
    expect(toMinor('0.00', 2)).toBe(0n)
    expectDictDBError(() => toPositiveMinor(0, 2), 'InvalidArgumentError', /more than zero/)
  })

  it('formats minor units as decimal strings', () => {
    expect(formatMinor(1050n, 2)).toBe('10.50')
    expect(formatMinor(5n, 2)).toBe('0.05')
    expect(formatMinor(-5n, 2)).toBe('-0.05')
    expect(formatMinor(42n, 0)).toBe('42')
    expect(formatMinor(1n, 3)).toBe('0.001')
  })

  it('format and read are inverse', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.integer({ min: 0, max: 8 }), (minor, scale) => {
        expect(toMinor(formatMinor(minor, scale), scale)).toBe(minor)
      }),
    )
  })
})

describe('rates', () => {
  it('reads a number by its shortest decimal string and a string exactly', () => {
    expect(toRatio(0.15, 'r')).toMatchObject({ num: 15n, den: 100n, text: '0.15' })
    expect(toRatio('0.029', 'r')).toMatchObject({ num: 29n, den: 1000n })
    expect(toRatio(1e-7, 'r')).toMatchObject({ num: 1n, den: 10000000n })
    expect(toRatio(1, 'r')).toMatchObject({ num: 1n, den: 1n })
    expect(toRatio(0, 'r')).toMatchObject({ num: 0n })
  })

  it('refuses rates below 0, above 1, or not numbers', () => {
    for (const bad of [-0.1, 1.01, '2', 'abc', NaN, null, 1n, '1e999999']) expectDictDBError(() => toRatio(bad, 'commissionRate'), 'InvalidArgumentError', /commissionRate/)
  })

  it('rounds half-up to the minor unit, exactly', () => {
    expect(applyRate(4000n, toRatio('0.05', 'r'))).toBe(200n)
    expect(applyRate(10n, toRatio('0.05', 'r'))).toBe(1n) // 0.5 → 1
    expect(applyRate(10n, toRatio('0.029', 'r'))).toBe(0n) // 0.29 → 0
    expect(applyRate(50n, toRatio('0.01', 'r'))).toBe(1n) // 0.5 → 1
    expect(applyRate(49n, toRatio('0.01', 'r'))).toBe(0n) // 0.49 → 0
  })

  it('where binary floating point rounds the wrong way, the decimal rate does not', () => {
    // 1500 × 0.009 is 13.5 exactly, but 13.499999999999998 in floating point.
    expect(Math.round(1500 * 0.009)).toBe(13)
    expect(applyRate(1500n, toRatio(0.009, 'r'))).toBe(14n)
    expect(Math.round(2500 * 0.043)).toBe(107)
    expect(applyRate(2500n, toRatio(0.043, 'r'))).toBe(108n)
  })

  it('agrees with exact rational rounding on any amount and rate', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.integer({ min: 0, max: 10000 }), (amount, basisPoints) => {
        const rate = toRatio(String(basisPoints / 10000), 'r')
        const exact = amount * BigInt(basisPoints) // in 1/10000 of a minor unit
        const floor = exact / 10000n
        const expected = exact % 10000n >= 5000n ? floor + 1n : floor
        expect(applyRate(amount, rate)).toBe(expected)
      }),
    )
  })
})
