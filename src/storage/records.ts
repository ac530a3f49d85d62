import type { Key, Rec } from '../values/types'

/** How far past the end a dense key may land (V8 keeps an array fast below a gap of 1024). */
const MAX_GAP = 1000
/** A dense array at least this long that is less than a quarter full becomes a Map. */
const MIN_SPARSE = 4096

/**
 * A table's records by key, in insertion order, with each record's insertion rank ("insertion
 * order" survives updates and rollbacks). Records are held directly: a read is one lookup.
 *
 * While every key inserted is an integer greater than any before it (auto keys, rising explicit
 * ones: the common case), records live in an array indexed by key. A key is then its own rank,
 * the array's order is insertion order, and a lookup is an array read: no hashing, and keys
 * read in order touch memory in order. The first key that breaks the rise (a string, a smaller
 * or a far larger number), or an array left mostly empty by deletes, moves the records to a Map
 * with a rank per key: those already stored keep their key as rank, later ones count on.
 */
export class Records {
  #dense: (Rec | undefined)[] | null = []
  /** How many records the dense array holds (not `#count`: esbuild's CommonJS output mangles a private name that is also an export's). */
  #held = 0
  #map = new Map<Key, Rec>()
  #ranks = new Map<Key, number>()
  /** The greatest rank given so far. */
  #top = -1
  /** Set when a record came back out of insertion order (Map only); fixed by the next scan. */
  #dirty = false

  get size(): number {
    return this.#dense === null ? this.#map.size : this.#held
  }

  get(key: Key): Rec | undefined {
    const dense = this.#dense
    if (dense === null) return this.#map.get(key)
    return typeof key === 'number' ? dense[key] : undefined
  }

  has(key: Key): boolean {
    return this.get(key) !== undefined
  }

  /** Stores a record under a new key, last in insertion order. */
  add(key: Key, rec: Rec): void {
    const dense = this.#dense
    if (dense !== null) {
      if (typeof key === 'number' && Number.isInteger(key) && key > this.#top && key < dense.length + MAX_GAP) {
        dense[key] = rec
        this.#held++
        this.#top = key
        return
      }
      this.#toMap()
    }
    this.#map.set(key, rec)
    this.#ranks.set(key, ++this.#top)
  }

