// Seed 004 — customer numbers from a MongoDB `$inc` counter.
// The seed's `findOrCreateByPhone` takes the next number with an atomic `$inc` and formats it
// as CUST0001; it asks whether the surrounding transaction is needed. Here the number comes
// from a sequence, and the number and the customer are written in one transaction: 100
// customers created at once get CUST0001 … CUST0100, each once, in the order they were
// committed; a creation that fails gives its number back; a phone asked for twice at once
// still makes one customer. A counter (the plain `$inc`) counts the requests.
// Run: npm run demo -- 004   (or, after npm run build: node --import tsx examples/004-customer-counter.ts)
import { setTimeout as sleep } from 'node:timers/promises'
import { Database } from 'dictdb'

const CUSTOMERS = 100

function check(ok: boolean, what: string): void {
  if (!ok) {
    console.error(`✗ ${what}`)
    process.exit(1)
  }
  console.log(`✓ ${what}`)
}

interface Customer {
  id?: number
  phone: string
  customerNumber: string
}

const db = new Database()
const customers = db.createTable<Customer>('customers', {
  indexes: [
    { field: 'phone', unique: true },
    { field: 'customerNumber', unique: true },
  ],
})
const numbers = db.sequence('customer', { format: 'CUST{0000}' })
const requests = db.counter('customer-requests')

/** The seed's findOrCreateByPhone: awaits I/O, then finds or creates in one transaction. */
async function findOrCreateByPhone(phone: string): Promise<Customer> {
  requests.add(1) // the seed's `$inc`: atomic on its own
  await sleep([...phone].reduce((n, c) => n + c.charCodeAt(0), 0) % 5) // look the phone up in the CRM...
  return db.transaction(() => {
    const found = customers.select({ where: { phone } })[0]
    if (found !== undefined) return found
    const customerNumber = numbers.next()
    if (!/^98765\d{5}$/.test(phone)) throw new Error(`invalid phone ${phone}`) // after the number was taken
    const id = customers.insert({ phone, customerNumber })
    return { id: id as number, phone, customerNumber }
  })
}

// 100 new customers, plus 50 requests for phones that are being created at the same moment,
// plus 3 requests with a malformed phone. All at once.
const phones = Array.from({ length: CUSTOMERS }, (_, i) => `98765${String(43210 + i * 7).padStart(5, '0')}`)
const requestsFor = [...phones, ...phones.filter((_, i) => i % 2 === 0), 'not-a-phone', '123', '98765-oops']
const results = await Promise.allSettled(requestsFor.map((phone) => findOrCreateByPhone(phone)))

const served = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
const failed = results.length - served.length
const stored = customers.all() // in insertion order, that is, in order of commit
const inOrder = stored.map((c) => c.customerNumber)
const expected = Array.from({ length: CUSTOMERS }, (_, i) => `CUST${String(i + 1).padStart(4, '0')}`)

console.log(`${requestsFor.length} concurrent findOrCreateByPhone calls: ${served.length} answered, ${failed} refused (malformed phone).`)
console.log(`  customers in order of commit: ${inOrder.slice(0, 4).join(', ')} … ${inOrder.slice(-2).join(', ')}`)
check(stored.length === CUSTOMERS, `${CUSTOMERS} customers, one per phone, although half the phones were asked for twice at once`)
check(new Set(inOrder).size === CUSTOMERS, 'every customer number is unique')
check(inOrder.join() === expected.join(), 'numbers are CUST0001 … CUST0100 in order of commit: no gap, although 3 numbers were taken by failed creations')
check(served.every((c) => customers.select({ where: { phone: c.phone } })[0]?.customerNumber === c.customerNumber), 'every caller got the stored customer for its phone')
check(requests.value === requestsFor.length, `the request counter reads ${requests.value}: no increment lost`)

// The format keeps growing past four digits rather than wrapping: CUST9999 is followed by CUST10000.
const wide = db.sequence('wide', { format: 'CUST{0000}' })
let last = ''
for (let i = 0; i < 9_999; i++) last = wide.next()
const after = wide.next()
console.log(`\nAfter ${last} comes ${after}.`)
check(last === 'CUST9999' && after === 'CUST10000', '{0000} pads to at least four digits and never wraps')
