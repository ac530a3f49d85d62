import { describe, expectTypeOf, it } from 'vitest'
import type { Database } from '../../src/index'
import type { ConnectedDatabase } from '../../src/postgres/index'

// Type tests (see table.test-d.ts): one return type per method.

describe('close()', () => {
  it('of a Database returns nothing', () => {
    expectTypeOf<Database['close']>().returns.toEqualTypeOf<void>()
  })

  it('of a ConnectedDatabase returns a promise, and a ConnectedDatabase is a Database', () => {
    expectTypeOf<ConnectedDatabase['close']>().returns.toEqualTypeOf<Promise<void>>()
    expectTypeOf<ConnectedDatabase>().toMatchTypeOf<Database>()
  })
})
