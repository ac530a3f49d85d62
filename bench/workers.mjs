// worker_threads benchmark (issues 5, 9): a shared 100k-record database read and written from
// 1, 2 and 4 workers, against a local database. See bench/README.md ("workers.mjs") for the method.
// Run from the repo root: npm run build && node --expose-gc bench/workers.mjs   (writes bench/results/workers.json)
// --only=get: the get figures alone; --only=workers: the worker figures alone.
// DICTDB_MODULE=/path/to/dist/index.js runs another build (an A/B against main's, say).
// BENCH_ROUNDS (default 5): rounds of the worker figures; BENCH_WINDOW_MS (default 1000): each window.
// BENCH_CONFIGS=get1,get2: only these worker figures (names in CONFIGS). BENCH_GET_ROUNDS (default 5).
// The paired figures (session 16; names in PAIRED: incPair, getPair) are worker figures too: listed
// in BENCH_CONFIGS, or run by default; --only=paired runs them alone. BENCH_PAIRS (default 80)
// pairs of batches per round, BENCH_PAIR_ROUNDS (default 6), BENCH_PIN=0: no pinning (see pairedRound).
import { spawnSync } from 'node:child_process'
import { openSync, readFileSync, readSync, readlinkSync, writeFileSync, mkdirSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads'
import { consume, environment, fmtOps, fmtRatio, measure, printTable, prng } from './harness.mjs'

const modulePath = process.env.DICTDB_MODULE ?? fileURLToPath(new URL('../dist/index.js', import.meta.url))
const { Database, increment } = await import(pathToFileURL(modulePath).href)

const N = 100_000
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 1000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const GET_ROUNDS = Number(process.env.BENCH_GET_ROUNDS ?? 5)
/**
 * Each worker runs its task for at least this much of its own CPU time before the window (V8
 * optimizes it meanwhile); wall time where there is no thread clock. On a busy machine a worker
 * gets a fraction of a core, and a warm-up by wall time would end before the code is optimized.
 */
const WARM_MS = 200
// BENCH_CLOCK=cpu: the old-method main-thread figures per second of this process's CPU time.
const CLOCK = process.env.BENCH_CLOCK === 'cpu' ? { clock: 'cpu' } : {}
const sharedCounter = new Int32Array(new SharedArrayBuffer(4))
const ARG = process.argv[2] ?? ''
// --get-only=local|shared: the child mode of isolatedGets.
const GET_ONLY = /^--get-only=(local|shared)$/.exec(ARG)?.[1]
const ONLY = /^--only=(get|workers|paired)$/.exec(ARG)?.[1]
const PAIRS = Number(process.env.BENCH_PAIRS ?? 80)
const PAIR_ROUNDS = Number(process.env.BENCH_PAIR_ROUNDS ?? 6)
const PIN = process.env.BENCH_PIN !== '0'
// BENCH_PAIR_BATCH: operations per batch (default: each figure's own, in PAIRED).
const PAIR_BATCH = Number(process.env.BENCH_PAIR_BATCH ?? 0)

/**
 * The worker figures: `workers` fresh worker threads run `task` for one window, together.
 * `db`: 'shared' (each attaches to the bench's shared database), 'own' (each fills a local
 * database of its own: the same writes without sharing), 'none'. A new figure is a line here (and
 * its task in `tasks` of runWorker); a new ratio, a line in RATIOS.
 */
const CONFIGS = {
  get1: { label: 'get, 1 worker', task: 'get', workers: 1, db: 'shared' },
  get2: { label: 'get, 2 workers', task: 'get', workers: 2, db: 'shared' },
  sel1: { label: 'select city (~2,000 rows, copy: false), 1 worker', task: 'select', workers: 1, db: 'shared' },
  sel2: { label: 'select city (~2,000 rows, copy: false), 2 workers', task: 'select', workers: 2, db: 'shared' },
  incLocal: { label: 'increment by key, 1 worker, local database of its own', task: 'incDistinct', workers: 1, db: 'own' },
  inc1: { label: 'increment by key, 1 worker, shared database', task: 'incDistinct', workers: 1, db: 'shared' },
  inc2: { label: 'increment, 2 workers, distinct records', task: 'incDistinct', workers: 2, db: 'shared' },
  hot2: { label: 'increment, 2 workers, one hot record', task: 'incHot', workers: 2, db: 'shared' },
  seq4: { label: 'sequence.next(), 4 workers', task: 'sequence', workers: 4, db: 'shared' },
  atom4: { label: 'Atomics.add on a shared counter, 4 workers', task: 'atomics', workers: 4, db: 'none' },
}

/**
 * The paired figures (session 16): the ratio of a shared workload to the same workload on a local
 * database, both timed under the same conditions. Two fresh worker threads, one per side, pinned
 * to the same vCPU, take turns: `batch` operations of the local one, then `batch` of the shared
 * one, PAIRS times. Each batch is timed by its thread's CPU clock (and wall clock); each pair
 * gives one ratio (local ns ÷ shared ns per op), and the figure is the median of those ratios
 * over PAIR_ROUNDS rounds of fresh workers, with their spread. Why: the older figures time the
 * two sides in different threads one after the other, and on this VM one vCPU at times runs
 * 1.3–2× slower than the other, so a single round's ratio swung from 0.26× to 1.72×. Separate
 * isolates (not one thread running both) keep each side's JIT feedback monomorphic, as its own
 * process does for the older get figure. Several rounds: one round's median still moves by up to
 * ±0.1 (each fresh isolate compiles the path its own way).
 */
const PAIRED = {
  incPair: { label: 'increment by key, 1 worker: shared ÷ local, paired batches', task: 'incDistinct', batch: 16384, target: '≥ 0.6×' },
  getPair: { label: 'get: shared ÷ local, paired batches', task: 'getKeys', batch: 32768, target: '≥ 0.8×' },
}

/** Each ratio divides two figures of the same round (taken one after the other). */
const RATIOS = [
  { label: 'get: 2 workers ÷ 1 worker', of: 'get2', over: 'get1', target: '≥ 1.8×' },
  { label: 'select: 2 workers ÷ 1 worker', of: 'sel2', over: 'sel1', target: '≥ 1.8×' },
  { label: 'increment: 1 worker shared ÷ 1 worker local', of: 'inc1', over: 'incLocal', target: '≥ 0.6×' },
  { label: 'increment: 2 workers distinct ÷ 1 worker local', of: 'inc2', over: 'incLocal', target: '≥ 0.5×' },
  { label: 'increment: 2 workers one hot record ÷ 1 worker local', of: 'hot2', over: 'incLocal', target: 'report' },
  { label: 'sequence.next() ÷ Atomics.add, 4 workers', of: 'seq4', over: 'atom4', target: 'report' },
]

if (!isMainThread) workerData.paired ? runPairedWorker(workerData) : runWorker(workerData)
else if (GET_ONLY !== undefined) getOnly(GET_ONLY)
else await main()

function people(seed = 42) {
  const rnd = prng(seed)
  return Array.from({ length: N }, (_, i) => ({
    id: i + 1,
    name: `person${i}`,
    age: 18 + Math.floor(rnd() * 63),
    city: `city${Math.floor(rnd() * 50)}`,
    score: 0,
  }))
}

function fill(db) {
  const t = db.createTable('people', { indexes: [{ field: 'age', type: 'sorted' }, { field: 'city' }] })
  t.insert(people())
  return t
}

/**
 * This thread's CPU time and run-queue wait in ms (Linux: /proc/thread-self/schedstat, in ns;
 * else process.threadCpuUsage where Node has it, with no wait), or null. A worker that got a
 * core for the whole window shows CPU ≈ wall and no wait; wait means other threads had the cores.
 */
function threadClock() {
  try {
    const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number)
    return { cpu: run / 1e6, wait: wait / 1e6 }
  } catch {
    const usage = process.threadCpuUsage?.()
    return usage === undefined ? null : { cpu: (usage.user + usage.system) / 1000, wait: Number.NaN }
  }
}

