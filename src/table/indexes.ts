// The middle layer of a Table: its fields, schema and indexes (index DDL goes through the
// transaction log like a write), and its definition as saved and replicated.
import { InvalidArgumentError } from '../errors'
import type { IndexSpec, IndexType } from '../indexes/types'
import { checkName, checkOptions } from '../options'
import { Field } from '../query/field'
import { checkKnownField } from '../query/fields'
import { matchRows } from '../query/select'
import type { TableDefinition } from '../storage/change'
import { shortName } from '../values/describe'
import { ownsKey } from '../values/own-field'
import { PARTS, alive, checkIndexSpec, locked } from './parts'
import { TableReads } from './reads'

const INDEX_OPTIONS = ['type', 'unique'] as const

/** The layer of {@link Table} over its queries: fields, schema and indexes. */
export class TableIndexes<T extends object, out K extends string> extends TableReads<T, K> {
  /** The fields of the schema (type-string schema), or every field seen in the records; key first. */
  columns(): string[] {
    const { ctx } = this[PARTS]
    alive(ctx)
    const fields = new Set<string>([this.primaryKey])
    const declared = ctx.validator?.fields
    if (declared) declared.forEach((f) => fields.add(f))
    else locked(ctx, 'read', () => { for (const rec of matchRows(ctx.store, this.primaryKey, { op: 'true' })) for (const f in rec) if (ownsKey(rec, f)) fields.add(f) })
    return [...fields]
  }

  /** A field, to build conditions: `users.field('age').gte(18)`. */
  field<F extends keyof T & string>(name: F): Field<T[F]> {
    const field = new Field<T[F]>(name)
    checkKnownField(name, this[PARTS].known, this.name, 'field()')
    return field
  }

  /** Creates an index (`hash` by default, or `sorted` for ranges; `unique` refuses duplicates). */
  createIndex(field: keyof T & string, options?: { type?: IndexType; unique?: boolean }): void {
    const { ctx, known } = this[PARTS]
    alive(ctx)
    // Assigned onto no prototype, as checkOptions gives them: an option not given reads as undefined.
    const spec = checkIndexSpec(Object.assign(Object.create(null) as IndexSpec, checkOptions(options, INDEX_OPTIONS, 'createIndex()'), { field }))
    checkKnownField(spec.field, known, this.name, 'createIndex()')
    locked(ctx, 'write', () => {
      const existing = ctx.store.index(spec.field)
      if (existing !== undefined) {
        if (existing.type === spec.type && existing.unique === spec.unique) return
        throw new InvalidArgumentError(
          `An index on \`${shortName(this.name)}.${shortName(spec.field)}\` exists with other options (${existing.type}${existing.unique ? ', unique' : ''}); drop it first`,
          { table: this.name, field: spec.field },
        )
      }
      ctx.tx.schema(
        { type: 'createIndex', table: this.name, index: spec },
        () => ctx.store.addIndex(spec),
        () => ctx.store.removeIndex(spec.field),
      )
    })
  }

  /** Drops the index on `field`. */
  dropIndex(field: keyof T & string): void {
    const { ctx } = this[PARTS]
    alive(ctx)
    checkName(field, 'field')
    locked(ctx, 'write', () => {
      const index = ctx.store.index(field)
      if (index === undefined) throw new InvalidArgumentError(`There is no index on \`${shortName(this.name)}.${shortName(field)}\``, { table: this.name, field })
      const spec = { field, type: index.type, unique: index.unique }
      ctx.tx.schema(
        { type: 'dropIndex', table: this.name, field },
        () => ctx.store.removeIndex(field),
        () => ctx.store.addIndex(spec),
      )
    })
  }

  /** Whether `field` has an index. */
  hasIndex(field: keyof T & string): boolean {
    const { ctx } = this[PARTS]
    alive(ctx)
    checkName(field, 'field')
    return locked(ctx, 'read', () => ctx.store.index(field) !== undefined)
  }

  /** The indexed fields, in creation order. */
  indexedFields(): string[] {
    const { ctx } = this[PARTS]
    alive(ctx)
    return locked(ctx, 'read', () => [...ctx.store.indexes()].map((i) => i.field))
  }

  /** The fields declared by a type-string schema (empty without one or for a Standard Schema). */
  schemaFields(): string[] {
    const { ctx } = this[PARTS]
    alive(ctx)
    return [...(ctx.validator?.fields ?? [])]
  }

  /** @internal The table's definition, as saved and replicated. */
  definition(): TableDefinition {
    const { ctx } = this[PARTS]
    const indexes = [...ctx.store.indexes()].map((i) => ({ field: i.field, type: i.type, unique: i.unique }))
    const def: { -readonly [K in keyof TableDefinition]: TableDefinition[K] } = { name: this.name, primaryKey: this.primaryKey, indexes }
    if (ctx.schema !== undefined) def.schema = ctx.schema
    if (ctx.store.ttl !== null) def.ttl = ctx.store.ttl
    return def
  }
}
