/**
 * What must hold of a variant's table after every step: its content, count and indexes agree
 * with the model (indexes also with the same query on the unindexed reference table), and the
 * rows it returns are copies or read-only as promised.
 */
import type { Database, Table } from 'dictdb'
import type { Key, Model } from './reference'
import { isNull, order, own, same, sameKind, show, type Rec } from './values'

export interface VariantSpec {
  name: string
  /** Index type used by index operations: fixed, taken from the operation, or none at all. */
  indexType: 'hash' | 'sorted' | 'fromOp' | 'none'
  /** Honour `unique` of initial indexes and index operations (only with a unique-aware model). */
  unique: boolean
  /**
   * A shared database plus a second `Database` attached to it in this thread; every check runs
   * on both. `alternate`: operations alternate between the two. `keysOnPrimary`: the same, but
   * transactions and writes that assign an auto key always go through the first — a workaround
   * for a known bug (see README: a rolled-back insert moves the key counter of one handle only).
   */
  shared?: 'alternate' | 'keysOnPrimary'
}

/** One way in to a variant's table: its database and table objects. */
export interface Handle {
  db: Database
  table: Table<Rec>
}

export interface Variant {
  spec: VariantSpec
  /** One handle, or two (a shared database and one attached to it). */
  handles: Handle[]
  /** The first handle's table. */
  table: Table<Rec>
  model: Model
}

/**
 * The table agrees with its model: content in order (`select({ copy: false })`), `count()`,
 * frozen stored records, the index catalog; with `deep`, every index gives the same rows as a
 * scan (`eq` on every present value, and ranges on sorted indexes), checked against the model
 * and against the same query on the `reference` variant's table.
 */
export function checkState(v: Variant, deep: boolean, reference: Variant, where: string): void {
  for (const h of v.handles) {
    checkHandle(v, h, where)
    if (!deep) continue
    const indexed = h.table.indexedFields()
    if (show([...indexed].sort()) !== show([...v.model.indexes.keys()].sort())) fail(`${where}: ${v.spec.name}: indexedFields()`, show(indexed), show([...v.model.indexes.keys()]))
    for (const field of indexed) checkIndex(v, h.table, field, v.model.all(), reference, where)
  }
}

/** Content in order, `count()`, frozen stored records. */
export function checkHandle(v: Variant, h: Handle, where: string): void {
  const rows = h.table.select({ copy: false })
  const expected = v.model.all()
  if (show(rows) !== show(expected)) fail(`${where}: ${v.spec.name}: table content`, show(rows), show(expected))
  if (h.table.count() !== expected.length) fail(`${where}: ${v.spec.name}: count()`, String(h.table.count()), String(expected.length))
  for (const r of rows) if (!Object.isFrozen(r)) fail(`${where}: ${v.spec.name}: a stored record is not frozen`, show(r), 'frozen')
}

function checkIndex(v: Variant, t: Table<Rec>, field: string, records: Rec[], reference: Variant, where: string): void {
  const f = t.field(field)
  const sorted = v.model.indexes.get(field)?.type === 'sorted'
  const present: unknown[] = [null]
  for (const r of records) if (!isNull(own(r, field)) && !present.some((p) => same(p, own(r, field)))) present.push(own(r, field))
  for (const value of present) {
    const queries = [{ name: 'eq', cond: f.eq(value), test: (x: unknown) => (isNull(value) ? isNull(x) : same(x, value)) }]
    if (sorted && !isNull(value)) {
      queries.push({ name: 'gte', cond: f.gte(value), test: (x) => (rangeOf(x, value) ?? -1) >= 0 })
      queries.push({ name: 'lt', cond: f.lt(value), test: (x) => (rangeOf(x, value) ?? 0) < 0 })
    }
    for (const q of queries) {
      const plan = t.explain(q.cond)
      const mustUseIndex = q.name === 'eq' || !Array.isArray(value) // ranges over arrays may scan
      if (mustUseIndex && (plan.strategy !== 'index' || plan.field !== field)) fail(`${where}: ${v.spec.name}: ${q.name}(${show(value)}) on indexed \`${field}\` does not use the index`, show(plan), 'index')
      const got = keysOf(t.select({ where: q.cond, copy: false }))
      const want = keysOf(records.filter((r) => q.test(own(r, field))))
      if (got !== want) fail(`${where}: ${v.spec.name}: index on \`${field}\`, ${q.name}(${show(value)})`, got, want)
      if (reference !== v) {
        const scan = keysOf(reference.table.select({ where: q.cond, copy: false }))
        if (got !== scan) fail(`${where}: ${v.spec.name} vs ${reference.spec.name}: ${q.name}(${show(value)}) on \`${field}\``, got, scan)
      }
    }
  }
}

/** `x` against `value` for the range checks; null when they are not of one kind (never in range). */
function rangeOf(x: unknown, value: unknown): number | null {
  return sameKind(x, value) ? order(x, value) : null
}

function keysOf(rows: Rec[]): string {
  return show(rows.map((r) => r.id as Key))
}

// ---- copies and read-only records ------------------------------------------------------------

/** A `copy: true` row is the caller's to change: scribble on it (the table must not notice). */
export function expectMutableCopy(row: Rec): void {
  if (Object.isFrozen(row)) fail('select({ copy: true }) returned a frozen row', show(row), 'a mutable copy')
  scribble(row)
}

/** A `copy: false` row is read-only, deeply: every write attempt throws and changes nothing. */
export function expectReadOnly(row: Rec): void {
  mustThrow(() => {
    ;(row as Record<string, unknown>).a = 'scribbled'
  }, row, 'a field write')
  if (Array.isArray(row.tags)) {
    mustThrow(() => (row.tags as unknown[]).push('scribbled'), row, 'a push on tags')
  }
  if (row.d instanceof Date) {
    const d = row.d
    mustThrow(() => d.setTime(0), row, 'setTime() on a Date')
  }
}

function mustThrow(fn: () => void, row: Rec, what: string): void {
  try {
    fn()
  } catch {
    return
  }
  fail(`select({ copy: false }) returned a writable row: ${what} succeeded`, show(row), 'a read-only row')
}

export function scribble(rec: Rec): void {
  rec.a = 'scribbled'
  scribbleValue(rec.tags)
  scribbleValue(rec.d)
}

export function scribbleValue(value: unknown): void {
  if (Array.isArray(value)) value.push('scribbled')
  else if (value instanceof Date) value.setTime(123)
}

export function fail(what: string, actual: string, expected: string): never {
  throw new Error(`${what}\n  table: ${actual}\n  model: ${expected}`)
}
