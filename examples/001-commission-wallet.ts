// Seed 001 — the commission wallet that lost 500 €.
// Two escrow-release batches run at the same time and each credits the platform's commission
// wallet. The seed's code read the balance, added its commission and saved: 1,000 + 500 and
// 1,000 + 300 gave 1,300 € instead of 1,800 €. And a batch that failed half-way left escrows
// released with no accounting entry. Here both batches go through the ledger: each release is
// one atomic transaction with balanced entries, so the wallet ends at 1,800 € and a failed
// batch leaves nothing behind.
// Run: npm run demo -- 001   (or, after npm run build: node --import tsx examples/001-commission-wallet.ts)
import { setTimeout as sleep } from 'node:timers/promises'
import { Database, DuplicateKeyError, increment } from 'dictdb'

function check(ok: boolean, what: string): void {
  if (!ok) {
    console.error(`✗ ${what}`)
    process.exit(1)
  }
  console.log(`✓ ${what}`)
}

const db = new Database()
const ledger = db.ledger({ currency: 'EUR', scale: 2 })
/** 180000n → '1,800.00 €' (string work only: money never goes through a float). */
function eur(minor: bigint): string {
  const [units = '', cents = ''] = ledger.format(minor).split('.')
  return `${units.replace(/\B(?=(\d{3})+$)/g, ',')}.${cents} €`
}

// The platform's commission wallet already holds 1,000 €.
ledger.openAccount('platform')
ledger.deposit('platform', '1000.00', { memo: 'opening balance' })

// Project A: 50 backers × 100 € (10% commission = 500 €). Project B: 30 × 100 € (= 300 €).
// Project C: 20 × 100 €, for the batch that fails.
for (const [project, backers] of [['A', 50], ['B', 30], ['C', 20]] as const) {
  ledger.openAccount(`owner-${project}`)
  for (let i = 1; i <= backers; i++) {
    const backer = ledger.getOrCreateAccount(`backer-${project}${i}`).account.id
    ledger.deposit(backer, '100.00')
    ledger.hold(backer, '100.00', { ref: `project-${project}` })
  }
}

// First, the seed's bug, reproduced with a plain table: read, await, write.
const wallets = db.createTable<{ id: string; balance: number }>('wallets')
wallets.insert({ id: 'commission', balance: 1000 })
async function naiveBatch(commission: number): Promise<void> {
  const wallet = wallets.get('commission')!
  await sleep(5) // bulk_update of the batch's escrows...
  wallets.update({ balance: wallet.balance + commission }, { id: 'commission' })
}
await Promise.all([naiveBatch(500), naiveBatch(300)])
console.log(`The seed's way (read the balance, await, save balance + commission): ${wallets.get('commission')!.balance.toLocaleString('en')} €`)
console.log('  — one batch overwrote the other: 500 € of commission lost.')
wallets.update({ balance: 1000 }, { id: 'commission' })
await Promise.all([500, 300].map(async (c) => (await sleep(5), wallets.update({ balance: increment(c) }, { id: 'commission' }))))
console.log(`The seed's fix (F('balance') + x is increment(x) here): ${wallets.get('commission')!.balance.toLocaleString('en')} €`)

// Now the two batches through the ledger, concurrently, each awaiting I/O before releasing.
async function releaseBatch(project: string): Promise<bigint> {
  await sleep(5) // load the project, check it succeeded...
  const result = ledger.release(`project-${project}`, { to: `owner-${project}`, commissionRate: '0.10', commissionAccount: 'platform' })
  await sleep(1) // notify the owner...
  return result.commission
}
const [commissionA, commissionB] = await Promise.all([releaseBatch('A'), releaseBatch('B')])
console.log(`\nWith ledger.release(): batch A took ${eur(commissionA!)}, batch B ${eur(commissionB!)} of commission.`)
console.log(`  commission wallet: ${eur(ledger.balance('platform'))}`)
check(ledger.balance('platform') === 180000n, 'the commission wallet holds 1,800 € (1,000 + 500 + 300): no lost update')
check(ledger.balance('owner-A') === 450000n && ledger.balance('owner-B') === 270000n, 'owners were paid the rest: 4,500 € and 2,700 €')

// A batch that fails half-way: the escrows of project C are released, then recording the
// payout fails (a payout for C was already recorded). The whole transaction rolls back.
const payouts = db.createTable('payouts')
payouts.insert({ id: 'project-C', note: 'recorded earlier by mistake' })
const platformBefore = ledger.balance('platform')
try {
  db.transaction(() => {
    const result = ledger.release('project-C', { to: 'owner-C', commissionRate: '0.10', commissionAccount: 'platform' })
    console.log(`\nBatch C released ${result.escrows} escrows inside its transaction, then recorded the payout…`)
    payouts.insert({ id: 'project-C', amount: result.net }) // DuplicateKeyError: the bulk_create that fails
  })
} catch (error) {
  if (!(error instanceof DuplicateKeyError)) throw error
  console.log(`  … which failed (${error.code}); the transaction rolled back.`)
}
check(ledger.escrows({ ref: 'project-C', status: 'held' }).length === 20, "project C's 20 escrows are still held: none released without its entry")
check(ledger.balance('platform') === platformBefore && ledger.balance('owner-C') === 0n, 'no commission and no payout from the failed batch')
const audit = ledger.audit()
check(audit.ok, `audit: every entry balances; balances ${eur(audit.totals.balances)} + held ${eur(audit.totals.held)} = deposits ${eur(audit.totals.deposits)} − withdrawals ${eur(audit.totals.withdrawals)}`)
