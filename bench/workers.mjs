// worker_threads benchmark (issue 5): a shared 100k-record database read and written from
// 1, 2 and 4 workers, against a local database in one thread.
// Run from the repo root: npm run build && node --expose-gc bench/workers.mjs   (writes bench/results/workers.json)
// DICTDB_MODULE=/path/to/dist/index.js runs another build (an A/B against main's, say).
// BENCH_GET_ROUNDS (default 5): rounds of the isolated get figures (see isolatedGets).
import { spawnSync } from 'node:child_process'
import { writeFileSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads'
import { consume, environment, fmtOps, fmtRatio, measure, printTable, prng } from './harness.mjs'

const modulePath = process.env.DICTDB_MODULE ?? fileURLToPath(new URL('../dist/index.js', import.meta.url))
const { Database, increment } = await import(pathToFileURL(modulePath).href)

const N = 100_000
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 1500)
// BENCH_CLOCK=cpu: the main-thread figures (local and shared get, local increment) per second of
// this process's CPU time, steadier on a busy machine; the worker figures stay wall-clock.
const CLOCK = process.env.BENCH_CLOCK === 'cpu' ? { clock: 'cpu' } : {}
const GET_ROUNDS = Number(process.env.BENCH_GET_ROUNDS ?? 5)
const sharedCounter = new Int32Array(new SharedArrayBuffer(4))
// --get-only=local|shared: the child mode of isolatedGets. --only=get: the get figures alone.
const GET_ONLY = /^--get-only=(local|shared)$/.exec(process.argv[2] ?? '')?.[1]
const ONLY_GETS = process.argv[2] === '--only=get'

if (!isMainThread) runWorker(workerData)
else if (GET_ONLY !== undefined) getOnly(GET_ONLY)
else await main()

function people(seed = 42) {
  const rnd = prng(seed)
  return Array.from({ length: N }, (_, i) => ({
    id: i + 1,
    name: `person${i}`,
    age: 18 + Math.floor(rnd() * 63),
    city: `city${Math.floor(rnd() * 50)}`,
    score: 0,
  }))
}

function fill(db) {
  const t = db.createTable('people', { indexes: [{ field: 'age', type: 'sorted' }, { field: 'city' }] })
  t.insert(people())
  return t
}

/** Runs `count` workers doing `task` for WINDOW_MS once all are ready; total ops/s. */
async function inWorkers(count, task, db) {
  const barrier = new Int32Array(new SharedArrayBuffer(8))
  const workers = Array.from({ length: count }, (_, i) => new Worker(fileURLToPath(import.meta.url), {
    workerData: { task, index: i, count, barrier, db: db?.handle(), counter: sharedCounter },
  }))
  const results = await Promise.all(workers.map((w) => new Promise((resolve, reject) => {
    w.once('message', resolve)
    w.once('error', reject)
  })))
  await Promise.all(workers.map((w) => w.terminate()))
  return results.reduce((sum, r) => sum + r.ops / (r.ms / 1000), 0)
}

function runWorker({ task, index, count, barrier, db: handle, counter }) {
  const db = handle === undefined ? null : Database.attach(handle)
  const t = db?.getTable('people')
  const seq = task === 'sequence' ? db.sequence('bench', { format: 'B{000000}' }) : null
  const rnd = prng(7 + index)
  const ops = {
    get: () => consume(t.get(1 + Math.floor(rnd() * N))),
    select: () => consume(t.select({ where: { city: `city${Math.floor(rnd() * 50)}` }, copy: false }).length),
    incDistinct: (i) => t.update({ score: increment(1) }, { id: 1 + index + count * (i % 1000) }),
    incHot: () => t.update({ score: increment(1) }, { id: 1 }),
    sequence: () => consume(seq.next()),
    atomics: () => Atomics.add(counter, 0, 1),
  }
  const op = ops[task]
  for (let i = 0; i < 2000; i++) op(i) // warm up, and catch up with the log
  Atomics.add(barrier, 0, 1)
  while (Atomics.load(barrier, 0) < count);
  const start = performance.now()
  const end = start + WINDOW_MS
  let n = 0
  while (true) {
    for (let k = 0; k < 64; k++) op(n++)
    if (performance.now() >= end) break
  }
  parentPort.postMessage({ ops: n, ms: performance.now() - start })
}

/** The same key sequence for every get figure: cache-unfriendly, the same in every process. */
function getKeys() {
  return Array.from({ length: 4096 }, (_, i) => 1 + ((i * 7919) % N))
}

/**
 * Child mode (`--get-only=local|shared`): fills one database and times only its `get`, by CPU
 * time, so that no other `get` has run in this process before (see isolatedGets).
 */
function getOnly(kind) {
  const t = fill(new Database({ shared: kind === 'shared' }))
  const keys = getKeys()
  const r = measure(`${kind} get`, (i) => consume(t.get(keys[i & 4095])), { clock: 'cpu', quiet: true })
  process.stdout.write(`${JSON.stringify({ kind, opsPerSec: r.opsPerSec })}\n`)
}

