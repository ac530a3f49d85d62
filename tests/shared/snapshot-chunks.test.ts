// A writer's snapshot leaves each chunk of records that are the same objects as in its last
// snapshot where that snapshot's bytes are (or moves them), instead of encoding it again
// (state-codec.ts, `SnapshotChunks`). Stored records are frozen, so the same object is the same
// bytes: these tests check that the result is what encoding afresh gives, through edits that
// move, add and drop records.
import { afterEach, describe, expect, it } from 'vitest'
import { Database, increment } from '../../src'
import { decodeSnapshot, encodeSnapshot } from '../../src/shared/codec'
import { SnapshotChunks } from '../../src/shared/state-codec'
import type { DatabaseState } from '../../src/storage/change'
import { BinaryWriter } from '../../src/values/binary'
import type { Rec } from '../../src/values/types'

const definition = (name: string) => ({ name, primaryKey: 'id', indexes: [] }) as never

/** A deterministic generator (mulberry32) of numbers in [0, 1). */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const record = (id: number, v: number): Rec => Object.freeze(v % 5 === 0 ? { id, v, s: 'x'.repeat(v % 40) } : { id, v }) as Rec

/** Table `name` of `records`, in a state as a replica's `rawState()` gives it. */
const state = (tables: Record<string, Rec[]>): DatabaseState => ({
  tables: Object.entries(tables).map(([name, records], i) => ({ definition: definition(name), nextAutoKey: 1, lockSlot: i + 1, records: [...records] })),
})

/** Encodes `s` as a snapshot writer does: each time over the last encoding's bytes, with its `chunks`. */
function encoder() {
  const writer = new BinaryWriter()
  const chunks = new SnapshotChunks()
  return (s: DatabaseState) => encodeSnapshot(s, 0, writer, chunks).slice()
}

describe('a snapshot that copies the chunks of records unchanged since the last', () => {
  it('is byte for byte the snapshot encoded afresh, through updates, inserts, deletes and dropped tables', () => {
    const rnd = prng(7)
    const encode = encoder()
    let a = Array.from({ length: 1500 }, (_, i) => record(i, i))
    let b = Array.from({ length: 300 }, (_, i) => record(i, 2 * i))
    let next = 5000
    for (let step = 0; step < 60; step++) {
      // Every 13th step only cuts the table short within its last chunk: a chunk of the same
      // records as before, but fewer (the last snapshot's chunk holds more).
      const edits = step % 13 === 12 ? 0 : Math.floor(rnd() * 20)
      for (let e = 0; e < edits; e++) {
        const r = rnd()
        const at = Math.floor(rnd() * a.length)
        if (r < 0.6) a[at] = record((a[at] as Rec).id as number, Math.floor(rnd() * 1000))
        else if (r < 0.8) a.splice(at, 1)
        else a.push(record(next++, 1))
      }
      // Now and then the second table goes, or comes back (records that are new objects).
      if (step % 7 === 3) b = []
      else if (step % 7 === 5) b = Array.from({ length: 300 }, (_, i) => record(i, 3 * i))
      if (step % 13 === 12) a = a.slice(0, a.length - 1 - (a.length % 256 > 1 ? 0 : 2))
      const s = state(b.length > 0 ? { a, b } : { a })
      const bytes = encode(s)
      // Compared as buffers (a deep equality of ~20 KB byte by byte takes seconds).
      expect(Buffer.from(bytes).equals(encodeSnapshot(s))).toBe(true)
      if (step % 10 === 0) expect(decodeSnapshot(bytes)).toEqual(s)
    }
  })

  it('keeps the last snapshot\'s bytes of a chunk whose records are the same objects', () => {
    const writer = new BinaryWriter()
    const chunks = new SnapshotChunks()
    const records = Array.from({ length: 600 }, (_, i) => record(i, 1))
    const first = encodeSnapshot(state({ a: records }), 0, writer, chunks)
    // Marks the last snapshot's bytes of the first chunk's first value (record 0's id)...
    first[findRecordZero(first)] = 99
    records[300] = record(300, 2) // ...and changes a record of the second chunk only.
    const second = decodeSnapshot(encodeSnapshot(state({ a: records }), 0, writer, chunks))
    expect(second.tables[0]?.records[0]).toEqual({ id: 99, v: 1 })
    expect(second.tables[0]?.records[300]).toEqual({ id: 300, v: 2 })
  })
})

/** The offset of record 0's id value (an int after its tag) in a snapshot of table `a` from {@link record}s. */
function findRecordZero(bytes: Uint8Array): number {
  // [metaStart u32][count u32][NEW_SHAPE][names block: count u32, (len u32, bytes)*][tag][int32]
  const view = new DataView(bytes.buffer, bytes.byteOffset)
  let at = 4 + 4 + 1
  const fields = view.getUint32(at, true)
  at += 4
  for (let i = 0; i < fields; i++) at += 4 + view.getUint32(at, true)
  return at + 1 // past the tag: the int's low byte
}

const open: Database[] = []
afterEach(() => {
  for (const db of open.splice(0)) db.close()
})

describe('a replica rebuilt from snapshots that copied unchanged chunks', () => {
  it('has every record as the writer has it, after a few records changed pass after pass, others were deleted and added', () => {
    const db = new Database({ shared: true, logBytes: 1 << 16 })
    open.push(db)
    const t = db.createTable('t')
    for (let i = 1; i <= 1200; i++) t.insert({ id: i, score: 0 })
    const before = db.stats().shared?.snapshotsTaken ?? 0
    // ~48 bytes per update on a 64 KiB ring: each 5,000 updates take a snapshot or more.
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 5_000; i++) t.update({ score: increment(1) }, { id: 1 + round * 150 + (i % 10) })
      t.delete({ id: 1000 + round })
      t.insert({ id: 2000 + round, score: round })
    }
    expect((db.stats().shared?.snapshotsTaken ?? 0) - before).toBeGreaterThan(6)
    const other = Database.attach(db.handle())
    open.push(other)
    expect(other.getTable('t').select({ orderBy: 'id' })).toEqual(t.select({ orderBy: 'id' }))
  })

  it('has every record as the writer has it when another thread wrote a snapshot of another layout in between', () => {
    const db = new Database({ shared: true, logBytes: 1 << 16 })
    open.push(db)
    const t = db.createTable('t')
    for (let i = 1; i <= 600; i++) t.insert({ id: i, s: 'a', n: 0 })
    const other = Database.attach(db.handle())
    open.push(other)
    const o = other.getTable('t')
    const busy = (table: typeof t) => {
      // ~48 bytes per update on a 64 KiB ring: 3,000 updates take a snapshot or more, in the
      // writing thread. Both replicas keep up (a read catches up): neither rebuilds, so each
      // keeps its record objects.
      for (let i = 0; i < 3_000; i++) {
        table.update({ n: increment(1) }, { id: 300 + (i % 10) })
        if (i % 200 === 0) {
          t.get(1)
          o.get(1)
        }
      }
    }
    busy(t) // `db` writes a snapshot: record 1's chunk, then the others, where it left them
    o.update({ s: 'a longer string' }, { id: 1 })
    busy(o) // `other` writes one over it: the first chunk longer, every later one further on
    t.update({ s: 'b' }, { id: 1 })
    busy(t) // `db` again: its first chunk as long as in its own last snapshot, the last one unchanged since
    const third = Database.attach(db.handle())
    open.push(third)
    expect(third.getTable('t').select({ orderBy: 'id' })).toEqual(t.select({ orderBy: 'id' }))
  })
})
