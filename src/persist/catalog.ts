import { CorruptFileError, InvalidArgumentError, describe } from '../errors'
import type { IndexSpec } from '../indexes/types'
import { nameList } from '../options'
import { isStandardSchema, type Schema } from '../schema'
import { isSchemaMark } from '../shared/codec'
import { schemaOf, type TableDefinition, type TableState } from '../storage/change'
import { checkIndexSpec } from '../table'
import { shortName } from '../values/describe'
import { ownsKey } from '../values/own-field'

/**
 * A table's definition as a file stores it: every field of the definition (name, primary key,
 * and any option a table keeps, such as `ttl`), its indexes, and its schema. A type-string
 * schema is plain data and is stored; a Standard Schema validator (zod, valibot…) is code: only
 * its vendor is stored, and the validator is passed again on load (`schemas: { users: UserSchema }`).
 */
export interface SavedDefinition {
  readonly name: string
  readonly primaryKey: string
  readonly indexes: readonly Required<IndexSpec>[]
  readonly schema?: Readonly<Record<string, unknown>>
  readonly standardSchema?: string
  readonly [option: string]: unknown
}

/** A table as listed in a database file's header: its definition, key counter and size. */
export interface CatalogEntry extends SavedDefinition {
  readonly nextAutoKey: number
  readonly count: number
}

/** The stored form of a definition. */
export function saveDefinition(def: TableDefinition): SavedDefinition {
  const { schema: _s, indexes: list, ...rest } = def
  const schema = schemaOf(def)
  const indexes = list.map((i) => ({ field: i.field, type: i.type, unique: i.unique }))
  const out = { ...rest, indexes }
  if (schema === undefined) return out
  if (isStandardSchema(schema)) return { ...out, standardSchema: String(schema['~standard'].vendor ?? 'unknown') }
  // A worker's replica holds a mark where the owning thread has a Standard Schema validator.
  if (isSchemaMark(schema)) return { ...out, standardSchema: 'unknown' }
  return { ...out, schema: schema as Record<string, unknown> }
}

/** The catalog entry of a table snapshot. */
export function catalogEntry(table: TableState): CatalogEntry {
  return { ...saveDefinition(table.definition), nextAutoKey: table.nextAutoKey, count: table.records.length }
}

/** What a loader does about Standard Schema validators: the ones given, and where to warn. */
export interface SchemaSource {
  readonly schemas: Readonly<Record<string, Schema>> | undefined
  warn(message: string): void
}

/**
 * Checks a stored definition read from `where` and turns it back into a {@link TableDefinition},
 * re-attaching the validator given for its table (or warning when a Standard Schema is missing).
 */
export function loadDefinition(value: unknown, where: string, source: SchemaSource): TableDefinition {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(where, `a table definition is ${describe(value)}`)
  // Its own fields only: a field the file does not hold is absent, whatever Object.prototype has.
  const def = Object.assign(Object.create(null) as Record<string, unknown>, value)
  const name = def.name
  if (typeof name !== 'string' || name === '') throw bad(where, `a table has the name ${describe(name)}`)
  if (typeof def.primaryKey !== 'string' || def.primaryKey === '') throw bad(where, `table \`${shortName(name)}\` has the primary key ${describe(def.primaryKey)}`)
  if (!Array.isArray(def.indexes)) throw bad(where, `table \`${shortName(name)}\` has no index list`)
  let indexes: Required<IndexSpec>[]
  try {
    indexes = def.indexes.map((spec: unknown) => checkIndexSpec((spec ?? {}) as IndexSpec))
  } catch (error) {
    throw bad(where, `table \`${shortName(name)}\`: ${(error as Error).message}`, error)
  }
  // The other fields are table options (a later version's too): createTable checks them on load.
  const { name: _n, primaryKey, indexes: _i, schema, standardSchema, nextAutoKey: _k, count: _c, ...options } = def
  return withSchema({ ...options, name, primaryKey: primaryKey as string, indexes }, schema, standardSchema, where, source)
}

/**
 * A loaded definition with its validator: the one given for its table, else the type-string
 * schema it was saved with; none (with a warning) for a Standard Schema that was not given again.
 */
function withSchema(base: TableDefinition, schema: unknown, standardSchema: unknown, where: string, source: SchemaSource): TableDefinition {
  const name = base.name
  // Own keys only: `schemas: {}` names no table, not even one called `toString`.
  const given = source.schemas !== undefined && ownsKey(source.schemas, name) ? source.schemas[name] : undefined
  if (given !== undefined) return { ...base, schema: given }
  if (typeof standardSchema === 'string') {
    source.warn(
      `dictdb: table \`${shortName(name)}\` was saved with a ${standardSchema} schema, which a file cannot hold; ` +
        `it is loaded without validation. Pass the validator again: { schemas: { ${JSON.stringify(name)}: schema } }`,
    )
    return base
  }
  if (schema !== undefined) {
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw bad(where, `table \`${shortName(name)}\` has the schema ${describe(schema)}`)
    return { ...base, schema }
  }
  return base
}

/** Checks a catalog entry's counters: the next auto key, and the record count when it states one. */
export function loadCounters(value: Record<string, unknown>, where: string): { nextAutoKey: number; count: number | undefined } {
  const { nextAutoKey, count } = value
  if (typeof nextAutoKey !== 'number' || !Number.isSafeInteger(nextAutoKey) || nextAutoKey < 1) {
    throw bad(where, `table \`${shortName(String(value.name))}\` has the key counter ${describe(nextAutoKey)}`)
  }
  if (count !== undefined && (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0)) {
    throw bad(where, `table \`${shortName(String(value.name))}\` has the record count ${describe(count)}`)
  }
  return { nextAutoKey, count }
}

/** Checks the `schemas` load option against the tables of a file: a name not in it is a typo. */
export function checkSchemasOption(schemas: unknown, tables: readonly string[], where: string): void {
  if (schemas === undefined) return
  if (typeof schemas !== 'object' || schemas === null || Array.isArray(schemas)) {
    throw new InvalidArgumentError(`Expected \`schemas\` to be an object of table name → schema, got ${describe(schemas)}`)
  }
  for (const name of Object.keys(schemas)) {
    if (!tables.includes(name)) {
      throw new InvalidArgumentError(`\`schemas\` names the table \`${shortName(name)}\`, which ${where} does not have (it has: ${nameList(tables) || 'no table'})`, { table: name })
    }
  }
}

function bad(where: string, why: string, cause?: unknown): CorruptFileError {
  return new CorruptFileError(`${where} is corrupt: ${why}`, cause === undefined ? {} : { cause })
}
