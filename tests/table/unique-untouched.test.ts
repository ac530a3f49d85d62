import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { Database, DictDBError, increment, type Table } from '../../src/index'

// A unique index is checked only for the fields an update sets (the others keep the values the
// index already holds for the record). These tests drive updates of one field, of several, of
// the unique fields and of others, to a value held elsewhere, to the record's own value, to null,
// of fields the record lacks, alone, in transactions and in a shared database, and compare every
// outcome with a model that checks every unique field of every record after every write.
// Writes of several records at once (an update of all, or of those a filter finds; an insert of
// several) are checked as one change set: a value may move from one record to another within it.

type Rec = { id: number; email?: string | null; code?: number | null; name?: string; n?: number }
const UNIQUE = ['email', 'code'] as const

const emailArb = fc.constantFrom<string | null>('a', 'b', 'c', null)
const codeArb = fc.constantFrom<number | null>(1, 2, 3, null)
const nameArb = fc.constantFrom('x', 'y')
/** Changes of an update: a non-empty subset of the fields, unique ones or not. */
const changesArb = fc
  .record(
    { email: emailArb, code: codeArb, name: nameArb, n: fc.constantFrom<'inc' | number>('inc', 0, 1) },
    { requiredKeys: [] },
  )
  .filter((c) => Object.keys(c).length > 0)
/** A stored record: fields sometimes missing, so that an update also adds fields. */
const recordArb = fc.record({ email: emailArb, code: codeArb, name: nameArb, n: fc.constantFrom(0, 1) }, { requiredKeys: [] })

type Op =
  | { kind: 'insert'; id: number; record: Partial<Rec> }
  | { kind: 'update'; id: number; changes: Partial<Record<keyof Rec, unknown>> }
  | { kind: 'updateAll'; changes: Partial<Record<keyof Rec, unknown>> }
  | { kind: 'updateWhere'; name: string; changes: Partial<Record<keyof Rec, unknown>> }
  | { kind: 'insertMany'; records: Array<{ id: number; record: Partial<Rec> }> }
  | { kind: 'upsert'; id: number; record: Partial<Rec> }
  | { kind: 'delete'; id: number }
  | { kind: 'txn'; ops: Op[]; fail: boolean }

const idArb = fc.integer({ min: 1, max: 6 })
const single: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), id: idArb, record: recordArb }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('update' as const), id: idArb, changes: changesArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('updateAll' as const), changes: changesArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('updateWhere' as const), name: nameArb, changes: changesArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insertMany' as const), records: fc.array(fc.record({ id: idArb, record: recordArb }), { minLength: 2, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('upsert' as const), id: idArb, record: recordArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), id: idArb }) },
)
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: single },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('txn' as const), ops: fc.array(single, { maxLength: 4 }), fail: fc.boolean() }) },
)

/** The model: records by key, every unique field checked over the whole table after a write. */
class Model {
  rows = new Map<number, Rec>()

  /** Applies `next` (a whole new state) if it holds no duplicate; else throws the code's name. */
  #commit(next: Map<number, Rec>): void {
    for (const field of UNIQUE) {
      const seen = new Set<unknown>()
      for (const rec of next.values()) {
        const value = rec[field]
        if (value == null) continue
        if (seen.has(value)) throw new Error('DuplicateKeyError')
        seen.add(value)
      }
    }
    this.rows = next
  }

  run(op: Op): void {
    const next = new Map(this.rows)
    switch (op.kind) {
      case 'insert':
        if (next.has(op.id)) throw new Error('DuplicateKeyError')
        next.set(op.id, { ...op.record, id: op.id })
        break
      case 'insertMany':
        for (const { id, record } of op.records) {
          if (next.has(id)) throw new Error('DuplicateKeyError')
          next.set(id, { ...record, id })
        }
        break
      case 'update':
      case 'updateAll':
      case 'updateWhere': {
        const keys =
          op.kind === 'update' ? [op.id].filter((k) => next.has(k)) : op.kind === 'updateAll' ? [...next.keys()] : [...next.keys()].filter((k) => next.get(k)?.name === op.name)
        if (keys.length === 0) throw new Error('RecordNotFoundError')
        for (const k of keys) next.set(k, merged(next.get(k) as Rec, op.changes))
        break
      }
      case 'upsert': {
        const stored = next.get(op.id)
        next.set(op.id, stored === undefined ? { ...op.record, id: op.id } : { ...stored, ...op.record })
        break
      }
      case 'delete':
        if (!next.delete(op.id)) throw new Error('RecordNotFoundError')
        break
      case 'txn': {
        const saved = this.rows
        try {
          for (const inner of op.ops) {
            try {
              this.run(inner)
            } catch {
              // The engine's transaction body below catches each refused write too.
            }
          }
          if (op.fail) throw new Error('rollback')
        } catch {
          this.rows = saved
        }
        return
      }
    }
    this.#commit(next)
  }
}