/**
 * ns per iteration of a fixed loop with no dictdb code (thread CPU), or NaN: how fast the CPU this
 * worker runs on is right now. On this VM one vCPU at times runs all code ~1.6-1.8x slower than
 * the other (host contention: the guest sees no steal), and a worker keeps its vCPU for its life.
 */
function controlNs() {
  const clock = threadClock()
  if (clock === null) return Number.NaN
  const records = Array.from({ length: 1000 }, (_, i) => Object.freeze({ id: i, name: `n${i}`, score: 0 }))
  const n = 300_000
  let sum = 0
  for (let i = 0; i < n; i++) {
    const old = records[i % 1000]
    const next = Object.freeze({ id: old.id, name: old.name, score: old.score + 1 })
    records[i % 1000] = next
    sum += next.score
  }
  consume(sum)
  return ((threadClock().cpu - clock.cpu) * 1e6) / n
}

function runWorker({ task, index, count, barrier, db: handle, own, counter }) {
  const db = own ? new Database() : handle === undefined ? null : Database.attach(handle)
  const t = own ? fill(db) : db?.getTable('people')
  const seq = task === 'sequence' ? db.sequence('bench', { format: 'B{000000}' }) : null
  const rnd = prng(7 + index)
  const tasks = {
    get: () => consume(t.get(1 + Math.floor(rnd() * N))),
    select: () => consume(t.select({ where: { city: `city${Math.floor(rnd() * 50)}` }, copy: false }).length),
    incDistinct: (i) => t.update({ score: increment(1) }, { id: 1 + index + count * (i % 1000) }),
    incHot: () => t.update({ score: increment(1) }, { id: 1 }),
    sequence: () => consume(seq.next()),
    atomics: () => Atomics.add(counter, 0, 1),
  }
  const op = tasks[task]
  // Warm up (and catch up with the log), then start together.
  const now = () => threadClock()?.cpu ?? performance.now()
  const warmStart = now()
  let i = 0
  do for (let k = 0; k < 256; k++) op(i++)
  while (i < 2000 || now() - warmStart < WARM_MS)
  // Waiting for the others, it keeps its replica caught up (a read): a worker that only spun here
  // would start its window by applying all the others' warm-up (60-80 ms of a 1 s window for
  // inc2). It does not write meanwhile: a worker writing alone runs the express path, faster than
  // a warming one applies it, and the warming one then falls a ring behind and rebuilds for ~1 s.
  const catchUp = handle !== undefined && t !== undefined ? () => consume(t.get(1)) : () => {}
  Atomics.add(barrier, 0, 1)
  while (Atomics.load(barrier, 0) < count) catchUp()
  const clock = threadClock()
  const start = performance.now()
  const end = start + WINDOW_MS
  let n = 0
  while (true) {
    for (let k = 0; k < 64; k++) op(n++)
    if (performance.now() >= end) break
  }
  const ms = performance.now() - start
  const after = threadClock()
  const cpu = clock && after ? { cpu: after.cpu - clock.cpu, wait: after.wait - clock.wait } : null
  parentPort.postMessage({ ops: n, ms, cpu, control: controlNs() })
}

