// Run in a child process with a time limit. `node seal-termination.mjs <point> <words JSON>`: this
// thread writes `BEFORE` express updates of record 1 to its thread ring (src/shared/rings.ts),
// unsealed; a worker (fixtures/seal-victim.mjs) then takes the append mutex, which seals them into
// the log first, and is terminated at `point` of that seal. Then this thread writes `AFTER`
// express updates of record 2 (more than its ring holds: the ring wraps, so a fresh replica can
// take nothing from the ring that the log lacks) and an insert through the mutex.
// Prints one JSON line: this thread's records, a replica's attached afterwards (from the snapshot
// and the log), and what a listener in another thread heard.
import { Worker, threadId } from 'node:worker_threads'
import { Database, increment } from 'dictdb'

const BEFORE = 100
const AFTER = 5000
const [point, wordsJson] = process.argv.slice(2)
const words = JSON.parse(wordsJson)
const { threadsBase, threadWords, state, thread, maxThreads, ringsBase, ringWords, tail, sealed } = words

const db = new Database({ shared: true, lockTimeoutMs: 60_000 })
const t = db.createTable('t')
t.insert([{ id: 1, n: 0 }, { id: 2, n: 0 }])
const control = new Int32Array(db.handle().buffers.control)
const flags = new Int32Array(new SharedArrayBuffer(8))

function mySlot() {
  for (let s = 0; s < maxThreads; s++) {
    const at = threadsBase + s * threadWords
    if (Atomics.load(control, at + state) === 1 && Atomics.load(control, at + thread) === threadId) return s
  }
  throw new Error('the main thread has no slot')
}

function spawn(name) {
  const worker = new Worker(new URL(`../fixtures/${name}.mjs`, import.meta.url), { workerData: { db: db.handle(), flags, words, point } })
  const messages = []
  const waiting = []
  worker.on('message', (m) => (waiting.length > 0 ? waiting.shift()(m) : messages.push(m)))
  worker.on('error', (error) => console.error(`${name}:`, error))
  const next = (type) =>
    new Promise((resolve) => {
      const take = (m) => (m.type === type ? resolve(m.payload) : waiting.unshift(take))
      if (messages.length > 0) take(messages.shift())
      else waiting.push(take)
    })
  return { worker, next }
}

const listener = spawn('seal-listener')
await listener.next('attached')
const victim = spawn('seal-victim')
await victim.next('attached')

const ring = ringsBase + mySlot() * ringWords
for (let k = 0; k < BEFORE; k++) t.update({ n: increment(1) }, { id: 1 })
// The updates are in this thread's ring, not yet sealed into the log.
const unsealed = Atomics.load(control, ring + tail) >> 1 !== Atomics.load(control, ring + sealed)

victim.worker.postMessage('go')
for (let seen; (seen = Atomics.load(flags, 0)) !== 2 && seen !== 3; ) Atomics.wait(flags, 0, seen, 1000)
if (Atomics.load(flags, 0) === 3) {
  await new Promise((resolve) => setTimeout(resolve, 100))
  throw new Error('the victim never reached its point: its insert failed (its error is above)')
}
await victim.worker.terminate()
await new Promise((resolve) => setTimeout(resolve, 50)) // the reaper runs on the worker's exit event

for (let k = 0; k < AFTER; k++) t.update({ n: increment(1) }, { id: 2 })
t.insert({ id: 3, n: 0 })

const here = t.select()
const fresh = spawn('read-state')
const freshState = await fresh.next('done')
listener.worker.postMessage('report')
const heard = await listener.next('heard')
// Each record's ops heard once each, in order: its increments 1..n, or its insert (n = 0) once.
const expected = (id, n) => (id === 1 || id === 2 ? Array.from({ length: n }, (_, i) => i + 1) : [0])
const heardOnce = here.every((r) => JSON.stringify(heard[r.id]) === JSON.stringify(expected(r.id, r.n))) && Object.keys(heard).length === here.length
console.log(
  JSON.stringify({
    unsealed,
    n1: t.get(1)?.n,
    n2: t.get(2)?.n,
    freshSame: JSON.stringify(freshState.t.records) === JSON.stringify(here),
    freshN1: freshState.t.records.find((r) => r.id === 1)?.n,
    heardOnce,
    heardN1: heard[1]?.length ?? 0,
  }),
)
db.close()
process.exit(0)
