// Bulk deletes (issue 13): 100k records deleted in 200 transactions of 500, with integer keys and
// with string keys: the CPU time of the deletes and of the collections they leave behind (a
// full collection is forced at the end, so work left to the collector is counted).
//
//   npm run build && node --expose-gc bench/deletes.mjs [--rounds=N]
//
// DICTDB_MODULE=/path/to/dist/index.js runs another build (an A/B against main's, say).

import { PerformanceObserver } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { collectGarbage, parseArgs } from './harness.mjs'

const args = parseArgs()
const N = 100_000
const BATCH = 500
const ROUNDS = Number(args.rounds ?? 5)
const modulePath = process.env.DICTDB_MODULE ?? fileURLToPath(new URL('../dist/index.js', import.meta.url))
const { Database } = await import(pathToFileURL(modulePath).href)

let gcMs = 0
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration
}).observe({ entryTypes: ['gc'] })
const settle = () => new Promise((r) => setTimeout(r, 10)) // the observer reports collections so far
const cpuMs = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]

async function deleteAll(id) {
  const db = new Database()
  const t = db.createTable('items')
  t.insert(Array.from({ length: N }, (_, i) => ({ id: id(i), v: i })))
  collectGarbage()
  await settle()
  const gcBefore = gcMs
  const start = cpuMs()
  for (let b = 0; b < N / BATCH; b++) {
    db.transaction(() => {
      for (let i = b * BATCH; i < (b + 1) * BATCH; i++) t.delete({ id: id(i) })
    })
  }
  collectGarbage()
  const cpu = cpuMs() - start
  await settle()
  if (t.count() !== 0) throw new Error(`${t.count()} records left`)
  db.close()
  return { cpu, gc: gcMs - gcBefore }
}

for (const [keys, id] of [['integer', (i) => i], ['string', (i) => `key-${i}`]]) {
  const runs = []
  for (let r = 0; r < ROUNDS; r++) runs.push(await deleteAll(id))
  console.log(
    `${N} deletes in ${N / BATCH} transactions (${keys} keys): CPU ${median(runs.map((r) => r.cpu)).toFixed(1)} ms ` +
      `(collections within it, forced one included: ${median(runs.map((r) => r.gc)).toFixed(1)} ms wall), median of ${ROUNDS}`,
  )
}
