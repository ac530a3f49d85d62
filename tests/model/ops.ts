/**
 * Operations as plain data, and their fast-check generators. Small key and value spaces, so
 * duplicate keys, equal values, nulls, missing fields and cross-type comparisons are common.
 */
import fc from 'fast-check'
import type { Cond, WhereSpec } from './conditions'
import type { Agg, AggFn, Change, Key } from './reference'
import type { Rec } from './values'

export interface SelectSpec {
  where: WhereSpec
  orderBy: string[]
  /** Pass a single sort key as a string rather than a one-element list; leave out `copy: true`. */
  orderByString: boolean
  limit?: number
  offset?: number
  columns?: string[] | Record<string, string>
  distinct: boolean
}

export type Op =
  | { kind: 'insert'; record: Rec }
  | { kind: 'insertMany'; records: Rec[] }
  | { kind: 'upsert'; record: Rec; onConflict?: 'update' | 'ignore' | 'error' }
  | { kind: 'update'; changes: Record<string, Change>; where: WhereSpec }
  | { kind: 'delete'; where: WhereSpec }
  | { kind: 'select'; q: SelectSpec }
  | { kind: 'count'; where: WhereSpec }
  | { kind: 'aggregate'; aggs: Record<string, Agg>; where: WhereSpec; groupBy?: string[] }
  | { kind: 'get'; key: Key }
  | { kind: 'createIndex'; field: string; type: 'hash' | 'sorted'; unique: boolean }
  | { kind: 'dropIndex'; field: string }
  /** `failOnError`: the first failing body operation's error escapes the body (and rolls it back). */
  | { kind: 'txn'; body: Op[]; end: 'return' | 'throw' | 'failOnError' }

export interface InitialIndex {
  field: string
  type: 'hash' | 'sorted'
  unique: boolean
}

/**
 * The string field is named after a member of Object.prototype: a record without it must read as
 * missing there, never as the prototype's function (in conditions, indexes, sorts, aggregations).
 */
export const B = 'toString'
export const FIELDS = ['a', B, 'n', 'tags', 'd'] as const
export const INDEXABLE = ['a', B, 'n', 'd', 'tags'] as const
const QUERY_FIELDS = ['id', ...FIELDS] as const

export const DATES = [new Date('2000-01-01T00:00:00Z'), new Date('2024-02-29T12:00:00Z'), new Date('2024-06-30T23:59:59Z')]

const MISSING = Symbol('missing')
type Maybe<T> = T | typeof MISSING

// ---- values ----------------------------------------------------------------------------------

/** Keys: mostly 1..20 (colliding with auto keys), some strings, a few that must not move the auto key. */
const keyArb: fc.Arbitrary<Key> = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 1, max: 20 }) },
  { weight: 2, arbitrary: fc.constantFrom('k1', 'k2', 'K1', '1') },
  { weight: 1, arbitrary: fc.constantFrom(-1, 0, 2.5) },
)
const A_STRINGS = ['x', 'A1', 'b_', '1'] as const
const B_STRINGS = ['', 'ab', 'abc', 'Ab', 'b%', 'ba', 'b_c'] as const
const N_VALUES = [-1.5, 0, 1, 2, 2.5, 10] as const
const TAGS = ['x', 'y', 'z', 'X'] as const

const aArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 5 }) },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constantFrom(...A_STRINGS) },
)
const bArb: fc.Arbitrary<unknown> = fc.constantFrom(...B_STRINGS)
const nArb: fc.Arbitrary<unknown> = fc.constantFrom(...N_VALUES)
const tagsArb: fc.Arbitrary<unknown> = fc.array(fc.constantFrom(...TAGS), { maxLength: 3 })
const dArb: fc.Arbitrary<unknown> = fc.constantFrom(...DATES)

function maybe<T>(arb: fc.Arbitrary<T>, present: number, missing: number): fc.Arbitrary<Maybe<T>> {
  return fc.oneof({ weight: present, arbitrary: arb }, { weight: missing, arbitrary: fc.constant(MISSING) })
}

