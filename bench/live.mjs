// Live queries and TTL benchmark (issue 13).
//
//   npm run build && node --expose-gc bench/live.mjs [--quick] [--records=N] [--updates=N] [--rounds=N] [--only=watch|sweep]
//
// 1. A watch of ~1% of a 100k-record table (an indexed `group`), then 10k single-record updates:
//    the time per update with the watch, against re-running the select after each update
//    (goal: >= 100x faster), and — for updates that do not touch the result — against the same
//    updates without any watch (goal: within 1.5x).
// 2. The TTL sweep of 100k expired records: how long until all are deleted, and the longest
//    event-loop stall it causes (goal: < 20 ms).
// Update figures are CPU time per update (process.cpuUsage), medians over rounds: steadier than
// wall time on a machine shared with other work. Read them as orders of magnitude there.

import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { collectGarbage, parseArgs } from './harness.mjs'

const args = parseArgs()
const quick = Boolean(args.quick)
const N = Number(args.records ?? 100_000)
const UPDATES = Number(args.updates ?? (quick ? 2000 : 10_000))
const ROUNDS = Number(args.rounds ?? (quick ? 3 : 5))
const GROUPS = 100 // group 7 is the watched 1%
const modulePath = process.env.DICTDB_MODULE ?? fileURLToPath(new URL('../dist/index.js', import.meta.url))
const { Database, increment } = await import(pathToFileURL(modulePath).href)

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
const us = (ms) => `${(ms * 1000).toFixed(2)} µs`

function table(indexed = true) {
  const db = new Database()
  const t = db.createTable('items', indexed ? { indexes: [{ field: 'group' }] } : {})
  t.insert(Array.from({ length: N }, (_, i) => ({ id: i + 1, group: i % GROUPS, v: 0, name: `item ${i}` })))
  // Untimed: the first update of a record compiles its copier; every measure then sees warm records.
  for (let i = 0; i < UPDATES; i++) {
    t.update({ v: increment(1) }, { id: inGroup(i) })
    t.update({ v: increment(1) }, { id: outOfGroup(i) })
  }
  return { db, t }
}

/** Keys of records in the watched group (touching the result) or out of it (not touching it). */
const inGroup = (i) => ((i * GROUPS) % N) + 8 // id - 1 ≡ 7 (mod 100)
const outOfGroup = (i) => ((i * 7919) % N) + 1 + (((i * 7919) % N) % GROUPS === 7 ? 1 : 0)

/** This process's CPU time in ms (GC threads included): on a machine shared with other work, steadier than wall time. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

/** CPU milliseconds per update of `UPDATES` updates of key(i), with `after` run after each. */
function perUpdate(t, key, after) {
  collectGarbage()
  const start = cpuMs()
  for (let i = 0; i < UPDATES; i++) {
    t.update({ v: increment(1) }, { id: key(i) })
    after?.()
  }
  return (cpuMs() - start) / UPDATES
}

function round() {
  const out = {}
  const query = { where: { group: 7 } }
  {
    const { db, t } = table()
    let calls = 0
    const view = t.watch(query, () => calls++)
    perUpdate(t, outOfGroup) // discarded: the first measure of a table runs slower, whatever it is
    out.watchTouching = perUpdate(t, inGroup)
    out.watchNotTouching = perUpdate(t, outOfGroup)
    if (view.rows.length !== N / GROUPS || calls !== UPDATES + 1) throw new Error(`watch saw ${calls} calls, ${view.rows.length} rows`)
    view.close()
    db.close()
  }
  {
    const { db, t } = table()
    perUpdate(t, outOfGroup) // discarded, as above
    out.bareNotTouching = perUpdate(t, outOfGroup)
    out.bareTouching = perUpdate(t, inGroup)
    out.rerunCopy = perUpdate(t, inGroup, () => t.select(query))
    out.rerunNoCopy = perUpdate(t, inGroup, () => t.select({ ...query, copy: false }))
    db.close()
  }
  {
    // Without an index on the watched field, re-running is a scan of the table (fewer updates: each costs a scan).
    const { db, t } = table(false)
    collectGarbage()
    const start = cpuMs()
    const n = Math.max(50, UPDATES / 50)
    for (let i = 0; i < n; i++) {
      t.update({ v: increment(1) }, { id: inGroup(i) })
      t.select(query)
    }
    out.rerunScan = (cpuMs() - start) / n
    db.close()
  }
  return out
}

