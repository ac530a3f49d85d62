// Seed 000 — "100 users click 'Create property' at the same instant".
// The seed hands out PRO-2025-0001 to one user and falls back to timestamp and UUID ids for the
// others. With a sequence kept in the database, every user gets the next number: no duplicate,
// no gap, no fallback.
// Run: npm run demo -- 000   (or, after npm run build: node --import tsx examples/000-property-ids.ts)
import { setTimeout as sleep } from 'node:timers/promises'
import { Database, DuplicateKeyError } from 'dictdb'

const USERS = 100

function check(ok: boolean, what: string): void {
  if (!ok) {
    console.error(`✗ ${what}`)
    process.exit(1)
  }
  console.log(`✓ ${what}`)
}

/** A small deterministic random source, so every run tells the same story. */
function random(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
}
const rand = random(2026)
/** Some I/O (a geocoding call, an upload) that takes a few milliseconds. */
const io = () => sleep(Math.floor(rand() * 5))

interface Property {
  id: string
  owner: string
  address: string
}

// The clock is injected so that the story happens on 15 June 2026 and then on New Year's Day.
const clock = { now: new Date(2026, 5, 15, 10, 0) }
const db = new Database()
const properties = db.createTable<Property>('properties')
const numbers = db.sequence('property', { format: 'PRO-{YYYY}-{0000}', reset: 'yearly', now: () => clock.now })

/** A request handler: awaits I/O before and after taking its number, as real handlers do. */
async function createProperty(user: string, address: string): Promise<string> {
  await io() // validate the form, geocode the address...
  const id = db.transaction(() => {
    const id = numbers.next()
    if (address === '') throw new Error(`${user}: an address is required`) // after the number was taken
    properties.insert({ id, owner: user, address })
    return id
  })
  await io() // send the confirmation e-mail...
  return id
}

// First, the way the seed's bug happens: read "how many are there", await, then write.
const naive = db.createTable<Property>('naive_properties')
const collisions = await Promise.all(
  Array.from({ length: USERS }, async (_, i) => {
    const candidate = `PRO-2026-${String(naive.count() + 1).padStart(4, '0')}`
    await io()
    try {
      naive.insert({ id: candidate, owner: `user-${i + 1}`, address: '-' })
      return false
    } catch (error) {
      if (error instanceof DuplicateKeyError) return true
      throw error
    }
  }),
)
const clashes = collisions.filter(Boolean).length
console.log(`The seed's way (count + 1, then an await, then insert): ${clashes} of ${USERS} users got a number someone else took`)
console.log('  — those are the users the seed sends to its timestamp and UUID fallbacks.')

// Now with the sequence: 100 users at the same instant, plus 5 whose form is invalid.
const users = Array.from({ length: USERS }, (_, i) => ({ user: `user-${i + 1}`, address: `${i + 1} rue de la Paix` }))
const invalid = Array.from({ length: 5 }, (_, i) => ({ user: `careless-${i + 1}`, address: '' }))
const everyone = [...users, ...invalid].sort(() => rand() - 0.5)
const outcomes = await Promise.allSettled(everyone.map(({ user, address }) => createProperty(user, address)))

const ids = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []))
const refused = outcomes.filter((o) => o.status === 'rejected').length
const expected = Array.from({ length: USERS }, (_, i) => `PRO-2026-${String(i + 1).padStart(4, '0')}`)
console.log(`\nWith db.sequence(): ${ids.length} properties created, ${refused} invalid forms refused.`)
console.log(`  first ids in the order users finished: ${ids.slice(0, 5).join(', ')} …`)

check(ids.length === USERS && properties.count() === USERS, `${USERS} users created ${USERS} properties`)
check(new Set(ids).size === USERS, 'no two users got the same id')
check([...ids].sort().join() === expected.join(), 'the ids are exactly PRO-2026-0001 … PRO-2026-0100: no gap, although 5 numbers were taken by forms that failed')
check(ids.every((id) => /^PRO-2026-\d{4}$/.test(id)), 'no timestamp or UUID fallback id anywhere')
check(numbers.current === USERS, `the sequence stands at ${numbers.current}`)

clock.now = new Date(2027, 0, 1, 0, 5)
const firstOf2027 = await createProperty('early-bird', '1 place du Nouvel An')
console.log(`\nOn 1 January 2027 the next property is ${firstOf2027}.`)
check(firstOf2027 === 'PRO-2027-0001', "reset: 'yearly' restarts the numbering at 0001 in the new year")
