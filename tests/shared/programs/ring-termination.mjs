// Run in a child process with a time limit. A worker (fixtures/ring-victim.mjs) publishes `writes`
// ring entries, then is terminated with its ring's writing flag set, mid-write. Then this thread
// appends through the mutex (which seals every ring, waiting for writing flags): the reaper, run
// on the worker's exit event, must have cleared the flag. Prints one JSON line: the append's
// outcome, the victim's record here and in a replica attached afterwards.
import { Worker } from 'node:worker_threads'
import { Database } from 'dictdb'

const writes = 1000
const ring = JSON.parse(process.argv[2])
const db = new Database({ shared: true, lockTimeoutMs: 3000 })
const t = db.createTable('t')
t.insert([{ id: 1, n: 0 }, { id: 2, n: 0 }])
const flags = new Int32Array(new SharedArrayBuffer(8))
const worker = new Worker(new URL('../fixtures/ring-victim.mjs', import.meta.url), { workerData: { db: db.handle(), id: 2, writes, flags, ring } })
worker.on('error', (error) => console.error('victim:', error))
while (Atomics.load(flags, 0) !== 1) await new Promise((resolve) => setTimeout(resolve, 5))
await worker.terminate()
await new Promise((resolve) => setTimeout(resolve, 50)) // the reaper runs on the worker's exit event
let append = 'ok'
try {
  t.insert({ id: 3, n: 0 })
} catch (error) {
  append = `${error.name}: ${error.message}`
}
const fresh = Database.attach(db.handle())
console.log(JSON.stringify({ append, here: t.get(2)?.n, fresh: fresh.getTable('t').get(2)?.n, inserted: fresh.getTable('t').get(3)?.n }))
fresh.close()
db.close()
