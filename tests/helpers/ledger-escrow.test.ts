import { describe, expect, it } from 'vitest'
import { Database, InsufficientFundsError, InvalidStateError, RecordNotFoundError } from '../../src/index'
import { expectDictDBError, snapshot } from '../support/helpers'

function setup() {
  const db = new Database()
  const ledger = db.ledger({ currency: 'EUR', scale: 2 })
  for (const id of ['alice', 'bob', 'owner']) ledger.openAccount(id)
  ledger.deposit('alice', '100.00')
  ledger.deposit('bob', '100.00')
  return { db, ledger }
}

describe('hold', () => {
  it('takes the amount out of the balance into a held escrow with its ref', () => {
    const { ledger } = setup()
    const id = ledger.hold('alice', '40.00', { ref: 'project-7' })
    expect(ledger.balance('alice')).toBe(6000n)
    expect(ledger.escrows({ ref: 'project-7' })).toEqual([
      expect.objectContaining({ id, account: 'alice', amount: 4000n, ref: 'project-7', status: 'held', to: null, settledIn: null, settledAt: null }),
    ])
    expect(ledger.audit().totals.held).toBe(4000n)
  })

  it('beyond the balance is InsufficientFundsError, and no escrow is made', () => {
    const { db, ledger } = setup()
    const before = snapshot(db)
    expect(() => ledger.hold('alice', '100.01')).toThrow(InsufficientFundsError)
    expect(snapshot(db)).toEqual(before)
  })

  it('escrows(filter) selects by account, ref, status and recipient', () => {
    const { ledger } = setup()
    const a = ledger.hold('alice', 100, { ref: 'p1' })
    const b = ledger.hold('bob', 200, { ref: 'p1' })
    ledger.hold('bob', 300, { ref: 'p2' })
    ledger.release(a, { to: 'owner' })
    expect(ledger.escrows({ account: 'bob' }).map((e) => e.amount)).toEqual([200n, 300n])
    expect(ledger.escrows({ ref: 'p1', status: 'held' }).map((e) => e.id)).toEqual([b])
    expect(ledger.escrows({ to: 'owner' }).map((e) => e.id)).toEqual([a])
    expect(ledger.escrows()).toHaveLength(3)
    expectDictDBError(() => ledger.escrows({ status: 'lost' as never }), 'InvalidArgumentError', /'held', 'released' or 'refunded'/)
    expectDictDBError(() => ledger.escrows({ project: 'p1' } as never), 'InvalidArgumentError', /Unknown option `project`/)
  })
})

