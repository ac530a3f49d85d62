import { describe, expect, it } from 'vitest'
import { ringOffset } from '../../src/shared/log'

describe('ringOffset', () => {
  const caps = [2 ** 16, 3 * 2 ** 16 + 8, 64 * 2 ** 20, 2 ** 34]

  it('is the position modulo the ring size, at and around every multiple tried, up to 2^53', () => {
    for (const cap of caps) {
      for (const k of [0, 1, 2, 2 ** 15 + 1, 2 ** 20 - 1, Math.floor(2 ** 53 / cap) - 1]) {
        for (const delta of [-16, -8, 0, 8, 16]) {
          const pos = k * cap + delta
          if (pos < 0 || pos >= 2 ** 53) continue
          expect(ringOffset(pos, cap), `${pos} % ${cap}`).toBe(Number(BigInt(pos) % BigInt(cap)))
        }
      }
    }
  })

  it('gives an offset below the ring size for positions past 2^31 (stored as doubles)', () => {
    const cap = 64 * 2 ** 20
    for (let pos = 2 ** 31 - 64; pos < 2 ** 31 + 64 * 1024; pos += 56 * 8) {
      const off = ringOffset(pos, cap)
      expect(off >= 0 && off < cap && (pos - off) % cap === 0).toBe(true)
    }
  })
})
