// Shared-database write costs by CPU clock (issue 9, write half), for A/B runs of builds on a busy
// machine, where bench/workers.mjs's wall-clock worker rows swing ~2x between identical runs.
// Run from the repo root: npm run build && node bench/shared-writes.mjs [a/index.js b/index.js …]
// (default: ./dist/index.js). Each round runs every build in a fresh process, builds alternating
// which goes first; the table gives each figure's median over BENCH_ROUNDS rounds (default 5).
// Figures (all CPU time, so a thread that waits for a core costs nothing):
// - ns per update by key: local, and shared with one writer (bench/workers.mjs's pattern);
// - ns a second replica pays to catch up on one such update (in the same thread; B=1 and B=16);
// - ns per sequence.next() in the shared database: one replica; two replicas taking numbers in turn;
// - updates per CPU-second of the writing workers (per-thread clock, 10 ms ticks): 1 worker,
//   2 workers on distinct records, 2 on one hot record; the ratio is to the local figure
//   (BENCH_WORKERS=0 leaves these out);
// - 2 workers on distinct records, by wall clock, counting only the windows of 512 updates that the
//   worker ran on its core all along and in which the other worker did 0.8–1.25x as many (both
//   were on a core: the two-writer regime of an idle machine, which a loaded one shows only now
//   and then): median rate of those windows, summed over both workers, and how many there were.
//   Under load the two mostly run in turn (each writing alone): a whole-window figure mixes both.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads'

const N = 100_000
const MS = Number(process.env.BENCH_WINDOW_MS ?? 1000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
/** Updates per window of the both-on-a-core figure. */
const WINDOW = 512
const self = fileURLToPath(import.meta.url)
const child = process.argv[2] === '--child'

if (!isMainThread) await workerMain(workerData)
else if (child) await childMain(process.argv[3])
else parentMain(process.argv.slice(2))

function parentMain(args) {
  const builds = args.length > 0 ? args : [fileURLToPath(new URL('../dist/index.js', import.meta.url))]
  const runs = builds.map(() => [])
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? builds.map((_, i) => i) : builds.map((_, i) => builds.length - 1 - i)
    for (const i of order) {
      const out = spawnSync(process.execPath, ['--expose-gc', self, '--child', builds[i]], { encoding: 'utf8' })
      if (out.status !== 0) throw new Error(`${builds[i]}: ${out.stderr}`)
      runs[i].push(JSON.parse(out.stdout))
      process.stderr.write(`round ${r + 1}/${ROUNDS} ${builds[i]} load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`)
    }
  }
  const keys = Object.keys(runs[0][0])
  const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]
  console.log(['figure', ...builds.map((b) => b.replace(/\/index\.js$/, ''))].join(' | '))
  for (const k of keys) console.log([k, ...runs.map((rs) => fmt(median(rs.map((x) => x[k]))))].join(' | '))
}

function fmt(x) {
  return x >= 100 ? x.toFixed(0) : x.toFixed(2)
}

async function load(path) {
  return import(pathToFileURL(path).href)
}

function fill(db) {
  const t = db.createTable('people', { indexes: [{ field: 'age', type: 'sorted' }, { field: 'city' }] })
  t.insert(Array.from({ length: N }, (_, i) => ({ id: i + 1, name: `person${i}`, age: 18 + (i % 63), city: `city${i % 50}`, score: 0 })))
  return t
}

function cpuNs() {
  const u = process.cpuUsage()
  return (u.user + u.system) * 1000
}

/** Least CPU ns per call of `op` over a few timed batches (after a warm-up). */
function nsPerOp(op, batch = 50_000) {
  for (let i = 0; i < batch; i++) op(i)
  let best = Infinity
  for (let r = 0; r < 5; r++) {
    global.gc?.()
    const c = cpuNs()
    for (let i = 0; i < batch; i++) op(i)
    best = Math.min(best, (cpuNs() - c) / batch)
  }
  return best
}

