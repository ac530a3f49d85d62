import { afterEach, describe, expect, it, vi } from 'vitest'
import { DeadlockError } from '../src/index'
import { accountsAndLog as setup } from './support/accounts'
import { expectDictDBError, thrown } from './support/helpers'

// db.transaction's deadlock retries (src/txn/retry.ts): how often, how long between, what is rethrown.

afterEach(() => {
  vi.restoreAllMocks()
})

describe('deadlock retries', () => {
  it('a DeadlockError thrown in the body is retried up to `retries` times, then rethrown', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0)
    const { db } = setup()
    const body = vi.fn(() => {
      throw new DeadlockError('lost a deadlock')
    })
    expectDictDBError(() => db.transaction(body, { retries: 2 }), 'DeadlockError', /lost a deadlock/)
    expect(body).toHaveBeenCalledTimes(3)
  })

  it('retries defaults to 3', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0)
    const { db } = setup()
    const body = vi.fn(() => {
      throw new DeadlockError('lost')
    })
    expect(thrown(() => db.transaction(body))).toBeInstanceOf(DeadlockError)
    expect(body).toHaveBeenCalledTimes(4)
  })

  it('retries 0 runs the body once', () => {
    const { db } = setup()
    const body = vi.fn(() => {
      throw new DeadlockError('lost')
    })
    expect(thrown(() => db.transaction(body, { retries: 0 }))).toBeInstanceOf(DeadlockError)
    expect(body).toHaveBeenCalledTimes(1)
  })

  it('a retried body starts from a clean state and its successful run commits once', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0)
    const { db, log } = setup()
    let attempts = 0
    const result = db.transaction(() => {
      attempts++
      log.insert({ attempt: attempts })
      expect(log.count()).toBe(1)
      if (attempts < 3) throw new DeadlockError('lost')
      return attempts
    })
    expect(result).toBe(3)
    expect(log.select({ columns: ['attempt'] })).toEqual([{ attempt: 3 }])
  })

  it('other errors are not retried', () => {
    const { db } = setup()
    const body = vi.fn(() => {
      throw new Error('not a deadlock')
    })
    expect(() => db.transaction(body, { retries: 5 })).toThrow('not a deadlock')
    expect(body).toHaveBeenCalledTimes(1)
  })

  it('a DeadlockError from a nested transaction retries the whole outer transaction', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0)
    const { db, log } = setup()
    let outer = 0
    db.transaction(() => {
      outer++
      log.insert({ outer })
      db.transaction(() => {
        if (outer < 2) throw new DeadlockError('lost')
      })
    })
    expect(outer).toBe(2)
    expect(log.select({ columns: ['outer'] })).toEqual([{ outer: 2 }])
  })

  it('a re-run holds, before its body runs, the locks of every table its lost attempt locked and of the one it lost on', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0)
    const { db, accounts, log } = setup()
    const other = db.createTable('other')
    const lost = db.createTable('lost')
    const heldAtStart: boolean[][] = []
    let runs = 0
    db.transaction(() => {
      heldAtStart.push([accounts, log, other, lost].map((t) => t.lock.locked))
      if (++runs === 1) {
        accounts.count()
        log.insert({ n: 1 })
        throw new DeadlockError('lost', { table: 'lost' })
      }
    })
    expect(heldAtStart).toEqual([
      [false, false, false, false],
      [true, true, false, true],
    ])
  })

  it('a re-run does not fail when a table its lost attempt locked was dropped meanwhile', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const { db, log } = setup()
    const temp = db.createTable('temp')
    // The backoff sleeps with Atomics.wait: the table goes during the sleep.
    vi.spyOn(Atomics, 'wait').mockImplementation(() => (db.dropTable('temp'), 'timed-out'))
    let runs = 0
    const result = db.transaction(() => {
      if (++runs === 1) {
        temp.count()
        throw new DeadlockError('lost', { table: 'temp' })
      }
      return log.count()
    }, { retries: 1 })
    expect(result).toBe(0)
    expect(db.hasTable('temp')).toBe(false)
  })

  it('retries back off for longer each time', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const { db } = setup()
    // The backoff sleeps with Atomics.wait: record the delays it asks for instead of timing them.
    const sleeps: number[] = []
    vi.spyOn(Atomics, 'wait').mockImplementation((_array, _index, _value, ms) => (sleeps.push(ms ?? Infinity), 'timed-out'))
    expect(() =>
      db.transaction(
        () => {
          throw new DeadlockError('lost')
        },
        { retries: 2 },
      ),
    ).toThrow(DeadlockError)
    expect(sleeps).toEqual([50, 100]) // half (the jitter) of 100 ms, then of 200 ms
  })
})