function dropMissing(fields: Record<string, unknown>): Rec {
  const out: Rec = {}
  for (const [k, v] of Object.entries(fields)) if (v !== MISSING) out[k] = v
  return out
}

/** A record: about half with an explicit key; `missing` weights a field being absent (out of 4). */
function recordArb(missing: number): fc.Arbitrary<Rec> {
  return fc
    .record({
      id: fc.oneof({ weight: 10, arbitrary: maybe(keyArb, 1, 1) }, { weight: 1, arbitrary: fc.constant(null) }),
      a: maybe(aArb, 4, missing),
      [B]: maybe(bArb, 3, missing),
      n: maybe(nArb, 4, missing),
      tags: maybe(tagsArb, 3, missing),
      d: maybe(dArb, 3, missing),
    })
    .map(dropMissing)
}

// ---- conditions ------------------------------------------------------------------------------

/** Operands per field: its own values plus other kinds, so cross-type comparisons happen. */
const OPERANDS: Record<string, readonly unknown[]> = {
  id: [1, 2, 5, 10, 20, 21, 'k1', 'K1', 'k', null],
  a: [0, 1, 2, 3, 5, 6, 2.5, 'x', 'A1', '1', 'a', null, DATES[0]],
  [B]: ['', 'ab', 'abc', 'Ab', 'b', 'ba', 'b%', 'zz', 1, null],
  n: [-1.5, 0, 1, 2, 2.5, 3, 10, 'x', null],
  tags: [[], ['x'], ['x', 'y'], ['X'], ['z', 'z'], 'x', null],
  d: [...DATES, new Date(5), 'x', 0, null],
}
const CONTAINS = ['x', 'y', 'X', 'a', 'b', '%', '', 1, ['x']] as const
const PREFIXES = ['', 'a', 'ab', 'A', 'b', 'x'] as const
const PATTERNS = ['a%', '%b', '%b%', '_b%', 'b%', 'b_c', '%', '', 'A%', 'ab', 'b\\%', '__', 'x'] as const

const operand = (field: string): fc.Arbitrary<unknown> => fc.constantFrom(...(OPERANDS[field] as unknown[]))

const leafArb: fc.Arbitrary<Cond> = fc.constantFrom(...QUERY_FIELDS).chain((field): fc.Arbitrary<Cond> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constantFrom('eq' as const, 'ne' as const), field: fc.constant(field), value: operand(field) }) },
    {
      weight: 4,
      arbitrary: fc.record({ op: fc.constantFrom('lt' as const, 'lte' as const, 'gt' as const, 'gte' as const), field: fc.constant(field), value: operand(field) }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('isIn' as const), field: fc.constant(field), values: fc.array(operand(field), { maxLength: 3 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('between' as const), field: fc.constant(field), lo: operand(field), hi: operand(field) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('isNull' as const, 'isNotNull' as const), field: fc.constant(field) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('contains' as const), field: fc.constant(field), value: fc.constantFrom(...CONTAINS) }) },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constantFrom('startsWith' as const, 'endsWith' as const), field: fc.constant(field), value: fc.constantFrom(...PREFIXES) }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('like' as const, 'ilike' as const), field: fc.constant(field), value: fc.constantFrom(...PATTERNS) }) },
  ),
)

function combine(items: fc.Arbitrary<Cond>): fc.Arbitrary<Cond> {
  return fc.oneof(
    { weight: 8, arbitrary: items },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('and' as const), items: fc.array(items, { minLength: 1, maxLength: 3 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('or' as const), items: fc.array(items, { minLength: 1, maxLength: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('not' as const), item: items }) },
  )
}

/** Condition trees up to three levels deep. */
export const condArb: fc.Arbitrary<Cond> = combine(combine(leafArb))

const objectWhereArb: fc.Arbitrary<Record<string, unknown>> = fc
  .record({ id: maybe(operand('id'), 1, 4), a: maybe(operand('a'), 1, 1), [B]: maybe(operand(B), 1, 2), tags: maybe(operand('tags'), 1, 4), d: maybe(operand('d'), 1, 4) })
  .map(dropMissing)

export const whereArb: fc.Arbitrary<WhereSpec> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: 'all' as const }) },
  { weight: 8, arbitrary: condArb.map((cond) => ({ kind: 'cond' as const, cond })) },
  { weight: 2, arbitrary: objectWhereArb.map((fields) => ({ kind: 'object' as const, fields })) },
  { weight: 1, arbitrary: condArb.map((cond) => ({ kind: 'predicate' as const, cond })) },
)

