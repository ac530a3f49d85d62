import { afterEach, describe, expect, it } from 'vitest'
import { Database, increment } from '../../src'
import { encodeOpsInPlace } from '../../src/shared/codec'
import { ENTRY_ALIGN, SharedLog, entrySize, ringOffset } from '../../src/shared/log'
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
})


describe('entry alignment', () => {
  const open: Database[] = []
  afterEach(() => {
    for (const db of open.splice(0)) db.close()
  })

  /** A shared database with logBytes `logBytes`, its table `t` of 20 records, and a second replica. */
  function shared(logBytes: number) {
    const db = new Database({ shared: true, logBytes })
    const t = db.createTable('t')
    t.insert(Array.from({ length: 20 }, (_, i) => ({ id: i + 1, n: 0, s: '' })))
    const other = Database.attach(db.handle())
    open.push(other, db)
    return { db, t, o: other.getTable('t'), mem: SharedMemory.open(db.handle().buffers) }
  }

  /**
   * Every entry from the ring's head to its tail starts at a ring offset that is a multiple of
   * ENTRY_ALIGN, and ends, padding included, at the ring's end at the latest.
   */
  function expectAligned(mem: SharedMemory, what: string): number {
    const log = new SharedLog(mem)
    const count = log.read(mem.head, mem.tail)
    for (let i = 0; i < count; i++) {
      const start = ringOffset(log.end(i) - entrySize(log.length(i)), mem.capacity)
      expect(start % ENTRY_ALIGN, `${what}, entry ${i}`).toBe(0)
      expect(start + entrySize(log.length(i)), `${what}, entry ${i}'s end`).toBeLessThanOrEqual(mem.capacity)
    }
    return count
  }

  it('puts every entry at a ring offset that is a multiple of 64 bytes, written in place or copied, over several passes of the ring', () => {
    const { t, o, mem } = shared(1 << 16)
    expect(ENTRY_ALIGN).toBe(64)
    let entries = 0
    for (let i = 0; i < 3000; i++) {
      // Updates by key (48-byte entries, written in place), larger ones, and some past the 4 KiB
      // that an entry may take in place (encoded apart and copied).
      if (i % 10 === 0) t.update({ s: 'x'.repeat((i * 37) % 5000) }, { id: 1 + (i % 20) })
      else t.update({ n: increment(1) }, { id: 1 + (i % 20) })
      if (i % 97 === 0) entries += expectAligned(mem, `after write ${i}`)
    }
    expect(entries).toBeGreaterThan(100)
    expect(mem.tail).toBeGreaterThan(3 * mem.capacity)
    expect(o.select({ orderBy: 'id' })).toEqual(t.select({ orderBy: 'id' }))
  })

  it('keeps every padded entry within a ring whose size is not a multiple of 64, and the other replica reads them all', () => {
    const { t, o, mem } = shared((1 << 16) + 8)
    const cap = mem.capacity
    const log = new SharedLog(mem)
    /** The payload bytes of the last entry appended. */
    const lastLength = (): number => {
      const tail = mem.tail
      for (let from = mem.head; ; ) {
        const count = log.read(from, tail)
        if (log.end(count - 1) === tail) return log.length(count - 1)
        from = log.end(count - 1)
      }
    }
    // A record whose increment (an update by key, written in place) takes 57 to 64 payload bytes: a long key.
    let key = ''
    for (let k = 1; key === ''; k++) {
      t.insert({ id: 'k'.repeat(k), n: 0, s: '' })
      t.update({ n: increment(1) }, { id: 'k'.repeat(k) })
      if (lastLength() > 56) key = 'k'.repeat(k)
    }
    expect(lastLength()).toBeLessThanOrEqual(64)
    for (let pass = 0; pass < 3; pass++) {
      // Up to the last line-aligned offset with room for that entry unpadded (72 bytes before the
      // ring's end), but not padded (128 bytes).
      while (ringOffset(mem.tail, cap) !== cap - 72) t.update({ n: increment(1) }, { id: 2 })
      t.update({ n: increment(1) }, { id: key })
      expectAligned(mem, `pass ${pass}`)
      expect(o.get(key)).toEqual(t.get(key))
      for (let i = 0; i < 10; i++) t.update({ n: increment(1) }, { id: 4 })
      expect(o.get(4)).toEqual(t.get(4))
    }
    expect(o.select({ orderBy: 'id' })).toEqual(t.select({ orderBy: 'id' }))
  })
})
