// The paired figures of bench/workers.mjs (session 16): the two shared ÷ local targets of one worker
// (increments, get), timed by alternating batches of two workers pinned to the same vCPU, thread CPU
// clock. Run by bench/workers.mjs (by default, or --only=paired); see bench/README.md.
import { spawnSync } from 'node:child_process'
import { readlinkSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads'
import { consume, printTable } from './harness.mjs'
import { Database, WARM_MS, fill, fmtR, getKeys, increment, median, procReader, quantile, spread, sum, threadFaults, warmRing } from './workers-lib.mjs'

export const PAIRS = Number(process.env.BENCH_PAIRS ?? 80)
export const PAIR_ROUNDS = Number(process.env.BENCH_PAIR_ROUNDS ?? 6)
const PIN = process.env.BENCH_PIN !== '0'
// BENCH_PAIR_BATCH: operations per batch (default: each figure's own, in PAIRED).
const PAIR_BATCH = Number(process.env.BENCH_PAIR_BATCH ?? 0)

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
export const PAIRED = {
  incPair: { label: 'increment by key, 1 worker: shared ÷ local, paired batches', task: 'incDistinct', batch: 16384, target: '≥ 0.6×' },
  getPair: { label: 'get: shared ÷ local, paired batches', task: 'getKeys', batch: 32768, target: '≥ 0.8×' },
}

if (!isMainThread && workerData?.role === 'paired') runPairedWorker(workerData)


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
    workerData: { role: 'paired', task, side: k === 0 ? 'local' : 'shared', kind, handle: kind === 'shared' ? db.handle() : undefined, turn, batch },
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


/**
 * PAIR_ROUNDS rounds of each named paired figure, round r pinned to vCPU r mod cores (so that
 * both vCPUs are seen). Figure: the median per-pair ratio over all rounds, its quartiles and
 * min–max, each round's median, and the ratio of the summed times (which, unlike the median,
 * counts the rare slow batches: a shared snapshot, a GC).
 */
export async function pairedFigures(names, db) {
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

/** The paired table, with the older method's figure of the same run beside each (where it ran). */
export function printPaired(paired, figures) {
  const oldOf = { incPair: figures.ratios?.find((r) => r.of === 'inc1' && r.over === 'incLocal'), getPair: figures.isolatedGet }
  const oldText = (name) => {
    const o = oldOf[name]
    if (o === undefined) return '—'
    return name === 'getPair' ? `${fmtR(figures.ratio)} (rounds ${spread(o.perRound, fmtR)})` : `${fmtR(o.median)} (rounds ${spread([o.min, o.max], fmtR)})`
  }
  printTable([['paired figure (same vCPU, thread CPU)', 'median of pairs', 'quartiles', 'min–max', 'median per round', 'summed times', 'wall, median', 'ns/op local / shared', 'shared page faults per 1k ops', 'pairs dropped', 'vCPU per round', 'target', 'older method, this run'],
    ...pairedRows(paired).map((row, k) => [...row, oldText(Object.keys(paired)[k])])],
  { title: `Paired figures: ${PAIR_ROUNDS} rounds of ${PAIRS} pairs of batches` })
}