/**
 * Runs one figure in fresh workers (a new V8 isolate each: no JIT state from another figure);
 * ops/s summed over the workers, each worker's CPU and run-queue wait as shares of its window.
 */
async function inWorkers({ task, workers: count, db: kind }, db) {
  const barrier = new Int32Array(new SharedArrayBuffer(8))
  const handle = kind === 'shared' ? db.handle() : undefined
  const workers = Array.from({ length: count }, (_, index) => new Worker(fileURLToPath(import.meta.url), {
    workerData: { task, index, count, barrier, db: handle, own: kind === 'own', counter: sharedCounter },
  }))
  const results = await Promise.all(workers.map((w) => new Promise((resolve, reject) => {
    w.once('message', resolve)
    w.once('error', reject)
  })))
  await Promise.all(workers.map((w) => w.terminate()))
  const ops = results.reduce((sum, r) => sum + r.ops / (r.ms / 1000), 0)
  // BENCH_PER_WORKER=1: each worker's own count (an uneven round shows as one worker writing little).
  if (process.env.BENCH_PER_WORKER === '1' && count > 1) console.log(`  ${task} per worker: ${results.map((r) => `${(r.ops / (r.ms / 1000) / 1e6).toFixed(2)} M/s`).join(', ')}`)
  const timed = results.every((r) => r.cpu !== null)
  return {
    ops,
    cpuShare: timed ? results.map((r) => r.cpu.cpu / r.ms) : null,
    waitShare: timed ? results.map((r) => r.cpu.wait / r.ms) : null,
    opsPerCpuSecond: timed ? results.reduce((sum, r) => sum + r.ops, 0) / (results.reduce((sum, r) => sum + r.cpu.cpu, 0) / 1000) : null,
    control: results.map((r) => r.control),
  }
}

/**
 * Writes past one full pass of the shared log's ring before any figure: a long-running program's
 * steady state. The first pass touches fresh ring pages (a page fault per 4 KiB, ~17 µs each on
 * some VMs), which would land in whichever window comes first.
 */