describe('release', () => {
  it('pays the recipient less commission and fees, each rounded half-up per escrow, into their accounts', () => {
    const { ledger } = setup()
    ledger.hold('alice', '40.00', { ref: 'p7' }) // 5%: 2.00; 2.9%: 1.16
    ledger.hold('bob', '0.10', { ref: 'p7' }) // 5%: 0.005 → 0.01; 2.9%: 0.0029 → 0.00
    const result = ledger.release('p7', { to: 'owner', commissionRate: 0.05, feeRate: '0.029' })
    expect(result).toEqual({ entry: expect.any(Number), escrows: 2, amount: 4010n, commission: 201n, fees: 116n, net: 3693n })
    expect([ledger.balance('owner'), ledger.balance('_commission'), ledger.balance('_fees')]).toEqual([3693n, 201n, 116n])
    expect(ledger.escrows({ ref: 'p7' }).every((e) => e.status === 'released' && e.to === 'owner' && e.settledIn === result.entry)).toBe(true)
    expect(ledger.audit().ok).toBe(true)
  })

  it('rounds per escrow, not on the total (as the seeds do)', () => {
    const { ledger } = setup()
    for (let i = 0; i < 10; i++) ledger.hold('alice', 5, { ref: 'p' }) // 10% of 0.05 = 0.005 → 0.01 each
    expect(ledger.release('p', { to: 'owner', commissionRate: '0.1' }).commission).toBe(10n) // not round(0.05) = 5
  })

  it('takes rates given as numbers at their decimal value, where floating point would round down', () => {
    const { ledger } = setup()
    ledger.hold('alice', '15.00', { ref: 'p' })
    // 1500 × 0.009 = 13.5 → 14; in floating point 13.499999999999998 → 13.
    expect(ledger.release('p', { to: 'owner', commissionRate: 0.009 }).commission).toBe(14n)
  })

  it('credits commission and fees to the accounts given', () => {
    const { ledger } = setup()
    ledger.openAccount('platform')
    ledger.hold('alice', 1000, { ref: 'p' })
    ledger.release('p', { to: 'owner', commissionRate: '0.1', feeRate: '0.02', commissionAccount: 'platform', feeAccount: 'stripe' })
    expect([ledger.balance('platform'), ledger.balance('stripe'), ledger.balance('owner')]).toEqual([100n, 20n, 880n])
    expect(ledger.hasAccount('_commission')).toBe(false)
  })

  it('releases by one id, by a list of ids, or by ref', () => {
    const { ledger } = setup()
    const [a, b, c] = [ledger.hold('alice', 100), ledger.hold('alice', 200), ledger.hold('bob', 300, { ref: 'r' })]
    expect(ledger.release(a, { to: 'owner' }).amount).toBe(100n)
    expect(ledger.release([b], { to: 'owner' }).amount).toBe(200n)
    expect(ledger.release('r', { to: 'owner' }).escrows).toBe(1)
    expect(ledger.escrows({ status: 'held' })).toEqual([])
    expect(c).toBe(3)
  })

  it('an escrow already released or refunded is refused, and nothing changes', () => {
    const { db, ledger } = setup()
    const a = ledger.hold('alice', 100)
    const b = ledger.hold('alice', 100)
    ledger.release(a, { to: 'owner' })
    const before = snapshot(db)
    const error = expectDictDBError(() => ledger.release([b, a], { to: 'owner' }), 'InvalidStateError', /Escrow 1 was already released/)
    expect(error).toBeInstanceOf(InvalidStateError)
    expectDictDBError(() => ledger.refund(a), 'InvalidStateError', /settled once/)
    expect(snapshot(db)).toEqual(before)
  })

  it('an unknown id, an id listed twice, an empty list or a ref with nothing held is refused', () => {
    const { db, ledger } = setup()
    const a = ledger.hold('alice', 100, { ref: 'p' })
    const before = snapshot(db)
    expect(expectDictDBError(() => ledger.release([a, 99], { to: 'owner' }), 'RecordNotFoundError', /No escrow 99/)).toBeInstanceOf(RecordNotFoundError)
    expectDictDBError(() => ledger.release([a, a], { to: 'owner' }), 'InvalidArgumentError', /listed twice/)
    expectDictDBError(() => ledger.release([], { to: 'owner' }), 'InvalidArgumentError', /at least one/)
    expectDictDBError(() => ledger.release('nope', { to: 'owner' }), 'RecordNotFoundError', /No escrow is held with ref 'nope'/)
    expectDictDBError(() => ledger.release(1.5, { to: 'owner' }), 'InvalidArgumentError', /escrow id/)
    expect(snapshot(db)).toEqual(before)
  })

  it('an unknown recipient, a bad rate, or rates above the amount are refused, and nothing changes', () => {
    const { db, ledger } = setup()
    ledger.hold('alice', 1, { ref: 'p' })
    const before = snapshot(db)
    expectDictDBError(() => ledger.release('p', { to: 'ghost' }), 'RecordNotFoundError', /`ghost`/)
    expectDictDBError(() => ledger.release('p', { to: 'owner', commissionRate: 1.5 }), 'InvalidArgumentError', /commissionRate/)
    expectDictDBError(() => ledger.release('p', { to: 'owner', commissionRate: '0.5', feeRate: '0.5' }), 'InvalidArgumentError', /exceed escrow/)
    expectDictDBError(() => ledger.release('p', {} as never), 'InvalidArgumentError', /`to`/)
    expectDictDBError(() => ledger.release('p', undefined as never), 'InvalidArgumentError', /`to`/)
    expect(snapshot(db)).toEqual(before)
  })

  it('a release that fails half-way through a batch of releases leaves nothing behind', () => {
    const { db, ledger } = setup()
    ledger.hold('alice', 500, { ref: 'p1' })
    ledger.hold('bob', 500, { ref: 'p2' })
    ledger.refund('p2')
    const before = snapshot(db)
    expect(() =>
      db.transaction(() => {
        ledger.release('p1', { to: 'owner', commissionRate: '0.1' })
        ledger.release('p2', { to: 'owner', commissionRate: '0.1' })
      }),
    ).toThrow(RecordNotFoundError)
    expect(snapshot(db)).toEqual(before)
  })

  it('the same idempotency key releases once and returns the first result', () => {
    const { ledger } = setup()
    ledger.hold('alice', 1000, { ref: 'p' })
    const first = ledger.release('p', { to: 'owner', commissionRate: '0.1', idempotencyKey: 'close-p' })
    expect(ledger.release('p', { to: 'owner', commissionRate: '0.1', idempotencyKey: 'close-p' })).toEqual(first)
    expect(ledger.balance('owner')).toBe(900n)
  })
})

describe('refund', () => {
  it('gives each escrow back to the account it was held from, by id or by ref', () => {
    const { ledger } = setup()
    const a = ledger.hold('alice', 1000, { ref: 'p' })
    ledger.hold('bob', 2000, { ref: 'p' })
    ledger.hold('bob', 500, { ref: 'p' })
    expect(ledger.refund(a).amount).toBe(1000n)
    expect(ledger.refund('p')).toEqual({ entry: expect.any(Number), escrows: 2, amount: 2500n })
    expect([ledger.balance('alice'), ledger.balance('bob')]).toEqual([10000n, 10000n])
    expect(ledger.escrows({ status: 'refunded' })).toHaveLength(3)
    expect(ledger.audit()).toMatchObject({ ok: true, totals: { held: 0n, balances: 20000n } })
  })
})
