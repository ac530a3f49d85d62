import { InvalidArgumentError, describe } from '../errors'
import { checkOptions } from '../options'
import { encode } from '../values/canonical'
import { compare } from '../values/compare'
import { thaw } from '../values/freeze'
import type { Rec } from '../values/types'
import type { Where } from './where'

/** An aggregation over a field: build with `count`, `sum`, `avg`, `min`, `max`. */
export interface Aggregation {
  readonly fn: 'count' | 'sum' | 'avg' | 'min' | 'max'
  readonly field: string | undefined
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
export function count(field?: string): Aggregation {
  if (field !== undefined) checkField('count', field)
  return Object.freeze({ fn: 'count', field })
}
/** Sum of the non-null values (`null` over none). @example `orders.aggregate({ total: sum('amount') })` */
export function sum(field: string): Aggregation {
  return Object.freeze({ fn: 'sum', field: checkField('sum', field) })
}
/** Mean of the non-null values (`null` over none). @example `users.aggregate({ avgAge: avg('age') })` */
export function avg(field: string): Aggregation {
  return Object.freeze({ fn: 'avg', field: checkField('avg', field) })
}
/** Smallest non-null value (`null` over none). @example `users.aggregate({ youngest: min('age') })` */
export function min(field: string): Aggregation {
  return Object.freeze({ fn: 'min', field: checkField('min', field) })
}
/** Largest non-null value (`null` over none). @example `users.aggregate({ oldest: max('age') })` */
export function max(field: string): Aggregation {
  return Object.freeze({ fn: 'max', field: checkField('max', field) })
}

function checkField(fn: string, field: unknown): string {
  if (typeof field !== 'string' || field.length === 0) {
    throw new InvalidArgumentError(`Expected ${fn}() to take a field name, got ${describe(field)}`)
  }
  return field
}

/** Checks the aggregation map and the options before any work. */
export function checkAggregations(aggregations: unknown, options: unknown): { specs: Array<[string, Aggregation]>; groupBy: string[] | null } {
  if (typeof aggregations !== 'object' || aggregations === null || Array.isArray(aggregations)) {
    throw new InvalidArgumentError(`Expected aggregate() to take { name: count() | sum(field) | ... }, got ${describe(aggregations)}`)
  }
  const specs = Object.entries(aggregations as Record<string, unknown>).map(([name, agg]) => {
    if (typeof agg !== 'object' || agg === null || !('fn' in agg) || !['count', 'sum', 'avg', 'min', 'max'].includes(String(agg.fn))) {
      throw new InvalidArgumentError(`Expected aggregation \`${name}\` to be made by count(), sum(), avg(), min() or max(), got ${describe(agg)}`)
    }
    return [name, agg as Aggregation] as [string, Aggregation]
  })
  const opts = checkOptions(options as AggregateOptions<Rec> | undefined, ['where', 'groupBy'], 'aggregate()')
  const g = opts.groupBy
  if (g === undefined) return { specs, groupBy: null }
  const groupBy = Array.isArray(g) ? [...g] : [g]
  if (groupBy.length === 0 || groupBy.some((f) => typeof f !== 'string' || f.length === 0)) {
    throw new InvalidArgumentError(`Expected \`groupBy\` to be a field name or a non-empty list of them, got ${describe(g)}`)
  }
  return { specs, groupBy: groupBy as string[] }
}

/** Runs the aggregations over records, grouped or not. */
export function aggregate(records: Iterable<Rec>, specs: Array<[string, Aggregation]>, groupBy: string[] | null): Record<string, unknown> | Record<string, unknown>[] {
  if (groupBy === null) return reduce([...records], specs)
  const groups = new Map<string, Rec[]>()
  for (const rec of records) {
    const key = JSON.stringify(groupBy.map((f) => encode(rec[f] ?? null)))
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [rec])
    else group.push(rec)
  }
  return [...groups.values()].map((group) => {
    const first = group[0] as Rec
    const out: Record<string, unknown> = {}
    for (const f of groupBy) out[f] = thaw(first[f] ?? null)
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
  for (const rec of records) if (rec[field] != null) values.push(rec[field])
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
      throw new InvalidArgumentError(`Cannot sum field \`${field}\`: it mixes ${typeof values[0]} and ${describe(v)}`, { field })
    }
    total = bigint ? (total as bigint) + (v as bigint) : (total as number) + (v as number)
  }
  return total
}