function warmRing(db, t, quiet = false) {
  const before = db.stats().shared
  const capacity = before.logBytesUsed + before.logBytesFree
  // Bytes per update from a probe; again if the probe freed ring space meanwhile (the used bytes
  // then shrink by a 32nd of the ring), which would make the estimate wrong.
  const probe = 1000
  let perUpdate = 0
  for (let k = 0; k < 10 && !(perUpdate > 0); k++) {
    const used = db.stats().shared.logBytesUsed
    for (let i = 0; i < probe; i++) t.update({ score: increment(1) }, { id: 1 + (i % N) })
    perUpdate = (db.stats().shared.logBytesUsed - used) / probe
  }
  if (!(perUpdate > 0)) throw new Error('warmRing: no update reached the log')
  const updates = Math.ceil((capacity / perUpdate) * 1.05)
  for (let i = 0; i < updates; i++) t.update({ score: increment(1) }, { id: 1 + (i % N) })
  if (!quiet) console.log(`ring warmed: ${updates.toLocaleString()} updates (${Math.round(capacity / 2 ** 20)} MiB ring, ${perUpdate.toFixed(0)} bytes each)`)
  return updates
}

/** ROUNDS rounds of the named figures, in reverse order every other round: samples per figure. */
async function workerRounds(names, db) {
  const samples = Object.fromEntries(names.map((name) => [name, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) samples[name].push(await inWorkers(CONFIGS[name], db))
  }
  return samples
}

function median(xs) {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  return s.length % 2 === 1 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
function spread(xs, fmt) {
  return `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`
}

/** A ratio, with two significant digits when it is below 0.01 (sequence ÷ Atomics.add). */
function fmtR(r) {
  return r > 0 && r < 0.01 ? `${r.toPrecision(2)}×` : fmtRatio(r)
}

function pct(x) {
  return Number.isFinite(x) ? `${Math.round(x * 100)}%` : '—'
}

/** Median and min–max of every figure, with CPU per worker and ops per CPU-second. */
function figureRows(samples) {
  return Object.entries(samples).map(([name, runs]) => {
    const ops = runs.map((r) => r.ops)
    const cpu = runs.flatMap((r) => r.cpuShare ?? [])
    const wait = runs.flatMap((r) => r.waitShare ?? [])
    const control = runs.flatMap((r) => r.control ?? []).filter(Number.isFinite)
    return [`${CONFIGS[name].label} [${name}]`, fmtOps(median(ops)), spread(ops, fmtOps), cpu.length ? `${pct(median(cpu))} (min ${pct(Math.min(...cpu))})` : '—', pct(median(wait)), fmtOps(median(runs.map((r) => r.opsPerCpuSecond))),
      control.length ? spread(control, (x) => x.toFixed(0)) : '—']
  })
}


/**
 * This thread's CPU time in ms, exact (Linux), or NaN. The kernel's per-thread sum in
 * /proc/thread-self/schedstat is brought up to date when the thread is switched out, and may be a
 * tick (up to 4 ms) stale while it runs: a nap of 0.1 ms first (a futex sleep: no CPU) makes the
 * read exact. The file is kept open and read again at offset 0 (a few µs).
 */
function exactClock() {
  const read = procReader('/proc/thread-self/schedstat', 64)
  if (read === null) return () => Number.NaN
  const nap = new Int32Array(new SharedArrayBuffer(4))
  return () => {
    Atomics.wait(nap, 0, 0, 0.1)
    return Number(read().split(' ')[0]) / 1e6
  }
}

/**
 * Page faults (minor and major) of this thread so far (Linux), or NaN: a fresh page, or a page of
 * the ring left copy-on-write by a fork, costs a fault (~17 µs here) when written.
 */
function threadFaults() {
  const read = procReader('/proc/thread-self/stat', 1024)
  if (read === null) return () => Number.NaN
  return () => {
    const text = read()
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ')
    // Fields 10 and 12 of stat (minflt, majflt), counted from the state (field 3).
    return Number(f[7]) + Number(f[9])
  }
}

/** A reader of a /proc file kept open and read again at offset 0 (a few µs), or null where there is none (not Linux). */
function procReader(path, size) {
  let fd = -1
  try {
    fd = openSync(path, 'r')
  } catch {
    return null
  }
  const buf = Buffer.alloc(size)
  return () => buf.toString('latin1', 0, readSync(fd, buf, 0, size, 0))
}

/** This thread's kernel id (Linux), or 0. */
function threadId() {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').at(-1)) || 0
  } catch {
    return 0
  }
}

/**
 * One side of a paired figure (see PAIRED): its own database ('local': filled here; 'shared':
 * attached to the bench's), warmed up, then PAIRS batches, each when `turn` says it is its slot
 * (local has the even slots, shared the odd ones: strict alternation, each batch follows one of
 * the other side). Each batch is timed by the exact thread clock and by wall time.
 */
function runPairedWorker({ task, side, kind, handle, turn, batch }) {
  const db = kind === 'local' ? new Database() : Database.attach(handle)
  const t = kind === 'local' ? fill(db) : db.getTable('people')
  const keys = getKeys()
  const ops = {
    incDistinct: (i) => t.update({ score: increment(1) }, { id: 1 + (i % 1000) }),
    getKeys: (i) => consume(t.get(keys[i & 4095])),
  }
  const op = ops[task]
  const clock = exactClock()
  // Tells the main thread this thread's id (to pin it; 0 where there is none), and waits until it is pinned.
  turn[side === 'local' ? 2 : 3] = threadId()
  Atomics.add(turn, 1, 1)
  while (Atomics.load(turn, 1) < 3) Atomics.wait(turn, 1, Atomics.load(turn, 1), 10)
  // A shared writer first writes one full pass of the ring, after pinning: pinning runs taskset,
  // a fork of this process, which leaves every page of the ring copy-on-write, and the next write
  // to each then takes a page fault (~17 µs; ~350 ns per increment over a whole pass).
  const warmed = kind === 'shared' && task === 'incDistinct' ? warmRing(db, t, true) : 0
  const warmStart = clock()
  let i = 0
  do for (let k = 0; k < 256; k++) op(i++)
  while (i < 20_000 || clock() - warmStart < WARM_MS)
  // What two reads of the clock cost with nothing between them (the naps' way in and out, ~30-60
  // µs of CPU here): taken off each batch.
  const empties = Array.from({ length: 15 }, () => -clock() + clock())
  const empty = median(empties)
  Atomics.add(turn, 1, 1)
  const faults = threadFaults()
  const cpuNs = []
  const wallNs = []
  const faultsPerBatch = []
  for (let slot = side === 'local' ? 0 : 1; slot < 2 * PAIRS; slot += 2) {
    // Wait for this slot (the main thread starts slot 0 once both sides are warm).
    for (let now = Atomics.load(turn, 0); now !== slot; now = Atomics.load(turn, 0)) Atomics.wait(turn, 0, now)
    const f0 = faults()
    const c0 = clock()
    const w0 = performance.now()
    for (let k = 0; k < batch; k++) op(i++)
    const w1 = performance.now()
    // Where there is no thread clock (not Linux), the wall time stands in.
    const ms = Number.isNaN(empty) ? w1 - w0 : clock() - c0 - empty
    // A read that was stale after all (CPU past the wall time, or none) drops the batch.
    cpuNs.push(ms > 0 && ms <= (w1 - w0) * 1.05 + 0.05 ? (ms * 1e6) / batch : Number.NaN)
    faultsPerBatch.push(faults() - f0)
    wallNs.push(((w1 - w0) * 1e6) / batch)
    Atomics.store(turn, 0, slot + 1)
    Atomics.notify(turn, 0)
  }
  parentPort.postMessage({ cpuNs, wallNs, faults: faultsPerBatch, emptyMs: empty, warmed })
}

/**
 * One round of a paired figure: two fresh workers, local and shared, both pinned to vCPU `cpu`
 * (taskset, when `cpu` is not null), PAIRS pairs of batches. Per pair: local ns ÷ shared ns per
 * op (shared speed as a share of local), by thread CPU and by wall time.
 */
async function pairedRound(name, db, cpu) {
  const { task } = PAIRED[name]
  const batch = PAIR_BATCH || PAIRED[name].batch
  // [0] the slot being run, [1] the start-up steps done, [2] and [3] the two threads' ids.
  const turn = new Int32Array(new SharedArrayBuffer(16))
  turn[0] = -1
  // BENCH_PAIR_SIDES=local,local (or shared,shared on a database of its own): an A/A check of the method.
  const kinds = process.env.BENCH_PAIR_SIDES?.split(',') ?? ['local', 'shared']
  const workers = kinds.map((kind, k) => new Worker(fileURLToPath(import.meta.url), {
    workerData: { paired: true, task, side: k === 0 ? 'local' : 'shared', kind, handle: kind === 'shared' ? db.handle() : undefined, turn, batch },
  }))
  const results = workers.map((w) => new Promise((resolve, reject) => {
    w.once('message', resolve)
    w.once('error', reject)
  }))
  const reached = async (steps) => {
    while (Atomics.load(turn, 1) < steps) await new Promise((resolve) => setTimeout(resolve, 5))
  }
  await reached(2)
  const pinned = cpu !== null && [turn[2], turn[3]].every((tid) => tid > 0 && spawnSync('taskset', ['-pc', String(cpu), String(tid)]).status === 0)
  Atomics.add(turn, 1, 1)
  Atomics.notify(turn, 1)
  await reached(5)
  Atomics.store(turn, 0, 0)
  Atomics.notify(turn, 0)
  const [local, shared] = await Promise.all(results)
  await Promise.all(workers.map((w) => w.terminate()))
  const ratio = (of) => local[of].map((l, p) => l / shared[of][p])
  return { cpu, pinned, batch, local, shared, cpuRatios: ratio('cpuNs'), wallRatios: ratio('wallNs') }
}

function quantile(xs, q) {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b)
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]
}
function sum(xs) {
  return xs.reduce((a, b) => a + b, 0)
}

