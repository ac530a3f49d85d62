import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Database, DictDBError, increment, type Ledger } from '../../src/index'

function setup() {
  const db = new Database()
  const ledger = db.ledger({ currency: 'EUR', scale: 2 })
  for (const id of ['alice', 'bob', 'owner']) ledger.openAccount(id)
  ledger.deposit('alice', 10000)
  ledger.hold('alice', 3000, { ref: 'p' })
  ledger.transfer('alice', 'bob', 1000)
  ledger.withdraw('bob', 400)
  return { db, ledger }
}

describe('audit', () => {
  it('finds nothing wrong in books kept by the ledger, and reports the totals', () => {
    const { ledger } = setup()
    const report = ledger.audit()
    expect(report).toEqual({ ok: true, problems: [] })
    expect(report.totals).toEqual({ deposits: 10000n, withdrawals: 400n, balances: 6600n, held: 3000n })
  })

  it('gives a report shaped as SPEC says, { ok, problems }: the totals are readable but not enumerable', () => {
    const { ledger } = setup()
    const report = ledger.audit()
    expect(report).toStrictEqual({ ok: true, problems: [] })
    expect(Object.keys(report)).toEqual(['ok', 'problems'])
    expect(JSON.stringify(report)).toBe('{"ok":true,"problems":[]}')
  })

  it('finds a balance changed behind the ledger’s back', () => {
    const { db, ledger } = setup()
    db.getTable('_ledger_main_accounts').update({ balance: increment(5n) }, { id: 'bob' })
    const report = ledger.audit()
    expect(report.ok).toBe(false)
    expect(report.problems).toEqual(expect.arrayContaining([expect.stringMatching(/`bob` has a balance of 6\.05 EUR but its entries add up to 6\.00 EUR/), expect.stringMatching(/differ from deposits/)]))
  })

  it('finds an entry that does not balance', () => {
    const { db, ledger } = setup()
    db.getTable('_ledger_main_lines').insert({ entry: 1, account: '@external', amount: -1n })
    expect(ledger.audit().problems).toEqual(expect.arrayContaining([expect.stringMatching(/Entry 1 \(deposit\) does not balance/)]))
  })

  it('finds a negative balance that is not allowed, and held escrow that the entries do not show', () => {
    const { db, ledger } = setup()
    db.transaction(() => {
      db.getTable('_ledger_main_accounts').update({ balance: -1n }, { id: 'owner' })
      db.getTable('_ledger_main_escrows').update({ status: 'refunded', settledIn: 99 }, { ref: 'p' })
    })
    const problems = ledger.audit().problems
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/`owner` is negative/), expect.stringMatching(/escrow side of the entries holds 30\.00 EUR but the held escrows total 0\.00 EUR/)]))
  })
})

/** A reference model of the ledger: plain maps, the rules written out. */
interface Model {
  balances: Map<string, bigint>
  escrows: Map<number, { account: string; amount: bigint; ref: string; held: boolean }>
}

const ACCOUNTS = ['a', 'b', 'c', 'house']
const account = fc.constantFrom(...ACCOUNTS)
const amount = fc.integer({ min: -5, max: 5000 })
const op = fc.oneof(
  fc.record({ kind: fc.constant('deposit' as const), to: account, amount }),
  fc.record({ kind: fc.constant('withdraw' as const), from: account, amount }),
  fc.record({ kind: fc.constant('transfer' as const), from: account, to: account, amount }),
  fc.record({ kind: fc.constant('hold' as const), from: account, amount, ref: fc.constantFrom('p1', 'p2') }),
  fc.record({ kind: fc.constant('release' as const), pick: fc.nat(20), ref: fc.option(fc.constantFrom('p1', 'p2')), rate: fc.constantFrom('0', '0.05', '0.15', 0.009), to: account }),
  fc.record({ kind: fc.constant('refund' as const), pick: fc.nat(20) }),
)
type Op = typeof op extends fc.Arbitrary<infer O> ? O : never

function applyModel(m: Model, o: Op): 'ok' | 'error' {
  const take = (acc: string, n: bigint) => {
    const b = m.balances.get(acc) as bigint
    if (acc !== 'house' && b < n) return false
    m.balances.set(acc, b - n)
    return true
  }
  const give = (acc: string, n: bigint) => m.balances.set(acc, (m.balances.get(acc) ?? 0n) + n)
  if ('amount' in o && o.amount <= 0) return 'error'
  switch (o.kind) {
    case 'deposit':
      give(o.to, BigInt(o.amount))
      return 'ok'
    case 'withdraw':
      return take(o.from, BigInt(o.amount)) ? 'ok' : 'error'
    case 'transfer':
      if (o.from === o.to || !take(o.from, BigInt(o.amount))) return 'error'
      give(o.to, BigInt(o.amount))
      return 'ok'
    case 'hold':
      if (!take(o.from, BigInt(o.amount))) return 'error'
      m.escrows.set(m.escrows.size + 1, { account: o.from, amount: BigInt(o.amount), ref: o.ref, held: true })
      return 'ok'
    case 'release': {
      const chosen = o.ref !== null ? [...m.escrows.values()].filter((e) => e.ref === o.ref && e.held) : [m.escrows.get(o.pick)]
      if (chosen.length === 0 || chosen.some((e) => e === undefined || !e.held)) return 'error'
      const [num, den] = o.rate === 0.009 ? [9n, 1000n] : [BigInt(Math.round(Number(o.rate) * 100)), 100n]
      for (const e of chosen as NonNullable<(typeof chosen)[number]>[]) {
        const c = (2n * e.amount * num + den) / (2n * den)
        e.held = false
        give('_commission', c)
        give(o.to, e.amount - c)
      }
      return 'ok'
    }
    case 'refund': {
      const e = m.escrows.get(o.pick)
      if (e === undefined || !e.held) return 'error'
      e.held = false
      give(e.account, e.amount)
      return 'ok'
    }
  }
}

function applyLedger(ledger: Ledger, o: Op): 'ok' | 'error' {
  try {
    if (o.kind === 'deposit') ledger.deposit(o.to, o.amount)
    else if (o.kind === 'withdraw') ledger.withdraw(o.from, o.amount)
    else if (o.kind === 'transfer') ledger.transfer(o.from, o.to, o.amount)
    else if (o.kind === 'hold') ledger.hold(o.from, o.amount, { ref: o.ref })
    else if (o.kind === 'release') ledger.release(o.ref ?? o.pick, { to: o.to, commissionRate: o.rate })
    else ledger.refund(o.pick)
    return 'ok'
  } catch (error) {
    if (!(error instanceof DictDBError)) throw error
    return 'error'
  }
}

describe('the ledger against a reference model', () => {
  it('any sequence of operations, failing ones included, keeps the books balanced and equal to the model', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const db = new Database()
        const ledger = db.ledger({ currency: 'EUR', scale: 2 })
        const model: Model = { balances: new Map(), escrows: new Map() }
        for (const id of ACCOUNTS) {
          ledger.openAccount(id, { allowNegative: id === 'house' })
          model.balances.set(id, 0n)
        }
        for (const o of ops) expect(applyLedger(ledger, o)).toBe(applyModel(model, o))
        const report = ledger.audit()
        expect(report.problems).toEqual([])
        for (const [id, balance] of model.balances) expect(ledger.balance(id)).toBe(balance)
        const held = [...model.escrows.values()].filter((e) => e.held).reduce((n, e) => n + e.amount, 0n)
        expect(report.totals.held).toBe(held)
      }),
      { numRuns: 150 },
    )
  })
})
