/**
 * Shrunk counterexamples found by the properties, kept as fixed sequences so they run every
 * time, whatever the seed.
 */
import type { InitialIndex, Op } from './ops'

export interface Regression {
  name: string
  variants: 'lockstep' | 'unique' | 'shared' | 'sharedAnyHandle'
  initial: InitialIndex[]
  ops: Op[]
}

export const REGRESSIONS: Regression[] = [
  {
    // Shared database, two handles. A transaction on the first inserts id 1 and rolls back. The
    // counter once moved to 2 on that handle only (a rolled-back transaction never reaches the
    // shared log), so the two handles disagreed. Now a rollback gives the key back everywhere.
    name: 'after a rolled-back insert, every handle of a shared database hands out the same next key',
    variants: 'sharedAnyHandle',
    initial: [],
    ops: [
      { kind: 'txn', body: [{ kind: 'insert', record: { id: 1 } }], end: 'throw' },
      { kind: 'insert', record: { a: 0 } },
    ],
  },
]
