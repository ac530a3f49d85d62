// One database shared by worker_threads: every thread writes, nothing is lost or duplicated.
// Run: npm run demo  (or: node --import tsx examples/shared-workers.ts after npm run build)
import { Worker } from 'node:worker_threads'
import { Database } from 'dictdb'

const WORKERS = 4
const ROUNDS = 2_000

const db = new Database({ shared: true })
db.createTable('hits').insert({ id: 'page', n: 0 })
db.createTable('wallets', { indexes: [{ field: 'owner', unique: true }] })

const barrier = new Int32Array(new SharedArrayBuffer(4))
const started = performance.now()
const results = await Promise.all(
  Array.from({ length: WORKERS }, () => {
    const worker = new Worker(new URL('./_shared-worker.mjs', import.meta.url), {
      workerData: { db: db.handle(), barrier, workers: WORKERS, rounds: ROUNDS },
    })
    return new Promise<{ created: number }>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
  }),
)
const ms = performance.now() - started

const hits = db.getTable('hits').get('page')?.n
const wallets = db.getTable('wallets').count()
const creators = results.reduce((n, r) => n + r.created, 0)
console.log(`${WORKERS} workers × ${ROUNDS} increments of one counter → ${hits} (expected ${WORKERS * ROUNDS}) in ${ms.toFixed(0)} ms`)
console.log(`${WORKERS * ROUNDS} concurrent getOrCreate of alice's wallet → ${wallets} wallet, created by ${creators} call`)
if (hits !== WORKERS * ROUNDS || wallets !== 1 || creators !== 1) {
  console.error('✗ an invariant broke')
  process.exit(1)
}
console.log('✓ no lost update, no duplicate, across threads')
db.close()
