import { InvalidArgumentError, describe } from '../errors'
import { freezeCopy } from '../values/freeze'
import type { ConditionNode } from './ast'
import { Condition } from './condition'

/**
 * What `where` accepts: a {@link Condition}; a plain object of field → value, meaning all equal
 * (`{ dept: 'IT', active: true }`); or a predicate over the (frozen) record.
 */
export type Where<T> = Condition | { readonly [K in keyof T]?: T[K] | null } | ((row: Readonly<T>) => boolean)

const MATCH_ALL: ConditionNode = Object.freeze({ op: 'true' })

/** Turns any accepted `where` into a condition AST. `undefined` matches every record. */
export function toNode(where: unknown, what = 'where'): ConditionNode {
  if (where === undefined) return MATCH_ALL
  if (where instanceof Condition) return where.node
  if (typeof where === 'function') return { op: 'fn', fn: where as (row: never) => unknown }
  if (typeof where === 'object' && where !== null && !Array.isArray(where) && Object.getPrototypeOf(where) === Object.prototype) {
    return fromObject(where as Record<string, unknown>, what)
  }
  throw new InvalidArgumentError(
    `Expected \`${what}\` to be a Condition, a plain object of field values, or a function, got ${describe(where)}`,
  )
}

function fromObject(where: Record<string, unknown>, what: string): ConditionNode {
  const items: ConditionNode[] = []
  for (const field of Object.keys(where)) {
    const value = where[field]
    if (value === undefined) throw new InvalidArgumentError(`Expected \`${what}.${field}\` to be a value, got \`undefined\``, { field })
    items.push(value === null ? { op: 'isNull', field } : { op: 'eq', field, value: freezeCopy(value, `${what}.${field}`) })
  }
  if (items.length === 0) return MATCH_ALL
  return items.length === 1 ? (items[0] as ConditionNode) : { op: 'and', items }
}
