// The express update (src/table/express.ts) against the general path: the same random writes on
// two shared databases, one with the express path on and one with it off, each with a second
// replica writing too, on a small ring that wraps many times. Some writes have the other replica
// write in their window (between planning and taking the append mutex), as a second thread
// would. After each write, every replica must hold what a local database (the model) holds,
// index by index; at the end, the two rings, byte for byte, and the two snapshots, must be the same.
import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Database, increment, type Table } from '../../src'
import { SharedMemory } from '../../src/shared/memory'
import { setExpressUpdates } from '../../src/table/express'
import { tag } from './value-tag'

const FIELDS = ['h', 's', 'x', 'y'] as const
// No unique index: a table with one never takes the express path.
const INDEXES = [
  { field: 'h', type: 'hash' as const },
  { field: 's', type: 'sorted' as const },
]

/** Flat values mostly (the express path's), some it must leave to the general path (bigint, Date, objects). */
const value = fc.oneof(
  { weight: 8, arbitrary: fc.oneof(fc.constantFrom(0, -0, 1, 2, 0.5, 2 ** 53, 2 ** 31, -(2 ** 31) - 1, '', 'a', 'é', '𝄞', true, false, null), fc.integer({ min: -3, max: 3 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ unit: 'grapheme', maxLength: 6 })) },
  { weight: 1, arbitrary: fc.oneof(fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }), fc.constantFrom(new Date(0)), fc.array(fc.integer({ min: -2, max: 2 }), { maxLength: 2 }), fc.record({ a: fc.integer({ min: 0, max: 2 }) })) },
)
const record = fc.tuple(...FIELDS.map(() => value)).map((values) => Object.fromEntries(FIELDS.map((f, i) => [f, values[i]])))
const field = fc.constantFrom(...FIELDS, 'z')
const id = fc.integer({ min: 1, max: 6 })
const on = fc.constantFrom(0, 0, 0, 1)
/** A one-field write of the other replica, made in a write's window (see `inWindow`). */
const meanwhile = fc.option(fc.record({ id, field, value, by: fc.constantFrom(undefined, 1, 1n) }), { freq: 3 })
const op = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('set' as const), on, id, field, value, meanwhile }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('increment' as const), on, id, field, by: fc.constantFrom(1, -2, 0.5, 1n), meanwhile }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('two' as const), on, id, value, meanwhile }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), on, id, rec: record }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), on, id }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('transaction' as const), on, id, value }) },
)
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never
type Meanwhile = NonNullable<Extract<Op, { kind: 'set' }>['meanwhile']>

/** The other replica's write `m` as an op of the other replica than `o`'s. */
function other(o: Op, m: Meanwhile): Op {
  return m.by === undefined ? { kind: 'set', on: (1 - o.on) as 0 | 1, id: m.id, field: m.field, value: m.value, meanwhile: null } : { kind: 'increment', on: (1 - o.on) as 0 | 1, id: m.id, field: m.field, by: m.by, meanwhile: null }
}

/**
 * Runs `write`, and `meanwhile` right before `write` first takes the append mutex (after it
 * planned), or after it if it never did (it threw first). Says which.
 */
let inWindow: (() => void) | null = null
function withMeanwhile(write: () => string, meanwhile: () => string): { result: string; other: string; order: string } {
  let other = ''
  inWindow = () => {
    other = meanwhile()
  }
  const result = write()
  const order = inWindow === null ? 'before' : 'after'
  if (inWindow !== null) {
    inWindow = null
    other = meanwhile()
  }
  return { result, other, order }
}

/** What a write did: its result, or its error's name and code. */
function run(t: Table<any>, db: Database, o: Op): string {
  try {
    if (o.kind === 'set') return tag(t.update({ [o.field]: o.value }, { id: o.id }))
    if (o.kind === 'increment') return tag(t.update({ [o.field]: increment(o.by) }, { id: o.id }))
    if (o.kind === 'two') return tag(t.update({ x: o.value, s: o.value }, { id: o.id }))
    if (o.kind === 'insert') return tag(t.insert({ id: o.id, ...o.rec }))
    if (o.kind === 'transaction') return tag(db.transaction(() => t.update({ h: o.value }, { id: o.id })))
    return tag(t.delete({ id: o.id }))
  } catch (error) {
    return `${(error as Error).name}/${(error as { code?: string }).code}`
  }
}

/** A replica's table as the model's is compared: records in order, then each index's answers. */
function contents(t: Table<any>, probes: readonly unknown[]): string[] {
  const out = [t.select().map(tag).join(' ')]
  for (const { field: f } of INDEXES) {
    for (const v of probes) out.push(`${f}=${tag(v)}: ${tag(t.select({ where: { [f]: v } }).map((r) => r.id))}`)
  }
  out.push(`by s: ${tag(t.select({ orderBy: ['s', 'id'] }).map((r) => r.id))}`)
  return out
}

const open: Database[] = []
afterEach(() => {
  vi.restoreAllMocks()
  inWindow = null
  setExpressUpdates(true)
  for (const db of open.splice(0)) db.close()
})

/** A shared database holding `rows` in table `t`, and a second replica of it. */
function shared(rows: ReadonlyArray<Record<string, unknown>>) {
  const db = new Database({ shared: true, logBytes: 1 << 16 })
  db.createTable('t', { indexes: INDEXES }).insert(rows.map((row, i) => ({ id: i + 1, ...row })))
  const other = Database.attach(db.handle())
  open.push(other, db)
  return { dbs: [db, other], tables: [db.getTable('t'), other.getTable('t')], handle: db.handle() }
}

