import type { Index } from '../indexes/types'
import type { TableStore } from '../storage/table-store'
import { canonical } from '../values/canonical'
import type { Key } from '../values/types'
import type { ConditionNode } from './ast'

/** How a query finds its candidate rows; the full condition is still applied to each. */
export interface Access {
  readonly strategy: 'primaryKey' | 'index' | 'union'
  /** The indexed field (for `primaryKey` and `index`). */
  readonly field?: string
  readonly indexType?: 'hash' | 'sorted'
  /** Candidate count, exact up to `cap` (counting stops there). */
  estimate(cap: number): number
  /** The keys of the candidate records, in no particular order, without duplicates. */
  collect(): Key[]
}

/**
 * Picks the cheapest way to the candidates of `node`: a primary-key lookup, the most selective
 * usable index under an `and`, a union of indexed branches for an `or`; null means a full scan.
 */
export function plan(store: TableStore, primaryKey: string, node: ConditionNode): Access | null {
  switch (node.op) {
    case 'and':
      return planAnd(store, primaryKey, node.items)
    case 'or':
      return planOr(store, primaryKey, node.items)
    case 'eq':
      return node.field === primaryKey ? keyAccess(store, primaryKey, [node.value]) : indexAccess(store, node.field, (ix, out) => ix.eq(node.value, out), (ix, cap) => ix.countEq(node.value, cap))
    case 'isNull':
      return indexAccess(store, node.field, (ix, out) => ix.eq(null, out), (ix, cap) => ix.countEq(null, cap))
    case 'in':
      return node.field === primaryKey ? keyAccess(store, primaryKey, node.values) : inAccess(store, node.field, node.values)
    case 'between':
      return rangeAccess(store, node.field, { lo: node.lo, hi: node.hi, kind: node.lo })
    case 'lt':
    case 'lte':
      return rangeAccess(store, node.field, { hi: node.value, hiInclusive: node.op === 'lte', kind: node.value })
    case 'gt':
    case 'gte':
      return rangeAccess(store, node.field, { lo: node.value, loInclusive: node.op === 'gte', kind: node.value })
    default:
      return null
  }
}

function planAnd(store: TableStore, primaryKey: string, items: readonly ConditionNode[]): Access | null {
  let best: Access | null = null
  let bestCount = Infinity
  for (const item of items) {
    const access = plan(store, primaryKey, item)
    if (access === null) continue
    const count = access.estimate(bestCount)
    if (count < bestCount) {
      best = access
      bestCount = count
    }
  }
  return best
}

function planOr(store: TableStore, primaryKey: string, items: readonly ConditionNode[]): Access | null {
  const branches: Access[] = []
  for (const item of items) {
    const access = plan(store, primaryKey, item)
    if (access === null) return null
    branches.push(access)
  }
  return {
    strategy: 'union',
    estimate: (cap) => branches.reduce((n, b) => n + b.estimate(cap), 0),
    collect: () => dedupe(branches.flatMap((b) => b.collect())),
  }
}

function keyAccess(store: TableStore, primaryKey: string, keys: readonly unknown[]): Access {
  const collect = (): Key[] => {
    const out: Key[] = []
    for (const key of new Set(keys)) {
      if ((typeof key === 'string' || typeof key === 'number') && store.get(key) !== undefined) out.push(key)
    }
    return out
  }
  return { strategy: 'primaryKey', field: primaryKey, estimate: () => collect().length, collect }
}

function indexAccess(
  store: TableStore,
  field: string,
  collectFrom: (index: Index, out: Key[]) => void,
  countFrom: (index: Index, cap: number) => number,
): Access | null {
  const index = store.index(field)
  if (index === undefined) return null
  return {
    strategy: 'index',
    field,
    indexType: index.type,
    estimate: (cap) => countFrom(index, cap),
    collect: () => {
      const out: Key[] = []
      collectFrom(index, out)
      return out
    },
  }
}

function inAccess(store: TableStore, field: string, values: readonly unknown[]): Access | null {
  const distinct = [...new Map(values.map((v) => [canonical(v), v])).values()]
  return indexAccess(
    store,
    field,
    (ix, out) => distinct.forEach((v) => ix.eq(v, out)),
    (ix, cap) => distinct.reduce<number>((n, v) => n + ix.countEq(v, cap), 0),
  )
}

function rangeAccess(store: TableStore, field: string, range: Parameters<NonNullable<Index['range']>>[0]): Access | null {
  const index = store.index(field)
  if (index?.range === undefined || index.range(range, null, 0) < 0) return null
  return indexAccess(
    store,
    field,
    (ix, out) => ix.range?.(range, out, Infinity),
    (ix, cap) => ix.range?.(range, null, cap) ?? 0,
  )
}

function dedupe(keys: Key[]): Key[] {
  return [...new Set(keys)]
}
