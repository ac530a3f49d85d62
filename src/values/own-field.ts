// Reading a record's field by a name the user gave. A stored record is a plain object, so a name
// Object.prototype has (`constructor`, `toString`, `__proto__`… or whatever a library of the
// application put there) reads the prototype's member from a record without that field: a
// function, where the record has no value.
import type { Rec } from './types'

/** The value of `rec`'s own field `name`: undefined when it has none, never an inherited member. */
export function fieldOf(rec: Rec, name: string): unknown {
  const value = rec[name]
  // The test is paid only when a value is there: a field nobody has reads as undefined already.
  return value === undefined || ownsKey(rec, name) ? value : undefined
}

/**
 * How a loop reads fields `names` of many records: {@link fieldOf} when one of them is a name
 * Object.prototype has at the time of the call, else a plain read (nothing to pay per record).
 */
export function readerOf(names: readonly string[]): (rec: Rec, name: string) => unknown {
  return names.some(inherits) ? fieldOf : plainField
}

function plainField(rec: Rec, name: string): unknown {
  return rec[name]
}

/** Whether reading field `name` of an object without it can give something (see {@link fieldOf}). */
export function inherits(name: string): boolean {
  return name in Object.prototype
}

/**
 * An object without fields nor prototype: what a predicate compiled for one field is given in
 * place of a record that lacks the field, when the name {@link inherits}.
 */
export const NO_FIELDS: Rec = Object.freeze(Object.create(null) as Rec)

/**
 * Whether `obj` has an own property `name` (not one of Object.prototype's): the one spelling of
 * that test in dictdb. Written out, not through a saved `hasOwnProperty`: inlined in a for…in
 * over `obj`, the compiler then sees the builtin and that `name` is the loop's own key, and drops
 * the test (through `hasOwn.call` it stayed a call: +140 instructions per local update in callgrind).
 */
export function ownsKey(obj: object, name: PropertyKey): boolean {
  return Object.prototype.hasOwnProperty.call(obj, name)
}

/**
 * Source of a compiled `matches(v)` for `new Function` code in which `fields` is the array of
 * names: whether `v`'s own enumerable fields are exactly those, in that order. The for…in walk
 * alone tells the fields and their order (no `in` test per field); it also walks what a library
 * put on Object.prototype, so it skips inherited keys (the compiler drops that test for the
 * loop's own key, see {@link ownsKey}): else a record would match a shape with such a field and
 * its copy would gain the inherited value as its own.
 */
export function matcherSource(count: number): string {
  return `function matches(v) { var n = 0; for (var k in v) { if (!Object.prototype.hasOwnProperty.call(v, k)) continue; if (k !== fields[n++]) return false } return n === ${count} }`
}

/**
 * Whether `rec` has exactly the own fields `fields`, in that order (no key array made). The walk
 * skips inherited keys (for…in lists what a library put on Object.prototype; the compiler drops
 * the test for the loop's own key, see {@link ownsKey}): else `{ id: 2 }` matched `['id', 'tag']`
 * while Object.prototype had `tag`, and an update giving it the inherited value was a patch of
 * nothing, lost to the replicas. The binary codec's shapes and the canonical JSON form's use it.
 */
export function hasFields(rec: object, fields: readonly string[]): boolean {
  let i = 0
  for (const k in rec) {
    if (!ownsKey(rec, k)) continue
    if (k !== fields[i++]) return false
  }
  return i === fields.length
}
