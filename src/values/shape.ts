import { matcherSource } from './own-field'
import { blankFor, needsLiteral, type Blank } from './plain-record'
import type { Rec } from './types'

/**
 * Copiers compiled for one record shape (its list of fields). Copying a *frozen* object with a
 * spread or `for…in` takes V8's slow path; a function that names each field is about 5× faster.
 * A table tries the shape of the last record it copied first (`matches`), then looks one up.
 */
export interface Shape {
  /** A mutable deep copy (what `get`/`select` return). */
  readonly deep: (rec: Rec) => Record<string, unknown>
  /**
   * A mutable copy of the top level, nested values shared (the start of an update's merge). Of
   * a record that {@link holds} this shape, it is also a full copy: there is nothing nested.
   */
  readonly shallow: (rec: Rec) => Record<string, unknown>
  /**
   * {@link shallow}'s copy, for a reader (`get`, `select`) of a record that {@link holds} this
   * shape. A function of its own: when a field name needs object literals (see ./plain-record.ts),
   * each literal is an allocation site, and V8 decides per site whether its objects start in the
   * old generation: an update's copies are stored and live long, so one shared site would put
   * every read's copy, dead at once, in the old generation too (a local `get` after 1.5M updates
   * in its thread: ~120 ns -> ~390 ns). Otherwise every maker uses the constructor, which has no site.
   */
  readonly copy: (rec: Rec) => Record<string, unknown>
  /**
   * Whether `rec` has exactly this shape's own fields, in this order (walked with for…in: no key
   * array per update): a copy keeps the order of the record's fields.
   */
  readonly matches: (rec: Rec) => boolean
  /**
   * Whether `rec` has exactly this shape's fields and no object among its values (so that
   * `shallow` copies it fully). A value identical to the same field of `from`, a record known
   * to hold the shape, is not looked at: an update's unchanged fields cost no read of the value.
   */
  readonly holds: (rec: Rec, from: Rec | undefined) => boolean
  /** The fields, in order (a compiled shape's: the only kind that {@link holds} anything). */
  readonly fields?: readonly string[]
}

/** Beyond this many shapes (or fields), fall back to generic copies instead of compiling more. */
const MAX_SHAPES = 2000
const MAX_FIELDS = 100
const cache = new Map<string, Shape>()

/** The shape of a record, compiled on first sight. */
export function shapeOf(rec: Rec, thaw: (value: unknown) => unknown): Shape {
  const fields = Object.keys(rec)
  // Unambiguous: a join would confuse `[]` with `['']`, and names holding the separator.
  const signature = JSON.stringify(fields)
  let shape = cache.get(signature)
  if (shape === undefined) {
    shape = cache.size >= MAX_SHAPES || fields.length > MAX_FIELDS ? generic(thaw) : compile(fields, thaw)
    cache.set(signature, shape)
  }
  return shape
}

function compile(fields: string[], thaw: (value: unknown) => unknown): Shape {
  // Field names enter the code only as JSON string literals; `__proto__` is never stored.
  const names = fields.map((f) => JSON.stringify(f))
  const deep = names.map((n) => `${n}: (x = v[${n}], typeof x === 'object' && x !== null ? thaw(x) : x)`).join(',\n')
  const shallow = names.map((n) => `${n}: v[${n}]`).join(',\n')
  // The identity test comes first: it reads no value (typeof reads a string's header). `===`, not
  // Object.is (a builtin call per field): where they differ (NaN, ±0) the value is not an object either.
  const flat = names.map((n) => `(x = v[${n}], (f !== undefined && x === f[${n}]) || typeof x !== 'object' || x === null)`).join(' && ')
  const literal = needsLiteral(fields)
  const stores = names.map((n) => `o[${n}] = v[${n}]`).join('\n')
  const deepStores = names.map((n) => `o[${n}] = (x = v[${n}], typeof x === 'object' && x !== null ? thaw(x) : x)`).join('\n')
  // Every copy is made by the Blank constructor unless a field name needs a literal (see
  // ./plain-record.ts): a first run of reads whose copies outlive a young GC (`all()` kept, a
  // few hundred `get`s held) made V8 pretenure the `copy` literal, and every later read's copy,
  // dead at once, then started in the old generation (+4.6 MB per 100k gets, 68 -> 148-167 ns).
  const made = (literalBody: string, body: string, vars = '') =>
    literal ? `function (v) { ${vars}return {\n${literalBody}\n} }` : `function (v) { ${vars}var o = new Blank()\n${body}\nreturn o }`
  const make = new Function(
    'thaw',
    'fields',
    'Blank',
    // A stored record is a plain object we made: matcherSource's walk tells its fields.
    `${matcherSource(fields.length)}
    return {
      deep: ${made(deep, deepStores, 'var x; ')},
      shallow: ${made(shallow, stores)},
      copy: ${made(shallow, stores)},
      matches: matches,
      holds: function (v, f) { if (!matches(v)) return false; var x; return ${flat || 'true'} },
      fields: fields,
    }`,
  ) as (t: typeof thaw, f: readonly string[], b: Blank) => Shape
  return make(thaw, Object.freeze(fields), blankFor(fields))
}

function generic(thaw: (value: unknown) => unknown): Shape {
  return {
    deep: (rec) => thaw(rec) as Record<string, unknown>,
    shallow: (rec) => ({ ...rec }),
    copy: (rec) => ({ ...rec }),
    matches: () => false,
    holds: () => false,
  }
}
