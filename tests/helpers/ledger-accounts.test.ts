import { describe, expect, it } from 'vitest'
import { Database, DuplicateKeyError, InsufficientFundsError, Ledger, RecordNotFoundError } from '../../src/index'
import { expectDictDBError, snapshot } from '../support/helpers'

function setup() {
  const db = new Database()
  const ledger = db.ledger({ currency: 'EUR', scale: 2, now: () => new Date('2026-05-01T10:00:00Z') })
  ledger.openAccount('alice')
  ledger.openAccount('bob')
  return { db, ledger }
}

describe('opening a ledger', () => {
  it('keeps its currency and scale, and opens with the stored ones when none are given', () => {
    const db = new Database()
    const ledger = db.ledger({ currency: 'EUR', scale: 2 })
    expect(ledger).toBeInstanceOf(Ledger)
    expect([ledger.name, ledger.currency, ledger.scale]).toEqual(['main', 'EUR', 2])
    expect([db.ledger().currency, db.ledger().scale]).toEqual(['EUR', 2])
  })

  it('refuses other settings for an existing ledger', () => {
    const db = new Database()
    db.ledger({ currency: 'EUR', scale: 2 })
    expectDictDBError(() => db.ledger({ currency: 'USD' }), 'InvalidArgumentError', /already exists with currency 'EUR'/)
    expectDictDBError(() => db.ledger({ scale: 3 }), 'InvalidArgumentError', /scale 2/)
  })

  it('keeps named ledgers apart, each in its own system tables', () => {
    const db = new Database()
    const eur = db.ledger({ currency: 'EUR', scale: 2 })
    const saka = db.ledger({ name: 'saka', currency: 'SAKA', scale: 0 })
    eur.openAccount('u1')
    saka.openAccount('u1')
    saka.deposit('u1', '15')
    expect(saka.balance('u1')).toBe(15n)
    expect(eur.balance('u1')).toBe(0n)
    expect(db.listTables()).toEqual(expect.arrayContaining(['_ledgers', '_ledger_main_accounts', '_ledger_saka_accounts', '_ledger_saka_entries']))
  })

  it('checks its options', () => {
    const db = new Database()
    expectDictDBError(() => db.ledger({ scale: 2.5 }), 'InvalidArgumentError', /scale/)
    expectDictDBError(() => db.ledger({ currency: '' }), 'InvalidArgumentError', /currency/)
    expectDictDBError(() => db.ledger({ name: 'a b' }), 'InvalidArgumentError', /name/)
    expectDictDBError(() => db.ledger({ curency: 'EUR' } as never), 'InvalidArgumentError', /Did you mean `currency`/)
  })
})

describe('accounts', () => {
  it('openAccount opens at zero; again is DuplicateKeyError', () => {
    const { ledger } = setup()
    expect(ledger.balance('alice')).toBe(0n)
    expect(ledger.hasAccount('alice')).toBe(true)
    expect(ledger.hasAccount('carol')).toBe(false)
    const error = expectDictDBError(() => ledger.openAccount('alice'), 'DuplicateKeyError', /`alice` already exists/)
    expect(error).toBeInstanceOf(DuplicateKeyError)
  })

  it('getOrCreateAccount returns the existing account or opens it, once', () => {
    const { ledger } = setup()
    ledger.deposit('alice', 500)
    expect(ledger.getOrCreateAccount('alice')).toMatchObject({ created: false, account: { id: 'alice', balance: 500n } })
    expect(ledger.getOrCreateAccount('carol')).toMatchObject({ created: true, account: { id: 'carol', balance: 0n, allowNegative: false } })
    expect(ledger.getOrCreateAccount('carol').created).toBe(false)
  })

  it("refuses account ids that are not strings or start with '@' (the ledger's own sides)", () => {
    const { ledger } = setup()
    expectDictDBError(() => ledger.openAccount('@external'), 'InvalidArgumentError', /not starting with '@'/)
    expectDictDBError(() => ledger.openAccount(12 as never), 'InvalidArgumentError', /account id/)
    expectDictDBError(() => ledger.openAccount('x', { allowNegativ: true } as never), 'InvalidArgumentError', /Did you mean `allowNegative`/)
  })

  it('balance of an unknown account is RecordNotFoundError', () => {
    const { ledger } = setup()
    expect(expectDictDBError(() => ledger.balance('ghost'), 'RecordNotFoundError', /No account `ghost`/).key).toBe('ghost')
  })
})

