import type { Key } from '../values/types'

/**
 * The keys of an index that share one value: the key itself while it is alone (a unique or
 * nearly unique field then costs no object per record), a `Set` once there are several. A Set
 * keeps insertion order, so an equality hit is usually in insertion order already (the planner
 * sorts by rank when it is not).
 */
export type Bucket = Key | Set<Key>

/** The bucket after adding `key` (a new Set when a lone key gets company). */
function addTo(bucket: Bucket | undefined, key: Key): Bucket {
  if (bucket === undefined) return key
  if (bucket instanceof Set) return bucket.add(key)
  return new Set([bucket, key])
}

/** The bucket after removing `key`: undefined when empty, the last key alone when one is left. */
function removeFrom(bucket: Bucket, key: Key): Bucket | undefined {
  if (!(bucket instanceof Set)) return bucket === key ? undefined : bucket
  bucket.delete(key)
  if (bucket.size > 1) return bucket
  // Back to a lone key: no Set kept for a value that lost its company.
  for (const last of bucket) return last
  return undefined
}

/** Where an index keeps its buckets by value: a `Map` (hash) or a B+ tree (sorted). */
export interface BucketMap {
  get(value: unknown): Bucket | undefined
  set(value: unknown, bucket: Bucket): unknown
  delete(value: unknown): unknown
}

/** Adds `key` to the bucket of `value`: a Set grows in place, so only a new or first-shared value writes `map`. */
export function addKey(map: BucketMap, value: unknown, key: Key): void {
  const bucket = map.get(value)
  if (bucket instanceof Set) bucket.add(key)
  else map.set(value, addTo(bucket, key))
}

/** Removes `key` from the bucket of `value`, dropping the bucket when it empties. */
export function removeKey(map: BucketMap, value: unknown, key: Key): void {
  const bucket = map.get(value)
  if (bucket === undefined) return
  const left = removeFrom(bucket, key)
  if (left === undefined) map.delete(value)
  else if (left !== bucket) map.set(value, left)
}

export function sizeOf(bucket: Bucket | undefined): number {
  return bucket === undefined ? 0 : bucket instanceof Set ? bucket.size : 1
}

/** Appends (or, with `out` null, counts) at most `room` of the bucket's keys; returns how many. */
export function pushKeys(bucket: Bucket, out: Key[] | null, room: number): number {
  if (room <= 0) return 0
  if (!(bucket instanceof Set)) {
    if (out !== null) out.push(bucket)
    return 1
  }
  if (out === null) return Math.min(bucket.size, room)
  let n = 0
  for (const key of bucket) {
    if (n >= room) break
    out.push(key)
    n++
  }
  return n
}
