import { afterEach, describe, expect, it, vi } from 'vitest'
import { Database, DuplicateKeyError, InvalidArgumentError, TableNotFoundError, increment } from '../src/index'
import { accountsAndLog as setup } from './support/accounts'
import { expectDictDBError, ids, snapshot, thrown } from './support/helpers'

afterEach(() => {
  vi.restoreAllMocks()
})

describe('db.transaction', () => {
  it('commits every change across tables together and returns the body result', () => {
    const { db, accounts, log } = setup()
    const result = db.transaction(() => {
      accounts.update({ balance: increment(-30) }, { id: 'alice' })
      accounts.update({ balance: increment(30) }, { id: 'bob' })
      log.insert({ what: 'transfer', amount: 30 })
      return 'done'
    })
    expect(result).toBe('done')
    expect(accounts.select({ columns: ['balance'] })).toEqual([{ balance: 70 }, { balance: 50 }])
    expect(log.count()).toBe(1)
  })

  it('rolls back every change across tables when the body throws, and rethrows the original error', () => {
    const { db, accounts, log } = setup()
    const before = snapshot(db)
    const boom = new Error('boom')
    const error = thrown(() =>
      db.transaction(() => {
        accounts.update({ balance: increment(-30) }, { id: 'alice' })
        log.insert({ what: 'transfer' })
        accounts.insert({ id: 'carol', owner: 'Carol', balance: 0 })
        accounts.delete({ id: 'bob' })
        throw boom
      }),
    )
    expect(error).toBe(boom)
    expect(snapshot(db)).toEqual(before)
  })

  it('rolls back when a write inside fails, and rethrows that error', () => {
    const { db, accounts, log } = setup()
    const before = snapshot(db)
    const error = thrown(() =>
      db.transaction(() => {
        log.insert({ what: 'attempt' })
        accounts.update({ balance: 0 }, { id: 'alice' })
        accounts.insert({ owner: 'Bob' })
      }),
    )
    expect(error).toBeInstanceOf(DuplicateKeyError)
    expect(snapshot(db)).toEqual(before)
  })

  it('a non-Error thrown value is rethrown as is', () => {
    const { db } = setup()
    expect(thrown(() => db.transaction(() => { throw 'plain string' }))).toBe('plain string')
  })

  it('reads inside the body see the transaction’s own writes', () => {
    const { db, accounts, log } = setup()
    db.transaction(() => {
      accounts.update({ balance: 1 }, { id: 'alice' })
      log.insert({ id: 'x', n: 1 })
      expect(accounts.get('alice')?.balance).toBe(1)
      expect(accounts.select({ where: { owner: 'Alice' } })[0]?.balance).toBe(1)
      expect(log.count()).toBe(1)
      expect(log.get('x')).toEqual({ id: 'x', n: 1 })
      accounts.delete({ id: 'bob' })
      expect(accounts.select({ where: { owner: 'Bob' } })).toEqual([])
      expect(accounts.aggregate({})).toEqual({})
    })
  })

  it('after a rollback, unique index values taken inside are free again', () => {
    const { db, accounts } = setup()
    expect(() =>
      db.transaction(() => {
        accounts.insert({ id: 'carol', owner: 'Carol' })
        throw new Error('abort')
      }),
    ).toThrow('abort')
    expect(accounts.insert({ id: 'carol2', owner: 'Carol' })).toBe('carol2')
  })

  it('an empty transaction returns the result and changes nothing', () => {
    const { db } = setup()
    const before = snapshot(db)
    expect(db.transaction(() => 42)).toBe(42)
    expect(snapshot(db)).toEqual(before)
  })

  it('the tables option locks the named tables and runs the body', () => {
    const { db, accounts, log } = setup()
    db.transaction(
      () => {
        log.insert({ n: 1 })
        accounts.update({ balance: 0 })
      },
      { tables: ['log', 'accounts'] },
    )
    expect(log.count()).toBe(1)
  })

  it('the tables option with an unknown table throws TableNotFoundError without running the body', () => {
    const { db } = setup()
    const body = vi.fn()
    expectDictDBError(() => db.transaction(body, { tables: ['accounts', 'ghosts'] }), 'TableNotFoundError', /ghosts/)
    expect(body).not.toHaveBeenCalled()
  })
})

