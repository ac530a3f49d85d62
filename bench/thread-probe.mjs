// What the level probes of session 22 (workers-level.mjs, workers-ab-own.mjs) read of a thread:
// its kernel thread id, vCPU and CPU ticks, run-queue wait and context switches (Linux /proc),
// and the ping-pong worker that times the round trip of one cache line between two vCPUs.
import { readFileSync, readlinkSync } from 'node:fs'
import { parentPort } from 'node:worker_threads'

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
