// Helpers keep their state in ordinary tables, so save/load carries them like any table.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Database } from '../../src/index'

const dir = mkdtempSync(join(tmpdir(), 'dictdb-helpers-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe.each(['json', 'binary'] as const)('helpers saved and loaded (%s)', (format) => {
  it('a sequence and a counter continue where they were', () => {
    const db = new Database()
    const seq = db.sequence('property', { format: 'PRO-{YYYY}-{0000}', reset: 'yearly', now: () => new Date(2026, 5, 1) })
    seq.next()
    seq.next()
    db.counter('hits').add(41)
    const file = join(dir, `seq.${format}`)
    db.save(file, { format })
    const loaded = Database.load(file)
    expect(loaded.sequence('property', { now: () => new Date(2026, 5, 2) }).next()).toBe('PRO-2026-0003')
    expect(loaded.sequence('property', { now: () => new Date(2027, 0, 1) }).next()).toBe('PRO-2027-0001')
    expect(loaded.counter('hits').add(1)).toBe(42)
  })

  it('a ledger keeps its settings, balances, escrows, idempotency keys and audit', () => {
    const db = new Database()
    const ledger = db.ledger({ currency: 'EUR', scale: 2 })
    for (const id of ['alice', 'owner']) ledger.openAccount(id)
    ledger.deposit('alice', '100.00', { idempotencyKey: 'dep-1' })
    const escrow = ledger.hold('alice', '40.00', { ref: 'p1' })
    ledger.hold('alice', '10.00', { ref: 'p2' })
    ledger.release(escrow, { to: 'owner', commissionRate: '0.1' })
    const file = join(dir, `ledger.${format}`)
    db.save(file, { format })

    const again = Database.load(file).ledger()
    expect([again.currency, again.scale]).toEqual(['EUR', 2])
    expect([again.balance('alice'), again.balance('owner'), again.balance('_commission')]).toEqual([5000n, 3600n, 400n])
    expect(again.deposit('alice', '100.00', { idempotencyKey: 'dep-1' })).toBe(1)
    expect(again.refund('p2').amount).toBe(1000n)
    expect(again.escrows({ account: 'alice' }).map((e) => e.status)).toEqual(['released', 'refunded'])
    expect(again.audit()).toMatchObject({ ok: true, totals: { deposits: 10000n, balances: 10000n, held: 0n } })
  })
})
