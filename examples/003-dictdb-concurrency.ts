// Seed 003 — "Concurrence": DictDB's tour of its concurrency model (one reader-writer lock per
// table, atomic CRUD, copies on select, per-table isolation, snapshots for long reads, async
// saves, a background BackupManager), replayed with dictdb on Node's event loop.
// Where the seed starts Python threads, we start async tasks that hold the locks across awaits —
// the situation where an event loop interleaves work, and where the locks matter.
// Run: npm run demo -- 003   (or, after npm run build: node --import tsx examples/003-dictdb-concurrency.ts)
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { BackupManager, Database, SchemaValidationError } from 'dictdb'

function check(ok: boolean, what: string): void {
  if (!ok) {
    console.error(`✗ ${what}`)
    process.exit(1)
  }
  console.log(`✓ ${what}`)
}

const dir = mkdtempSync(join(tmpdir(), 'dictdb-003-'))
const db = new Database()
const users = db.createTable('users', { schema: { name: 'string', role: { type: 'string', optional: true }, status: { type: 'string', optional: true } } })
for (let i = 0; i < 1000; i++) users.insert({ name: `User ${i}`, role: i % 10 === 0 ? 'admin' : 'member', status: i % 3 === 0 ? 'inactive' : 'active' })

console.log('\n— Read operations: many readers at once')
{
  let inside = 0
  let most = 0
  const reader = (id: number) =>
    users.lock.read(async () => {
      inside++
      most = Math.max(most, inside)
      await sleep(5) // a slow read, holding the read lock across an await
      const found = users.select({ where: users.field('name').startsWith('User 1') })
      inside--
      return `reader ${id}: ${found.length} records`
    })
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => reader(i)))
  console.log(`  ${results[0]} … ${results[9]}`)
  check(most === 10, `the 10 readers held the read lock together (at most ${most} at once)`)
}

console.log('\n— Write operations: one writer at a time, readers wait for it')
{
  const timeline: string[] = []
  const writer = (id: number) =>
    users.lock.write(async () => {
      timeline.push(`w${id}+`)
      await sleep(2)
      users.insert({ name: `New User ${id}` })
      timeline.push(`w${id}-`)
    })
  const reader = (id: number) => users.lock.read(async () => timeline.push(`r${id}:${users.count()}`))
  const tasks: Promise<unknown>[] = []
  for (let i = 0; i < 5; i++) tasks.push(writer(i), reader(i))
  await Promise.all(tasks)
  console.log(`  ${timeline.join(' ')}`)
  const overlapping = timeline.some((e, i) => e.endsWith('+') && timeline[i + 1] !== e.replace('+', '-'))
  check(!overlapping, 'no write ever overlapped another lock holder: each w+ is followed by its own w-')
  check(users.count() === 1005, 'the 5 writers inserted 5 records: 1,005 users')
}

console.log('\n— Atomic operations')
{
  const keys = await Promise.all(Array.from({ length: 50 }, (_, i) => users.lock.write(async () => users.insert({ name: `Alice ${i}` }))))
  check(new Set(keys).size === 50, 'auto-increment keys are unique under concurrent inserts (50 distinct)')
  const admins = users.count({ role: 'admin' })
  check(users.update({ status: 'active' }, { role: 'admin' }) === admins, `update reaches every admin at once (${admins})`)
  try {
    users.update({ status: 42 as unknown as string }, { role: 'admin' })
  } catch (error) {
    check(error instanceof SchemaValidationError, 'an update failing validation is refused…')
  }
  check(users.count({ role: 'admin', status: 'active' }) === admins, '…and changes none of the records (all or nothing)')
  const inactive = users.count({ status: 'inactive' })
  check(users.delete({ status: 'inactive' }) === inactive && users.count({ status: 'inactive' }) === 0, `delete removes the ${inactive} inactive users atomically`)
}

console.log('\n— Copies of records')
{
  const copies = users.select({ limit: 1 })
  copies[0]!.name = 'Modified'
  check(users.get(copies[0]!.id as number)?.name !== 'Modified', 'select() returns copies: changing one changes nothing stored')
  const stored = users.select({ limit: 1, copy: false })
  let refused = false
  try {
    ;(stored[0] as { name: string }).name = 'Modified'
  } catch {
    refused = true
  }
  check(refused && users.get(stored[0]!.id as number)?.name !== 'Modified', 'copy: false returns the stored records, frozen: a stray write throws instead of corrupting the table')
}

