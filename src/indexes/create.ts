import { HashIndex } from './hash'
import { SortedIndex } from './sorted'
import type { Index, IndexType } from './types'

/** Makes an empty index of the given kind. */
export function createIndex(field: string, type: IndexType, unique: boolean): Index {
  return type === 'hash' ? new HashIndex(field, unique) : new SortedIndex(field, unique)
}
