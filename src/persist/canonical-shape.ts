/*
 * The canonical form of flat records, compiled per shape (its fields, in their order). Records of
 * a table share a few shapes, so saving one is: check that it has the last shape seen (a `for…in`
 * over its keys, no key array), then either hand it over as it is (its fields are in canonical
 * order already, as in every loaded record) or build the reordered copy as one object literal.
 * Any other record (a nested value, a Date, a tag-like single `$` field) takes the general walk
 * of canonical-form.ts, which gives the same result.
 */

/** A compiled shape: the canonical form of a record of it, or null when a value is not flat. */
export interface FlatShape {
  /** The record's fields, in the order it enumerates them. */
  readonly keys: readonly string[]
  /** For JSON: flat means a string, number but -0, boolean or null (a bigint and -0 need a tag). */
  readonly json: (record: object) => object | null
  /** For reading a binary file: a bigint is flat too (versions 1 and 2 hold them natively); -0 is not (it is tagged). */
  readonly sorted: (record: object) => object | null
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
  if (last !== null && hasKeys(record, last.keys)) return last
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

/** Whether `record` enumerates exactly `keys`, in that order. */
function hasKeys(record: object, keys: readonly string[]): boolean {
  let i = 0
  for (const key in record) if (key !== keys[i++]) return false
  return i === keys.length
}

function compile(keys: readonly string[], sorted: readonly string[]): FlatShape {
  const same = keys.every((k, i) => k === sorted[i])
  // Field names enter the code only as JSON string literals.
  const names = sorted.map((k) => JSON.stringify(k))
  const loads = names.map((n, i) => `a${i} = r[${n}]`).join(', ')
  const copy = same ? 'r' : `{\n${names.map((n, i) => `${n}: a${i}`).join(',\n')}\n}`
  const body = (flat: (a: string) => string) => {
    const test = names.map((_, i) => flat(`a${i}`)).join(' && ') || 'true'
    return `var ${loads || '_'}; if (!(${test})) return null; return ${copy}`
  }
  const make = new Function(
    `return {
      json: function (r) { ${body((a) => `(typeof ${a} === 'object' ? ${a} === null : typeof ${a} !== 'bigint' && (${a} !== 0 || 1 / ${a} > 0))`)} },
      sorted: function (r) { ${body((a) => `(typeof ${a} !== 'object' ? ${a} !== 0 || 1 / ${a} > 0 : ${a} === null)`)} },
    }`,
  ) as () => Pick<FlatShape, 'json' | 'sorted'>
  return { keys, ...make() }
}
