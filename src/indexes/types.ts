import type { Row } from '../storage/row'

/** Index kinds: `hash` (equality) and `sorted` (equality and ranges, a B+ tree). */
export type IndexType = 'hash' | 'sorted'

/** The definition of an index, as saved and as given to `createIndex`. */
export interface IndexSpec {
  field: string
  type?: IndexType
  unique?: boolean
}

/** A range over one kind of value; bounds absent mean "to the end of that kind". */
export interface Range {
  lo?: unknown
  loInclusive?: boolean
  hi?: unknown
  hiInclusive?: boolean
  /** A value of the kind being ranged over (bounds the scan to that kind). */
  kind: unknown
}

/** What every index offers the store and the planner. Maintained only by `TableStore.apply`. */
export interface Index {
  readonly field: string
  readonly type: IndexType
  readonly unique: boolean
  add(row: Row, value: unknown): void
  remove(row: Row, value: unknown): void
  /** Rows whose value equals `value` (canonical equality; null = null or missing). */
  eq(value: unknown, out: Row[]): void
  /** How many rows `eq(value)` would give, at most `cap`. */
  countEq(value: unknown, cap: number): number
  /** Rows in `range` (sorted indexes only), at most `cap` counted when `out` is null. */
  range?(range: Range, out: Row[] | null, cap: number): number
  /** Every (value, row) pair, for checks against a rebuild. */
  entries(): Array<[unknown, Row]>
}
