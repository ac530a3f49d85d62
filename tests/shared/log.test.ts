import { describe, expect, it, vi } from 'vitest'
import { encodeOpsInPlace } from '../../src/shared/codec'
import { SharedLog, entrySize, ringOffset } from '../../src/shared/log'
import { SharedMemory } from '../../src/shared/memory'

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

describe('SharedLog.read', () => {
  it('refuses the copy of an entry the ring\'s head has passed, and gives it while the head has not, past 4 GiB of log', () => {
    const mem = SharedMemory.create(1 << 16)
    const log = new SharedLog(mem)
    const payload = encodeOpsInPlace([{ type: 'record', table: 't', key: 7, after: { id: 7 } }])
    for (const from of [2 ** 32 - 8, 2 ** 32, 2 ** 33 + 2 ** 31]) {
      mem.head = from
      log.write(from, log.place(from, payload.length), 0, payload)
      const to = from + entrySize(payload.length)
      expect(log.read(from, to), `head at ${from}`).toBe(1)
      mem.head = from + 8
      expect(log.read(from, to), `head past ${from}`).toBe(-1)
    }
  })

  it('refuses, without throwing, a copy whose entry header was overwritten with a length of 2^31 or more (a payload word written over it)', () => {
    const mem = SharedMemory.create(1 << 16)
    const log = new SharedLog(mem)
    const payload = encodeOpsInPlace([{ type: 'record', table: 't', key: 7, after: { id: 7 } }])
    const size = entrySize(payload.length)
    for (let k = 0; k < 3; k++) log.write(k * size, k * size, 0, payload)
    // A writer moved the head past the reader's position, then wrote over the second header: any
    // payload word may land there (a float's high word, say, has its high bit set when negative).
    for (const torn of [0x80000000, 0xfffffff0, 0xfffffff8]) {
      mem.head = 8
      mem.logView.setUint32(size, torn, true)
      expect(log.read(0, 3 * size), `length ${torn}`).toBe(-1)
    }
  })

  it('stops at the first entry boundary at or past its limit', () => {
    const mem = SharedMemory.create(1 << 16)
    const log = new SharedLog(mem)
    const payload = encodeOpsInPlace([{ type: 'record', table: 't', key: 7, after: { id: 7 } }])
    const size = entrySize(payload.length)
    for (let k = 0; k < 3; k++) log.write(k * size, k * size, 0, payload)
    expect(log.read(0, 3 * size, 8)).toBe(1)
    expect(log.read(0, 3 * size, size + 8)).toBe(2)
    expect(log.read(0, 3 * size)).toBe(3)
  })

  it('copies the entry after a skip to the ring\'s start that goes past its limit, not none', () => {
    const mem = SharedMemory.create(1 << 16)
    const log = new SharedLog(mem)
    const payload = encodeOpsInPlace([{ type: 'record', table: 't', key: 7, after: { id: 7, s: 'x'.repeat(8000) } }])
    const tail = (1 << 16) - 4096
    const start = log.place(tail, payload.length)
    expect(start).toBe(1 << 16) // skips the last 4 KiB of the ring
    log.write(tail, start, 0, payload)
    expect(log.read(tail, start + entrySize(payload.length), tail + 64)).toBe(1)
    expect(log.length(0)).toBe(payload.length)
  })

  it('gives every entry whole when each read starts where the last one ended or past entries it skipped, over several passes of the ring', () => {
    const mem = SharedMemory.create(1 << 16)
    const log = new SharedLog(mem)
    let tail = 0
    let pending: { bytes: Uint8Array; end: number }[] = []
    let readFrom = 0
    const readPending = (what: string): void => {
      mem.head = readFrom
      expect(log.read(readFrom, tail), what).toBe(pending.length)
      pending.forEach((entry, k) => {
        expect(log.end(k)).toBe(entry.end)
        const copy = log.bytes.subarray(log.start(k), log.start(k) + log.length(k))
        expect(Buffer.compare(copy, entry.bytes), `entry before ${entry.end}`).toBe(0)
      })
      readFrom = tail
      pending = []
    }
    for (let i = 0; i < 400; i++) {
      const skipped = i % 7 === 3 || i % 7 === 4
      if (skipped && pending.length > 0) readPending(`read before ${i}`)
      // Sizes that leave the ring's end at varying distances, so some entries skip to its start.
      const payload = encodeOpsInPlace([{ type: 'record', table: 't', key: i, after: { id: i, s: 'x'.repeat((i * 997) % 6000) } }])
      const start = log.place(tail, payload.length)
      log.write(tail, start, 0, payload)
      tail = start + entrySize(payload.length)
      // Some entries are skipped, as a replica skips its own appends: the next read starts past them.
      if (skipped) {
        readFrom = tail
        continue
      }
      pending.push({ bytes: payload.bytes.slice(0, payload.length), end: tail })
      // One entry a read, or two.
      if (i % 3 !== 1) readPending(`read ${i}`)
    }
    expect(tail).toBeGreaterThan(3 * (1 << 16))
  })

  it('gives every entry whole when a read takes many at once, across the ring\'s end (a skip to its start, or an entry ending at it)', () => {
    const mem = SharedMemory.create(1 << 16)
    const log = new SharedLog(mem)
    let tail = 0
    let readFrom = 0
    let pending: { bytes: Uint8Array; end: number }[] = []
    let reads = 0
    for (let i = 0; tail < 5 * (1 << 16); i++) {
      // Mostly small entries (runs copied at once), now and then one that skips to the ring's start.
      const after = { id: i, s: 'x'.repeat(i % 41 === 40 ? 5000 + ((i * 131) % 3000) : (i * 7) % 90) }
      const payload = encodeOpsInPlace([{ type: 'record', table: 't', key: i, after }])
      const start = log.place(tail, payload.length)
      log.write(tail, start, 0, payload)
      tail = start + entrySize(payload.length)
      pending.push({ bytes: payload.bytes.slice(0, payload.length), end: tail })
      if (i % 53 !== 52) continue
      mem.head = readFrom
      expect(log.read(readFrom, tail), `read ${reads}`).toBe(pending.length)
      pending.forEach((entry, k) => {
        expect(log.end(k)).toBe(entry.end)
        const copy = log.bytes.subarray(log.start(k), log.start(k) + log.length(k))
        expect(Buffer.compare(copy, entry.bytes), `entry ${k} of read ${reads}`).toBe(0)
      })
      readFrom = tail
      pending = []
      reads++
    }
    expect(reads).toBeGreaterThan(20)
  })

  it('refuses a read whose entries a writer overwrote after their headers were walked and before their bytes were copied', () => {
    const mem = SharedMemory.create(1 << 16)
    const log = new SharedLog(mem)
    const payload = encodeOpsInPlace([{ type: 'record', table: 't', key: 7, after: { id: 7, s: 'y'.repeat(40) } }])
    const size = entrySize(payload.length)
    for (let k = 0; k < 8; k++) log.write(k * size, k * size, 0, payload)
    // The interleaving forced: the read's copy of the run (longer than a few words: `set` of a
    // view) is where the writer comes in, moves the head past the reader's position, and writes
    // over the entries (the headers walked already claim their old lengths).
    const ring = mem.log
    const subarray = ring.subarray.bind(ring)
    let overwrote = false
    vi.spyOn(ring, 'subarray').mockImplementation((start, end) => {
      if (!overwrote) {
        overwrote = true
        mem.head = 8
        ring.fill(0xee, 0, 8 * size)
      }
      return subarray(start, end)
    })
    expect(log.read(0, 8 * size)).toBe(-1)
    expect(overwrote).toBe(true)
  })

  it('refuses a read of one entry that a writer wrapping the ring overwrote after the copy, before the head check', () => {
    const mem = SharedMemory.create(1 << 16)
    const log = new SharedLog(mem)
    const writer = new SharedLog(mem)
    const payload = encodeOpsInPlace([{ type: 'record', table: 't', key: 7, after: { id: 7 } }])
    const size = entrySize(payload.length)
    log.write(0, 0, 0, payload)
    expect(log.read(0, size)).toBe(1)
    // The interleaving forced at the head check: a writer one ring pass ahead moves the head past
    // the entry, then writes its own entry over it (the reader's copy is the old one: whole, but
    // the reader cannot know that, and must not use it).
    const other = encodeOpsInPlace([{ type: 'record', table: 't', key: 8, after: { id: 8, s: 'zz' } }])
    const headPast = mem.headPast.bind(mem)
    vi.spyOn(mem, 'headPast').mockImplementationOnce((pos) => {
      mem.head = size
      writer.write(1 << 16, 1 << 16, 1, other)
      return headPast(pos)
    })
    expect(log.read(0, size)).toBe(-1)
    expect(mem.headPast).toHaveBeenCalledTimes(1)
  })
})
