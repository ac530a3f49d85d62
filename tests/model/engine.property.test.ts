/**
 * Property-based tests of the engine against a reference model (tests/model/reference.ts).
 *
 * Random operation sequences (inserts, list inserts, upserts, updates with increments, deletes,
 * selects, counts, aggregations, gets, index creation and removal, transactions with nested
 * savepoints) run in lock-step on several tables, each beside its own model. See README.md.
 *
 * Reproduce a failure with the seed and path fast-check prints:
 *   FC_SEED=123 FC_PATH="4:2:1" npx vitest run tests/model
 * and change the run count with FC_RUNS=1000.
 */
import fc from 'fast-check'
import { describe, it } from 'vitest'
import { initialIndexesArb, opsArb } from './ops'
import { REGRESSIONS } from './regressions'
import { runSequence, type VariantSpec } from './runner'

function params(numRuns: number): fc.Parameters<unknown> {
  const seed = process.env.FC_SEED
  const path = process.env.FC_PATH
  return {
    numRuns: Number(process.env.FC_RUNS ?? numRuns),
    ...(seed === undefined ? {} : { seed: Number(seed) }),
    ...(path === undefined ? {} : { path }),
  }
}

/** The unindexed table comes first: it is the "full scan" every indexed table is compared with. */
const LOCKSTEP: VariantSpec[] = [
  { name: 'no index', indexType: 'none', unique: false },
  { name: 'hash', indexType: 'hash', unique: false },
  { name: 'sorted', indexType: 'sorted', unique: false },
  { name: 'mixed', indexType: 'fromOp', unique: false },
]

/** Unique indexes change what may be stored, so these tables are compared with a unique-aware model. */
const UNIQUE: VariantSpec[] = [
  { name: 'hash unique', indexType: 'hash', unique: true },
  { name: 'sorted unique', indexType: 'sorted', unique: true },
]

describe.each([{ copy: true }, { copy: false }])('the engine against the model, select copy: $copy', ({ copy }) => {
  it('gives the same results as the model, with no index, hash, sorted or mixed indexes alike', () => {
    fc.assert(
      fc.property(initialIndexesArb(false), opsArb({ missing: 1, unique: false }), (initial, ops) => {
        runSequence(LOCKSTEP, initial, ops, { copy })
      }),
      params(200),
    )
  })

  it('refuses exactly what the model refuses under unique indexes, and nothing else', () => {
    fc.assert(
      fc.property(initialIndexesArb(true), opsArb({ missing: 3, unique: true }), (initial, ops) => {
        runSequence(UNIQUE, initial, ops, { copy })
      }),
      params(150),
    )
  })
})

/** A shared database and a second one attached to it (same thread): operations alternate between them. */
const SHARED: VariantSpec[] = [
  { name: 'no index', indexType: 'none', unique: false },
  { name: 'shared, mixed indexes', indexType: 'fromOp', unique: false, shared: 'alternate' },
]
/** The same, kept for the regression that once needed it. */
const SHARED_ANY_HANDLE: VariantSpec[] = [
  { name: 'no index', indexType: 'none', unique: false },
  { name: 'shared, mixed indexes', indexType: 'fromOp', unique: false, shared: 'alternate' },
]

describe('the engine against the model, shared database', () => {
  it('keeps a shared database and an attached one equal to the model, whichever of them writes', () => {
    fc.assert(
      fc.property(initialIndexesArb(false), opsArb({ missing: 1, unique: false }), fc.boolean(), (initial, ops, copy) => {
        runSequence(SHARED, initial, ops, { copy })
      }),
      params(150),
    )
  })
})

describe('minimal sequences that once failed', () => {
  const VARIANTS = { lockstep: LOCKSTEP, unique: UNIQUE, shared: SHARED, sharedAnyHandle: SHARED_ANY_HANDLE }
  it.each(REGRESSIONS)('$name', ({ variants, initial, ops }) => {
    runSequence(VARIANTS[variants], initial, ops, { copy: false })
    runSequence(VARIANTS[variants], initial, ops, { copy: true })
  })
})