  /** Replaces the record of a stored key (its place is kept); false when the key is not stored. */
  replace(key: Key, rec: Rec): boolean {
    const dense = this.#dense
    if (dense !== null) {
      if (typeof key !== 'number' || dense[key] === undefined) return false
      dense[key] = rec
      return true
    }
    if (!this.#map.has(key)) return false
    this.#map.set(key, rec)
    return true
  }

  /** Removes a stored key; returns its rank (to put it back in place), undefined when not stored. */
  remove(key: Key): number | undefined {
    const dense = this.#dense
    if (dense !== null) {
      if (typeof key !== 'number' || dense[key] === undefined) return undefined
      dense[key] = undefined
      if (--this.#held < dense.length >> 2 && dense.length >= MIN_SPARSE) this.#toMap()
      return key
    }
    const rank = this.#ranks.get(key)
    if (rank === undefined) return undefined
    this.#map.delete(key)
    this.#ranks.delete(key)
    return rank
  }

  /** Puts back a removed record with its old rank; false when the key is stored. */
  restore(key: Key, rec: Rec, rank: number): boolean {
    const dense = this.#dense
    if (dense !== null && typeof key === 'number' && rank === key && key <= this.#top) {
      if (dense[key] !== undefined) return false
      dense[key] = rec
      this.#held++
      return true
    }
    if (dense !== null) this.#toMap()
    if (this.#map.has(key)) return false
    this.#map.set(key, rec)
    this.#ranks.set(key, rank)
    if (rank < this.#top) this.#dirty = true
    return true
  }

  /** The rank of a stored key, or undefined. */
  rankOf(key: Key): number | undefined {
    if (this.#dense === null) return this.#ranks.get(key)
    return this.get(key) === undefined ? undefined : (key as number)
  }

  /** Sorts stored keys into insertion order, in place. */
  sort(keys: Key[]): void {
    const dense = this.#dense
    if (dense !== null) {
      // Many keys (a range over a few index values): one bit per slot, then read the bits out
      // in order, in place of a comparison sort (which was a sixth of such a select).
      if (keys.length < 64 || keys.length < dense.length >>> 9 || !byBits(keys as number[], dense.length)) keys.sort((a, b) => (a as number) - (b as number))
      return
    }
    // One lookup per key, not two per comparison.
    const ranks = this.#ranks
    const ranked = keys.map((key) => ({ key, rank: ranks.get(key) as number }))
    ranked.sort((a, b) => a.rank - b.rank)
    for (let i = 0; i < keys.length; i++) keys[i] = (ranked[i] as { key: Key }).key
  }

  /** Whether stored keys are in insertion order. */
  ordered(keys: readonly Key[]): boolean {
    const ranks = this.#dense === null ? this.#ranks : null
    let last = -Infinity
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as Key
      const rank = ranks === null ? (key as number) : (ranks.get(key) as number)
      if (rank < last) return false
      last = rank
    }
    return true
  }

  /** The stored records matching `test`, at most `limit`, in insertion order. */
  filter(test: (rec: Rec) => boolean, limit: number): Rec[] {
    const out: Rec[] = []
    if (limit <= 0) return out
    const dense = this.#dense
    if (dense === null) {
      for (const rec of this.values()) if (test(rec) && out.push(rec) >= limit) break
      return out
    }
    for (let i = 0; i < dense.length; i++) {
      const rec = dense[i]
      if (rec !== undefined && test(rec) && out.push(rec) >= limit) break
    }
    return out
  }

  /**
   * Every record in insertion order, as a new array: what spreading {@link values} gives, without
   * a generator step per record (a shared database's snapshot lists 100k records: a generator
   * spread ran ~5 ms of it, in a function called too rarely to be optimized). `into`: an array to
   * fill instead (its length set to the count): a new one of 100k records is a large object on
   * fresh pages, a page fault per 4 KiB (~5 ms here), where a kept one is ~0.3 ms.
   */
  list(into?: Rec[]): Rec[] {
    const dense = this.#dense
    if (dense === null) {
      if (into === undefined) return [...this.values()]
      let n = 0
      for (const rec of this.values()) into[n++] = rec
      into.length = n
      return into
    }
    const out = into ?? new Array<Rec>(this.#held)
    let n = 0
    for (let i = 0; i < dense.length; i++) {
      const rec = dense[i]
      if (rec !== undefined) out[n++] = rec
    }
    out.length = n
    return out
  }

  /** Every record in insertion order; the iterator sees later changes, as a Map's does. */
  values(): IterableIterator<Rec> {
    if (this.#dense !== null) return this.#denseValues(this.#dense)
    if (this.#dirty) this.#restoreOrder()
    return this.#map.values()
  }

  *#denseValues(dense: (Rec | undefined)[]): IterableIterator<Rec> {
    let i = 0
    for (; this.#dense === dense && i < dense.length; i++) {
      const rec = dense[i]
      if (rec !== undefined) yield rec
    }
    if (this.#dense === dense) return
    // Moved to a Map meanwhile: go on from the first rank not given yet.
    for (const [key, rec] of this.#map) if ((this.#ranks.get(key) as number) >= i) yield rec
  }

  clear(): void {
    this.#dense = []
    this.#held = 0
    this.#map = new Map()
    this.#ranks = new Map()
    this.#top = -1
    this.#dirty = false
  }

  #toMap(): void {
    const dense = this.#dense as (Rec | undefined)[]
    this.#dense = null
    for (let key = 0; key < dense.length; key++) {
      const rec = dense[key]
      if (rec === undefined) continue
      this.#map.set(key, rec)
      this.#ranks.set(key, key)
    }
  }

  #restoreOrder(): void {
    const keys = [...this.#map.keys()]
    this.sort(keys)
    const recs = keys.map((key) => this.#map.get(key) as Rec)
    this.#map.clear()
    for (let i = 0; i < keys.length; i++) this.#map.set(keys[i] as Key, recs[i] as Rec)
    this.#dirty = false
  }
}

/**
 * Sorts distinct integer keys in `[0, length)` in place through a bitmap of `length` bits; false
 * (keys untouched) when a key repeats.
 */
function byBits(keys: number[], length: number): boolean {
  const words = new Int32Array((length >>> 5) + 1)
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as number
    const bit = 1 << (key & 31)
    if ((words[key >>> 5] as number) & bit) return false
    words[key >>> 5] = (words[key >>> 5] as number) | bit
  }
  let n = 0
  for (let w = 0; w < words.length; w++) {
    let bits = words[w] as number
    while (bits !== 0) {
      const low = bits & -bits
      keys[n++] = (w << 5) + 31 - Math.clz32(low)
      bits ^= low
    }
  }
  return true
}