/**
 * PAIR_ROUNDS rounds of each named paired figure, round r pinned to vCPU r mod cores (so that
 * both vCPUs are seen). Figure: the median per-pair ratio over all rounds, its quartiles and
 * min–max, each round's median, and the ratio of the summed times (which, unlike the median,
 * counts the rare slow batches: a shared snapshot, a GC).
 */
async function pairedFigures(names, db) {
  const cores = availableParallelism()
  const out = {}
  for (const name of names) {
    const rounds = []
    for (let r = 0; r < PAIR_ROUNDS; r++) rounds.push(await pairedRound(name, db, PIN ? r % cores : null))
    const all = rounds.flatMap((r) => r.cpuRatios).filter(Number.isFinite)
    const allWall = rounds.flatMap((r) => r.wallRatios)
    // Pairs whose CPU reading was dropped count in the summed times by neither side.
    const kept = (side) => rounds.flatMap((r) => r[side].cpuNs.filter((_, p) => Number.isFinite(r.cpuRatios[p])))
    out[name] = {
      median: median(all), q1: quantile(all, 0.25), q3: quantile(all, 0.75), min: Math.min(...all), max: Math.max(...all),
      wallMedian: median(allWall),
      total: sum(kept('local')) / sum(kept('shared')),
      dropped: rounds.reduce((n, r) => n + r.cpuRatios.filter((x) => !Number.isFinite(x)).length, 0),
      faultsPerKiloOp: (1000 * sum(rounds.flatMap((r) => r.shared.faults))) / sum(rounds.map((r) => PAIRS * r.batch)),
      perRound: rounds.map((r) => median(r.cpuRatios)),
      localNs: median(rounds.flatMap((r) => r.local.cpuNs)), sharedNs: median(rounds.flatMap((r) => r.shared.cpuNs)),
      pinned: rounds.map((r) => (r.pinned ? `cpu${r.cpu}` : 'unpinned')),
      rounds,
    }
  }
  return out
}

