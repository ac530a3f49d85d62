// Seed 001: two release batches credit the commission wallet at the same time (1,000 + 500 + 300
// must be 1,800 €, not 1,300 €), and a batch that fails half-way must leave nothing behind.
import { describe, expect, it } from 'vitest'
import { Database, DuplicateKeyError } from '../../src/index'
import { snapshot, tick } from '../support/helpers'
import { runWorkers } from './support'

function setup(db = new Database()) {
  const ledger = db.ledger({ currency: 'EUR', scale: 2 })
  ledger.openAccount('platform')
  ledger.deposit('platform', '1000.00')
  for (const [project, backers] of [['A', 50], ['B', 30], ['C', 20]] as const) {
    ledger.openAccount(`owner-${project}`)
    for (let i = 0; i < backers; i++) {
      ledger.openAccount(`backer-${project}${i}`)
      ledger.deposit(`backer-${project}${i}`, '100.00')
      ledger.hold(`backer-${project}${i}`, '100.00', { ref: `project-${project}` })
    }
  }
  return { db, ledger }
}

describe('seed 001: the commission wallet', () => {
  it('two concurrent release batches both credit it: 1,800 €', async () => {
    const { ledger } = setup()
    const batch = async (project: string) => {
      await tick()
      const result = ledger.release(`project-${project}`, { to: `owner-${project}`, commissionRate: '0.10', commissionAccount: 'platform' })
      await tick()
      return result.commission
    }
    expect(await Promise.all([batch('A'), batch('B')])).toEqual([50000n, 30000n])
    expect(ledger.balance('platform')).toBe(180000n)
    expect(ledger.audit().ok).toBe(true)
  })

  it('a batch that fails half-way leaves nothing behind', () => {
    const { db, ledger } = setup()
    const payouts = db.createTable('payouts')
    payouts.insert({ id: 'project-C' })
    const before = snapshot(db)
    expect(() =>
      db.transaction(() => {
        ledger.release('project-C', { to: 'owner-C', commissionRate: '0.10', commissionAccount: 'platform' })
        payouts.insert({ id: 'project-C' })
      }),
    ).toThrow(DuplicateKeyError)
    expect(snapshot(db)).toEqual(before)
    expect(ledger.escrows({ ref: 'project-C', status: 'held' })).toHaveLength(20)
  })

  it('two worker_threads releasing at once both credit it: 1,800 €', async () => {
    const db = new Database({ shared: true })
    try {
      const { ledger } = setup(db)
      const released = await runWorkers<number>(db, [
        { task: 'release', ref: 'project-A', to: 'owner-A' },
        { task: 'release', ref: 'project-B', to: 'owner-B' },
      ])
      expect(released).toEqual([50, 30])
      expect(ledger.balance('platform')).toBe(180000n)
      expect(ledger.audit().ok).toBe(true)
    } finally {
      db.close()
    }
  })
})
