/**
 * Plain records made by a constructor rather than an object literal (the compiled record makers
 * of ../storage/patcher.ts and an update's copy in ./shape.ts). V8 watches the objects a literal
 * makes before its code is optimized and, if most of them outlived one young-generation GC (a
 * first run of updates over many records), allocates every later one in the old generation, for
 * good. Records that die young (later updates of a few records) then cost a fresh page every ~60
 * updates and frequent major GCs: 2-4x slower updates (tests/storage/young-records.test.ts).
 * V8 makes no such decision for a constructor's objects.
 */

/** A constructor of empty plain objects (prototype: Object.prototype) with room for `fields` in the object itself. */
export type Blank = new () => Record<string, unknown>

/**
 * A constructor of empty plain objects with room for `fields`: its body assigns each field in a
 * branch that never runs, so V8 (which counts a constructor's assignments to `this`) reserves
 * one slot per field, while the constructor stays small enough to be inlined wherever it is called.
 * Field names enter the code only as JSON string literals.
 */
export function blankFor(fields: readonly string[]): Blank {
  const hint = fields.map((f) => `this[${JSON.stringify(f)}] = 0`).join('\n')
  const Blank = new Function(`if (false) {\n${hint}\n}`) as unknown as Blank
  Blank.prototype = Object.prototype
  return Blank
}

/**
 * Whether any of `fields` is held by Object.prototype as an accessor or a read-only value: an
 * assignment of that name would then not make an own field, so the record is made by a literal.
 */
export function needsLiteral(fields: readonly string[]): boolean {
  return fields.some((field) => {
    const d = Object.getOwnPropertyDescriptor(Object.prototype, field)
    return d !== undefined && d.writable !== true
  })
}
