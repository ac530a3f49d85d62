// Run in a child process with a time limit (it used to hang for good). The main thread is inside
// a transaction on `a` while a worker commits to `b`; a listener that inserts into `c` when it
// sees `b` then runs when the transaction commits. Prints the tables the listener saw, in order,
// and how many records `c` holds, as one JSON line, and ends by itself.
import { Worker } from 'node:worker_threads'
import { Database } from 'dictdb'

const db = new Database({ shared: true, lockTimeoutMs: 2000 })
const a = db.createTable('a')
db.createTable('b')
const c = db.createTable('c')
const seen = []
db.onCommit((commit) => {
  for (const op of commit.ops) {
    seen.push(op.table)
    if (op.table === 'b') c.insert({ from: op.key })
  }
})
const flags = new Int32Array(new SharedArrayBuffer(8))
const worker = new Worker(new URL('../fixtures/commit-on-signal.mjs', import.meta.url), {
  workerData: { db: db.handle(), flags, table: 'b' },
})
await new Promise((resolve) => worker.on('message', (msg) => msg.type === 'attached' && resolve()))
db.transaction(() => {
  a.insert({ id: 1 })
  Atomics.store(flags, 0, 1)
  Atomics.notify(flags, 0)
  const end = Date.now() + 10_000
  while (Atomics.load(flags, 1) === 0 && Date.now() < end) Atomics.wait(flags, 1, 0, 50)
})
await worker.terminate()
console.log(JSON.stringify({ seen, c: c.count() }))
db.close()
