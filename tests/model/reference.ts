/**
 * The reference model of one table: a plain `Map<key, record>` in insertion order, queried by
 * filtering arrays. Written from SPEC.md "Table<T>", "Queries", "Aggregations" and "Details that
 * are easy to get wrong"; nothing here reads src/. A failing operation throws `ModelError` with
 * the code the engine's error must carry, after changing nothing.
 *
 * Map order does the insertion-order bookkeeping: `set` on an existing key keeps its place
 * (update), `delete` then `set` moves it to the end (re-insert), and restoring a snapshot of the
 * Map puts a rolled-back delete back where it was.
 */
import { clone, isNull, order, own, same, type Rec } from './values'

export type Key = string | number

export class ModelError extends Error {
  constructor(readonly code: string) {
    super(`model: ${code}`)
  }
}

/** A field change for `update`: a value, or `increment(by)`. */
export type Change = { set: unknown } | { increment: number }

export type AggFn = 'count' | 'sum' | 'avg' | 'min' | 'max'
export interface Agg {
  fn: AggFn
  field?: string
}

export interface ModelSelect {
  where: (rec: Rec) => boolean
  orderBy: string[]
  limit?: number
  offset?: number
  columns?: string[] | Record<string, string>
  distinct: boolean
}

interface IndexDef {
  type: 'hash' | 'sorted'
  unique: boolean
}

export interface Snapshot {
  rows: Map<Key, Rec>
  indexes: Map<string, IndexDef>
  nextKey: number
}

export class Model {
  rows = new Map<Key, Rec>()
  /**
   * The next auto key: past every integer key ever committed. SPEC: "never reused in the
   * table's life, even after deletes". A key handed out inside a transaction that rolled back was
   * never committed, so the rollback gives it back: the counter is part of the snapshot a
   * rollback restores (as in SQLite), and every replica and backup derives the same counter from
   * the committed changes.
   */
  nextKey = 1
  /** Index definitions: only `unique` changes what the data may be. */
  indexes = new Map<string, IndexDef>()

  constructor(readonly primaryKey = 'id') {}

  // ---- writes -------------------------------------------------------------------------------

  insert(record: Rec): Key {
    return this.insertMany([record])[0] as Key
  }

  /** All or nothing: a duplicate key (also within the list) or unique value stores none. */
  insertMany(records: Rec[]): Key[] {
    const next = new Map(this.rows)
    let counter = this.nextKey
    const keys: Key[] = []
    for (const record of records) {
      const given = record[this.primaryKey] as Key | undefined
      const key = isNull(given) ? counter : (given as Key)
      if (next.has(key)) throw new ModelError('DuplicateKeyError')
      if (typeof key === 'number' && Number.isInteger(key) && key >= counter) counter = key + 1
      next.set(key, { ...clone(record), [this.primaryKey]: key })
      keys.push(key)
    }
    this.#commit(next)
    this.nextKey = counter
    return keys
  }

  upsert(record: Rec, onConflict: 'update' | 'ignore' | 'error'): { key: Key; action: string } {
    const given = record[this.primaryKey] as Key | undefined
    const old = isNull(given) ? undefined : this.rows.get(given as Key)
    if (old === undefined) return { key: this.insert(record), action: 'inserted' }
    const key = given as Key
    if (onConflict === 'error') throw new ModelError('DuplicateKeyError')
    if (onConflict === 'ignore') return { key, action: 'ignored' }
    const next = new Map(this.rows)
    next.set(key, { ...old, ...clone(record) })
    this.#commit(next)
    return { key, action: 'updated' }
  }

  update(changes: Record<string, Change>, where: (rec: Rec) => boolean): number {
    const fields = Object.keys(changes)
    if (fields.length === 0 || fields.includes(this.primaryKey)) throw new ModelError('InvalidArgumentError')
    const hits = [...this.rows.entries()].filter(([, rec]) => where(rec))
    if (hits.length === 0) throw new ModelError('RecordNotFoundError')
    const next = new Map(this.rows)
    for (const [key, rec] of hits) {
      const out = { ...rec }
      for (const f of fields) out[f] = apply(changes[f] as Change, own(rec, f))
      next.set(key, out)
    }
    this.#commit(next)
    return hits.length
  }

  delete(where: (rec: Rec) => boolean): number {
    const hits = [...this.rows.entries()].filter(([, rec]) => where(rec))
    if (hits.length === 0) throw new ModelError('RecordNotFoundError')
    const next = new Map(this.rows)
    for (const [key] of hits) next.delete(key)
    this.#commit(next)
    return hits.length
  }

  createIndex(field: string, type: 'hash' | 'sorted', unique: boolean): void {
    const existing = this.indexes.get(field)
    if (existing !== undefined) {
      if (existing.type === type && existing.unique === unique) return // again, same options: nothing
      throw new ModelError('InvalidArgumentError')
    }
    if (unique && hasDuplicates([...this.rows.values()], field)) throw new ModelError('DuplicateKeyError')
    this.indexes.set(field, { type, unique })
  }