console.log('\n— Isolation per table')
{
  const products = db.createTable('products', { primaryKey: 'sku' })
  products.insert({ sku: 'ABC', stock: 10 })
  let productUpdated = false
  const slowUserWrite = users.lock.write(async () => {
    await sleep(20) // a long write on users…
    users.update({ status: 'active' }, { id: 1 })
  })
  await sleep(1)
  products.update({ stock: 99 }, { sku: 'ABC' }) // …does not block products
  productUpdated = products.get('ABC')?.stock === 99
  await slowUserWrite
  check(productUpdated, 'products was updated while a writer held the users lock (separate locks)')
}

console.log('\n— Long reads: take a snapshot under the read lock, work outside it')
{
  const snapshot = await users.lock.read(() => users.copy())
  const writes = Promise.all(Array.from({ length: 20 }, (_, i) => users.lock.write(async () => users.insert({ name: `Late ${i}` }))))
  let processed = 0
  for (const [, record] of snapshot) {
    if (typeof record.name === 'string') processed++
    if (processed % 200 === 0) await sleep(0) // long processing, other tasks write meanwhile
  }
  await writes
  check(processed === snapshot.size && users.count() === snapshot.size + 20, `the snapshot of ${snapshot.size} records stayed fixed while 20 writers went on`)
}

console.log('\n— Deadlock prevention: transactions lock the tables they name, in one fixed order')
{
  const a = db.createTable('a')
  const b = db.createTable('b')
  db.transaction(() => (a.insert({ x: 1 }), b.insert({ x: 1 })), { tables: ['b', 'a'] })
  db.transaction(() => (b.insert({ x: 2 }), a.insert({ x: 2 })), { tables: ['a', 'b'] })
  check(a.count() === 2 && b.count() === 2, 'two transactions naming the tables in opposite orders both committed')
}

console.log('\n— Async saves: the event loop keeps serving while the database is written')
{
  let ticks = 0
  const heartbeat = setInterval(() => ticks++, 1)
  await db.saveAsync(join(dir, 'snapshot.json'))
  clearInterval(heartbeat)
  const loaded = Database.load(join(dir, 'snapshot.json'))
  check(loaded.getTable('users').count() === users.count(), `saveAsync wrote ${users.count()} users; the heartbeat ran ${ticks} times during the save`)
}

console.log('\n— A concurrent web application with a background BackupManager')
{
  const sessions = db.createTable('sessions', { primaryKey: 'session_id' })
  const events = db.createTable('events', { primaryKey: 'event_id' })
  sessions.createIndex('user_id')
  events.createIndex('session_id')
  const backups = new BackupManager(db, join(dir, 'backups'), { intervalMs: 60_000, minIntervalMs: 10, incremental: true })
  backups.start()
  const off = db.onCommit(() => backups.notifyChange())

  let nextEvent = 1
  async function handleRequest(sessionId: string, userId: number, action: string): Promise<void> {
    await sleep(Math.random() * 3) // the request's own I/O
    await sessions.lock.write(async () => {
      // Read then create under one write lock: two requests of one session cannot both create it.
      if (sessions.count({ session_id: sessionId }) === 0) sessions.insert({ session_id: sessionId, user_id: userId })
    })
    events.insert({ event_id: nextEvent++, session_id: sessionId, action })
  }
  await Promise.all(Array.from({ length: 200 }, (_, i) => handleRequest(`s${i % 40}`, i % 40, i % 2 ? 'view' : 'click')))
  sessions.delete(sessions.field('user_id').lt(5)) // the hourly clean-up of old sessions

  off()
  await backups.backupNow()
  await backups.stop()
  const files = readdirSync(join(dir, 'backups'))
  const restored = BackupManager.restore(join(dir, 'backups'))
  check(sessions.count() === 35 && events.count() === 200, '200 requests made 40 sessions (one each, never two) and 200 events; 5 sessions cleaned up')
  check(
    restored.getTable('sessions').count() === 35 && restored.getTable('events').count() === 200 && restored.getTable('users').count() === users.count(),
    `the backups (${files.length} files: a full backup, then deltas of the commits) restore the same database`,
  )
}

rmSync(dir, { recursive: true, force: true })
console.log('\nEvery invariant of the concurrency tour held.')
