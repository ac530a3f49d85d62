// Run in a child process with a time limit (a mutex left held would make every later append wait
// until its lock timeout). `node append-termination.mjs <point> <words JSON>`: a worker
// (fixtures/append-victim.mjs) is terminated at `point` of the append mutex's take or release,
// while another worker (the bystander) waits for the mutex too. Then the main thread writes.
// Prints one JSON line: how the bystander's and the main thread's writes ended, the record's value
// here and in a thread that attaches afterwards, whether the main thread still held the mutex
// after the victim's end (when it held it then) and whether the mutex is free at the end.
// The main thread takes the mutex as an append does (the test gives the layout's words).
import { Worker, threadId } from 'node:worker_threads'
import { Database, increment } from 'dictdb'

const [point, wordsJson] = process.argv.slice(2)
const words = JSON.parse(wordsJson)
const { threadsBase, threadWords, state, thread, maxThreads, commits, appending, locked, sleeper } = words
// Long enough for a worker to start under load, and for the victim's wait while this thread holds
// the mutex: a test run at nice 19 beside benchmarks was kept off the CPU past 15 s between the
// victim's sleep and the release, and the victim gave up. A mutex never freed makes the writes
// end later (two waits, within the test's child limit, CHILD_LIMIT_MS).
const LOCK_TIMEOUT_MS = 60_000

const db = new Database({ shared: true, lockTimeoutMs: LOCK_TIMEOUT_MS })
const a = db.createTable('a')
a.insert({ id: 1, v: 0 })
const control = new Int32Array(db.handle().buffers.control)
const flags = new Int32Array(new SharedArrayBuffer(8))
const fixture = (name) => new URL(`../fixtures/${name}.mjs`, import.meta.url)
const gate = new Int32Array(new SharedArrayBuffer(4))

function mySlot() {
  for (let s = 0; s < maxThreads; s++) {
    const at = threadsBase + s * threadWords
    if (Atomics.load(control, at + state) === 1 && Atomics.load(control, at + thread) === threadId) return s
  }
  throw new Error('the main thread has no slot')
}

const myFlag = () => threadsBase + mySlot() * threadWords + appending

function hold() {
  const flag = myFlag()
  for (;;) {
    const word = Atomics.load(control, commits)
    if ((word & locked) === 0 && Atomics.compareExchange(control, commits, word, word | locked) === word) break
  }
  control[flag] = 1
}

function release() {
  const flag = myFlag()
  Atomics.exchange(control, commits, Atomics.load(control, commits) & ~(locked | sleeper))
  control[flag] = 0
  Atomics.notify(control, commits)
}

function spawn(name, extra = {}) {
  const worker = new Worker(fixture(name), { workerData: { db: db.handle(), gate, words, flags, point, ...extra } })
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

async function until(condition) {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 1))
}

/** flags[0] when the victim's write failed before its point: it will never get there. */
const FAILED = 3

/** Stops the run (the victim failed), once its error (the worker's 'error' event) is printed. */
async function victimFailed() {
  await new Promise((resolve) => setTimeout(resolve, 100))
  throw new Error('the victim never reached its point: its write failed (its error is above)')
}

// At 'fast' the victim finds the mutex free; elsewhere the main thread holds it first.
if (point !== 'fast') hold()
const victim = spawn('append-victim')
await victim.next('attached')
if (['window', 'held', 'release', 'released'].includes(point)) {
  await until(() => Atomics.load(flags, 0) === 1 || Atomics.load(flags, 0) === FAILED)
  if (Atomics.load(flags, 0) === FAILED) await victimFailed()
  release()
}
// Blocks this thread until the victim is at its point: it ends it as soon as it gets there (the
// straight-line points last some 100 ms).
for (let seen; (seen = Atomics.load(flags, 0)) !== 2 && seen !== FAILED; ) Atomics.wait(flags, 0, seen, 1000)
if (Atomics.load(flags, 0) === FAILED) await victimFailed()
// At 'released' the victim has let go: the main thread takes the mutex before the victim ends
// (the reaper must leave it held).
if (point === 'released') hold()
// The bystander's write starts while the victim holds or waits for the mutex (the straight-line
// points are too short for a worker to start: there it starts right after the victim's end).
const straightLine = ['window', 'fast', 'released'].includes(point)
let bystander = null
if (!straightLine) {
  bystander = spawn('write-one')
  await bystander.next('attached')
}
const terminated = victim.worker.terminate()
Atomics.store(flags, 1, 1)
await terminated
// At 'pause', 'backoff', 'spin', 'sleep' and 'released' the main thread still holds the mutex: the reaper must leave it so.
let mainHolds = null
if (point === 'pause' || point === 'backoff' || point === 'spin' || point === 'sleep' || point === 'released') {
  await new Promise((resolve) => setTimeout(resolve, 50)) // the reaper runs on the worker's exit event
  mainHolds = (Atomics.load(control, commits) & locked) !== 0 && Atomics.load(control, myFlag()) === 1
  release()
}
bystander ??= spawn('write-one')
const bystanderResult = await bystander.next('done')
let main = 'ok'
try {
  a.update({ v: increment(1) }, { id: 1 })
} catch (error) {
  main = error.name
}
const fresh = spawn('read-state')
const freshState = await fresh.next('done')
console.log(
  JSON.stringify({
    bystander: bystanderResult.ok ? 'ok' : bystanderResult.error.name,
    main,
    v: a.get(1)?.v,
    fresh: freshState.a.records,
    mainHolds,
    free: (Atomics.load(control, commits) & locked) === 0,
  }),
)
db.close()
process.exit(0)
