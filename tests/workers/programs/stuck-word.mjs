// Run in a child process with a time limit (these waits used to spin for good). Sets the bits of
// `value` in word `index` of a new shared database's control block (`Atomics.or`: a guard or
// mutex that looks held; the commit word keeps its count), for each pair (index, value) given,
// then writes to table `a`, and prints how the write ended as one JSON line: `{ name, ms }`.
// The test computes the word indexes from the sources' layout; the first argument is the lock timeout.
import { Database } from 'dictdb'

const [lockTimeoutMs, ...pairs] = process.argv.slice(2).map(Number)
const db = new Database({ shared: true, lockTimeoutMs })
const a = db.createTable('a')
const control = new Int32Array(db.handle().buffers.control)
for (let i = 0; i < pairs.length; i += 2) Atomics.or(control, pairs[i], pairs[i + 1])
const start = performance.now()
let name = 'none'
try {
  a.insert({ id: 1 })
} catch (error) {
  name = error.name
}
console.log(JSON.stringify({ name, ms: Math.round(performance.now() - start) }))
