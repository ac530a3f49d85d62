// The core suites again, on a shared database (STYLE.md: one suite, every implementation).
//
// Every `new Database(options)` made by the imported suites becomes a shared database *attached*
// in this thread to a second one (its "creator"), so each test runs on a replica that joined from
// the snapshot and appends every commit to the shared log. After each test, the creator catches up
// from that log and must read exactly what the test's database reads (tables, records, indexes,
// schemas): the change codec, the replay and the catalog ops are checked on every suite's final
// state. The original files still run on local databases.
//
// A test about local-only behaviour opts out by asking for it: `new Database({ shared: false })`.
/// <reference types="vite/client" />
import { afterEach, expect, vi } from 'vitest'
import type { Database } from 'dictdb'
import { snapshot } from '../support/helpers'

interface Pair {
  creator: Database
  db: Database
  /** Made inside a test or its beforeEach (closed after it), not in a beforeAll or at load. */
  inTest: boolean
  /** Committed to since it was last compared. */
  dirty: boolean
}

const made = vi.hoisted(() => ({ pairs: [] as Pair[] }))

vi.mock('../../src/database', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../../src/database')>()
  const Local = mod.Database
  // `new Database(options)` gives an attached replica; statics, `instanceof` and the prototype are
  // the real class's, so databases made otherwise (load, fromState, attach) are Databases too.
  const SharedDatabase = new Proxy(Local, {
    construct(target, [options]: [ConstructorParameters<typeof Local>[0]?]) {
      // Not for us: `shared: false`, and bad options (their errors are the local ones).
      if (options !== undefined && (typeof options !== 'object' || options === null || ('shared' in options && options.shared !== true))) {
        return new target(options)
      }
      const creator = new target({ ...options, shared: true })
      const db = target.attach(creator.handle(), options?.logger === undefined ? undefined : { logger: options.logger })
      const pair: Pair = { creator, db, inTest: expect.getState().currentTestName !== undefined, dirty: true }
      db.onCommit(() => void (pair.dirty = true))
      made.pairs.push(pair)
      return db
    },
  })
  return { ...mod, Database: SharedDatabase }
})

afterEach(() => {
  const pairs = made.pairs
  made.pairs = pairs.filter((p) => !p.inTest)
  for (const pair of pairs) {
    const { creator, db, inTest } = pair
    if (!pair.dirty && !inTest) continue
    pair.dirty = false
    let expected: unknown
    try {
      expected = snapshot(db)
    } catch {
      // Closed by the test (or unusable by design): nothing to compare.
      if (inTest) creator.close()
      continue
    }
    expect(snapshot(creator), 'the other replica, caught up from the shared log').toEqual(expected)
    if (inTest) {
      db.close()
      creator.close()
    }
  }
})

import.meta.glob(
  [
    '../*.test.ts',
    '../table/**/*.test.ts',
    '../query/**/*.test.ts',
    '../helpers/**/*.test.ts',
    '../scenarios/**/*.test.ts',
    '../persist/**/*.test.ts',
    // Not about a database's behaviour: the docs' examples, the built package, the types. (The
    // property tests of tests/model/ have their own shared and attached variants.)
    '!../docs.test.ts',
    '!../package.test.ts',
    '!../types.test.ts',
    // Damaged files (only loads, hundreds of them) and killed processes (the databases live in
    // the child processes): nothing shared to check here, and seconds each.
    '!../persist/corrupt.test.ts',
    '!../persist/crash.test.ts',
  ],
  { eager: true },
)
