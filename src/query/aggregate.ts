import { InvalidArgumentError, describe, readingInput } from '../errors'
import { checkOptions, isOptionsObject } from '../options'
import { encode } from '../values/canonical'
import { compare } from '../values/compare'
import { thaw } from '../values/freeze'
import { fieldOf, ownsKey } from '../values/own-field'
import type { Rec } from '../values/types'
import type { Where } from './where'
import { shortName } from '../values/describe'

/** The aggregate functions. */
export type AggregateFn = 'count' | 'sum' | 'avg' | 'min' | 'max'

/**
 * An aggregation over a field: build with `count`, `sum`, `avg`, `min`, `max`. Its type keeps the
 * function and the field name, so `aggregate()` can check the field and type the result.
 */
export interface Aggregation<Fn extends AggregateFn = AggregateFn, F extends string | undefined = string | undefined> {
  readonly fn: Fn
  readonly field: F
}

/** Options of `table.aggregate`. */
export interface AggregateOptions<T> {
  where?: Where<T>
  groupBy?: (keyof T & string) | readonly (keyof T & string)[]
}

/**
 * `count()` counts records; `count(field)` counts non-null values.
 * @example `users.aggregate({ n: count(), withEmail: count('email') })`
 */
export function count(): Aggregation<'count', undefined>
export function count<F extends string>(field: F): Aggregation<'count', F>
export function count(field?: string): Aggregation<'count'> {
  if (field !== undefined) checkField('count', field)
  return Object.freeze({ fn: 'count', field })
}
/** Sum of the non-null values (`null` over none). @example `orders.aggregate({ total: sum('amount') })` */
export function sum<F extends string>(field: F): Aggregation<'sum', F> {
  return Object.freeze({ fn: 'sum', field: checkField('sum', field) })
}
/** Mean of the non-null values (`null` over none). @example `users.aggregate({ avgAge: avg('age') })` */
export function avg<F extends string>(field: F): Aggregation<'avg', F> {
  return Object.freeze({ fn: 'avg', field: checkField('avg', field) })
}
/** Smallest non-null value (`null` over none). @example `users.aggregate({ youngest: min('age') })` */
export function min<F extends string>(field: F): Aggregation<'min', F> {
  return Object.freeze({ fn: 'min', field: checkField('min', field) })
}
/** Largest non-null value (`null` over none). @example `users.aggregate({ oldest: max('age') })` */
export function max<F extends string>(field: F): Aggregation<'max', F> {
  return Object.freeze({ fn: 'max', field: checkField('max', field) })
}

function checkField<F>(fn: string, field: F): F {
  if (typeof field !== 'string' || field.length === 0) {
    throw new InvalidArgumentError(`Expected ${fn}() to take a field name, got ${describe(field)}`)
  }
  return field
}

/** Checks the aggregation map and the options before any work. */
export function checkAggregations(aggregations: unknown, options: unknown): { specs: Array<[string, Aggregation]>; groupBy: string[] | null } {
  return readingInput('the arguments of aggregate()', () => readAggregations(aggregations, options))
}

function readAggregations(aggregations: unknown, options: unknown): { specs: Array<[string, Aggregation]>; groupBy: string[] | null } {
  if (!isOptionsObject(aggregations)) {
    throw new InvalidArgumentError(`Expected aggregate() to take { name: count() | sum(field) | ... }, got ${describe(aggregations)}`)
  }
  const specs = Object.entries(aggregations as Record<string, unknown>).map(([name, agg]) => readAggregation(name, agg))
  const opts = checkOptions(options as AggregateOptions<Rec> | undefined, ['where', 'groupBy'], 'aggregate()')
  const g = opts.groupBy
  if (g === undefined) return { specs, groupBy: null }
  const groupBy = Array.isArray(g) ? [...g] : [g]
  if (groupBy.length === 0 || groupBy.some((f) => typeof f !== 'string' || f.length === 0)) {
    throw new InvalidArgumentError(`Expected \`groupBy\` to be a field name or a non-empty list of them, got ${describe(g)}`)
  }
  // Assigned to a group's row, `__proto__` would set its prototype: no record holds such a field.
  if (groupBy.includes('__proto__')) throw new InvalidArgumentError('`groupBy` cannot name the field `__proto__`: no record can hold it')
  // A group's row carries its group fields: an aggregation of the same name would overwrite one.
  const clash = specs.find(([name]) => groupBy.includes(name))
  if (clash !== undefined) {
    throw new InvalidArgumentError(`Aggregation \`${shortName(clash[0])}\` has the name of a \`groupBy\` field, whose value it would hide in each group; name it otherwise`)
  }
  return { specs, groupBy: groupBy as string[] }
}

