// An A/B of two builds of dictdb in one process (session 21): a shared database (made by build A,
// DICTDB_MODULE), 2 workers of build A and 2 of build B attached to it (the shared layout must be
// the same), and windows that alternate the A pair and the B pair (the idle pair waits on a
// message, and catches up before its window), each pair incrementing distinct records as inc2
// does in bench/workers.mjs; a local single worker's window (build A) each cycle gives the ratio.
// Both builds see the same database, process, and phase of the host: what the per-run level
// (which moves from one process to the next) hides in an A/B of separate runs.
// Usage: DICTDB_MODULE=A/index.js node --expose-gc bench/workers-ab.mjs A/index.js B/index.js [cycles=30] [window ms=200]
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { fileURLToPath, pathToFileURL } from 'node:url'

const now = () => Number(process.hrtime.bigint()) / 1e6

if (!isMainThread) {
  const { module, handle, index, own } = workerData
  const { Database, increment } = await import(pathToFileURL(module).href)
  let db, t
  if (own) {
    const lib = await import('./workers-lib.mjs')
    db = new lib.Database(); t = lib.fill(db)
  } else { db = Database.attach(handle); t = db.getTable('people') }
  const inc = own ? (await import('./workers-lib.mjs')).increment : increment
  let i = 0
  const op = (k) => t.update({ score: inc(1) }, { id: 1 + index + 2 * (k % 1000) })
  parentPort.on('message', (m) => {
    if (m.type === 'warm') { const end = performance.now() + m.ms; while (performance.now() < end) for (let k = 0; k < 64; k++) op(i++); parentPort.postMessage('ok') }
    else if (m.type === 'prep') { t.get(1); parentPort.postMessage('ok') }
    else if (m.type === 'go') {
      while (now() < m.t0) t.get(1)
      const start = performance.now(); let n = 0
      for (;;) { for (let k = 0; k < 64; k++) op(i++); n += 64; if (performance.now() - start >= m.ms) break }
      parentPort.postMessage({ ops: n, ms: performance.now() - start })
    }
  })
  parentPort.postMessage('ready')
} else {
  const [A, B, cyclesArg, winArg] = process.argv.slice(2)
  const CYCLES = Number(cyclesArg ?? 30), WIN = Number(winArg ?? 200)
  const lib = await import('./workers-lib.mjs') // DICTDB_MODULE = A
  const db = new lib.Database({ shared: true })
  lib.warmRing(db, lib.fill(db), true)
  const handle = db.handle()
  const spawn = (module, index, own = false) => new Promise((res) => { const w = new Worker(fileURLToPath(import.meta.url), { workerData: { module, handle: own ? undefined : handle, index, own } }); w.once('message', () => res(w)) })
  const ask = (w, m) => new Promise((res) => { w.once('message', res); w.postMessage(m) })
  const pairs = { A: [await spawn(A, 0), await spawn(A, 1)], B: [await spawn(B, 0), await spawn(B, 1)] }
  const local = await spawn(A, 0, true)
  for (const w of [...pairs.A, ...pairs.B]) await ask(w, { type: 'warm', ms: 300 })
  await ask(local, { type: 'warm', ms: 300 })
  // warm both members of each pair together (contended paths)
  for (const k of ['A', 'B']) { await Promise.all(pairs[k].map((w) => ask(w, { type: 'prep' }))); const t0 = now() + 5; await Promise.all(pairs[k].map((w) => ask(w, { type: 'go', t0, ms: 300 }))) }
  const res = { A: [], B: [], L: [] }
  // Per window of a pair, the smaller of its two workers' shares of the pair's updates (0.5: even).
  const shares = { A: [], B: [], L: [] }
  const run = async (ws, k) => {
    await Promise.all(ws.map((w) => ask(w, { type: 'prep' })))
    const t0 = now() + 5
    const rates = (await Promise.all(ws.map((w) => ask(w, { type: 'go', t0, ms: WIN })))).map((x) => x.ops / x.ms * 1000)
    const sum = rates.reduce((s, x) => s + x, 0)
    shares[k].push(Math.min(...rates) / sum)
    return sum
  }
  for (let c = 0; c < CYCLES; c++) {
    const order = c % 2 === 0 ? ['A', 'B'] : ['B', 'A']
    for (const k of order) res[k].push(await run(pairs[k], k))
    res.L.push(await run([local], 'L'))
  }
  const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2 }
  const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))]
  const ratio = res.B.map((b, i) => b / res.A[i])
  const f = (x) => (x / 1e6).toFixed(2)
  console.log(`local ${f(med(res.L))}M | A ${f(med(res.A))}M (q ${f(q(res.A, .25))}-${f(q(res.A, .75))}) ÷local ${(med(res.A) / med(res.L)).toFixed(2)} | B ${f(med(res.B))}M (q ${f(q(res.B, .25))}-${f(q(res.B, .75))}) ÷local ${(med(res.B) / med(res.L)).toFixed(2)} | B/A per cycle median ${med(ratio).toFixed(2)} (q ${q(ratio, .25).toFixed(2)}-${q(ratio, .75).toFixed(2)}), B wins ${ratio.filter((x) => x > 1).length}/${ratio.length}`)
  console.log('A', res.A.map(f).join(' ')); console.log('B', res.B.map(f).join(' '))
  const share = (k) => `${k} smaller worker's share per window: median ${med(shares[k]).toFixed(2)}, min ${Math.min(...shares[k]).toFixed(2)} (${shares[k].map((x) => x.toFixed(2)).join(' ')})`
  console.log(share('A')); console.log(share('B'))
  process.exit(0)
}
