import type { Shape } from '../values/shape'
import type { Key, Rec } from '../values/types'

/**
 * The store's internal handle for one record. Indexes point at rows (never copy records), so an
 * index hit needs no second lookup. `rec` is replaced on update; `seq` is the record's insertion
 * rank and never changes, so "insertion order" survives updates and rollbacks.
 */
export interface Row {
  readonly key: Key
  rec: Rec
  readonly seq: number
  /** The compiled copiers of `rec`'s shape, found on first copy; kept while updates keep it. */
  shape: Shape | undefined
}
