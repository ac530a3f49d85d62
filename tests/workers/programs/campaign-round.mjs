// One round of the fault campaign (tests/workers/campaign.test.ts), run in a child process with
// a time limit so that a hang fails the round. Usage: node campaign-round.mjs <seed>.
// Workers run random programs (campaign-worker.mjs) while this thread writes too and terminates
// some of them at random moments. Checks, printed as one JSON line `{ seed, problems, ... }`:
// every listener heard each commit once, in order (chain checks); the final state equals the
// model built from the commits heard; no lock is left held; and the process ends by itself.
import { Worker } from 'node:worker_threads'
import { Database, increment } from 'dictdb'
import { ChainCheck, rng } from './campaign-common.mjs'

const seed = Number(process.argv[2])
const random = rng(seed)
const TABLES = ['t0', 't1', 't2']
const KEYS = 8
const WORKERS = 3
const problems = []

const db = new Database({ shared: true, lockTimeoutMs: 1000 })
for (const name of TABLES) {
  const t = db.createTable(name)
  for (let id = 0; id < KEYS; id++) t.insert({ id, v: 0 })
}
db.createTable('log')
const chain = new ChainCheck(db, [...TABLES, 'log'])
let heard = 0
db.onCommit((commit) => {
  heard++
  chain.hear(commit)
  db.getTable('t1').count() // a listener that reads
  const first = commit.ops[0]
  if (first?.type === 'record' && first.table === 't1' && random() < 0.05) db.getTable('log').insert({ by: 'main', saw: first.key })
})

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const results = []
let terminated = 0
const finished = []
for (let i = 0; i < WORKERS; i++) {
  const worker = new Worker(new URL('../fixtures/campaign-worker.mjs', import.meta.url), {
    workerData: { db: db.handle(), seed: (seed * 31 + i) >>> 0, id: i, tables: TABLES, keys: KEYS, steps: 40 + Math.floor(random() * 80) },
  })
  finished.push(
    new Promise((resolve) => {
      worker.on('message', (msg) => msg.type === 'done' && results.push({ worker: i, ...msg.payload }))
      worker.on('error', (error) => problems.push(`worker ${i} failed: ${error.stack}`))
      worker.on('exit', resolve)
    }),
  )
  if (random() < 0.4) {
    const at = Math.floor(random() * 150)
    setTimeout(() => worker.terminate().then(() => terminated++), at)
  }
}

// This thread writes too, with its listener running between its calls.
for (let i = 0; i < 30; i++) {
  try {
    db.getTable(TABLES[i % TABLES.length]).update({ v: increment(1) }, { id: i % KEYS })
  } catch (error) {
    if (error.name !== 'LockTimeoutError' && error.name !== 'DeadlockError') problems.push(`main: ${error.name}: ${error.message}`)
  }
  await sleep(Math.floor(random() * 3))
}
await Promise.all(finished)

for (const result of results) {
  if (!result.ok) problems.push(`worker ${result.worker}: ${result.error.name}: ${result.error.message}`)
  for (const p of result.problems) problems.push(`worker ${result.worker} listener: ${p}`)
}
// No lock left held: every table is free, and a transaction writing all of them goes through.
for (const name of [...TABLES, 'log']) if (db.getTable(name).lock.locked) problems.push(`${name} is still locked`)
try {
  db.transaction(() => TABLES.forEach((name) => db.getTable(name).count()), { tables: [...TABLES, 'log'] })
} catch (error) {
  problems.push(`a transaction over every table failed: ${error.name}: ${error.message}`)
}
// The final state is the model built from the commits this thread's listener heard.
for (const name of [...TABLES, 'log']) {
  const actual = JSON.stringify(db.getTable(name).all().sort((a, b) => (a.id < b.id ? -1 : 1)))
  if (actual !== JSON.stringify(chain.records(name))) problems.push(`${name}: the final state differs from the model of the commits heard`)
}
for (const p of chain.problems) problems.push(`main listener: ${p}`)
const stats = db.stats()
console.log(JSON.stringify({ seed, problems, heard, terminated, results: results.map((r) => r.outcomes), deadlockRetries: Object.values(stats.tables).reduce((n, t) => n + t.deadlockRetries, 0) }))
db.close()
