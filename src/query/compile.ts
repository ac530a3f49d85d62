import { canonical } from '../values/canonical'
import { compare, equals, sameKind } from '../values/compare'
import { NO_FIELDS, inherits, ownsKey } from '../values/own-field'
import type { Rec } from '../values/types'
import type { ConditionNode } from './ast'

/** A compiled condition: a predicate over a stored record. */
export type Predicate = (row: Rec) => boolean

/** Compiles a condition AST into one predicate (closures, built once per query). */
export function compile(node: ConditionNode): Predicate {
  switch (node.op) {
    case 'true':
      return () => true
    case 'and':
      return compileAnd(node.items.map(compile))
    case 'or': {
      const preds = node.items.map(compile)
      return (row) => preds.some((p) => p(row))
    }
    case 'not': {
      const inner = compile(node.item)
      return (row) => !inner(row)
    }
    case 'fn': {
      const fn = node.fn as (row: Rec) => unknown
      return (row) => Boolean(fn(row))
    }
    default:
      return compileField(node)
  }
}

/** A condition on one field's value. */
type FieldNode = Extract<ConditionNode, { readonly field: string }>

function compileField(node: FieldNode): Predicate {
  const test = compileFieldTest(node)
  const field = node.field
  if (!inherits(field)) return test
  // A record without the field would read Object.prototype's member: it is tested as a record
  // without fields (its own value, when it has one, is read as usual). Other names pay nothing.
  return (row) => test(ownsKey(row, field) ? row : NO_FIELDS)
}

function compileFieldTest(node: FieldNode): Predicate {
  switch (node.op) {
    case 'isNull':
      return (row) => row[node.field] == null
    case 'isNotNull':
      return (row) => row[node.field] != null
    case 'in':
      return compileIn(node.field, node.values)
    case 'between': {
      const { field, lo, hi } = node
      return (row) => {
        const x = row[field]
        return sameKind(x, lo) && sameKind(x, hi) && compare(x, lo) >= 0 && compare(x, hi) <= 0
      }
    }
    case 'eq':
      return compileEq(node.field, node.value)
    case 'ne': {
      const { field, value } = node
      return (row) => sameKind(row[field], value) && !equals(row[field], value)
    }
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return compileRange(node.op, node.field, node.value)
    default:
      return compileString(node.op, node.field, node.value as string)
  }
}

function compileAnd(preds: Predicate[]): Predicate {
  if (preds.length === 1) return preds[0] as Predicate
  if (preds.length === 2) {
    const [a, b] = preds as [Predicate, Predicate]
    return (row) => a(row) && b(row)
  }
  return (row) => preds.every((p) => p(row))
}

function compileEq(field: string, value: unknown): Predicate {
  if (typeof value !== 'object' || value === null) return (row) => row[field] === value
  return (row) => equals(row[field], value)
}

function compileIn(field: string, values: readonly unknown[]): Predicate {
  const set = new Set(values.map(canonical))
  return (row) => set.has(canonical(row[field]))
}

function compileRange(op: 'lt' | 'lte' | 'gt' | 'gte', field: string, value: unknown): Predicate {
  const test = RANGE_TESTS[op]
  if (typeof value === 'number') {
    return (row) => {
      const x = row[field]
      return typeof x === 'number' && test(x < value ? -1 : x > value ? 1 : 0)
    }
  }
  return (row) => {
    const x = row[field]
    return sameKind(x, value) && test(compare(x, value))
  }
}

const RANGE_TESTS = {
  lt: (c: number) => c < 0,
  lte: (c: number) => c <= 0,
  gt: (c: number) => c > 0,
  gte: (c: number) => c >= 0,
}

function compileString(op: string, field: string, s: string): Predicate {
  if (op === 'contains') return compileContains(field, s)
  const test = stringTest(op, s)
  return (row) => {
    const x = row[field]
    return typeof x === 'string' && test(x)
  }
}

function compileContains(field: string, value: unknown): Predicate {
  return (row) => {
    const x = row[field]
    if (typeof x === 'string') return typeof value === 'string' && x.includes(value)
    return Array.isArray(x) && x.some((el) => equals(el, value))
  }
}

function stringTest(op: string, s: string): (x: string) => boolean {
  const lower = s.toLowerCase()
  switch (op) {
    case 'like':
    case 'ilike': {
      const re = likeRegExp(s, op === 'ilike' ? 'i' : '')
      return (x) => re.test(x)
    }
    case 'startsWith':
      return (x) => x.startsWith(s)
    case 'endsWith':
      return (x) => x.endsWith(s)
    case 'iequals':
      return (x) => x.toLowerCase() === lower
    case 'icontains':
      return (x) => x.toLowerCase().includes(lower)
    case 'istartsWith':
      return (x) => x.toLowerCase().startsWith(lower)
    default:
      return (x) => x.toLowerCase().endsWith(lower)
  }
}

/** `%` → any run, `_` → one character (code point); everything else literal. */
export function likeRegExp(pattern: string, flags: string): RegExp {
  let source = ''
  for (const ch of pattern) {
    source += ch === '%' ? '[\\s\\S]*' : ch === '_' ? '[\\s\\S]' : ch.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')
  }
  return new RegExp(`^${source}$`, `${flags}u`)
}