describe('deposits, withdrawals, transfers', () => {
  it('takes amounts as minor units (number or bigint) or decimal strings, and returns entry numbers', () => {
    const { ledger } = setup()
    expect(ledger.deposit('alice', 1050)).toBe(1)
    expect(ledger.deposit('alice', 1050n)).toBe(2)
    expect(ledger.deposit('alice', '10.50')).toBe(3)
    expect(ledger.balance('alice')).toBe(3150n)
    expect(ledger.format(ledger.balance('alice'))).toBe('31.50')
    expect(ledger.parse('0.05')).toBe(5n)
  })

  it('withdraw takes money out; beyond the balance it is InsufficientFundsError and changes nothing', () => {
    const { db, ledger } = setup()
    ledger.deposit('alice', '20.00')
    ledger.withdraw('alice', '5.00')
    expect(ledger.balance('alice')).toBe(1500n)
    const before = snapshot(db)
    const error = expectDictDBError(() => ledger.withdraw('alice', '15.01'), 'InsufficientFundsError', /balance 15\.00 EUR, 15\.01 EUR needed/)
    expect(error).toBeInstanceOf(InsufficientFundsError)
    expect(error.key).toBe('alice')
    expect(snapshot(db)).toEqual(before)
  })

  it('an account opened with allowNegative may go below zero', () => {
    const { ledger } = setup()
    ledger.openAccount('house', { allowNegative: true })
    ledger.transfer('house', 'alice', '100.00')
    expect(ledger.balance('house')).toBe(-10000n)
    expect(ledger.audit().ok).toBe(true)
  })

  it('transfer moves money between two accounts; the same account twice is refused', () => {
    const { ledger } = setup()
    ledger.deposit('alice', '30.00')
    ledger.transfer('alice', 'bob', '12.34')
    expect([ledger.balance('alice'), ledger.balance('bob')]).toEqual([1766n, 1234n])
    expectDictDBError(() => ledger.transfer('alice', 'alice', 1), 'InvalidArgumentError', /two different accounts/)
    expectDictDBError(() => ledger.transfer('alice', 'bob', '17.67'), 'InsufficientFundsError')
  })

  it.each([
    ['a fraction of a minor unit', () => '10.001', /fraction of a minor unit/],
    ['a float', () => 10.5, /fraction of a minor unit/],
    ['a negative amount', () => -100, /negative/],
    ['a zero amount', () => 0, /more than zero/],
    ['a malformed string', () => '10,50', /decimal string/],
  ])('refuses %s with a clear error and changes nothing', (_, amount, message) => {
    const { db, ledger } = setup()
    ledger.deposit('alice', 100)
    const before = snapshot(db)
    expectDictDBError(() => ledger.deposit('alice', amount() as never), 'InvalidArgumentError', message)
    expectDictDBError(() => ledger.transfer('alice', 'bob', amount() as never), 'InvalidArgumentError', message)
    expect(snapshot(db)).toEqual(before)
  })

  it('money moved to an unknown account is RecordNotFoundError, and nothing changes', () => {
    const { db, ledger } = setup()
    ledger.deposit('alice', 100)
    const before = snapshot(db)
    const error = expectDictDBError(() => ledger.transfer('alice', 'ghost', 50), 'RecordNotFoundError', /`ghost`/)
    expect(error).toBeInstanceOf(RecordNotFoundError)
    expectDictDBError(() => ledger.deposit('ghost', 50), 'RecordNotFoundError')
    expect(snapshot(db)).toEqual(before)
  })

  it('operations inside a transaction that rolls back are undone with it', () => {
    const { db, ledger } = setup()
    ledger.deposit('alice', 100)
    expect(() =>
      db.transaction(() => {
        ledger.transfer('alice', 'bob', 60)
        ledger.transfer('alice', 'bob', 60)
      }),
    ).toThrow(InsufficientFundsError)
    expect([ledger.balance('alice'), ledger.balance('bob')]).toEqual([100n, 0n])
  })
})

describe('idempotency keys', () => {
  it('the same key twice applies once and returns the first result', () => {
    const { ledger } = setup()
    const first = ledger.deposit('alice', '10.00', { idempotencyKey: 'psp:evt_1' })
    expect(ledger.deposit('alice', '10.00', { idempotencyKey: 'psp:evt_1' })).toBe(first)
    expect(ledger.balance('alice')).toBe(1000n)
    expect(ledger.entries('alice')).toHaveLength(1)
  })

  it('a key reused for another operation is refused, naming both', () => {
    const { ledger } = setup()
    ledger.deposit('alice', '10.00', { idempotencyKey: 'k' })
    expectDictDBError(() => ledger.deposit('alice', '11.00', { idempotencyKey: 'k' }), 'InvalidArgumentError', /first used for a deposit of 10\.00/)
    expectDictDBError(() => ledger.withdraw('alice', '10.00', { idempotencyKey: 'k' }), 'InvalidArgumentError', /not a withdrawal/)
  })

  it('a failed operation does not consume its key', () => {
    const { ledger } = setup()
    expectDictDBError(() => ledger.withdraw('alice', 100, { idempotencyKey: 'w1' }), 'InsufficientFundsError')
    ledger.deposit('alice', 100)
    ledger.withdraw('alice', 100, { idempotencyKey: 'w1' })
    expect(ledger.balance('alice')).toBe(0n)
  })

  it('an escrow hold with a key returns the same escrow id', () => {
    const { ledger } = setup()
    ledger.deposit('alice', 100)
    const id = ledger.hold('alice', 40, { ref: 'p', idempotencyKey: 'pledge-1' })
    expect(ledger.hold('alice', 40, { ref: 'p', idempotencyKey: 'pledge-1' })).toBe(id)
    expect(ledger.balance('alice')).toBe(60n)
  })
})

describe('statements', () => {
  it('entries(account) lists what each entry moved in or out, oldest first, with memo and time', () => {
    const { ledger } = setup()
    ledger.deposit('alice', '50.00', { memo: 'top-up' })
    ledger.transfer('alice', 'bob', '20.00')
    expect(ledger.entries('alice')).toEqual([
      { entry: 1, kind: 'deposit', account: 'alice', amount: 5000n, at: new Date('2026-05-01T10:00:00Z'), memo: 'top-up', ref: null },
      { entry: 2, kind: 'transfer', account: 'alice', amount: -2000n, at: new Date('2026-05-01T10:00:00Z'), memo: null, ref: null },
    ])
    expect(ledger.entries('bob').map((e) => e.amount)).toEqual([2000n])
    expect(ledger.entries('@external').map((e) => e.amount)).toEqual([-5000n])
  })
})
