// Run in a child process with a time limit (these waits used to spin for good). Stores `value`
// at word `index` of a new shared database's control block — a guard or mutex that looks held —
// then writes to table `a`, and prints how the write ended as one JSON line: `{ name, ms }`.
// The test computes the word index from the sources' layout; the third argument is the lock timeout.
import { Database } from 'dictdb'

const [index, value, lockTimeoutMs] = process.argv.slice(2).map(Number)
const db = new Database({ shared: true, lockTimeoutMs })
const a = db.createTable('a')
const control = new Int32Array(db.handle().buffers.control)
Atomics.store(control, index, value)
const start = performance.now()
let name = 'none'
try {
  a.insert({ id: 1 })
} catch (error) {
  name = error.name
}
console.log(JSON.stringify({ name, ms: Math.round(performance.now() - start) }))