function pairedRows(paired) {
  return Object.entries(paired).map(([name, f]) => [`${PAIRED[name].label} [${name}]`, fmtR(f.median),
    `${fmtR(f.q1)}–${fmtR(f.q3)}`, spread([f.min, f.max], fmtR), f.perRound.map(fmtR).join(' '), fmtR(f.total), fmtR(f.wallMedian),
    `${f.localNs.toFixed(0)} / ${f.sharedNs.toFixed(0)}`, f.faultsPerKiloOp.toFixed(2), String(f.dropped), f.pinned.join(' '), PAIRED[name].target])
}

/** Each ratio per round, then its median, min–max, and the same ratio of ops per CPU-second. */
function ratioFigures(samples) {
  return RATIOS.filter((r) => samples[r.of] && samples[r.over]).map((r) => {
    const perRound = samples[r.of].map((s, i) => s.ops / samples[r.over][i].ops)
    const perCpu = samples[r.of].map((s, i) => s.opsPerCpuSecond / samples[r.over][i].opsPerCpuSecond)
    // Each round's control (ns, the slowest worker's) of both figures: a round whose two figures ran
    // on CPUs of different speed shows as two different controls.
    const worst = (s) => Math.max(...(s.control ?? []).filter(Number.isFinite))
    const controls = samples[r.of].map((s, i) => `${worst(s).toFixed(0)}/${worst(samples[r.over][i]).toFixed(0)}`)
    return { ...r, median: median(perRound), min: Math.min(...perRound), max: Math.max(...perRound), perRound, perCpuSecond: median(perCpu), controls }
  })
}

