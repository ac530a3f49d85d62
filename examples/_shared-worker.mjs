// The worker half of examples/shared-workers.ts: attaches to the shared database and writes.
import { workerData, parentPort } from 'node:worker_threads'
import { Database, increment } from 'dictdb'

const db = Database.attach(workerData.db)
const hits = db.getTable('hits')
const wallets = db.getTable('wallets')
Atomics.add(workerData.barrier, 0, 1)
while (Atomics.load(workerData.barrier, 0) < workerData.workers); // start together

let created = 0
for (let i = 0; i < workerData.rounds; i++) {
  hits.update({ n: increment(1) }, { id: 'page' })
  if (wallets.getOrCreate({ owner: 'alice' }, { balance: 0 }).created) created++
}
db.close()
parentPort.postMessage({ created })
