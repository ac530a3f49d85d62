import BTreeModule from 'sorted-btree'
import { compare, rank } from '../values/compare'
import type { Row } from '../storage/row'
import type { Index, Range } from './types'

// sorted-btree is CommonJS with `exports.default`: under Node's ESM loader the default import is
// the whole module object, under bundlers and CJS it is the class itself.
const BTree: typeof BTreeModule = (BTreeModule as unknown as { default?: typeof BTreeModule }).default ?? BTreeModule

/** A B+ tree entry: the value, then the row's insertion rank to order equal values. */
interface Entry {
  readonly v: unknown
  readonly s: number
  readonly row: Row | null
}

function compareEntries(a: Entry, b: Entry): number {
  const c = typeof a.v === 'number' && typeof b.v === 'number' ? a.v - b.v : compare(a.v, b.v)
  return c !== 0 ? c : a.s - b.s
}

const MIN_DATE = new Date(-8.64e15)
const MAX_DATE = new Date(8.64e15)

/** The first and last value of each kind in the total order, as probes (see `compare`). */
function kindBounds(kind: unknown): [Entry, Entry] | null {
  switch (rank(kind)) {
    case 1:
      return [probe(false, -1), probe(true, 1)]
    case 2:
      return [probe(-Infinity, -1), probe(Infinity, 1)]
    case 3:
      return [probe(Infinity, 1), probe('', -1)]
    case 4:
      return [probe('', -1), probe(MIN_DATE, -1)]
    case 5:
      return [probe(MIN_DATE, -1), probe(MAX_DATE, 1)]
    default:
      return null
  }
}

/** A probe sorts before (side -1) or after (side 1) every entry with value `v`. */
function probe(v: unknown, side: -1 | 1): Entry {
  return { v, s: side * Infinity, row: null }
}

/** Ordered index: (value, insertion rank) → row, for equality and range scans in O(log n + k). */
export class SortedIndex implements Index {
  readonly type = 'sorted' as const
  readonly #tree: BTreeModule<Entry, undefined> = new BTree<Entry, undefined>(undefined, compareEntries)

  constructor(
    readonly field: string,
    readonly unique: boolean,
  ) {}

  add(row: Row, value: unknown): void {
    this.#tree.set({ v: value ?? null, s: row.seq, row }, undefined)
  }

  remove(row: Row, value: unknown): void {
    this.#tree.delete({ v: value ?? null, s: row.seq, row })
  }

  eq(value: unknown, out: Row[]): void {
    this.#scan(probe(value ?? null, -1), probe(value ?? null, 1), out, Infinity)
  }

  countEq(value: unknown, cap: number): number {
    return this.#scan(probe(value ?? null, -1), probe(value ?? null, 1), null, cap)
  }

  range(range: Range, out: Row[] | null, cap: number): number {
    const bounds = kindBounds(range.kind)
    if (bounds === null) return -1
    const lo = range.lo === undefined ? bounds[0] : probe(range.lo, range.loInclusive === false ? 1 : -1)
    const hi = range.hi === undefined ? bounds[1] : probe(range.hi, range.hiInclusive === false ? -1 : 1)
    return this.#scan(lo, hi, out, cap)
  }

  entries(): Array<[unknown, Row]> {
    const out: Array<[unknown, Row]> = []
    this.#tree.forEachPair((e) => {
      out.push([e.v, e.row as Row])
    })
    return out
  }

  /** Visits entries in [lo, hi) (probes never equal an entry); counts up to `cap`. */
  #scan(lo: Entry, hi: Entry, out: Row[] | null, cap: number): number {
    if (compareEntries(lo, hi) >= 0) return 0
    let n = 0
    this.#tree.forRange(lo, hi, false, (e) => {
      if (out !== null) out.push(e.row as Row)
      if (++n >= cap) return { break: n }
      return undefined
    })
    return n
  }
}
