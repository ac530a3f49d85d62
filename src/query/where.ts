import { InvalidArgumentError, describe, inputError } from '../errors'
import { freezeCopy, isPlainObject } from '../values/freeze'
import { preview, shortName } from '../values/describe'
import { ownsKey } from '../values/own-field'
import type { ConditionNode } from './ast'
import { Condition } from './condition'

/**
 * What `where` accepts: a {@link Condition}; a plain object of field → value, meaning all equal
 * (`{ dept: 'IT', active: true }`); or a predicate over the (frozen) record.
 */
export type Where<T> = Condition | { readonly [K in keyof T]?: T[K] | null } | ((row: Readonly<T>) => boolean)

const MATCH_ALL: ConditionNode = Object.freeze({ op: 'true' })

/** Turns any accepted `where` into a condition AST. `undefined` matches every record. */
export function toNode(where: unknown, what = 'where', table = 'table'): ConditionNode {
  if (where === undefined) return MATCH_ALL
  if (where instanceof Condition) return where.node
  if (typeof where === 'function') return { op: 'fn', fn: where as (row: never) => unknown }
  try {
    if (isPlainObject(where)) return fromObject(where, what, table)
  } catch (error) {
    throw inputError(`\`${what}\``, error)
  }
  throw new InvalidArgumentError(`Expected \`${what}\` to be a Condition, a plain object of field values, or a function, got ${describe(where)}`)
}

function fromObject(where: Record<string, unknown>, what: string, table: string): ConditionNode {
  const items: ConditionNode[] = []
  for (const field of Object.keys(where)) {
    const value = where[field]
    if (LOGICAL_OPERATORS.has(field)) refuseLogicalOperator(field, what)
    if (value === undefined) throw new InvalidArgumentError(`Expected \`${what}.${shortName(field)}\` to be a value, got \`undefined\``, { field })
    if (value !== null) refuseOperatorObject(value, field, what, table)
    items.push(value === null ? { op: 'isNull', field } : { op: 'eq', field, value: freezeCopy(value, `${what}.${field}`) })
  }
  if (items.length === 0) return MATCH_ALL
  return items.length === 1 ? (items[0] as ConditionNode) : { op: 'and', items }
}

/** The DSL method for each operator name a caller may try (MongoDB's `$gt`, or our own `gt`); '' has no one-method form. */
const OPERATORS: Readonly<Record<string, string>> = {
  eq: 'eq', ne: 'ne', lt: 'lt', lte: 'lte', gt: 'gt', gte: 'gte', in: 'isIn', isIn: 'isIn', between: 'between',
  like: 'like', ilike: 'ilike', startsWith: 'startsWith', endsWith: 'endsWith', contains: 'contains', iequals: 'iequals',
  icontains: 'icontains', istartsWith: 'istartsWith', iendsWith: 'iendsWith', isNull: 'isNull', isNotNull: 'isNotNull',
  exists: 'isNotNull', not: '', and: '', or: '', nin: '', regex: '',
}

/** MongoDB's top-level operators: as a field of a where object, each would match nothing, silently. */
const LOGICAL_OPERATORS = new Set(['$and', '$or', '$nor', '$not', '$expr', '$where', '$text'])

function refuseLogicalOperator(field: string, what: string): never {
  const dsl = field === '$and' || field === '$or' || field === '$not' ? `${field.slice(1)}(c1, c2, …)` : 'and(…), or(…) and not(…)'
  throw new InvalidArgumentError(
    `\`${what}\` has the field \`${field}\`, which looks like a MongoDB operator and would match no record. ` +
      `Combine conditions with ${dsl} from 'dictdb'. To match a field of that name, use field('${field}').eq(…)`,
    { field },
  )
}

/**
 * `{ age: { $gt: 30 } }` or `{ age: { gt: 30 } }` would compare `age` for equality with an object
 * and silently match nothing: refuse it and show the DSL form. Equality with such an object is
 * still possible through `field(…).eq({…})`.
 */
function refuseOperatorObject(value: unknown, name: string, what: string, table: string): void {
  if (!isPlainObject(value)) return
  const keys = Object.keys(value)
  if (keys.length === 0) return
  const looksLikeOperators = keys.some((k) => k.startsWith('$')) || keys.every((k) => ownsKey(OPERATORS, k))
  if (!looksLikeOperators) return
  // The caller's field name may be of any length: the message shows its start (the error's
  // `field` property keeps it whole).
  const field = shortName(name)
  const first = keys[0] as string
  const method = OPERATORS[first.replace(/^\$/, '')]
  const dsl =
    method === undefined || method === ''
      ? `${shortName(table)}.field('${field}').gt(…) (or eq, ne, lt, lte, gte, isIn, between, like…)`
      : `${shortName(table)}.field('${field}').${method}(${method === 'isNull' || method === 'isNotNull' ? '' : preview(value[first])})`
  throw new InvalidArgumentError(
    `\`${what}.${field}\` looks like an operator object (${preview(value)}) and would match nothing. ` +
      `Write ${dsl} instead; to match an object with these keys, use field('${field}').eq({…})`,
    { field: name },
  )
}
