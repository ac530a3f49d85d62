import BTreeModule from 'sorted-btree'
import { compare, rank } from '../values/compare'
import type { Key } from '../values/types'
import { addKey, pushKeys, removeKey, sizeOf, type Bucket } from './bucket'
import type { Index, Range } from './types'

// sorted-btree is CommonJS with `exports.default`: under Node's ESM loader the default import is
// the whole module object, under bundlers and CJS it is the class itself.
const BTree: typeof BTreeModule = (BTreeModule as unknown as { default?: typeof BTreeModule }).default ?? BTreeModule

function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0
  return compare(a, b)
}

const MIN_DATE = new Date(-8.64e15)
const MAX_DATE = new Date(8.64e15)

/** One end of a scan: a value, and whether the value itself is in. */
interface Bound {
  readonly v: unknown
  readonly in: boolean
}

/** The first and last value of each kind in the total order (see `compare`). */
function kindBounds(kind: unknown): [Bound, Bound] | null {
  switch (rank(kind)) {
    case 1:
      return [{ v: false, in: true }, { v: true, in: true }]
    case 2:
      return [{ v: -Infinity, in: true }, { v: Infinity, in: true }]
    case 3:
      // Bigints lie between the numbers and the strings.
      return [{ v: Infinity, in: false }, { v: '', in: false }]
    case 4:
      return [{ v: '', in: true }, { v: MIN_DATE, in: false }]
    case 5:
      return [{ v: MIN_DATE, in: true }, { v: MAX_DATE, in: true }]
    default:
      return null
  }
}

/**
 * Ordered index: value → the keys with that value (a lone key or a Set of them), in a B+ tree,
 * for equality and range scans in O(log n + k). Entries are per distinct value, not per record:
 * a record costs no object of its own here.
 */
export class SortedIndex implements Index {
  readonly type = 'sorted' as const
  readonly #tree: BTreeModule<unknown, Bucket> = new BTree<unknown, Bucket>(undefined, compareValues)

  constructor(
    readonly field: string,
    readonly unique: boolean,
  ) {}

  add(key: Key, value: unknown): void {
    addKey(this.#tree, value ?? null, key)
  }

  remove(key: Key, value: unknown): void {
    removeKey(this.#tree, value ?? null, key)
  }

  eq(value: unknown, out: Key[]): void {
    const bucket = this.#tree.get(value ?? null)
    if (bucket !== undefined) pushKeys(bucket, out, Infinity)
  }

  countEq(value: unknown, cap: number): number {
    return Math.min(sizeOf(this.#tree.get(value ?? null)), cap)
  }

  range(range: Range, out: Key[] | null, cap: number): number {
    const bounds = kindBounds(range.kind)
    if (bounds === null) return -1
    const lo = range.lo === undefined ? bounds[0] : { v: range.lo, in: range.loInclusive !== false }
    const hi = range.hi === undefined ? bounds[1] : { v: range.hi, in: range.hiInclusive !== false }
    return this.#scan(lo, hi, out, cap)
  }

  entries(): Array<[unknown, Key]> {
    const out: Array<[unknown, Key]> = []
    const keys: Key[] = []
    this.#tree.forEachPair((v, bucket) => {
      keys.length = 0
      pushKeys(bucket, keys, Infinity)
      for (const key of keys) out.push([v, key])
    })
    return out
  }

  /** Visits the buckets from `lo` to `hi`; counts (and collects) up to `cap` keys. */
  #scan(lo: Bound, hi: Bound, out: Key[] | null, cap: number): number {
    const c = compareValues(lo.v, hi.v)
    if (c > 0 || (c === 0 && !(lo.in && hi.in))) return 0
    let n = 0
    this.#tree.forRange(lo.v, hi.v, hi.in, (v, bucket) => {
      if (!lo.in && compareValues(v, lo.v) === 0) return undefined
      n += pushKeys(bucket, out, cap - n)
      return n >= cap ? { break: n } : undefined
    })
    return n
  }
}
