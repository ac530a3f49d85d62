import type { Row } from '../storage/row'

/**
 * The rows of an index that share one value: the row itself while it is alone (a unique or
 * nearly unique field then costs no object per record), a `Set` once there are several. A Set
 * keeps insertion order, so an equality hit is usually in insertion order already (the planner
 * sorts by `seq` when it is not).
 */
export type Bucket = Row | Set<Row>

/** The bucket after adding `row` (a new Set when a lone row gets company). */
export function addTo(bucket: Bucket | undefined, row: Row): Bucket {
  if (bucket === undefined) return row
  if (bucket instanceof Set) return bucket.add(row)
  return new Set([bucket, row])
}

/** The bucket after removing `row`: undefined when empty, the last row alone when one is left. */
export function removeFrom(bucket: Bucket, row: Row): Bucket | undefined {
  if (!(bucket instanceof Set)) return bucket === row ? undefined : bucket
  bucket.delete(row)
  if (bucket.size > 1) return bucket
  // Back to a lone row: no Set kept for a value that lost its company.
  for (const last of bucket) return last
  return undefined
}

export function sizeOf(bucket: Bucket | undefined): number {
  return bucket === undefined ? 0 : bucket instanceof Set ? bucket.size : 1
}

/** Appends (or, with `out` null, counts) at most `room` of the bucket's rows; returns how many. */
export function pushRows(bucket: Bucket, out: Row[] | null, room: number): number {
  if (room <= 0) return 0
  if (!(bucket instanceof Set)) {
    if (out !== null) out.push(bucket)
    return 1
  }
  if (out === null) return Math.min(bucket.size, room)
  let n = 0
  for (const row of bucket) {
    if (n >= room) break
    out.push(row)
    n++
  }
  return n
}
