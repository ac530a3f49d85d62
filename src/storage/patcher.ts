import { blankFor, needsLiteral } from '../values/plain-record'
import type { Shape } from '../values/shape'
import type { Rec } from '../values/types'
import type { FieldPatch } from './change'

/**
 * Makes the record a patch makes of a stored record of one flat shape: one frozen plain object
 * of the shape's fields, in order, each read from the stored record or from the patch's values.
 * Compiled per shape and list of patched names. Applying another thread's update this way costs
 * one allocation, against a shallow copy, a store by computed name per field and a freeze of an
 * object grown field by field.
 */
export type PatchMaker = (before: Rec, values: readonly unknown[]) => Rec

/** Beyond this many lists of patched names per shape, patches of new lists go the general way. */
const MAX_PER_SHAPE = 64

const makers = new WeakMap<Shape, Map<string, PatchMaker | null>>()
/** The last shape and names asked for, and their maker (a table's patches mostly set one field list). */
let lastShape: Shape | null = null
const lastNames: string[] = []
let lastMaker: PatchMaker | null = null

/**
 * The maker of `patch` over records of `shape` (a compiled flat shape: every record of the table
 * holds it), or null when the result would not hold the shape too: a patched name the shape does
 * not have, a name given twice, or a value that is an object. `patch`'s values are checked on
 * each call; its names decide the maker.
 */
export function patchMaker(shape: Shape, patch: FieldPatch): PatchMaker | null {
  const { values, count } = patch
  for (let i = 0; i < count; i++) {
    const v = values[i]
    if (typeof v === 'object' && v !== null) return null
  }
  if (shape === lastShape && sameNames(patch)) return lastMaker
  const names = patch.names.slice(0, count)
  let known = makers.get(shape)
  if (known === undefined) makers.set(shape, (known = new Map()))
  const signature = JSON.stringify(names)
  let make = known.get(signature)
  if (make === undefined) {
    make = compile(shape.fields as readonly string[], names)
    if (known.size < MAX_PER_SHAPE) known.set(signature, make)
  }
  lastShape = shape
  lastNames.length = 0
  lastNames.push(...names)
  lastMaker = make
  return make
}

/** A record made from a stored record of one flat shape with one field set to `value` (not an object). */
export type FieldMaker = (before: Rec, value: unknown) => Rec

const fieldMakers = new WeakMap<Shape, Map<string, FieldMaker | null>>()

/**
 * The maker of records of `shape` with field `field` set (one frozen object, as {@link patchMaker}'s),
 * or null when the shape has no such field. Compiled once per shape and field.
 */
export function fieldMaker(shape: Shape, field: string): FieldMaker | null {
  let known = fieldMakers.get(shape)
  if (known === undefined) fieldMakers.set(shape, (known = new Map()))
  let make = known.get(field)
  if (make === undefined) {
    const fields = shape.fields as readonly string[]
    make = fields.includes(field) ? (compileOne(fields, field) as FieldMaker) : null
    if (known.size < MAX_PER_SHAPE) known.set(field, make)
  }
  return make
}

function compileOne(fields: readonly string[], field: string): FieldMaker {
  return frozenRecord(fields, (f) => (f === field ? 'v' : null)) as FieldMaker
}

function sameNames(patch: FieldPatch): boolean {
  if (patch.count !== lastNames.length) return false
  for (let i = 0; i < patch.count; i++) if (patch.names[i] !== lastNames[i]) return false
  return true
}

function compile(fields: readonly string[], names: readonly string[]): PatchMaker | null {
  if (new Set(names).size !== names.length || !names.every((n) => fields.includes(n))) return null
  return frozenRecord(fields, (f) => {
    const at = names.indexOf(f)
    return at < 0 ? null : `v[${at}]`
  }) as PatchMaker
}

/**
 * `(b, v) => Object.freeze({ ...every field of `fields` })`, compiled: each field's value is the
 * expression `set` gives for it, or else `b`'s (the stored record's). Field names enter the code
 * only as JSON string literals (a compiled shape never holds `__proto__`, see ../values/shape.ts).
 * The object comes from a constructor, not a literal (see ../values/plain-record.ts), unless a
 * field name needs the literal.
 */
function frozenRecord(fields: readonly string[], set: (field: string) => string | null): (b: Rec, v: never) => Rec {
  const value = (f: string) => set(f) ?? `b[${JSON.stringify(f)}]`
  if (needsLiteral(fields)) {
    const props = fields.map((f) => `${JSON.stringify(f)}: ${value(f)}`)
    return new Function('b', 'v', `return Object.freeze({\n${props.join(',\n')}\n})`) as (b: Rec, v: never) => Rec
  }
  const stores = fields.map((f) => `o[${JSON.stringify(f)}] = ${value(f)}`)
  const body = `return function make(b, v) {\nvar o = new Blank()\n${stores.join('\n')}\nreturn Object.freeze(o)\n}`
  return new Function('Blank', body)(blankFor(fields)) as (b: Rec, v: never) => Rec
}

/**
 * The general way, for any record and patch: `out` (a mutable top-level copy of the stored record)
 * with the patch's fields set, frozen. Assigned: a stored record never has a field named
 * `__proto__` (refused on the way in).
 */
export function assignPatch(out: Record<string, unknown>, patch: FieldPatch): Rec {
  for (let i = 0; i < patch.count; i++) out[patch.names[i] as string] = patch.values[i]
  return Object.freeze(out) as Rec
}

/** The patch that sets `field` to `value` alone (one object, reused: valid until the next call). */
export function onePatch(field: string, value: unknown): FieldPatch {
  one.names[0] = field
  one.values[0] = value
  return one
}

const one = { names: [''], values: [undefined as unknown], count: 1 }

/** Whether `patch` sets `field`. */
export function setsField(patch: FieldPatch, field: string): boolean {
  for (let i = 0; i < patch.count; i++) if (patch.names[i] === field) return true
  return false
}