function merged(rec: Rec, changes: Partial<Record<keyof Rec, unknown>>): Rec {
  const out: Record<string, unknown> = { ...rec }
  for (const [field, value] of Object.entries(changes)) out[field] = field === 'n' && value === 'inc' ? ((rec.n as number | undefined) ?? 0) + 1 : value
  return out as Rec
}

/** What the engine is given for `changes` (`'inc'` on `n` is `increment(1)`). */
function engineChanges(changes: Partial<Record<keyof Rec, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [field, value] of Object.entries(changes)) out[field] = field === 'n' && value === 'inc' ? increment(1) : value
  return out
}

/** Runs `op` on the engine; the error's code, or 'ok'. */
function runEngine(db: Database, t: Table<Rec>, op: Op): string {
  try {
    switch (op.kind) {
      case 'insert':
        t.insert({ ...op.record, id: op.id })
        break
      case 'update':
        t.update(engineChanges(op.changes), { id: op.id })
        break
      case 'updateAll':
        t.update(engineChanges(op.changes))
        break
      case 'updateWhere':
        t.update(engineChanges(op.changes), { name: op.name })
        break
      case 'insertMany':
        t.insert(op.records.map(({ id, record }) => ({ ...record, id })))
        break
      case 'upsert':
        t.upsert({ ...op.record, id: op.id })
        break
      case 'delete':
        t.delete({ id: op.id })
        break
      case 'txn':
        try {
          db.transaction(() => {
            for (const inner of op.ops) runEngine(db, t, inner)
            if (op.fail) throw new Error('rollback')
          })
        } catch (error) {
          if (!(error instanceof Error) || error.message !== 'rollback') throw error
        }
        break
    }
    return 'ok'
  } catch (error) {
    if (error instanceof DictDBError) return error.code
    throw error
  }
}

function runModel(model: Model, op: Op): string {
  try {
    model.run(op)
    return 'ok'
  } catch (error) {
    return (error as Error).message
  }
}

function sorted(rows: readonly Rec[]): Rec[] {
  return [...rows].sort((a, b) => a.id - b.id)
}

const open: Database[] = []
afterEach(() => {
  for (const db of open.splice(0).reverse()) db.close()
})

interface Variant {
  name: string
  /** The handles writes alternate between (one, or a shared database and one attached to it). */
  open(): { db: Database; t: Table<Rec> }[]
}

function withIndexes(db: Database, type: 'hash' | 'sorted'): Table<Rec> {
  const t = db.createTable<Rec>('t')
  for (const field of UNIQUE) t.createIndex(field, { type, unique: true })
  t.createIndex('name', { type })
  return t
}

const VARIANTS: Variant[] = [
  { name: 'a local table with hash indexes', open: () => [local('hash')] },
  { name: 'a local table with sorted indexes', open: () => [local('sorted')] },
  {
    name: 'a shared table and a handle attached to it, in turn',
    open: () => {
      const db = new Database({ shared: true, logBytes: 1 << 20 })
      open.push(db)
      const t = withIndexes(db, 'hash')
      const attached = Database.attach(db.handle())
      open.push(attached)
      return [
        { db, t },
        { db: attached, t: attached.getTable<Rec>('t') },
      ]
    },
  },
]

function local(type: 'hash' | 'sorted'): { db: Database; t: Table<Rec> } {
  const db = new Database()
  open.push(db)
  return { db, t: withIndexes(db, type) }
}