/** For updates and deletes: broader conditions, so that most of them match something. */
const broadLeafArb: fc.Arbitrary<Cond> = fc.oneof(
  fc.record({ op: fc.constantFrom('gte' as const, 'lte' as const, 'ne' as const), field: fc.constantFrom('a', 'n'), value: fc.constantFrom(1, 2, 2.5) }),
  fc.record({ op: fc.constantFrom('isNotNull' as const, 'isNull' as const), field: fc.constantFrom(...FIELDS) }),
  fc.record({ op: fc.constant('like' as const), field: fc.constant(B), value: fc.constantFrom('%b%', 'a%', '_%') }),
)
const writeWhereArb: fc.Arbitrary<WhereSpec> = fc.oneof(
  { weight: 3, arbitrary: whereArb },
  { weight: 3, arbitrary: combine(broadLeafArb).map((cond) => ({ kind: 'cond' as const, cond })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'all' as const }) },
)

// ---- queries ---------------------------------------------------------------------------------

const SORT_KEYS = QUERY_FIELDS.flatMap((f) => [f, `-${f}`])
const columnsArb: fc.Arbitrary<string[] | Record<string, string>> = fc.oneof(
  fc.uniqueArray(fc.constantFrom(...QUERY_FIELDS), { minLength: 1, maxLength: 3 }),
  fc.dictionary(fc.constantFrom('x', 'y', 'z'), fc.constantFrom(...QUERY_FIELDS), { minKeys: 1, maxKeys: 2 }),
)

export const selectArb: fc.Arbitrary<SelectSpec> = fc
  .record({
    where: fc.oneof({ weight: 3, arbitrary: whereArb }, { weight: 1, arbitrary: writeWhereArb }),
    orderBy: fc.uniqueArray(fc.constantFrom(...SORT_KEYS), { maxLength: 2, selector: (k) => k.replace('-', '') }),
    orderByString: fc.boolean(),
    limit: maybe(fc.integer({ min: 0, max: 6 }), 1, 2),
    offset: maybe(fc.integer({ min: 0, max: 4 }), 1, 2),
    columns: maybe(columnsArb, 1, 2),
    distinct: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  })
  .map((q) => dropMissing(q) as unknown as SelectSpec)

const AGG_FNS: readonly AggFn[] = ['count', 'sum', 'avg', 'min', 'max']
const aggArb: fc.Arbitrary<Agg> = fc.record({ fn: fc.constantFrom(...AGG_FNS), field: maybe(fc.constantFrom(...FIELDS), 5, 1) }).map((a) => {
  if (a.field === MISSING) return { fn: 'count' as const } // count() counts records
  return { fn: a.fn, field: a.field }
})
const aggregateArb = fc.record({
  kind: fc.constant('aggregate' as const),
  aggs: fc.dictionary(fc.constantFrom('c0', 'c1', 'c2'), aggArb, { minKeys: 1, maxKeys: 3 }),
  where: fc.oneof(whereArb, writeWhereArb),
  groupBy: maybe(fc.uniqueArray(fc.constantFrom('a', B, 'd', 'tags'), { minLength: 1, maxLength: 2 }), 1, 1),
})

// ---- writes ----------------------------------------------------------------------------------

const VALUES: Record<string, fc.Arbitrary<unknown>> = { a: aArb, [B]: bArb, n: nArb, tags: tagsArb, d: dArb }
const INCREMENTS = [-2, -1, 0.5, 1, 2] as const

function changeArb(field: string, incrementWeight: number): fc.Arbitrary<Maybe<Change>> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(MISSING) },
    { weight: 2, arbitrary: fc.oneof({ weight: 5, arbitrary: VALUES[field] as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: fc.constant(null) }).map((set) => ({ set })) },
    { weight: incrementWeight, arbitrary: fc.constantFrom(...INCREMENTS).map((increment) => ({ increment })) },
  )
}