/** Checks one entry of the aggregation map; returns a frozen copy (the caller's object is read once, here). */
function readAggregation(name: string, agg: unknown): [string, Aggregation] {
  // Assigned to a result object, `__proto__` would set its prototype and vanish from the result.
  if (name === '__proto__') throw new InvalidArgumentError('An aggregation cannot be named `__proto__`')
  // Own fields only: a `fn` or `field` a library put on Object.prototype is not the caller's.
  const fn = typeof agg === 'object' && agg !== null && ownsKey(agg, 'fn') ? (agg as Aggregation).fn : undefined
  if (fn === undefined || !['count', 'sum', 'avg', 'min', 'max'].includes(String(fn))) {
    throw new InvalidArgumentError(`Expected aggregation \`${shortName(name)}\` to be made by count(), sum(), avg(), min() or max(), got ${describe(agg)}`)
  }
  const field = ownsKey(agg as object, 'field') ? (agg as Aggregation).field : undefined
  if (field !== undefined && (typeof field !== 'string' || field.length === 0)) {
    throw new InvalidArgumentError(`Expected aggregation \`${shortName(name)}\` to name a field with a non-empty string, got ${describe(field)}`)
  }
  return [name, Object.freeze({ fn, field })]
}

/** Runs the aggregations over records, grouped or not. */
export function aggregate(records: Iterable<Rec>, specs: Array<[string, Aggregation]>, groupBy: string[] | null): Record<string, unknown> | Record<string, unknown>[] {
  if (groupBy === null) return reduce([...records], specs)
  const groups = new Map<string, Rec[]>()
  for (const rec of records) {
    const key = JSON.stringify(groupBy.map((f) => encode(fieldOf(rec, f) ?? null)))
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [rec])
    else group.push(rec)
  }
  return [...groups.values()].map((group) => {
    const first = group[0] as Rec
    const out: Record<string, unknown> = {}
    for (const f of groupBy) out[f] = thaw(fieldOf(first, f) ?? null)
    return Object.assign(out, reduce(group, specs))
  })
}

function reduce(records: Rec[], specs: Array<[string, Aggregation]>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, { fn, field }] of specs) out[name] = thaw(compute(records, fn, field))
  return out
}

function compute(records: Rec[], fn: Aggregation['fn'], field: string | undefined): unknown {
  if (field === undefined) return records.length
  const values: unknown[] = []
  for (const rec of records) {
    const value = fieldOf(rec, field)
    if (value != null) values.push(value)
  }
  switch (fn) {
    case 'count':
      return values.length
    case 'min':
      return values.reduce((a, b) => (a === null || compare(b, a) < 0 ? b : a), null)
    case 'max':
      return values.reduce((a, b) => (a === null || compare(b, a) > 0 ? b : a), null)
    default: {
      if (values.length === 0) return null
      const total = add(values, field)
      if (fn === 'sum') return total
      return typeof total === 'bigint' ? Number(total) / values.length : (total as number) / values.length
    }
  }
}

function add(values: unknown[], field: string): number | bigint {
  const bigint = typeof values[0] === 'bigint'
  let total: number | bigint = bigint ? 0n : 0
  for (const v of values) {
    if (typeof v !== (bigint ? 'bigint' : 'number')) {
      throw new InvalidArgumentError(`Cannot sum field \`${shortName(field)}\`: it mixes ${typeof values[0]} and ${describe(v)}`, { field })
    }
    total = bigint ? (total as bigint) + (v as bigint) : (total as number) + (v as number)
  }
  return total
}
