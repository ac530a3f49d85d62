// An A/B of two builds of dictdb in one process when their shared layouts differ (session 22):
// workers-ab.mjs attaches both builds to one database, which a PROTOCOL bump forbids. Here each
// build has a shared database of its own (A's filled and warmed by workers-lib.mjs, B's the same
// way with B's classes), a pair of workers of that build increments distinct records of it, and
// 200-ms windows alternate the A pair and the B pair (the order flips each cycle), with a local
// worker's window and two 30-ms ping-pongs (round trip of a cache line between two workers'
// vCPUs, before and after the pairs) each cycle. Prints per cycle and a summary: all cycles, and
// those whose two ping-pongs both found fast (< 220 ns) or slow (280-600 ns) transfers.
// Run it both ways round (A, B then B, A): in session 22, main against itself gave 1.03.
// Usage: DICTDB_MODULE=A/index.js node --expose-gc bench/workers-ab-own.mjs A/index.js B/index.js [cycles=30] [window ms=200]
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { now, pingPong, incrementWorker } from './thread-probe.mjs'
const LIB = './workers-lib.mjs'

if (!isMainThread) {
  const { role, handle, index, pp } = workerData
  if (role === 'pp') {
    pingPong(pp, index)
  } else {
    const lib = await import(LIB)
    const mod = workerData.module ? await import(pathToFileURL(workerData.module).href) : lib
    let db, t
    if (role === 'own') { db = new lib.Database(); t = lib.fill(db) } else { db = mod.Database.attach(handle); t = db.getTable('people') }
    const inc = role === 'own' ? lib.increment : mod.increment
    incrementWorker(t, inc, index)
  }
} else {
  // Two builds, each with its own shared database, in one process: A (DICTDB_MODULE) and B.
  const [A, B, cyclesArg, winArg] = process.argv.slice(2)
  const CYCLES = Number(cyclesArg ?? 30), WIN = Number(winArg ?? 200)
  const lib = await import(LIB)
  const libB = await import(pathToFileURL(B).href)
  const dbA = new lib.Database({ shared: true }); lib.warmRing(dbA, lib.fill(dbA), true)
  // B's database filled as lib.fill does, with B's Database
  const dbB = new libB.Database({ shared: true })
  const tB = dbB.createTable('people', { indexes: [{ field: 'age', type: 'sorted' }, { field: 'city' }] }); tB.insert(lib.people())
  { const s0 = dbB.stats().shared; const cap = s0.logBytesUsed + s0.logBytesFree; let used = 0, k = 0; for (; k < 3_000_000; k++) { tB.update({ score: libB.increment(1) }, { id: 1 + (k % lib.N) }); if (k % 100000 === 99999) { const u = dbB.stats().shared; if (u.snapshotsTaken > 0 && k > 2_000_000) break } } }
  const spawn = (wd) => new Promise((res) => { const w = new Worker(fileURLToPath(import.meta.url), { workerData: wd }); w.once('message', () => res(w)) })
  const ask = (w, m) => new Promise((res) => { w.once('message', res); w.postMessage(m) })
  const pairs = {
    A: [await spawn({ role: 'shared', module: A, handle: dbA.handle(), index: 0 }), await spawn({ role: 'shared', module: A, handle: dbA.handle(), index: 1 })],
    B: [await spawn({ role: 'shared', module: B, handle: dbB.handle(), index: 0 }), await spawn({ role: 'shared', module: B, handle: dbB.handle(), index: 1 })],
  }
  const local = await spawn({ role: 'own', index: 0 })
  const pp = new SharedArrayBuffer(256)
  const ppw = [await spawn({ role: 'pp', index: 0, pp }), await spawn({ role: 'pp', index: 1, pp })]
  for (const w of [...pairs.A, ...pairs.B, local]) await ask(w, { type: 'warm', ms: 300 })
  for (const k of ['A', 'B']) { await Promise.all(pairs[k].map((w) => ask(w, { type: 'prep' }))); const t0 = now() + 5; await Promise.all(pairs[k].map((w) => ask(w, { type: 'go', t0, ms: 300 }))) }
  const run = async (ws) => {
    await Promise.all(ws.map((w) => ask(w, { type: 'prep' })))
    const t0 = now() + 5
    const r = await Promise.all(ws.map((w) => ask(w, { type: 'go', t0, ms: WIN })))
    return r.reduce((s, x) => s + x.ops / x.ms * 1000, 0)
  }
  const rows = []
  for (let c = 0; c < CYCLES; c++) {
    const order = c % 2 === 0 ? ['A', 'B'] : ['B', 'A']
    const got = {}
    const ppa = new Int32Array(pp); ppa[0] = 0; ppa[1] = 0
    const p0 = await Promise.all(ppw.map((w) => ask(w, { ms: 30 })))
    for (const k of order) got[k] = await run(pairs[k])
    ppa[0] = 0; ppa[1] = 0
    const p1 = await Promise.all(ppw.map((w) => ask(w, { ms: 30 })))
    const L = await run([local])
    const rt0 = 30 / p0[0].n * 1e6, rt1 = 30 / p1[0].n * 1e6
    rows.push({ A: got.A, B: got.B, L, rt0, rt1 })
    console.log(`C${c} A ${(got.A / 1e6).toFixed(2)} B ${(got.B / 1e6).toFixed(2)} B/A ${(got.B / got.A).toFixed(2)} L ${(L / 1e6).toFixed(2)} pp ${rt0.toFixed(0)}/${rt1.toFixed(0)}ns`)
  }
  const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[s.length >> 1] : NaN }
  for (const [name, lo, hi] of [['all', 0, 1e9], ['fast', 0, 220], ['slow', 280, 600]]) {
    const xs = rows.filter((x) => x.rt0 >= lo && x.rt0 < hi && x.rt1 >= lo && x.rt1 < hi)
    console.log(`SUMMARY ${name}: ${xs.length} cycles, A ${(med(xs.map((x) => x.A)) / 1e6).toFixed(2)}M B ${(med(xs.map((x) => x.B)) / 1e6).toFixed(2)}M, B/A per cycle ${med(xs.map((x) => x.B / x.A)).toFixed(2)}, B wins ${xs.filter((x) => x.B > x.A).length}/${xs.length}, A/local ${med(xs.map((x) => x.A / x.L)).toFixed(2)} B/local ${med(xs.map((x) => x.B / x.L)).toFixed(2)}`)
  }
  process.exit(0)
}