describe('unique indexes checked only for the fields an update sets', () => {
  for (const variant of VARIANTS) {
    it(`refuses exactly the writes the model refuses, with DuplicateKeyError, on ${variant.name}`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => {
          const handles = variant.open()
          const model = new Model()
          ops.forEach((op, step) => {
            const { db, t } = handles[step % handles.length] as (typeof handles)[number]
            expect(runEngine(db, t, op), JSON.stringify(op)).toBe(runModel(model, op))
            for (const h of handles) expect(sorted(h.t.all())).toEqual(sorted([...model.rows.values()]))
          })
          for (const field of UNIQUE) {
            for (const rec of model.rows.values()) {
              const value = rec[field]
              if (value != null) expect(handles[0]?.t.select({ where: { [field]: value } }).map((r) => r.id)).toEqual([rec.id])
            }
          }
        }),
        { numRuns: 150 },
      )
    })
  }

  it('accepts an update of another field of a record whose unique field is held by no other', () => {
    const { t } = local('hash')
    t.insert({ id: 1, email: 'a', name: 'x' })
    t.insert({ id: 2, email: 'b', name: 'x' })
    expect(t.update({ name: 'y' }, { id: 1 })).toBe(1)
    expect(t.get(1)).toEqual({ id: 1, email: 'a', name: 'y' })
  })

  it('refuses an update that sets a unique field to another record\'s value along with another field', () => {
    const { t } = local('hash')
    t.insert({ id: 1, email: 'a', name: 'x' })
    t.insert({ id: 2, email: 'b', name: 'x' })
    expect(() => t.update({ name: 'y', email: 'b' }, { id: 1 })).toThrow(expect.objectContaining({ code: 'DuplicateKeyError' }))
    expect(t.get(1)).toEqual({ id: 1, email: 'a', name: 'x' })
  })

  it('refuses, in a transaction, an update of a unique field to a value an earlier write of it freed and a later one took', () => {
    const db = new Database()
    open.push(db)
    const t = withIndexes(db, 'hash')
    t.insert({ id: 1, email: 'a' })
    t.insert({ id: 2, email: 'b' })
    db.transaction(() => {
      t.update({ email: 'c' }, { id: 1 })
      t.update({ email: 'a' }, { id: 2 })
      expect(() => t.update({ email: 'a' }, { id: 1 })).toThrow(expect.objectContaining({ code: 'DuplicateKeyError' }))
      t.update({ name: 'z' }, { id: 1 })
    })
    expect(sorted(t.all())).toEqual([
      { id: 1, email: 'c', name: 'z' },
      { id: 2, email: 'a' },
    ])
  })
})

describe('unique indexes of an update of several records: those of the fields it sets are checked', () => {
  for (const variant of VARIANTS) {
    it(`refuses an update through a filter that gives two of its records one value of a unique field, beside a field no unique index is on, on ${variant.name}`, () => {
      const [{ t }] = variant.open() as [{ db: Database; t: Table<Rec> }]
      t.insert({ id: 1, email: 'a', code: 1, name: 'x' })
      t.insert({ id: 2, email: 'b', code: 2, name: 'x' })
      expect(() => t.update({ n: 1, code: 5 }, { name: 'x' })).toThrow(expect.objectContaining({ code: 'DuplicateKeyError', field: 'code' }))
      expect(() => t.update({ email: 'z', n: 1 }, { name: 'x' })).toThrow(expect.objectContaining({ code: 'DuplicateKeyError', field: 'email' }))
      expect(sorted(t.all())).toEqual([
        { id: 1, email: 'a', code: 1, name: 'x' },
        { id: 2, email: 'b', code: 2, name: 'x' },
      ])
    })

    it(`refuses an update through a filter that moves a unique field of one of its records to a value a record outside it holds, on ${variant.name}`, () => {
      const [{ t }] = variant.open() as [{ db: Database; t: Table<Rec> }]
      t.insert({ id: 1, code: 1, name: 'x' })
      t.insert({ id: 2, code: 2, name: 'x' })
      t.insert({ id: 3, code: 3, name: 'y' })
      // Record 1 takes record 2's value (moved within the update: allowed), record 2 record 3's.
      expect(() => t.update({ code: increment(1) }, { name: 'x' })).toThrow(expect.objectContaining({ code: 'DuplicateKeyError', field: 'code', key: 2 }))
      expect(t.update({ code: increment(-1) }, { name: 'x' })).toBe(2)
      expect(sorted(t.all()).map((r) => r.code)).toEqual([0, 1, 3])
    })
  }
})