describe('async bodies', () => {
  it('an async function body is refused with a clear error and not run', () => {
    const { db, log } = setup()
    let ran = false
    const error = expectDictDBError(
      () =>
        // @ts-expect-error: an async fn is refused at compile time too
        db.transaction(async () => {
          ran = true
          log.insert({ n: 1 })
        }),
      'InvalidStateError',
      /synchronous|async/,
    )
    expect(error.message).toMatch(/lock\.write/)
    expect(ran).toBe(false)
    expect(log.count()).toBe(0)
  })

  it('a body that returns a promise is refused and its changes rolled back', () => {
    const { db, log } = setup()
    expectDictDBError(
      () =>
        // @ts-expect-error: a promise-returning fn is refused at compile time too
        db.transaction(() => {
          log.insert({ n: 1 })
          return Promise.resolve(1)
        }),
      'InvalidStateError',
      /promise/,
    )
    expect(log.count()).toBe(0)
  })
})

describe('nested transactions', () => {
  it('a nested transaction that commits is part of the outer one', () => {
    const { db, log } = setup()
    db.transaction(() => {
      log.insert({ n: 1 })
      db.transaction(() => log.insert({ n: 2 }))
    })
    expect(log.count()).toBe(2)
  })

  it('an inner failure caught by the outer body rolls back only the inner part', () => {
    const { db, accounts, log } = setup()
    db.transaction(() => {
      log.insert({ n: 'outer before' })
      try {
        db.transaction(() => {
          log.insert({ n: 'inner' })
          accounts.update({ balance: 0 }, { id: 'alice' })
          throw new Error('inner fails')
        })
      } catch {
        // handled: the outer transaction goes on
      }
      log.insert({ n: 'outer after' })
    })
    expect(log.select({ columns: ['n'] })).toEqual([{ n: 'outer before' }, { n: 'outer after' }])
    expect(accounts.get('alice')?.balance).toBe(100)
  })

  it('the inner error is rethrown to the outer body unchanged', () => {
    const { db } = setup()
    const inner = new Error('inner')
    db.transaction(() => {
      expect(thrown(() => db.transaction(() => { throw inner }))).toBe(inner)
    })
  })

  it('an outer failure rolls back a committed inner transaction too', () => {
    const { db, log } = setup()
    expect(() =>
      db.transaction(() => {
        db.transaction(() => log.insert({ n: 'inner' }))
        throw new Error('outer fails')
      }),
    ).toThrow('outer fails')
    expect(log.count()).toBe(0)
  })

  it('savepoints nest more than one level deep', () => {
    const { db, log } = setup()
    db.transaction(() => {
      log.insert({ n: 1 })
      db.transaction(() => {
        log.insert({ n: 2 })
        try {
          db.transaction(() => {
            log.insert({ n: 3 })
            throw new Error('deepest')
          })
        } catch {
          // ignore
        }
      })
    })
    expect(log.select({ columns: ['n'] })).toEqual([{ n: 1 }, { n: 2 }])
  })
})

