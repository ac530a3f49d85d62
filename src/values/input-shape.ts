/**
 * Copiers compiled for one shape of *input* record (its own fields, in order), so that inserting
 * a flat record is one object made with room for its fields (a constructor, or a literal: see
 * `compile`): no key array, no property growing the object one at a time, and a
 * stored record whose fields all lie inside the object (the fastest kind to read and copy).
 * Records with nested values, `undefined` fields or any other oddity go the general way
 * (`copyRecord`), which checks, reports and deep-freezes them.
 */

import { matcherSource } from './own-field'
import { blankFor, needsLiteral, type Blank } from './plain-record'

export interface InputShape {
  /**
   * Whether `input` has exactly these own enumerable fields, in this order (no key array:
   * `for…in` walks them), so that a record is stored with its fields in the order it was given.
   */
  readonly matches: (input: object) => boolean
  /**
   * A copy of a flat `input`, or null when a value is not flat (then copy the general way).
   * With `key` given (a shape without the key field), the key comes first, as `copyRecord` does.
   */
  readonly copy: (input: object, key: unknown) => Record<string, unknown> | null
  /** Whether this shape lacks the key field (its copies take an assigned key). */
  readonly assignsKey: boolean
}

const MAX_SHAPES = 2000
const MAX_FIELDS = 64
const cache = new Map<string, InputShape | null>()

/** The compiled copier of `input`'s shape for a table keyed by `keyField`, or null if none fits. */
export function inputShapeOf(input: object, keyField: string): InputShape | null {
  const fields = Object.keys(input)
  // Unambiguous: a join would confuse `[]` with `['']`, and names holding the separator.
  const signature = JSON.stringify([keyField, ...fields])
  let shape = cache.get(signature)
  if (shape === undefined) {
    if (cache.size >= MAX_SHAPES) return null
    shape = fields.length > MAX_FIELDS || fields.includes('__proto__') || !fields.every((f) => f.isWellFormed()) ? null : compile(fields, keyField)
    cache.set(signature, shape)
  }
  return shape
}

function compile(fields: string[], keyField: string): InputShape {
  // Field names enter the code only as JSON string literals.
  const names = fields.map((f) => JSON.stringify(f))
  const assignsKey = !fields.includes(keyField)
  const loads = names.map((n, i) => `a${i} = v[${n}]`).join(', ')
  const flat = names.map((_, i) => `flat(a${i})`).join(' && ')
  const props = names.map((n, i) => `${n}: a${i}`)
  const stores = names.map((n, i) => `o[${n}] = a${i}`)
  if (assignsKey) props.unshift(`${JSON.stringify(keyField)}: key`)
  if (assignsKey) stores.unshift(`o[${JSON.stringify(keyField)}] = key`)
  const stored = assignsKey ? [keyField, ...fields] : fields
  // The copy is made by the Blank constructor unless a field name needs a literal (see
  // ./plain-record.ts), as readers' copies and updates' records are: a first run of inserts
  // stored for good (outliving a young GC) made V8 pretenure the literal's site, and every later
  // insert's copy, even one deleted at once, started in the old generation (+1.6 to 5.0 MB per
  // 100k inserts of records deleted at once; tests/storage/young-records.test.ts).
  const made = needsLiteral(stored) ? `return {\n${props.join(',\n')}\n}` : `var o = new Blank()\n${stores.join('\n')}\nreturn o`
  // `matches`: an input is a plain object (checked before): matcherSource's walk tells its fields.
  const make = new Function(
    'flat',
    'fields',
    'Blank',
    `return {
      matches: ${matcherSource(fields.length)},
      copy: function (v, key) { var ${loads || '_'}; if (!(${flat || 'true'})) return null; ${made} },
      assignsKey: ${assignsKey},
    }`,
  ) as (f: typeof isFlat, n: readonly string[], b: Blank) => InputShape
  return make(isFlat, fields, blankFor(stored))
}

/** A value stored as it is: no copy and no check beyond this. */
export function isFlat(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
      // One with a lone surrogate goes the general way, which refuses it (see ./freeze.ts).
      return value.isWellFormed()
    case 'boolean':
    case 'bigint':
      return true
    case 'number':
      return Number.isFinite(value)
    default:
      return false
  }
}
