// The core benchmark's data set, shared by run.mjs and alloc.mjs: 100k records
// { id, name, age, city, score } from a seeded PRNG, and the random key sequence of get/update.

import { prng } from './harness.mjs'

export const SEED = 20240611
export const CITY_COUNT = 50
export const AGE_MIN = 18
export const AGE_MAX = 80
export const CITIES = Array.from({ length: CITY_COUNT }, (_, i) => `city-${String(i).padStart(2, '0')}`)
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'to', 'vi', 'ya', 'zo', 'be', 'di', 'fu', 'ga', 'hi', 'jo']

/** `n` records with ids 1..n, the same on every run. */
export function makeRecords(n) {
  const rnd = prng(SEED)
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1))
  const word = (k) => {
    let s = ''
    for (let j = 0; j < k; j++) s += SYLLABLES[int(0, SYLLABLES.length - 1)]
    return s[0].toUpperCase() + s.slice(1)
  }
  const rows = new Array(n)
  for (let i = 0; i < n; i++) {
    rows[i] = {
      id: i + 1,
      name: `${word(int(2, 3))} ${word(int(2, 4))}`,
      age: int(AGE_MIN, AGE_MAX),
      city: CITIES[int(0, CITY_COUNT - 1)],
      score: int(0, 10_000),
    }
  }
  return rows
}

/** 2^bits uniformly random ids in 1..n (cache-unfriendly, like real traffic); the same on every run. */
export function randomKeys(n, bits) {
  const rnd = prng(SEED ^ 0x5bd1e995)
  const k = new Array(1 << bits)
  for (let i = 0; i < k.length; i++) k[i] = 1 + Math.floor(rnd() * n)
  return k
}
