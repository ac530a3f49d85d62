// A small, dependency-free benchmark harness shared by the bench/*.mjs scripts.
//
// Why hand-written rather than tinybench/mitata:
//  - we need two shapes of measurement: a hot per-operation loop (get, select, update) and
//    a "fresh state, then one big batch" run (insert 100k records into an empty table), where
//    the untimed setup must be excluded from the figure. Both fit in ~150 lines here.
//  - we control exactly what is timed, when gc() runs (between samples, never inside), and
//    that every measurement gets its own freshly compiled loop, so a call site never turns
//    megamorphic because an earlier engine used the same loop (which would slow the later ones).
//  - no extra dependency in bench/, and the output (median of N samples) is what we report.
//
// measure(name, fn, opts) -> result
//   Loop mode (default): fn(i) is one operation; i counts 0,1,2,... across the whole
//   measurement (use it to pick keys: keys[i & MASK]). The harness warms up, calibrates an
//   iteration count so one sample takes >= minTimeMs, then takes `samples` samples.
//   Batch mode (opts.setup given): each run is `state = setup()` (untimed), then fn(state)
//   (timed) which performs opts.opsPerCall operations; runs are repeated until a sample has
//   >= minTimeMs of timed work. opts.teardown(state) (untimed) runs after each run.
//
// The result: { name, opsPerSec (median), samples: [ops/s...], min, max, spreadPct,
//   iterations, msPerSample, totalOps }.
//
// measureGroup(entries, opts): the same for several engines on one workload, with the samples
// interleaved round-robin (see below): what run.mjs uses.

import os from 'node:os'
import { performance } from 'node:perf_hooks'

export const DEFAULTS = Object.freeze({
  minTimeMs: 500,
  warmupMs: 200,
  samples: 5,
})

let sink // results are stored here so the optimizer cannot drop the work
export function consume(v) {
  sink = v
}
export function lastSink() {
  return sink
}

/** `--name=value` / `--flag` command-line arguments as an object; anything else exits with 2. */
export function parseArgs(argv = process.argv.slice(2)) {
  return Object.fromEntries(
    argv.map((a) => {
      const m = /^--([^=]+)(?:=(.*))?$/.exec(a)
      if (!m) {
        console.error(`unknown argument: ${a}`)
        process.exit(2)
      }
      return [m[1], m[2] ?? true]
    }),
  )
}

export function collectGarbage() {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc()
    globalThis.gc()
  }
}