async function sweep() {
  const db = new Database()
  const t = db.createTable('sessions', { ttl: { field: 'expiresAt' } })
  const past = Date.now() - 1
  t.insert(Array.from({ length: N }, (_, i) => ({ id: i, expiresAt: past })))
  collectGarbage()
  let deleted = 0
  let first = 0
  let last = 0
  db.onCommit((c) => {
    if (deleted === 0) first = performance.now()
    deleted += c.ops.length
    last = performance.now()
  })
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  // A 1 ms ticker: the longest gap between its ticks is the longest stall; the CPU time this
  // process spent within a gap tells the sweep's own work from waiting for a shared core.
  let longestGap = 0
  let longestCpu = 0
  let previous = performance.now()
  let previousCpu = cpuMs()
  const ticker = setInterval(() => {
    const now = performance.now()
    const cpu = cpuMs()
    if (deleted > 0 && deleted < N) {
      longestGap = Math.max(longestGap, now - previous)
      longestCpu = Math.max(longestCpu, cpu - previousCpu)
    }
    previous = now
    previousCpu = cpu
  }, 1)
  histogram.enable()
  const deadline = performance.now() + 60_000
  while (deleted < N && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5))
  histogram.disable()
  clearInterval(ticker)
  db.close()
  if (deleted !== N) throw new Error(`the sweep deleted ${deleted} of ${N}`)
  return { ms: last - first, longestGap, longestCpu, histogramMax: histogram.max / 1e6 }
}

const only = args.only // 'watch' or 'sweep': one half of the bench
const rounds = []
for (let r = 0; r < (only === 'sweep' ? 0 : ROUNDS); r++) rounds.push(round())
const m = (k) => median(rounds.map((x) => x[k]))
if (rounds.length > 0) {
  console.log(`records ${N}, watched ${N / GROUPS} (1%), ${UPDATES} updates per measure, median of ${ROUNDS} rounds`)
  console.log(`update touching the result, with the watch:     ${us(m('watchTouching'))}`)
  console.log(`update + re-run select (copies):                ${us(m('rerunCopy'))}   -> watch ${(m('rerunCopy') / m('watchTouching')).toFixed(0)}x faster`)
  console.log(`update + re-run select (copy: false):           ${us(m('rerunNoCopy'))}   -> watch ${(m('rerunNoCopy') / m('watchTouching')).toFixed(0)}x faster`)
  console.log(`update + re-run select, no index (a scan):     ${us(m('rerunScan'))}   -> watch ${(m('rerunScan') / m('watchTouching')).toFixed(0)}x faster`)
  const watchAdds = m('watchTouching') - m('bareTouching')
  const selectAdds = m('rerunCopy') - m('bareTouching')
  console.log(`the same update, no watch, no select:           ${us(m('bareTouching'))}`)
  console.log(`what each adds to an update: the watch ${us(watchAdds)}, the select ${us(selectAdds)} -> ${(selectAdds / Math.max(watchAdds, 1e-6)).toFixed(0)}x`)
  console.log(`update not touching the result, with the watch: ${us(m('watchNotTouching'))}`)
  console.log(`the same update, no watch:                      ${us(m('bareNotTouching'))}   -> ratio ${(m('watchNotTouching') / m('bareNotTouching')).toFixed(2)}x`)
}

const sweeps = []
for (let r = 0; r < (only === 'watch' ? 0 : Math.min(ROUNDS, 3)); r++) sweeps.push(await sweep())
if (sweeps.length > 0) console.log(
  `TTL sweep of ${N} expired records: ${median(sweeps.map((s) => s.ms)).toFixed(0)} ms (first to last delete), ` +
    `longest event-loop stall (the longest gap of a 1 ms timer) ${median(sweeps.map((s) => s.longestGap)).toFixed(1)} ms (goal < 20; CPU of this process within it, GC threads included ${median(sweeps.map((s) => s.longestCpu)).toFixed(1)} ms), ` +
    `event-loop delay max ${median(sweeps.map((s) => s.histogramMax)).toFixed(1)} ms`,
)