/** The same key sequence for every get figure: cache-unfriendly, the same in every process. */
function getKeys() {
  return Array.from({ length: 4096 }, (_, i) => 1 + ((i * 7919) % N))
}

/**
 * Child mode (`--get-only=local|shared`): fills one database and times only its `get`, by CPU
 * time, so that no other `get` has run in this process before (see isolatedGets).
 */
function getOnly(kind) {
  const t = fill(new Database({ shared: kind === 'shared' }))
  const keys = getKeys()
  const r = measure(`${kind} get`, (i) => consume(t.get(keys[i & 4095])), { clock: 'cpu', quiet: true })
  process.stdout.write(`${JSON.stringify({ kind, opsPerSec: r.opsPerSec })}\n`)
}

/**
 * Local and shared `get`, each timed in a fresh process of its own, GET_ROUNDS rounds that
 * alternate which goes first; the median of each. In one process, whichever `get` is timed first
 * is optimized while `Table.get` has seen one kind of database only, and the other pays for that
 * (local `get` costs about twice as much when timed after shared): a fresh process gives each the
 * same start.
 */
function isolatedGets() {
  const runs = { local: [], shared: [] }
  for (let round = 0; round < GET_ROUNDS; round++) {
    const order = round % 2 === 0 ? ['local', 'shared'] : ['shared', 'local']
    for (const kind of order) {
      const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), `--get-only=${kind}`], {
        encoding: 'utf8',
        env: process.env,
      })
      if (child.status !== 0) throw new Error(`the ${kind} get child failed (${child.status}): ${child.stderr}`)
      runs[kind].push(JSON.parse(child.stdout.trim().split('\n').at(-1)).opsPerSec)
    }
  }
  const perRound = runs.shared.map((s, i) => s / runs.local[i])
  console.log(`isolated get, ops/s per CPU second, ${GET_ROUNDS} rounds: local ${runs.local.map(fmtOps).join(', ')}; shared ${runs.shared.map(fmtOps).join(', ')}`)
  return { local: median(runs.local), shared: median(runs.shared), runs, perRound }
}

/** The get figures: each kind in its own processes, then the old in-process method, labelled. */
function getFigures(rows, figures) {
  const isolated = isolatedGets()
  figures.isolatedGet = isolated
  const ratio = isolated.shared / isolated.local
  rows.push(['get, local database, own process (CPU clock)', fmtOps(isolated.local), spread(isolated.runs.local, fmtOps), ''])
  rows.push(['get, shared database, own process (CPU clock)', fmtOps(isolated.shared), spread(isolated.runs.shared, fmtOps),
    `${fmtRatio(ratio)} of local (per round ${spread(isolated.perRound, fmtRatio)}; target ≥ 0.8×)`])
  // The method before session 5, kept so the change of method shows: both in this process, local first.
  const lt = fill(new Database())
  const st = fill(new Database({ shared: true }))
  const keys = getKeys()
  const localGet = measure('local get', (i) => consume(lt.get(keys[i & 4095])), CLOCK).opsPerSec
  const sharedGet = measure('shared get', (i) => consume(st.get(keys[i & 4095])), CLOCK).opsPerSec
  const localInc = measure('local increment', (i) => lt.update({ score: increment(1) }, { id: keys[i & 4095] }), CLOCK).opsPerSec
  rows.push(['get, local database, one process, timed first', fmtOps(localGet), '', ''])
  rows.push(['get, shared database, one process, timed second', fmtOps(sharedGet), '', `${fmtRatio(sharedGet / localGet)} of local (old method)`])
  rows.push(['increment by key, local database, main thread (old denominator)', fmtOps(localInc), '', ''])
  Object.assign(figures, { ratio, localGet, sharedGet, localInc })
  return localInc
}

