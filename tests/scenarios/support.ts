/**
 * Real worker_threads for the seed scenarios. `runWorkers` starts `fixtures/scenario.mjs` once per
 * task (it imports the built 'dictdb': run `npm run build` first), holds them at a start gate
 * until all are attached, lets them go together, and returns what each reported.
 */
import { Worker } from 'node:worker_threads'
import type { Database } from '../../src/index'
import { CHILD_LIMIT_MS } from '../support/limits'

/** One worker's job: `task` names a function of fixtures/scenario.mjs; the rest is its data. */
export interface Task {
  task: string
  [key: string]: unknown
}

/**
 * Runs every task in its own worker on `db`, started together; resolves with their results in
 * order. The workers are ended after `timeoutMs`, a hang guard: it covers their start-up too,
 * which under load (suites at nice 19 beside benchmarks) took 9 s of a 4-worker ledger test's 21.
 */
export async function runWorkers<R = any>(db: Database, tasks: readonly Task[], timeoutMs = CHILD_LIMIT_MS): Promise<R[]> {
  const gate = new Int32Array(new SharedArrayBuffer(4))
  const workers = tasks.map((data) => new Worker(new URL('./fixtures/scenario.mjs', import.meta.url), { workerData: { ...data, db: db.handle(), gate } }))
  const timer = setTimeout(() => workers.forEach((w) => void w.terminate()), timeoutMs)
  try {
    const ready = workers.map((w) => message(w, 'ready'))
    const results = workers.map((w) => message<R>(w, 'done'))
    await Promise.all(ready)
    Atomics.store(gate, 0, 1)
    Atomics.notify(gate, 0)
    return await Promise.all(results)
  } finally {
    clearTimeout(timer)
    await Promise.all(workers.map((w) => w.terminate()))
  }
}

function message<T>(worker: Worker, type: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (msg: { type: string; payload: T; error?: string }) => {
      if (msg.type === 'error') reject(new Error(`worker failed: ${msg.error}`))
      else if (msg.type === type) resolve(msg.payload)
    }
    worker.on('message', onMessage)
    worker.once('error', reject)
    worker.once('exit', (code) => reject(new Error(`worker exited (code ${code}) before '${type}'`)))
  })
}