  dropIndex(field: string): void {
    if (!this.indexes.delete(field)) throw new ModelError('InvalidArgumentError')
  }

  // ---- transactions -------------------------------------------------------------------------

  /** The state a rollback returns to: records in their places, the indexes and the key counter. */
  snapshot(): Snapshot {
    return { rows: new Map(this.rows), indexes: new Map(this.indexes), nextKey: this.nextKey }
  }

  restore(s: Snapshot): void {
    this.rows = new Map(s.rows)
    this.indexes = new Map(s.indexes)
    this.nextKey = s.nextKey
  }

  // ---- reads --------------------------------------------------------------------------------

  all(): Rec[] {
    return [...this.rows.values()]
  }

  get(key: Key): Rec | undefined {
    return this.rows.get(key)
  }

  count(where: (rec: Rec) => boolean): number {
    return this.all().filter(where).length
  }

  /** filter → order (stable: ties keep insertion order) → project → distinct → offset/limit. */
  select(q: ModelSelect): Rec[] {
    let rows = this.all().filter(q.where)
    if (q.orderBy.length > 0) rows = [...rows].sort((a, b) => compareBy(a, b, q.orderBy))
    if (q.columns !== undefined) rows = rows.map((r) => project(r, q.columns as string[] | Record<string, string>))
    if (q.distinct) rows = rows.filter((r, i) => rows.findIndex((s) => same(r, s)) === i)
    const offset = q.offset ?? 0
    return rows.slice(offset, q.limit === undefined ? undefined : offset + q.limit)
  }

  /** One object, or with `groupBy` one object per group (null and missing: one group). */
  aggregate(aggs: Record<string, Agg>, where: (rec: Rec) => boolean, groupBy?: string[]): Rec | Rec[] {
    const rows = this.all().filter(where)
    if (groupBy === undefined) return reduce(rows, aggs)
    const groups: Array<{ values: unknown[]; rows: Rec[] }> = []
    for (const r of rows) {
      const values = groupBy.map((f) => own(r, f) ?? null)
      const group = groups.find((g) => g.values.every((v, i) => same(v, values[i])))
      if (group === undefined) groups.push({ values, rows: [r] })
      else group.rows.push(r)
    }
    return groups.map((g) => {
      const out: Rec = {}
      groupBy.forEach((f, i) => (out[f] = g.values[i]))
      return { ...out, ...reduce(g.rows, aggs) }
    })
  }

  // ---- internals ----------------------------------------------------------------------------

  /** Unique indexes hold after the whole change: no two records share a non-null value. */
  #commit(next: Map<Key, Rec>): void {
    for (const [field, def] of this.indexes) {
      if (def.unique && hasDuplicates([...next.values()], field)) throw new ModelError('DuplicateKeyError')
    }
    this.rows = next
  }
}

function apply(change: Change, current: unknown): unknown {
  if ('set' in change) return clone(change.set)
  if (isNull(current)) return change.increment // missing or null counts as 0
  if (typeof current !== 'number') throw new ModelError('InvalidArgumentError')
  return current + change.increment
}

function hasDuplicates(rows: Rec[], field: string): boolean {
  const values = rows.map((r) => own(r, field)).filter((v) => !isNull(v))
  return values.some((v, i) => values.findIndex((w) => same(v, w)) !== i)
}

/** Nulls/missing first ascending, last descending (the order puts null lowest). */
function compareBy(a: Rec, b: Rec, keys: string[]): number {
  for (const spec of keys) {
    const desc = spec.startsWith('-')
    const field = desc ? spec.slice(1) : spec
    const c = order(own(a, field), own(b, field))
    if (c !== 0) return desc ? -c : c
  }
  return 0
}

/** A missing field projects as null. */
function project(rec: Rec, columns: string[] | Record<string, string>): Rec {
  const pairs = Array.isArray(columns) ? columns.map((c) => [c, c]) : Object.entries(columns)
  const out: Rec = {}
  for (const [alias, field] of pairs) out[alias as string] = own(rec, field as string) ?? null
  return out
}

function reduce(rows: Rec[], aggs: Record<string, Agg>): Rec {
  const out: Rec = {}
  for (const [name, { fn, field }] of Object.entries(aggs)) {
    if (field === undefined) {
      out[name] = rows.length
      continue
    }
    const values = rows.map((r) => own(r, field)).filter((v) => !isNull(v))
    if (fn === 'count') out[name] = values.length
    else if (values.length === 0) out[name] = null
    else if (fn === 'min') out[name] = values.reduce((m, v) => (order(v, m) < 0 ? v : m))
    else if (fn === 'max') out[name] = values.reduce((m, v) => (order(v, m) > 0 ? v : m))
    else {
      if (values.some((v) => typeof v !== 'number')) throw new ModelError('InvalidArgumentError')
      const total = (values as number[]).reduce((s, v) => s + v, 0)
      out[name] = fn === 'sum' ? total : total / values.length
    }
  }
  return out
}
