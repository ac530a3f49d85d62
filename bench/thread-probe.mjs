// What the level probes of session 22 (workers-level.mjs, workers-ab-own.mjs) read of a thread:
// its kernel thread id, vCPU and CPU ticks, run-queue wait and context switches (Linux /proc),
// and the ping-pong worker that times the round trip of one cache line between two vCPUs.
import { readFileSync, readlinkSync } from 'node:fs'
import { parentPort } from 'node:worker_threads'
import { PerformanceObserver } from 'node:perf_hooks'

export const TID = () => readlinkSync('/proc/thread-self').split('/').pop()
export const now = () => Number(process.hrtime.bigint()) / 1e6
export function tstat(path = '/proc/thread-self') {
  const s = readFileSync(path + '/stat', 'utf8'); const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
  return { vcpu: Number(f[36]), ut: Number(f[11]) + Number(f[12]), comm: s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')) }
}
export function sched() { const [run, wait, n] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number); return { run, wait, n } }
export function ctx() { const s = readFileSync('/proc/thread-self/status', 'utf8'); return { vol: Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(s)[1]), inv: Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(s)[1]) } }

/** The body of a ping-pong worker (`index` 0 starts and times, 1 answers) on the shared words `pp`. */
export function pingPong(pp, index) {
  const a = new Int32Array(pp)
  parentPort.on('message', (m) => {
    let n = 0
    if (index === 0) {
      // The first round trip waits for the other worker to start; the clock starts after it.
      Atomics.store(a, 0, 1); while (Atomics.load(a, 0) !== 0);
      const end = performance.now() + m.ms
      while (performance.now() < end) { for (let k = 0; k < 100; k++) { Atomics.store(a, 0, 1); while (Atomics.load(a, 0) !== 0); } n += 100 }
      Atomics.store(a, 1, 1); Atomics.store(a, 0, 1)
    } else { for (;;) { while (Atomics.load(a, 0) !== 1); if (Atomics.load(a, 1)) break; Atomics.store(a, 0, 0); n++ } }
    parentPort.postMessage({ tid: TID(), n, ms: m.ms, vcpu: tstat().vcpu })
  })
  parentPort.postMessage('ready')
}

/**
 * The body of a worker of an incrementing pair (as bench/workers-ab.mjs's), on table `t` with
 * `inc`: each 'go' window reports its updates with the thread's CPU, run-queue wait, vCPU at start
 * and end, context switches and collections.
 */
export function incrementWorker(t, inc, index) {
  let gcs = []
  new PerformanceObserver((l) => { for (const e of l.getEntries()) gcs.push([e.startTime, e.duration, e.detail?.kind ?? e.kind]) }).observe({ entryTypes: ['gc'] })
  let i = 0
  const op = (k) => t.update({ score: inc(1) }, { id: 1 + index + 2 * (k % 1000) })
  parentPort.on('message', (m) => {
    if (m.type === 'warm') { const end = performance.now() + m.ms; while (performance.now() < end) for (let k = 0; k < 64; k++) op(i++); parentPort.postMessage('ok') }
    else if (m.type === 'prep') { t.get(1); parentPort.postMessage('ok') }
    else if (m.type === 'go') {
      while (now() < m.t0) t.get(1)
      const s0 = sched(), c0 = ctx(), v0 = tstat().vcpu
      const start = performance.now(); let n = 0
      for (;;) { for (let k = 0; k < 64; k++) op(i++); n += 64; if (performance.now() - start >= m.ms) break }
      const end = performance.now()
      const s1 = sched(), c1 = ctx(), v1 = tstat().vcpu
      setTimeout(() => { // let gc entries arrive
        const g = gcs.filter((x) => x[0] >= start && x[0] < end); gcs = gcs.filter((x) => x[0] >= end)
        parentPort.postMessage({ tid: TID(), ops: n, ms: end - start, cpu: (s1.run - s0.run) / 1e6, wait: (s1.wait - s0.wait) / 1e6, slices: s1.n - s0.n, vol: c1.vol - c0.vol, inv: c1.inv - c0.inv, v0, v1, gcN: g.length, gcMs: g.reduce((s, x) => s + x[1], 0) })
      }, 0)
    }
  })
  parentPort.postMessage('ready')
}
