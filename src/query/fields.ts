import { InvalidArgumentError } from '../errors'
import { didYouMean } from '../options'
import { shortName } from '../values/describe'
import type { ConditionNode } from './ast'

/**
 * The fields a table with a type-string schema knows (its schema fields and primary key), or
 * null where any field name is allowed. Naming another one is almost always a typo, so it is an
 * error with a suggestion rather than a query that silently matches nothing.
 */
export type KnownFields = ReadonlySet<string> | null

/** Throws when `known` does not hold `name`; `what` says where it was named (`where`, `orderBy`…). */
export function checkKnownField(name: string, known: KnownFields, table: string, what: string): void {
  if (known === null || known.has(name)) return
  throw new InvalidArgumentError(`Table \`${shortName(table)}\` has no field \`${shortName(name)}\` (named in ${what}). ${didYouMean(name, known, 'Its fields')}`, {
    table,
    field: name,
  })
}

/** Checks every field a condition names. */
export function checkNodeFields(node: ConditionNode, known: KnownFields, table: string, what: string): void {
  if (known === null) return
  switch (node.op) {
    case 'true':
    case 'fn':
      return
    case 'and':
    case 'or':
      for (const item of node.items) checkNodeFields(item, known, table, what)
      return
    case 'not':
      checkNodeFields(node.item, known, table, what)
      return
    default:
      checkKnownField(node.field, known, table, what)
  }
}