type World = ReturnType<typeof shared>

/** Runs `o` on `w`, and its `meanwhile` write in its window (see {@link withMeanwhile}). */
function runIn(w: World, o: Op): { result: string; other: string; order: string } {
  const write = () => run(w.tables[o.on] as Table<any>, w.dbs[o.on] as Database, o)
  if (!('meanwhile' in o) || o.meanwhile === null) return { result: write(), other: '', order: '' }
  const m = other(o, o.meanwhile)
  return withMeanwhile(write, () => run(w.tables[m.on] as Table<any>, w.dbs[m.on] as Database, m))
}

/** `every`: the replicas are compared with the model after every this-many writes (and the last). */
function check(rows: ReadonlyArray<Record<string, unknown>>, ops: readonly Op[], every = 1): void {
  const express = shared(rows)
  const general = shared(rows)
  const model = new Database()
  model.createTable('t', { indexes: INDEXES }).insert(rows.map((row, i) => ({ id: i + 1, ...row })))
  open.push(model)
  // The window: right before a write first takes the append mutex.
  const tryLockAppend = SharedMemory.prototype.tryLockAppend
  const spy = vi.spyOn(SharedMemory.prototype, 'tryLockAppend').mockImplementation(function (this: SharedMemory, ...args) {
    const meanwhile = inWindow
    inWindow = null
    meanwhile?.()
    return tryLockAppend.apply(this, args)
  })
  try {
    compare(express, general, model, ops, every)
  } finally {
    spy.mockRestore()
  }
}

function compare(express: World, general: World, model: Database, ops: readonly Op[], every: number): void {
  const m = model.getTable('t')
  ops.forEach((o, i) => {
    setExpressUpdates(false)
    const viaGeneral = runIn(general, o)
    setExpressUpdates(true)
    const viaExpress = runIn(express, o)
    // The model runs the two writes in the order they reached the log.
    const wanted = { result: '', other: '', order: viaGeneral.order }
    if ('meanwhile' in o && o.meanwhile !== null && viaGeneral.order === 'before') wanted.other = run(m, model, other(o, o.meanwhile))
    wanted.result = run(m, model, o)
    if ('meanwhile' in o && o.meanwhile !== null && viaGeneral.order === 'after') wanted.other = run(m, model, other(o, o.meanwhile))
    expect(viaExpress).toEqual(wanted)
    expect(viaGeneral).toEqual(wanted)
    if (i % every !== 0 && i !== ops.length - 1) return
    const probes = [...new Set(m.select().flatMap((r) => FIELDS.map((f) => r[f] ?? null)))]
    const held = contents(m, probes)
    for (const t of [...express.tables, ...general.tables]) expect(contents(t, probes)).toEqual(held)
  })
  expect(firstDifference(express.handle.buffers.log, general.handle.buffers.log)).toBe(-1)
  expect(firstDifference(express.handle.buffers.snapshot, general.handle.buffers.snapshot)).toBe(-1)
}

/** Where two buffers' bytes first differ (or their lengths), or -1 (a deep compare of 64 KiB per run is slow). */
function firstDifference(a: ArrayBufferLike, b: ArrayBufferLike): number {
  const x = new Uint8Array(a)
  const y = new Uint8Array(b)
  for (let i = 0; i < Math.max(x.length, y.length); i++) if (x[i] !== y[i]) return i
  return -1
}

// DICTDB_EXPRESS_RUNS=2000 runs a longer campaign (not in CI); the time allowed grows with it.
const RUNS = Number(process.env.DICTDB_EXPRESS_RUNS ?? 30)
const LONG = { timeout: Math.max(30_000, RUNS * 300) }

describe('the express update against the general path', () => {
  it('leaves the same log bytes, the same snapshot and replicas holding the model records and index contents, for random writes from two replicas, some made in another write\'s window', LONG, () => {
    fc.assert(fc.property(fc.array(record, { minLength: 6, maxLength: 6 }), fc.array(op, { minLength: 1, maxLength: 80 }), (rows, ops) => check(rows, ops)), { numRuns: RUNS })
  })

  it('leaves the same log bytes and replicas for long runs of one-field updates from two replicas, half with the other\'s write in their window, that wrap the ring many times', LONG, () => {
    const beside = fc.option(fc.record({ id, field: fc.constantFrom('x' as const), value: fc.integer(), by: fc.constantFrom(undefined, 1) }), { freq: 2 })
    const flat = fc.record({ kind: fc.constant('set' as const), on: fc.constant(0), id, field: fc.constantFrom(...FIELDS), value: fc.integer(), meanwhile: beside })
    const inc = fc.record({ kind: fc.constant('increment' as const), on: fc.constantFrom(0, 0, 0, 0, 1), id, field: fc.constantFrom('x' as const), by: fc.constant(1), meanwhile: beside })
    const rows = Array.from({ length: 6 }, (_, i) => ({ h: i, s: 'v', x: 0, y: 'é'.repeat(i) }))
    fc.assert(fc.property(fc.array(fc.oneof(flat, inc), { minLength: 2000, maxLength: 3000 }), (ops) => check(rows, ops, 100)), { numRuns: Math.max(2, RUNS / 10) })
  })
})
