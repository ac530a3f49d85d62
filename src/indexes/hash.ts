import { canonical } from '../values/canonical'
import type { Key } from '../values/types'
import { addKey, pushKeys, removeKey, sizeOf, type Bucket } from './bucket'
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
    addKey(this.#buckets, canonical(value), key)
  }

  remove(key: Key, value: unknown): void {
    removeKey(this.#buckets, canonical(value), key)
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
