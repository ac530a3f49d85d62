import { flatField, tagBigint, tagDate, tagNegativeZero } from './json-values'
import { hasFields } from '../values/own-field'

/*
 * The canonical form of flat records, compiled per shape (its fields, in their order). Records of
 * a table share a few shapes, so saving one is: check that it has the last shape seen (a `for…in`
 * over its keys, no key array), then either hand it over as it is (its fields are in canonical
 * order already, as in every loaded record) or build the reordered (or tagged) copy as one object
 * literal. Any other record (a nested value, a tag-like single `$` field) takes the general walk
 * of canonical-form.ts, which gives the same result.
 */

/** A compiled shape: the canonical form of a record of it, or null when a value is not flat. */
export interface FlatShape {
  /** The record's fields, in the order it enumerates them. */
  readonly keys: readonly string[]
  /**
   * The tagged form (JSON, and binary version 3): flat means a string, number, boolean, null,
   * Date or bigint; a Date, a bigint and -0 are tagged (json-values.ts).
   */
  readonly json: (record: object) => object | null
  /** For reading a binary file: a bigint is flat too (versions 1 and 2 hold them natively); -0 is not (it is tagged). */
  readonly sorted: (record: object) => object | null
  /**
   * For reading a record in the tagged form (binary versions 2 and 3), with its tags undone: flat
   * means a primitive, a Date or the tag of a Date, bigint or -0 (json-values.ts `flatField`).
   */
  readonly untagged: (record: object) => object | null
}

const MAX_SHAPES = 1000
const MAX_FIELDS = 64
const cache = new Map<string, FlatShape | null>()
let last: FlatShape | null = null

/**
 * The compiled shape of `record` (a plain object), or null when it has none (too many fields,
 * too many shapes, or a field that needs the general walk whatever its value).
 */
export function flatShapeOf(record: object, order: (keys: string[]) => readonly string[]): FlatShape | null {
  if (last !== null && hasFields(record, last.keys)) return last
  const keys = Object.keys(record)
  // Unambiguous: a join would confuse `[]` with `['']`, and keys holding the separator.
  const signature = JSON.stringify(keys)
  let shape = cache.get(signature)
  if (shape === undefined) {
    if (cache.size >= MAX_SHAPES) return null
    const oneDollar = keys.length === 1 && (keys[0] as string).startsWith('$')
    shape = keys.length > MAX_FIELDS || oneDollar || keys.includes('__proto__') ? null : compile(keys, order([...keys]))
    cache.set(signature, shape)
  }
  if (shape !== null) last = shape
  return shape
}

/** Marks a field that is not flat (a nested object or array): the record takes the general walk. */
const NOT_FLAT = Symbol('not flat')

/** A flat field in the tagged form: the value itself, its tag, or NOT_FLAT. */
function taggedField(value: unknown): unknown {
  if (typeof value === 'object') return value === null ? value : value instanceof Date ? tagDate(value) : NOT_FLAT
  if (typeof value === 'bigint') return tagBigint(value)
  return value === 0 && 1 / value < 0 ? tagNegativeZero() : value
}

function compile(keys: readonly string[], sorted: readonly string[]): FlatShape {
  const same = keys.every((k, i) => k === sorted[i])
  // Field names enter the code only as JSON string literals.
  const names = sorted.map((k) => JSON.stringify(k))
  const loads = names.map((n, i) => `a${i} = r[${n}]`).join(', ')
  const copy = (v: string) => (same ? 'r' : `{\n${names.map((n, i) => `${n}: ${v}${i}`).join(',\n')}\n}`)
  const body = (flat: (a: string) => string) => {
    const test = names.map((_, i) => flat(`a${i}`)).join(' && ') || 'true'
    return `var ${loads || '_'}; if (!(${test})) return null; return ${copy('a')}`
  }
  // The tagged form: the record itself when no field changes and the order is canonical, else one literal.
  const tags = names.map((_, i) => `t${i} = tag(a${i})`).join(', ')
  const notFlat = names.map((_, i) => `t${i} === NOT_FLAT`).join(' || ') || 'false'
  const unchanged = names.map((_, i) => `t${i} === a${i}`).join(' && ') || 'true'
  const literal = `${same ? `${unchanged} ? r : ` : ''}{\n${names.map((n, i) => `${n}: t${i}`).join(',\n')}\n}`
  const tagged = `var ${loads || '_'}; var ${tags || '_'}; if (${notFlat}) return null; return ${literal}`
  const untags = names.map((_, i) => `t${i} = typeof a${i} === 'object' && a${i} !== null ? untag(a${i}, NOT_FLAT) : a${i}`).join(', ')
  const untagged = `var ${loads || '_'}; var ${untags || '_'}; if (${notFlat}) return null; return ${literal}`
  const make = new Function(
    'tag',
    'untag',
    'NOT_FLAT',
    `return {
      json: function (r) { ${tagged} },
      untagged: function (r) { ${untagged} },
      sorted: function (r) { ${body((a) => `(typeof ${a} !== 'object' ? ${a} !== 0 || 1 / ${a} > 0 : ${a} === null)`)} },
    }`,
  ) as (tag: typeof taggedField, untag: typeof flatField, notFlat: symbol) => Pick<FlatShape, 'json' | 'sorted' | 'untagged'>
  return { keys, ...make(taggedField, flatField, NOT_FLAT) }
}
