// Shared pieces of bench/workers.mjs and its split-out methods (workers-paired.mjs, workers-scaling.mjs):
// the dictdb module under test, the 100k-record table, thread clocks, the control loop, warming the
// shared log's ring, and small statistics.
import { openSync, readFileSync, readSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { consume, fmtRatio, prng } from './harness.mjs'

export const modulePath = process.env.DICTDB_MODULE ?? fileURLToPath(new URL('../dist/index.js', import.meta.url))
export const { Database, increment } = await import(pathToFileURL(modulePath).href)

export const N = 100_000
/**
 * Each worker runs its task for at least this much of its own CPU time before the window (V8
 * optimizes it meanwhile); wall time where there is no thread clock. On a busy machine a worker
 * gets a fraction of a core, and a warm-up by wall time would end before the code is optimized.
 */
export const WARM_MS = 200

export function people(seed = 42) {
  const rnd = prng(seed)
  return Array.from({ length: N }, (_, i) => ({
    id: i + 1,
    name: `person${i}`,
    age: 18 + Math.floor(rnd() * 63),
    city: `city${Math.floor(rnd() * 50)}`,
    score: 0,
  }))
}

export function fill(db) {
  const t = db.createTable('people', { indexes: [{ field: 'age', type: 'sorted' }, { field: 'city' }] })
  t.insert(people())
  return t
}

/**
 * This thread's CPU time and run-queue wait in ms (Linux: /proc/thread-self/schedstat, in ns;
 * else process.threadCpuUsage where Node has it, with no wait), or null. A worker that got a
 * core for the whole window shows CPU ≈ wall and no wait; wait means other threads had the cores.
 */
export function threadClock() {
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
export function controlNs() {
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

/**
 * Writes past one full pass of the shared log's ring before any figure: a long-running program's
 * steady state. The first pass touches fresh ring pages (a page fault per 4 KiB, ~17 µs each on
 * some VMs), which would land in whichever window comes first.
 */
export function warmRing(db, t, quiet = false) {
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

export function median(xs) {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  return s.length % 2 === 1 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
export function spread(xs, fmt) {
  return `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`
}

/** A ratio, with two significant digits when it is below 0.01 (sequence ÷ Atomics.add). */
export function fmtR(r) {
  return r > 0 && r < 0.01 ? `${r.toPrecision(2)}×` : fmtRatio(r)
}

export function pct(x) {
  return Number.isFinite(x) ? `${Math.round(x * 100)}%` : '—'
}

export function quantile(xs, q) {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b)
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]
}
export function sum(xs) {
  return xs.reduce((a, b) => a + b, 0)
}

/** The same key sequence for every get figure: cache-unfriendly, the same in every process. */
export function getKeys() {
  return Array.from({ length: 4096 }, (_, i) => 1 + ((i * 7919) % N))
}

/**
 * Page faults (minor and major) of this thread so far (Linux), or NaN: a fresh page, or a page of
 * the ring left copy-on-write by a fork, costs a fault (~17 µs here) when written.
 */
export function threadFaults() {
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
export function procReader(path, size) {
  let fd = -1
  try {
    fd = openSync(path, 'r')
  } catch {
    return null
  }
  const buf = Buffer.alloc(size)
  return () => buf.toString('latin1', 0, readSync(fd, buf, 0, size, 0))
}