export function gcExposed() {
  return typeof globalThis.gc === 'function'
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

function makeLoop() {
  // A fresh function per measurement: its own feedback vector, so `fn` stays monomorphic.
  // eslint-disable-next-line no-new-func
  return new Function(
    'fn',
    'n',
    'start',
    'let s; for (let i = 0; i < n; i++) { s = fn(start + i); } return s;',
  )
}

// A sampler warms up and calibrates one benchmark, then takes one sample per sample() call.
function makeSampler(name, fn, opts) {
  const minTimeMs = opts.minTimeMs ?? DEFAULTS.minTimeMs
  const warmupMs = opts.warmupMs ?? DEFAULTS.warmupMs
  const opsPerCall = opts.opsPerCall ?? 1
  // 'cpu': a sample's figure is per second of this process's CPU time, not of the wall clock —
  // steadier when other processes take turns on the CPU (GC helper threads count as CPU time).
  const cpuClock = opts.clock === 'cpu'
  const sp = { name, batch: Boolean(opts.setup), samples: [], iterations: 0, totalOps: 0, msTotal: 0, cpuMs: 0 }

  if (opts.setup) {
    // Batch mode: untimed setup, timed fn(state), untimed teardown; repeated to minTimeMs.
    const runOnce = () => {
      const state = opts.setup()
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      consume(fn(state))
      const dt = performance.now() - t0
      sp.cpuMs += cpuMsSince(c0)
      if (opts.teardown) opts.teardown(state)
      return dt
    }
    sp.warmup = () => {
      let warm = 0
      do warm += runOnce()
      while (warm < warmupMs)
      sp.cpuMs = 0
    }
    sp.sample = () => {
      let t = 0
      let runs = 0
      const cpuBefore = sp.cpuMs
      do {
        t += runOnce()
        runs++
      } while (t < minTimeMs)
      sp.samples.push((runs * opsPerCall * 1000) / (cpuClock ? sp.cpuMs - cpuBefore : t))
      sp.iterations = runs
      sp.totalOps += runs * opsPerCall
      sp.msTotal += t
    }
  } else {
    // Loop mode: a calibrated number of fn(i) calls in a loop compiled for this benchmark.
    const loop = makeLoop()
    let counter = 0
    sp.warmup = () => {
      // Double n until one batch takes >= warmupMs / 4, and keep going to warmupMs in total.
      let n = 1
      let warm = 0
      let perOp = 0
      for (;;) {
        const t0 = performance.now()
        consume(loop(fn, n, counter))
        const dt = performance.now() - t0
        counter += n
        warm += dt
        if (dt >= warmupMs / 4 || n >= 2 ** 30) {
          perOp = dt / n
          if (warm >= warmupMs) break
        } else {
          n *= 2
        }
      }
      sp.iterations = Math.max(1, Math.ceil(minTimeMs / Math.max(perOp, 1e-9)))
    }
    sp.sample = () => {
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      consume(loop(fn, sp.iterations, counter))
      const dt = performance.now() - t0
      const cpu = cpuMsSince(c0)
      sp.cpuMs += cpu
      counter += sp.iterations
      sp.samples.push((sp.iterations * opsPerCall * 1000) / (cpuClock ? cpu : dt))
      sp.totalOps += sp.iterations * opsPerCall
      sp.msTotal += dt
    }
  }
  return sp
}

function cpuMsSince(start) {
  const d = process.cpuUsage(start)
  return (d.user + d.system) / 1000
}

function summarize(sp, opts) {
  const results = sp.samples
  const med = median(results)
  const min = Math.min(...results)
  const max = Math.max(...results)
  const res = {
    name: sp.name,
    opsPerSec: med,
    samples: results,
    min,
    max,
    // spread of the samples around the median, in percent (largest deviation)
    spreadPct: (Math.max(max - med, med - min) / med) * 100,
    iterations: sp.iterations,
    msPerSample: sp.msTotal / results.length,
    totalOps: sp.totalOps,
    // CPU time of this process ÷ wall time while timed: well below 1 means other processes had
    // the CPU (a busy machine); it can exceed 1 when the GC's helper threads work in parallel.
    cpuShare: sp.cpuMs / sp.msTotal,
  }
  if (!(opts.quiet ?? false)) {
    process.stdout.write(
      `  ${sp.name.padEnd(42)} ${fmtOps(med).padStart(14)} ops/s  ±${res.spreadPct.toFixed(1)}%  (${results.length}×${fmtInt(sp.iterations)} ${sp.batch ? 'runs' : 'iters'}, cpu ${Math.round(res.cpuShare * 100)}%)\n`,
    )
  }
  return res
}

export function measure(name, fn, opts = {}) {
  const samples = opts.samples ?? DEFAULTS.samples
  const sp = makeSampler(name, fn, opts)
  collectGarbage()
  sp.warmup()
  for (let s = 0; s < samples; s++) {
    collectGarbage()
    sp.sample()
  }
  return summarize(sp, opts)
}

// measureGroup(entries, opts) -> { [key]: result }
//   entries: [{ key, name, fn, ...per-entry opts (setup, teardown, opsPerCall) }].
//   Warms up every entry, then takes the samples round-robin (entry order rotated each round),
//   so a burst of load from other processes hits every engine alike and the ratios between
//   them stay meaningful on a shared machine. A failing entry is reported as { error } and
//   dropped from later rounds; the others go on.
export function measureGroup(entries, opts = {}) {
  const samples = opts.samples ?? DEFAULTS.samples
  const out = {}
  const live = []
  for (const e of entries) {
    try {
      const sp = makeSampler(e.name, e.fn, { ...opts, ...e })
      collectGarbage()
      sp.warmup()
      live.push({ e, sp })
    } catch (err) {
      out[e.key] = failed(e, err, opts)
    }
  }
  for (let s = 0; s < samples; s++) {
    for (let j = 0; j < live.length; j++) {
      const item = live[(j + s) % live.length]
      if (out[item.e.key]) continue
      collectGarbage()
      try {
        item.sp.sample()
      } catch (err) {
        out[item.e.key] = failed(item.e, err, opts)
      }
    }
  }
  collectGarbage()
  for (const { e, sp } of live) if (!out[e.key]) out[e.key] = summarize(sp, opts)
  return out
}

function failed(e, err, opts) {
  const msg = String(err?.stack ?? err).split('\n').slice(0, 3).join(' | ')
  if (!(opts.quiet ?? false)) process.stdout.write(`  ${e.name.padEnd(42)} FAILED: ${msg}\n`)
  return { name: e.name, error: msg }
}

// ---------- formatting ----------

export function fmtInt(n) {
  return Math.round(n).toLocaleString('en-US')
}

export function fmtOps(n) {
  if (n == null || !Number.isFinite(n)) return '—'
  if (n >= 100) return fmtInt(n)
  return n.toPrecision(3)
}

export function fmtRatio(r) {
  if (r == null || !Number.isFinite(r)) return '—'
  if (r >= 100) return `${r.toFixed(0)}×`
  if (r >= 10) return `${r.toFixed(1)}×`
  return `${r.toFixed(2)}×`
}

const strWidth = (s) => [...String(s)].length

// printTable(rows, { columns?, align?, title? }): rows are arrays of cells (strings) with the
// header as rows[0]; or objects with opts.columns naming the keys (header = key names).
export function printTable(rows, opts = {}) {
  let matrix
  if (rows.length && !Array.isArray(rows[0])) {
    const cols = opts.columns ?? Object.keys(rows[0])
    matrix = [cols, ...rows.map((r) => cols.map((c) => (r[c] == null ? '—' : String(r[c]))))]
  } else {
    matrix = rows.map((r) => r.map((c) => (c == null ? '—' : String(c))))
  }
  const ncol = Math.max(...matrix.map((r) => r.length))
  const widths = Array.from({ length: ncol }, (_, j) =>
    Math.max(...matrix.map((r) => strWidth(r[j] ?? ''))),
  )
  const align = opts.align ?? widths.map((_, j) => (j === 0 ? 'left' : 'right'))
  const line = (r) =>
    '| ' +
    widths
      .map((w, j) => {
        const c = r[j] ?? ''
        const pad = ' '.repeat(w - strWidth(c))
        return align[j] === 'left' ? c + pad : pad + c
      })
      .join(' | ') +
    ' |'
  const sep = '|' + widths.map((w, j) => (align[j] === 'left' ? ':' + '-'.repeat(w + 1) : '-'.repeat(w + 1) + ':')).join('|') + '|'
  const out = []
  if (opts.title) out.push('', opts.title, '')
  out.push(line(matrix[0]), sep, ...matrix.slice(1).map(line))
  const text = out.join('\n') + '\n'
  process.stdout.write(text)
  return text
}

// ---------- environment ----------

export function environment() {
  const cpus = os.cpus()
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${os.release()} ${process.arch}`,
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    gcExposed: gcExposed(),
    loadAvg: os.loadavg().map((x) => Math.round(x * 100) / 100),
  }
}

/**
 * A warning when the timed code got less than `min` of a CPU (results of measureGroup), or null.
 * Unlike the load average, this is what the measurements themselves went through.
 */
export function cpuShareWarning(results, min = 0.9) {
  const shares = Object.values(results).flatMap((byEngine) => Object.values(byEngine).map((r) => r.cpuShare)).filter((x) => x !== undefined)
  if (shares.length === 0) return null
  const lowest = Math.min(...shares)
  return lowest < min
    ? `warning: the timed code got as little as ${Math.round(lowest * 100)}% of a CPU (other processes had the rest): figures are noisy, compare the ratios (or measure CPU time: --clock=cpu)`
    : null
}

// A warning when other processes compete for the CPU (1-minute load average >= half the cores).
export function busyWarning() {
  const load = os.loadavg()[0]
  const cores = os.cpus().length
  return load >= cores / 2
    ? `warning: load average ${load.toFixed(2)} on ${cores} cores: other processes are busy, figures will be noisy`
    : null
}

// ---------- deterministic data ----------

// mulberry32: tiny, fast, deterministic PRNG; returns floats in [0, 1).
export function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// ---------- comparing against targets ----------

// ratioRows(results, targets) where results[workload][engine] = { opsPerSec } and targets is
// [{ workload, engine, peer, min, label? }]: returns rows { workload, ratio, target, met }.
export function evaluateTargets(results, targets) {
  return targets.map((t) => {
    const a = results[t.workload]?.[t.engine]?.opsPerSec
    const peerWorkload = t.peerWorkload ?? t.workload
    const b = results[peerWorkload]?.[t.peer]?.opsPerSec
    const ratio = a != null && b != null ? a / b : null
    return {
      label: t.label ?? `${t.workload}: ${t.engine} ÷ ${t.peer}`,
      workload: t.workload,
      engine: t.engine,
      peer: t.peer,
      ratio,
      target: t.min,
      met: ratio == null || t.min == null ? null : ratio >= t.min,
    }
  })
}