async function main() {
  const env = environment()
  console.log(`worker_threads bench: ${N.toLocaleString()} records, ${ROUNDS} rounds of ${WINDOW_MS} ms windows, ${env.cpu} ×${env.cores}, load ${env.loadAvg.join(' ')}`)
  const figures = {}
  const getRows = []
  const names = process.env.BENCH_CONFIGS?.split(',') ?? [...Object.keys(CONFIGS), ...Object.keys(PAIRED)]
  const workerNames = ONLY === 'get' || ONLY === 'paired' ? [] : names.filter((n) => n in CONFIGS)
  // --only=get keeps the get pair, --only=workers the increment pair.
  const pairNames = names.filter((n) => n in PAIRED && (ONLY === undefined || ONLY === 'paired' || (ONLY === 'get') === (n === 'getPair')))
  const localInc = ONLY === 'workers' || ONLY === 'paired' ? null : getFigures(getRows, figures)
  let samples = null
  let paired = null
  if (workerNames.length > 0 || pairNames.length > 0) {
    const db = new Database({ shared: true })
    warmRing(db, fill(db))
    if (workerNames.length > 0) {
      samples = await workerRounds(workerNames, db)
      const ratios = ratioFigures(samples)
      Object.assign(figures, { samples, ratios })
      if (samples.seq4) console.log(`(sequence handed out ${db.sequence('bench').current} values; the checks of gap-free, duplicate-free values are in tests/workers)`)
      printTable([['worker figure', 'ops/s, median', 'min–max', 'CPU per worker, median', 'run-queue wait', 'ops per CPU-second', 'control ns'], ...figureRows(samples)],
        { title: `Worker figures: ${ROUNDS} rounds, fresh workers each time` })
      printTable([['ratio (same round)', 'median', 'min–max', 'per round', 'per CPU-second', 'control ns per round', 'target'],
        ...ratios.map((r) => [r.label, fmtR(r.median), spread([r.min, r.max], fmtR), r.perRound.map(fmtR).join(' '), fmtR(r.perCpuSecond), r.controls.join(' '), r.target])])
      if (localInc !== null) {
        // Before session 6 the write ratios divided one window by the main thread's local increment.
        const old = ['inc1', 'inc2', 'hot2'].filter((n) => samples[n]).map((n) => [`${CONFIGS[n].label} ÷ main-thread local increment (old method)`, fmtRatio(median(samples[n].map((s) => s.ops)) / localInc)])
        if (old.length) printTable([['old-method ratio', 'value'], ...old])
      }
    }
    if (pairNames.length > 0) {
      paired = await pairedFigures(pairNames, db)
      figures.paired = paired
      // The older method's figure of this same run, beside the paired one (where it ran).
      const oldOf = { incPair: figures.ratios?.find((r) => r.of === 'inc1' && r.over === 'incLocal'), getPair: figures.isolatedGet }
      const oldText = (name) => {
        const o = oldOf[name]
        if (o === undefined) return '—'
        return name === 'getPair' ? `${fmtR(figures.ratio)} (rounds ${spread(o.perRound, fmtR)})` : `${fmtR(o.median)} (rounds ${spread([o.min, o.max], fmtR)})`
      }
      printTable([['paired figure (same vCPU, thread CPU)', 'median of pairs', 'quartiles', 'min–max', 'median per round', 'summed times', 'wall, median', 'ns/op local / shared', 'shared page faults per 1k ops', 'pairs dropped', 'vCPU per round', 'target', 'older method, this run'],
        ...pairedRows(paired).map((row, k) => [...row, oldText(pairNames[k])])],
      { title: `Paired figures: ${PAIR_ROUNDS} rounds of ${PAIRS} pairs of batches` })
    }
  }
  if (getRows.length) printTable([['get', 'ops/s', 'min–max', 'ratio'], ...getRows], { title: 'get' })
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'workers.json')
  mkdirSync(dirname(out), { recursive: true })
  // The per-batch times of the paired rounds are kept (they are what the figure is made of).
  writeFileSync(out, JSON.stringify({ environment: env, loadAtEnd: environment().loadAvg, windowMs: WINDOW_MS, rounds: ROUNDS, records: N, pairs: PAIRS, figures }, null, 2))
  console.log(`load at end ${environment().loadAvg.join(' ')}; written ${out}`)
}
