import { describe, expect, it } from 'vitest'
import { Database, InvalidStateError } from '../../src/index'
import { snapshot } from '../support/helpers'

const N = 10_000

function setup() {
  const db = new Database()
  const ledger = db.ledger({ currency: 'EUR', scale: 2 })
  ledger.openAccount('owner')
  ledger.openAccount('backers')
  ledger.deposit('backers', BigInt(N) * 100_00n)
  const ids = db.transaction(() => Array.from({ length: N }, (_, i) => ledger.hold('backers', 1000 + (i % 997), { ref: 'project-1' })))
  return { db, ledger, ids }
}

describe(`release of ${N.toLocaleString('en')} escrows in one call`, () => {
  it('is one commit and one entry, with commission and fees rounded per escrow', () => {
    const { db, ledger, ids } = setup()
    const commits: number[] = []
    const stop = db.onCommit((commit) => void commits.push(commit.ops.length))
    const result = ledger.release('project-1', { to: 'owner', commissionRate: '0.15', feeRate: 0.029 })
    stop()
    let amount = 0n
    let commission = 0n
    let fees = 0n
    for (let i = 0; i < N; i++) {
      const a = BigInt(1000 + (i % 997))
      amount += a
      commission += (2n * a * 15n + 100n) / 200n
      fees += (2n * a * 29n + 1000n) / 2000n
    }
    expect(result).toEqual({ entry: expect.any(Number), escrows: N, amount, commission, fees, net: amount - commission - fees })
    expect(ledger.entries('owner')).toHaveLength(1)
    expect(ledger.escrows({ status: 'held' })).toHaveLength(0)
    expect(ledger.audit().ok).toBe(true)
    expect(ids).toHaveLength(N)
    // One pass: every escrow settled in a single commit, not one round trip each. (How long it
    // takes is measured by bench/timing.mjs, not asserted here.)
    expect(commits).toHaveLength(1)
    expect(commits[0]).toBeGreaterThanOrEqual(N)
  })

  it('is all or nothing: one escrow already settled at the end of the list and none is released', () => {
    const { db, ledger, ids } = setup()
    ledger.refund(ids[N - 1] as number)
    const before = snapshot(db)
    expect(() => ledger.release(ids, { to: 'owner', commissionRate: '0.15' })).toThrow(InvalidStateError)
    expect(snapshot(db)).toEqual(before)
  })
})
