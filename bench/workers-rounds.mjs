// Why a round of inc2 (bench/workers.mjs: increments by key from 2 workers on distinct records of
// a shared database) is slow or fast (session 20). Each round starts 2 fresh workers, as the
// bench does, and times WINDOWS windows of WINDOW_MS that both start at the same moment (the
// monotonic clock common to all threads); per window and worker it prints what the round is made
// of: updates per second, the thread's CPU and run-queue wait (/proc/thread-self/schedstat), the
// vCPU it ran on, its page faults, and the snapshots published meanwhile (all threads'). Each
// worker's control ns (workers-lib.mjs `controlNs`: how fast its vCPU ran) ends the round.
// A local database's single worker is timed first, as the ratio's denominator.
//
// Run after a build: node --expose-gc bench/workers-rounds.mjs [--rounds=6] [--windows=8]
//   [--window-ms=100] [--warm-ms=200]   (DICTDB_MODULE=path/to/dist/index.js: another build)
// What it showed (docs in bench/README.md, "workers-rounds.mjs"): snapshots taken by both workers
// in the same window (fixed), the slower vCPU's worker falling behind, and lockstep contention.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { consume } from './harness.mjs'
import { Database, WARM_MS, controlNs, fill, increment, median, threadClock, threadFaults, warmRing } from './workers-lib.mjs'

const arg = (name, fallback) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback)
const ROUNDS = arg('rounds', 6)
const WINDOWS = arg('windows', 8)
const WINDOW_MS = arg('window-ms', 100)
const WARM = arg('warm-ms', WARM_MS)
/** ms between windows (the workers keep caught up meanwhile). */
const GAP_MS = 20
/** How long after the workers are started the first window begins (time to attach and warm up). */
const START_MS = 4000

const pct = (x) => `${Math.round(x * 100)}%`
const mops = (w) => (w.ops / w.ms / 1000).toFixed(2)

if (!isMainThread) runWorker(workerData)
else await main()

/** ms on the clock common to all threads. */
function commonMs() {
  return Number(process.hrtime.bigint()) / 1e6
}

/** The vCPU this thread last ran on (field 39 of /proc/thread-self/stat), or -1. */
function cpuNow() {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8')
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[36])
  } catch {
    return -1
  }
}

function runWorker({ handle, index, own, t0 }) {
  const db = own ? new Database() : Database.attach(handle)
  const t = own ? fill(db) : db.getTable('people')
  const op = (i) => t.update({ score: increment(1) }, { id: 1 + index + 2 * (i % 1000) })
  const warmStart = threadClock()?.cpu ?? performance.now()
  let i = 0
  do for (let k = 0; k < 256; k++) op(i++)
  while (i < 2000 || (threadClock()?.cpu ?? performance.now()) - warmStart < WARM)
  const faults = threadFaults()
  const snapshots = () => (own ? 0 : db.stats().shared.snapshotsTaken)
  const out = []
  // Still warming up when the first window was due: that window starts late, not with the other's.
  const late = commonMs() > t0
  for (let w = 0; w < WINDOWS; w++) {
    // Waiting, a shared worker keeps its replica caught up (a read), as in bench/workers.mjs.
    while (commonMs() < t0 + w * (WINDOW_MS + GAP_MS)) for (let k = 0; k < 512; k++) own || consume(t.get(1))
    const f0 = faults()
    const s0 = snapshots()
    const c0 = threadClock()
    const start = performance.now()
    let n = 0
    while (true) {
      for (let k = 0; k < 64; k++) op(i++)
      n += 64
      if (performance.now() - start >= WINDOW_MS) break
    }
    const ms = performance.now() - start
    const c1 = threadClock()
    out.push({ ops: n, ms, cpu: c0 && c1 ? (c1.cpu - c0.cpu) / ms : Number.NaN, wait: c0 && c1 ? (c1.wait - c0.wait) / ms : Number.NaN, vcpu: cpuNow(), faults: faults() - f0, snapshots: snapshots() - s0 })
  }
  parentPort.postMessage({ index, late, windows: out, control: controlNs() })
}

/** One round: `count` fresh workers (`own`: on a local database each), their windows. */
async function round(db, own, count) {
  const t0 = commonMs() + START_MS + WARM
  const workers = Array.from({ length: count }, (_, index) => new Worker(fileURLToPath(import.meta.url), { workerData: { handle: own ? undefined : db.handle(), index, own, t0 } }))
  const results = await Promise.all(workers.map((w) => new Promise((resolve, reject) => {
    w.once('message', resolve)
    w.once('error', reject)
  })))
  await Promise.all(workers.map((w) => w.terminate()))
  return results
}

async function main() {
  const db = new Database({ shared: true })
  warmRing(db, fill(db))
  const [local] = await round(null, true, 1)
  const localOps = median(local.windows.map((w) => (w.ops / w.ms) * 1000))
  console.log(`local, 1 worker: ${(localOps / 1e6).toFixed(2)} M updates/s (median of ${WINDOWS} windows), control ${local.control.toFixed(0)} ns`)
  console.log(`${ROUNDS} rounds of 2 fresh workers, ${WINDOWS} windows of ${WINDOW_MS} ms; per window: M/s, CPU, run-queue wait, vCPU, page faults of each worker; snapshots published`)
  const perRound = []
  for (let r = 0; r < ROUNDS; r++) {
    const res = await round(db, false, 2)
    const sums = Array.from({ length: WINDOWS }, (_, w) => res.reduce((s, x) => s + (x.windows[w].ops / x.windows[w].ms) * 1000, 0))
    const ratio = median(sums) / localOps
    perRound.push(ratio)
    console.log(`round ${r}: median ${ratio.toFixed(2)}× local (windows ${sums.map((s) => (s / localOps).toFixed(2)).join(' ')}), control ns ${res.map((x) => x.control.toFixed(0)).join('/')}${res.some((x) => x.late) ? ' (a worker started late: windows not aligned)' : ''}`)
    for (let w = 0; w < WINDOWS; w++) {
      const cells = res.map((x) => {
        const o = x.windows[w]
        return `w${x.index} ${mops(o)} cpu ${pct(o.cpu)} wait ${pct(o.wait)} vcpu ${o.vcpu} faults ${o.faults}`
      })
      console.log(`  ${w}: ${cells.join(' | ')} | snapshots ${Math.max(...res.map((x) => x.windows[w].snapshots))}`)
    }
  }
  console.log(`inc2 ÷ local, median per round: ${perRound.map((x) => x.toFixed(2)).join(' ')}; median ${median(perRound).toFixed(2)}×`)
}