/**
 * Local and shared `get`, each timed in a fresh process of its own, GET_ROUNDS rounds that
 * alternate which goes first; the median of each. In one process, whichever `get` is timed first
 * is optimized while `Table.get` has seen one kind of database only, and the other pays for that
 * (local `get` costs about twice as much when timed after shared): a fresh process gives each the
 * same start.
 */
function isolatedGets() {
  const runs = { local: [], shared: [] }
  for (let round = 0; round < GET_ROUNDS; round++) {
    const order = round % 2 === 0 ? ['local', 'shared'] : ['shared', 'local']
    for (const kind of order) {
      const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), `--get-only=${kind}`], {
        encoding: 'utf8',
        env: process.env,
      })
      if (child.status !== 0) throw new Error(`the ${kind} get child failed (${child.status}): ${child.stderr}`)
      runs[kind].push(JSON.parse(child.stdout.trim().split('\n').at(-1)).opsPerSec)
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
  console.log(`isolated get, ops/s per CPU second, ${GET_ROUNDS} rounds: local ${runs.local.map(fmtOps).join(', ')}; shared ${runs.shared.map(fmtOps).join(', ')}`)
  return { local: median(runs.local), shared: median(runs.shared) }
}

async function main() {
  console.log(`worker_threads bench — ${N.toLocaleString()} records, ${WINDOW_MS} ms windows, ${environment().cpu}, main-thread clock: ${CLOCK.clock ?? 'wall'}`)
  const rows = []
  const figures = {}
  const add = (name, value, note = '') => {
    figures[name] = value
    rows.push([name, fmtOps(value), note])
  }

  const isolated = isolatedGets()
  const local = new Database()
  const lt = fill(local)
  const shared = new Database({ shared: true })
  const st = fill(shared)
  add('get, local database, own process (CPU clock)', isolated.local)
  add('get, shared database, own process (CPU clock)', isolated.shared, `${fmtRatio(isolated.shared / isolated.local)} of local (target ≥ 0.8×)`)
  // The method before session 5, kept so the change of method shows: both in this process, local first.
  const keys = getKeys()
  const localGet = measure('local get', (i) => consume(lt.get(keys[i & 4095])), CLOCK).opsPerSec
  const sharedGet = measure('shared get', (i) => consume(st.get(keys[i & 4095])), CLOCK).opsPerSec
  const localInc = measure('local increment', (i) => lt.update({ score: increment(1) }, { id: keys[i & 4095] }), CLOCK).opsPerSec
  add('get, local database, one process, timed first', localGet)
  add('get, shared database, one process, timed second', sharedGet, `${fmtRatio(sharedGet / localGet)} of local (old method)`)
  add('increment by key, local database, main thread', localInc)
  if (ONLY_GETS) return printTable([['measure', 'ops/s', 'ratio'], ...rows])

  const get1 = await inWorkers(1, 'get', shared)
  const get2 = await inWorkers(2, 'get', shared)
  add('get, 1 worker', get1)
  add('get, 2 workers', get2, `${fmtRatio(get2 / get1)} of 1 worker (target ≥ 1.8×)`)
  const sel1 = await inWorkers(1, 'select', shared)
  const sel2 = await inWorkers(2, 'select', shared)
  add('select city (~2,000 rows, copy: false), 1 worker', sel1)
  add('select city (~2,000 rows, copy: false), 2 workers', sel2, `${fmtRatio(sel2 / sel1)} of 1 worker (target ≥ 1.8×)`)

  const inc1 = await inWorkers(1, 'incDistinct', shared)
  add('increment, 1 worker, shared database', inc1, `${fmtRatio(inc1 / localInc)} of local single thread (target ≥ 0.6×)`)
  const incDistinct = await inWorkers(2, 'incDistinct', shared)
  add('increment, 2 workers, distinct records', incDistinct, `${fmtRatio(incDistinct / localInc)} of local single thread (target ≥ 0.5×)`)
  const incHot = await inWorkers(2, 'incHot', shared)
  add('increment, 2 workers, one hot record', incHot, `${fmtRatio(incHot / localInc)} of local single thread (reported)`)

  const seq4 = await inWorkers(4, 'sequence', shared)
  const atom4 = await inWorkers(4, 'atomics', null)
  add('sequence.next(), 4 workers', seq4)
  add('Atomics.add on a shared counter, 4 workers', atom4, `sequence is ${fmtRatio(seq4 / atom4)} of it`)
  const values = shared.sequence('bench').current
  console.log(`(sequence handed out ${values} values; the checks of gap-free, duplicate-free values are in tests/workers)`)

  printTable([['measure', 'ops/s', 'ratio'], ...rows])
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'workers.json')
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, JSON.stringify({ environment: environment(), windowMs: WINDOW_MS, records: N, figures }, null, 2))
  console.log(`written ${out}`)
}