describe('DDL inside transactions', () => {
  it('createTable inside a rolled-back transaction is undone', () => {
    const { db } = setup()
    expect(() =>
      db.transaction(() => {
        const t = db.createTable('temp')
        t.insert({ a: 1 })
        throw new Error('abort')
      }),
    ).toThrow('abort')
    expect(db.hasTable('temp')).toBe(false)
    expect(db.listTables()).toEqual(['accounts', 'log'])
    expect(db.createTable('temp').count()).toBe(0)
  })

  it('dropTable inside a rolled-back transaction is undone, records and indexes back, same object usable', () => {
    const { db, accounts } = setup()
    const before = snapshot(db)
    expect(() =>
      db.transaction(() => {
        db.dropTable('accounts')
        expect(db.hasTable('accounts')).toBe(false)
        throw new Error('abort')
      }),
    ).toThrow('abort')
    expect(snapshot(db)).toEqual(before)
    expect(db.getTable('accounts')).toBe(accounts)
    expect(ids(accounts.select({ where: { owner: 'Bob' } }))).toEqual(['bob'])
  })

  it('dropTable then createTable of the same name, rolled back, restores the original table', () => {
    const { db, accounts } = setup()
    expect(() =>
      db.transaction(() => {
        db.dropTable('accounts')
        db.createTable('accounts').insert({ other: true })
        throw new Error('abort')
      }),
    ).toThrow('abort')
    expect(db.getTable('accounts')).toBe(accounts)
    expect(accounts.count()).toBe(2)
  })

  it('createIndex inside a rolled-back transaction is undone', () => {
    const { db, log } = setup()
    log.insert({ kind: 'a' })
    expect(() =>
      db.transaction(() => {
        log.createIndex('kind', { type: 'sorted' })
        throw new Error('abort')
      }),
    ).toThrow('abort')
    expect(log.hasIndex('kind')).toBe(false)
    log.createIndex('kind', { type: 'hash' })
    expect(ids(log.select({ where: { kind: 'a' } }))).toEqual([1])
  })

  it('dropIndex inside a rolled-back transaction is undone', () => {
    const { db, accounts } = setup()
    expect(() =>
      db.transaction(() => {
        accounts.dropIndex('owner')
        throw new Error('abort')
      }),
    ).toThrow('abort')
    expect(accounts.hasIndex('owner')).toBe(true)
    expect(thrown(() => accounts.insert({ owner: 'Alice' }))).toBeInstanceOf(DuplicateKeyError)
  })

  it('DDL inside a committed transaction stays', () => {
    const { db, log } = setup()
    db.transaction(() => {
      db.createTable('temp').insert({ a: 1 })
      log.createIndex('a')
    })
    expect(db.getTable('temp').count()).toBe(1)
    expect(log.hasIndex('a')).toBe(true)
  })
})

describe('transaction arguments', () => {
  it.each([
    ['a body that is not a function', (db: Database) => db.transaction('x' as never), /`fn`/, /function/],
    ['a misspelled option', (db: Database) => db.transaction(() => 1, { retry: 2 } as never), /`retry`/, /retries/],
    ['negative retries', (db: Database) => db.transaction(() => 1, { retries: -1 }), /`retries`/, /-1/],
    ['fractional retries', (db: Database) => db.transaction(() => 1, { retries: 1.5 }), /`retries`/, /1\.5/],
    ['retries as a string', (db: Database) => db.transaction(() => 1, { retries: '3' as never }), /`retries`/, /"3"/],
    ['tables not a list', (db: Database) => db.transaction(() => 1, { tables: 'log' as never }), /`tables`/, /"log"/],
    ['options not an object', (db: Database) => db.transaction(() => 1, 5 as never), /options/, /5/],
  ])('%s is refused with InvalidArgumentError and nothing runs', (_, call, ...patterns) => {
    const { db } = setup()
    const before = snapshot(db)
    const error = expectDictDBError(() => call(db), 'InvalidArgumentError', ...patterns)
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(snapshot(db)).toEqual(before)
  })

  it('a table named in tables that is not a string is refused', () => {
    const { db } = setup()
    expect(thrown(() => db.transaction(() => 1, { tables: [5 as never] }))).toBeInstanceOf(InvalidArgumentError)
  })

  it('TableNotFoundError for tables is a DictDBError with the table', () => {
    const { db } = setup()
    const error = thrown(() => db.transaction(() => 1, { tables: ['nope'] })) as TableNotFoundError
    expect(error).toBeInstanceOf(TableNotFoundError)
    expect(error.table).toBe('nope')
  })
})