const changesArb: fc.Arbitrary<Record<string, Change>> = fc
  .record({
    a: changeArb('a', 1),
    [B]: changeArb(B, 0),
    n: changeArb('n', 4),
    tags: changeArb('tags', 0),
    d: changeArb('d', 0),
    // Rarely: a bad change (the primary key, or an increment of a non-number).
    id: fc.oneof({ weight: 30, arbitrary: fc.constant(MISSING) }, { weight: 1, arbitrary: fc.constant({ set: 3 }) }),
    bad: fc.oneof({ weight: 15, arbitrary: fc.constant(MISSING) }, { weight: 1, arbitrary: fc.constant({ increment: 1 }) }),
  })
  .map((c) => {
    const out = dropMissing(c) as Record<string, Change>
    if ('bad' in out) {
      delete out.bad
      out[B] = { increment: 1 }
    }
    return out
  })
  .filter((c) => Object.keys(c).length > 0)

export interface OpWeights {
  /** Weight of a field being absent from a record (unique indexes need room: missing never conflicts). */
  missing: number
  /** Whether index operations ask for unique indexes. */
  unique: boolean
}

function simpleOpArb(w: OpWeights): fc.Arbitrary<Op> {
  const rec = recordArb(w.missing)
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('insert' as const), record: rec }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('insertMany' as const), records: fc.array(rec, { maxLength: 5 }) }) },
    {
      weight: 3,
      arbitrary: fc
        .record({ kind: fc.constant('upsert' as const), record: rec, onConflict: maybe(fc.constantFrom('update' as const, 'ignore' as const, 'error' as const), 3, 1) })
        .map((o) => dropMissing(o) as Op),
    },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('update' as const), changes: changesArb, where: writeWhereArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), where: writeWhereArb }) },
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('select' as const), q: selectArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('count' as const), where: writeWhereArb }) },
    { weight: 2, arbitrary: aggregateArb.map((o) => dropMissing(o) as Op) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('get' as const), key: keyArb }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('createIndex' as const),
        field: fc.constantFrom(...INDEXABLE),
        type: fc.constantFrom('hash' as const, 'sorted' as const),
        unique: w.unique ? fc.boolean() : fc.constant(false),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('dropIndex' as const), field: fc.constantFrom(...INDEXABLE) }) },
  )
}

const endArb = fc.constantFrom('return' as const, 'throw' as const, 'failOnError' as const)

/** A sequence of up to `maxLength` operations, transactions (nested at most once) included. */
export function opsArb(w: OpWeights, maxLength = 40): fc.Arbitrary<Op[]> {
  const simple = simpleOpArb(w)
  const inner = fc.record({ kind: fc.constant('txn' as const), body: fc.array(simple, { minLength: 1, maxLength: 4 }), end: endArb })
  const outer = fc.record({
    kind: fc.constant('txn' as const),
    body: fc.array(fc.oneof({ weight: 4, arbitrary: simple }, { weight: 1, arbitrary: inner }), { minLength: 1, maxLength: 6 }),
    end: endArb,
  })
  return fc.array(fc.oneof({ weight: 12, arbitrary: simple }, { weight: 2, arbitrary: outer }), { maxLength, size: 'max' })
}

/**
 * Indexes the tables start with. With `unique`, `n` (the field updates increment, so values
 * move between records within one change set) always has a unique index.
 */
export function initialIndexesArb(unique: boolean): fc.Arbitrary<InitialIndex[]> {
  const others = fc.uniqueArray(
    fc.record({
      field: fc.constantFrom(...INDEXABLE.filter((f) => !unique || f !== 'n')),
      type: fc.constantFrom('hash' as const, 'sorted' as const),
      unique: unique ? fc.constantFrom(true, false, false) : fc.constant(false),
    }),
    { selector: (i) => i.field, maxLength: unique ? 2 : 4 },
  )
  if (!unique) return others
  return fc.tuple(fc.constantFrom('hash' as const, 'sorted' as const), others).map(([type, rest]) => [{ field: 'n', type, unique: true }, ...rest])
}
