// Why the level of inc2 (2 workers incrementing distinct records of a shared database) moves
// (session 22). One process: a shared database, a pair of workers on distinct records (as
// workers-ab.mjs), a worker on a local database of its own, and two workers that bounce one shared
// word (Atomics.store / load: the round trip of a cache line between the vCPUs they run on).
// Per cycle: the pair's window, the local worker's window, 50 ms of ping-pong; per window and
// worker: M updates/s, CPU and run-queue wait (schedstat), vCPU at start and end, timeslices,
// involuntary context switches, GCs (count/ms); and the other threads of the process that ran
// meanwhile (clock ticks). The summary splits the cycles by the ping-pong's round trip.
// What it showed (bench/README.md): the host moves the 2 vCPUs between nearby cores (round trip
// ~110-170 ns) and cores further apart (~340-420 ns) every few seconds, inside one
// process, and the pair follows it (3.1 against 2.4 M/s before log entries were line-aligned).
// Usage: node --expose-gc [--allow-natives-syntax: prints the shared buffers' addresses]
//   bench/workers-level.mjs [cycles=30] [window ms=200]     (DICTDB_MODULE=path/to/dist/index.js: another build)
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { readdirSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { TID, now, tstat, pingPong, incrementWorker } from './thread-probe.mjs'
const LIB = './workers-lib.mjs'

if (!isMainThread) {
  const { role, handle, index, pp } = workerData
  if (role === 'pp') {
    pingPong(pp, index)
  } else {
    const lib = await import(LIB)
    let db, t
    if (role === 'own') { db = new lib.Database(); t = lib.fill(db) } else { db = lib.Database.attach(handle); t = db.getTable('people') }
    const inc = lib.increment
    incrementWorker(t, inc, index)
  }
} else {
  const [cyclesArg, winArg] = process.argv.slice(2)
  const CYCLES = Number(cyclesArg ?? 30), WIN = Number(winArg ?? 200)
  const lib = await import(LIB)
  const db = new lib.Database({ shared: true })
  lib.warmRing(db, lib.fill(db), true)
  const handle = db.handle()
  if (process.execArgv.includes('--allow-natives-syntax')) {
    const print = new Function('x', '%DebugPrint(x)')
    for (const [k, v] of Object.entries(handle.buffers)) { console.log('buffer', k, v.byteLength); print(v) }
  }
  const spawn = (wd) => new Promise((res) => { const w = new Worker(fileURLToPath(import.meta.url), { workerData: wd }); w.once('message', () => res(w)) })
  const ask = (w, m) => new Promise((res) => { w.once('message', res); w.postMessage(m) })
  const pair = [await spawn({ role: 'shared', handle, index: 0 }), await spawn({ role: 'shared', handle, index: 1 })]
  const local = await spawn({ role: 'own', index: 0 })
  const pp = new SharedArrayBuffer(256)
  const ppw = [await spawn({ role: 'pp', index: 0, pp }), await spawn({ role: 'pp', index: 1, pp })]
  for (const w of [...pair, local]) await ask(w, { type: 'warm', ms: 300 })
  await Promise.all(pair.map((w) => ask(w, { type: 'prep' }))); { const t0 = now() + 5; await Promise.all(pair.map((w) => ask(w, { type: 'go', t0, ms: 300 }))) }
  const names = { [TID()]: 'main' }
  const tasks = () => Object.fromEntries(readdirSync('/proc/self/task').map((id) => { const s = tstat('/proc/self/task/' + id); return [id, s] }))
  const run = async (ws) => {
    await Promise.all(ws.map((w) => ask(w, { type: 'prep' })))
    const before = tasks(); const t0 = now() + 5
    const r = await Promise.all(ws.map((w) => ask(w, { type: 'go', t0, ms: WIN })))
    const after = tasks()
    const mine = new Set(r.map((x) => x.tid))
    const others = Object.entries(after).filter(([id]) => !mine.has(id)).map(([id, s]) => [names[id] ?? id, s.ut - (before[id]?.ut ?? 0)]).filter(([, d]) => d > 0)
    return { r, others }
  }
  const rows = []
  for (const [k, w] of [['p0', pair[0]], ['p1', pair[1]], ['L', local]]) { await ask(w, { type: 'prep' }); names[(await ask(w, { type: 'go', t0: 0, ms: 1 })).tid] = k }
  new Int32Array(pp).fill(0)
  for (const [k, x] of (await Promise.all(ppw.map((w) => ask(w, { ms: 5 })))).entries()) names[x.tid] = 'pp' + k
  for (const id of readdirSync('/proc/self/task')) if (!names[id]) names[id] = tstat('/proc/self/task/' + id).comm.replace(/\s+/g, '_') + '#' + id
  console.log('THREADS', JSON.stringify(names))
  for (let c = 0; c < CYCLES; c++) {
    const P = await run(pair); const L = await run([local])
    const ppa = new Int32Array(pp); ppa[0] = 0; ppa[1] = 0
    const ppr = await Promise.all(ppw.map((w) => ask(w, { ms: 50 })))
    const pops = P.r.reduce((s, x) => s + x.ops / x.ms * 1000, 0), lops = L.r[0].ops / L.r[0].ms * 1000
    const rt = 50 / ppr[0].n * 1e6 // ns per round trip
    rows.push({ pops, lops, rt })
    const w = (x) => `${(x.ops / x.ms / 1000).toFixed(2)} c${(x.cpu / x.ms * 100).toFixed(0)} w${(x.wait / x.ms * 100).toFixed(0)} v${x.v0}${x.v1} sl${x.slices} inv${x.inv} gc${x.gcN}/${x.gcMs.toFixed(1)}`
    console.log(`C${c} P ${(pops / 1e6).toFixed(2)} L ${(lops / 1e6).toFixed(2)} r ${(pops / lops).toFixed(2)} pp ${rt.toFixed(0)}ns v${ppr.map((x) => x.vcpu).join('')} | ${P.r.map(w).join(' | ')} || L ${w(L.r[0])} | oth ${P.others.map(([n, d]) => n + ':' + d).join(',')}`)
  }
  const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1] }
  console.log(`SUMMARY pair ${(med(rows.map((x) => x.pops)) / 1e6).toFixed(2)}M local ${(med(rows.map((x) => x.lops)) / 1e6).toFixed(2)}M ratio ${(med(rows.map((x) => x.pops)) / med(rows.map((x) => x.lops))).toFixed(2)} pp ${med(rows.map((x) => x.rt)).toFixed(0)}ns`)
  // By the ping-pong's round trip (cycles whose ping-pong stalled, a vCPU taken away, left out).
  for (const [name, lo, hi] of [['fast', 0, 220], ['slow', 280, 600]]) {
    const xs = rows.filter((x) => x.rt >= lo && x.rt < hi)
    if (xs.length) console.log(`${name} transfers (round trip ${lo}-${hi} ns): ${xs.length} cycles, pair ${(med(xs.map((x) => x.pops)) / 1e6).toFixed(2)}M, local ${(med(xs.map((x) => x.lops)) / 1e6).toFixed(2)}M, pair ÷ local per cycle ${med(xs.map((x) => x.pops / x.lops)).toFixed(2)}`)
  }
  process.exit(0)
}