async function childMain(path) {
  const { Database, increment } = await load(path)
  const keys = Array.from({ length: 4096 }, (_, i) => 1 + ((i * 7919) % N))
  const lt = fill(new Database())
  const local = nsPerOp((i) => lt.update({ score: increment(1) }, { id: keys[i & 4095] }))
  const shared = new Database({ shared: true })
  const st = fill(shared)
  const write = nsPerOp((i) => st.update({ score: increment(1) }, { id: 1 + (i % 1000) }))
  const other = Database.attach(shared.handle()).getTable('people')
  const catchUp = (b) => nsPerOp((i) => {
    for (let j = 0; j < b; j++) st.update({ score: increment(1) }, { id: 1 + ((i * b + j) % 1000) })
    other.get(1)
  }, 50_000 / b) / b - write
  // sequence.next() in the shared database: one replica, then two taking numbers in turn (each
  // catches up on the other's before taking its own), per next().
  const seq = shared.sequence('bench', { format: 'B{000000}' })
  const seqOther = Database.attach(shared.handle()).sequence('bench')
  const out = {
    'local update ns': local,
    'shared update ns (1 writer)': write,
    'catch-up ns/entry B=1': catchUp(1),
    'catch-up ns/entry B=16': catchUp(16),
    'sequence.next() ns (shared, 1 replica)': nsPerOp(() => seq.next()),
    'sequence.next() ns (shared, 2 replicas in turn)': nsPerOp((i) => (i & 1 ? seq : seqOther).next()),
  }
  const localRate = 1e9 / local
  if (process.env.BENCH_WORKERS !== '0') for (const [name, task, count] of [['1 worker', 'incDistinct', 1], ['2 workers distinct', 'incDistinct', 2], ['2 workers hot', 'incHot', 2]]) {
    const rate = await inWorkers(path, shared, task, count)
    out[`${name}: k updates/cpu-s`] = rate / 1e3
    out[`${name}: ÷ local`] = rate / localRate
  }
  if (process.env.BENCH_WORKERS !== '0') {
    const together = await togetherWindows(path, shared)
    out['2 workers distinct, both on a core: k updates/s'] = together.rate / 1e3
    out['2 workers distinct, both on a core: windows'] = together.count
  }
  console.log(JSON.stringify(out))
  process.exit(0)
}

async function inWorkers(path, shared, task, count) {
  const barrier = new Int32Array(new SharedArrayBuffer(8))
  const ws = Array.from({ length: count }, (_, index) => new Worker(self, { workerData: { path, task, index, count, barrier, db: shared.handle() } }))
  const rs = await Promise.all(ws.map((w) => new Promise((res, rej) => {
    w.once('message', res)
    w.once('error', rej)
  })))
  await Promise.all(ws.map((w) => w.terminate()))
  return rs.reduce((s, r) => s + r.n / r.cpu, 0)
}

/** See the header: the median rate of the windows in which both workers ran, summed; and their count. */
async function togetherWindows(path, shared) {
  const progress = new Int32Array(new SharedArrayBuffer(16))
  const ws = [0, 1].map((index) => new Worker(self, { workerData: { path, task: 'windows', index, count: 2, barrier: progress, db: shared.handle() } }))
  const rs = await Promise.all(ws.map((w) => new Promise((res, rej) => {
    w.once('message', res)
    w.once('error', rej)
  })))
  await Promise.all(ws.map((w) => w.terminate()))
  const rates = rs.flatMap((r) => r.windows.filter(([, other]) => other >= 0.8 * WINDOW && other <= 1.25 * WINDOW).map(([ms]) => (WINDOW / ms) * 1000))
  const sorted = rates.sort((a, b) => a - b)
  return { rate: sorted.length === 0 ? Number.NaN : 2 * sorted[sorted.length >> 1], count: sorted.length }
}

/** This thread's CPU seconds (Linux: /proc/thread-self/stat, in clock ticks of 10 ms). */
function threadCpu() {
  const f = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}

async function workerMain({ path, task, index, count, barrier, db: handle }) {
  const { Database, increment } = await load(path)
  const t = Database.attach(handle).getTable('people')
  const op = task === 'incHot'
    ? () => t.update({ score: increment(1) }, { id: 1 })
    : (i) => t.update({ score: increment(1) }, { id: 1 + index + count * (i % 1000) })
  for (let i = 0; i < 2000; i++) op(i)
  Atomics.add(barrier, 0, 1)
  while (Atomics.load(barrier, 0) < count);
  if (task === 'windows') return windowsMain(op, index, barrier)
  const c0 = threadCpu()
  const end = performance.now() + MS
  let n = 0
  while (performance.now() < end) for (let k = 0; k < 64; k++) op(n++)
  parentPort.postMessage({ n, cpu: threadCpu() - c0 })
}

/** Windows of WINDOW updates: [ms, updates the other worker did meanwhile] (progress in barrier[2 + index]). */
function windowsMain(op, index, progress) {
  const other = 2 + (1 - index)
  const windows = []
  const end = performance.now() + MS
  let n = 0
  for (;;) {
    const before = Atomics.load(progress, other)
    const c0 = runNs()
    const t0 = performance.now()
    for (let k = 0; k < WINDOW; k += 64) {
      for (let j = 0; j < 64; j++) op(n++)
      Atomics.store(progress, 2 + index, n)
    }
    const t1 = performance.now()
    const ms = t1 - t0
    // A window this thread spent partly off its core is left out too.
    if ((runNs() - c0) / 1e6 >= 0.9 * ms) windows.push([ms, Atomics.load(progress, other) - before])
    if (t1 >= end) break
  }
  parentPort.postMessage({ windows })
}

/** ns this thread has run on a core (Linux: /proc/thread-self/schedstat). */
function runNs() {
  return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0])
}
