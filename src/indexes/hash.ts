import { canonical } from '../values/canonical'
import type { Key } from '../values/types'
import { addTo, pushKeys, removeFrom, sizeOf, type Bucket } from './bucket'
import type { Index } from './types'

/** Equality index: canonical value → the keys with that value (a lone key or a Set of them). */
export class HashIndex implements Index {
  readonly type = 'hash' as const
  readonly #buckets = new Map<unknown, Bucket>()

  constructor(
    readonly field: string,
    readonly unique: boolean,
  ) {}

  add(key: Key, value: unknown): void {
    const c = canonical(value)
    const bucket = this.#buckets.get(c)
    // A Set grows in place: only a new or a first-shared value writes the Map.
    if (bucket instanceof Set) bucket.add(key)
    else this.#buckets.set(c, addTo(bucket, key))
  }

  remove(key: Key, value: unknown): void {
    const c = canonical(value)
    const bucket = this.#buckets.get(c)
    if (bucket === undefined) return
    const left = removeFrom(bucket, key)
    if (left === undefined) this.#buckets.delete(c)
    else if (left !== bucket) this.#buckets.set(c, left)
  }

  eq(value: unknown, out: Key[]): void {
    const bucket = this.#buckets.get(canonical(value))
    if (bucket !== undefined) pushKeys(bucket, out, Infinity)
  }

  countEq(value: unknown): number {
    return sizeOf(this.#buckets.get(canonical(value)))
  }

  entries(): Array<[unknown, Key]> {
    const out: Array<[unknown, Key]> = []
    const keys: Key[] = []
    for (const [c, bucket] of this.#buckets) {
      keys.length = 0
      pushKeys(bucket, keys, Infinity)
      for (const key of keys) out.push([c, key])
    }
    return out
  }
}
