import { InvalidArgumentError, SchemaValidationError, describe } from './errors'
import { freezeRecord } from './values/freeze'
import { shortName } from './values/describe'
import { fieldOf, ownsKey } from './values/own-field'
import type { Rec } from './values/types'
import { checkOptions } from './options'

/** Field types of a type-string schema. */
export type FieldType = 'string' | 'number' | 'integer' | 'boolean' | 'date' | 'bigint' | 'object' | 'array'
/** A field of a type-string schema: its type, optionally `{ type, optional: true }`. */
export type FieldSchema = FieldType | { readonly type: FieldType; readonly optional?: boolean }
/** A type-string schema: every field a record may have (the primary key is always allowed). */
export type TypeSchema = { readonly [field: string]: FieldSchema }

/** The Standard Schema interface (standardschema.dev), as zod, valibot and arktype implement it. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1
    readonly vendor: string
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>
    readonly types?: { readonly input: Input; readonly output: Output } | undefined
  }
}
type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<{ readonly message: string; readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined }> }

/** A table schema: a {@link TypeSchema} or any Standard Schema validator. */
export type Schema = TypeSchema | StandardSchemaV1

const FIELD_TYPES: ReadonlySet<string> = new Set(['string', 'number', 'integer', 'boolean', 'date', 'bigint', 'object', 'array'])

/** A compiled schema: checks a frozen record, returning it (or the validator's frozen output). */
export interface Validator {
  /** The declared fields, or null for a Standard Schema (opaque). */
  readonly fields: readonly string[] | null
  /** `keyAssigned`: the primary key was assigned by dictdb, not given by the caller. */
  validate(record: Rec, keyAssigned?: boolean): Rec
}

/** Checks a schema definition and compiles it for `table`. */
export function compileSchema(schema: unknown, table: string, primaryKey: string): Validator {
  if (isStandardSchema(schema)) return standardValidator(schema, table, primaryKey)
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new InvalidArgumentError(`Expected \`schema\` to be an object of field types or a Standard Schema validator, got ${describe(schema)}`, { table })
  }
  const specs = Object.entries(schema as Record<string, unknown>).map(([field, spec]) => parseField(table, field, spec))
  return typeValidator(specs, table, primaryKey)
}

export function isStandardSchema(schema: unknown): schema is StandardSchemaV1 {
  if ((typeof schema !== 'object' && typeof schema !== 'function') || schema === null) return false
  // A validator's `~standard` may be its own or its class's (a getter on a prototype), never
  // Object.prototype's: one a library put there would make every schema object look like a validator.
  for (let o: object | null = schema; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    if (ownsKey(o, '~standard')) return true
  }
  return false
}

interface ParsedField {
  readonly field: string
  readonly type: FieldType
  readonly optional: boolean
}

function parseField(table: string, field: string, spec: unknown): ParsedField {
  if (field === '__proto__') throw new InvalidArgumentError(`A schema cannot declare the field \`__proto__\`: no record can hold it`, { table, field })
  // A misspelled `optional` would otherwise make the field silently required.
  // Read from checkOptions' copy, which has no prototype: an `optional` a library put on
  // Object.prototype must not make every field optional.
  const given = typeof spec === 'object' && spec !== null && !Array.isArray(spec) ? checkOptions(spec as { type?: unknown; optional?: unknown }, ['type', 'optional'], `the schema of field \`${shortName(field)}\` in table \`${shortName(table)}\``) : null
  const type = given !== null ? given.type : spec
  const optional = given !== null ? given.optional ?? false : false
  if (typeof type !== 'string' || !FIELD_TYPES.has(type) || typeof optional !== 'boolean') {
    throw new InvalidArgumentError(
      `Invalid schema for field \`${shortName(field)}\`: expected one of ${[...FIELD_TYPES].join(', ')} or { type, optional }, got ${describe(spec)}`,
      { table, field },
    )
  }
  return { field, type: type as FieldType, optional }
}

function typeValidator(specs: ParsedField[], table: string, primaryKey: string): Validator {
  const known = new Set(specs.map((s) => s.field))
  return {
    fields: specs.map((s) => s.field),
    validate(record) {
      for (const field in record) {
        // for…in also walks inherited enumerable keys (a library may put one on Object.prototype):
        // only the record's own fields count, checked on the refusal path alone so inserts pay nothing.
        if (!known.has(field) && field !== primaryKey && ownsKey(record, field)) throw invalid(table, field, `unknown field \`${shortName(field)}\` (not in the schema)`)
      }
      for (const { field, type, optional } of specs) {
        const value = fieldOf(record, field)
        if (value == null) {
          if (optional || field === primaryKey) continue
          throw invalid(table, field, `field \`${shortName(field)}\` is required (${type}), got ${describe(value ?? null)}`)
        }
        if (!hasType(value, type)) throw invalid(table, field, `field \`${shortName(field)}\` must be ${type}, got ${describe(value)}`)
      }
      return record
    },
  }
}

function hasType(value: unknown, type: FieldType): boolean {
  switch (type) {
    case 'integer':
      return Number.isInteger(value)
    case 'date':
      return value instanceof Date
    case 'array':
      return Array.isArray(value)
    case 'object':
      return typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date)
    default:
      return typeof value === type
  }
}

function standardValidator(schema: StandardSchemaV1, table: string, primaryKey: string): Validator {
  return {
    fields: null,
    validate(record, keyAssigned = false) {
      // An assigned key is ours, not the caller's: a strict validator must not see it.
      const input = keyAssigned ? withoutField(record, primaryKey) : record
      const result = schema['~standard'].validate(input)
      if (result instanceof Promise) {
        throw new InvalidArgumentError(`The schema of table \`${shortName(table)}\` validates asynchronously; dictdb needs a synchronous validator`, { table })
      }
      if (result.issues !== undefined) {
        const issue = result.issues[0]
        const segment = issue?.path?.[0]
        const field = segment === undefined ? undefined : String(typeof segment === 'object' ? segment.key : segment)
        // The validator's message may quote the caller's value (zod's does): show the start of it.
        throw invalid(table, field, `${field === undefined ? '' : `field \`${shortName(field)}\`: `}${shortName(String(issue?.message ?? 'invalid'), 200)}`)
      }
      if (result.value === input && !keyAssigned) return record
      // A validator may transform (strip, coerce): store its output, keeping the primary key.
      const output = { ...(result.value as Record<string, unknown>) }
      if (record[primaryKey] !== undefined) output[primaryKey] = record[primaryKey]
      return freezeRecord(output)
    },
  }
}

function withoutField(record: Rec, field: string): Record<string, unknown> {
  const { [field]: _omitted, ...rest } = record
  return rest
}

function invalid(table: string, field: string | undefined, why: string): SchemaValidationError {
  const context: { table: string; field?: string; key?: unknown } = { table }
  if (field !== undefined) context.field = field
  return new SchemaValidationError(`Record rejected by the schema of \`${shortName(table)}\`: ${why}`, context)
}
