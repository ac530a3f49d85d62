// worker_threads benchmark (issues 5, 9): a shared 100k-record database read and written from
// 1, 2 and 4 workers, against a local database. See bench/README.md ("workers.mjs") for the method.
// Run from the repo root: npm run build && node --expose-gc bench/workers.mjs   (writes bench/results/workers.json)
// --only=get: the get figures alone; --only=workers: the worker figures alone.
// DICTDB_MODULE=/path/to/dist/index.js runs another build (an A/B against main's, say).
// BENCH_ROUNDS (default 5): rounds of the worker figures; BENCH_WINDOW_MS (default 1000): each window.
// BENCH_CONFIGS=get1,get2: only these worker figures (names in CONFIGS). BENCH_GET_ROUNDS (default 5).
// The paired figures (session 16, bench/workers-paired.mjs; names in PAIRED: incPair, getPair) are
// worker figures too: listed in BENCH_CONFIGS, or run by default; --only=paired runs them alone.
// BENCH_PAIRS (default 80) pairs of batches per round, BENCH_PAIR_ROUNDS (default 6), BENCH_PIN=0:
// no pinning (see pairedRound).
// The scaling figures (session 19, bench/workers-scaling.mjs; names in SCALING: ctlLoop, ctlMap,
// getScale, incScale, hotScale): 2 workers ÷ 1 in alternating windows of one round (A: one worker
// alone, B: two at once; wall throughput; median of the per-pair ratios), beside the older
// one-window-after-the-other ratios of the same run, with two controls without dictdb (the
// machine's own 2 ÷ 1). Run by default (~1 minute), or alone with --only=scaling (--only= takes a
// comma list: --only=workers,scaling gives both methods' scaling figures of one run, no get figures).
// BENCH_SCALE_PAIRS (default 10) pairs per round, BENCH_SCALE_ROUNDS (default 4),
// BENCH_SCALE_WINDOW_MS (default 100).
import { spawnSync } from 'node:child_process'
import { writeFileSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads'
import { consume, environment, fmtOps, fmtRatio, measure, printTable, prng } from './harness.mjs'
import { Database, N, WARM_MS, controlNs, fill, fmtR, getKeys, increment, median, pct, spread, threadClock, warmRing } from './workers-lib.mjs'
import { PAIRED, PAIRS, pairedFigures, printPaired } from './workers-paired.mjs'
import { SCALING, printScaling, scalingFigures } from './workers-scaling.mjs'

const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 1000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const GET_ROUNDS = Number(process.env.BENCH_GET_ROUNDS ?? 5)
// BENCH_CLOCK=cpu: the old-method main-thread figures per second of this process's CPU time.
const CLOCK = process.env.BENCH_CLOCK === 'cpu' ? { clock: 'cpu' } : {}
const sharedCounter = new Int32Array(new SharedArrayBuffer(4))
const ARG = process.argv[2] ?? ''
// --get-only=local|shared: the child mode of isolatedGets.
const GET_ONLY = /^--get-only=(local|shared)$/.exec(ARG)?.[1]
// --only=workers,scaling: several parts (a comma list); undefined: all.
const ONLY = /^--only=((get|workers|paired|scaling)(,(get|workers|paired|scaling))*)$/.exec(ARG)?.[1].split(',')
const part = (name) => ONLY === undefined || ONLY.includes(name)

/**
 * The worker figures: `workers` fresh worker threads run `task` for one window, together.
 * `db`: 'shared' (each attaches to the bench's shared database), 'own' (each fills a local
 * database of its own: the same writes without sharing), 'none'. A new figure is a line here (and
 * its task in `tasks` of runWorker); a new ratio, a line in RATIOS.
 */
const CONFIGS = {
  get1: { label: 'get, 1 worker', task: 'get', workers: 1, db: 'shared' },
  get2: { label: 'get, 2 workers', task: 'get', workers: 2, db: 'shared' },
  sel1: { label: 'select city (~2,000 rows, copy: false), 1 worker', task: 'select', workers: 1, db: 'shared' },
  sel2: { label: 'select city (~2,000 rows, copy: false), 2 workers', task: 'select', workers: 2, db: 'shared' },
  incLocal: { label: 'increment by key, 1 worker, local database of its own', task: 'incDistinct', workers: 1, db: 'own' },
  inc1: { label: 'increment by key, 1 worker, shared database', task: 'incDistinct', workers: 1, db: 'shared' },
  inc2: { label: 'increment, 2 workers, distinct records', task: 'incDistinct', workers: 2, db: 'shared' },
  hot2: { label: 'increment, 2 workers, one hot record', task: 'incHot', workers: 2, db: 'shared' },
  seq4: { label: 'sequence.next(), 4 workers', task: 'sequence', workers: 4, db: 'shared' },
  atom4: { label: 'Atomics.add on a shared counter, 4 workers', task: 'atomics', workers: 4, db: 'none' },
}

/** Each ratio divides two figures of the same round (taken one after the other). */
const RATIOS = [
  { label: 'get: 2 workers ÷ 1 worker', of: 'get2', over: 'get1', target: '≥ 1.8×' },
  { label: 'select: 2 workers ÷ 1 worker', of: 'sel2', over: 'sel1', target: '≥ 1.8×' },
  { label: 'increment: 1 worker shared ÷ 1 worker local', of: 'inc1', over: 'incLocal', target: '≥ 0.6×' },
  { label: 'increment: 2 workers distinct ÷ 1 worker local', of: 'inc2', over: 'incLocal', target: '≥ 0.5×' },
  { label: 'increment: 2 workers one hot record ÷ 1 worker local', of: 'hot2', over: 'incLocal', target: 'report' },
  { label: 'sequence.next() ÷ Atomics.add, 4 workers', of: 'seq4', over: 'atom4', target: 'report' },
]


if (!isMainThread && workerData?.role === 'window') runWorker(workerData)
else if (isMainThread && GET_ONLY !== undefined) getOnly(GET_ONLY)
else if (isMainThread) await main()

function runWorker({ task, index, count, barrier, db: handle, own, counter }) {
  const db = own ? new Database() : handle === undefined ? null : Database.attach(handle)
  const t = own ? fill(db) : db?.getTable('people')
  const seq = task === 'sequence' ? db.sequence('bench', { format: 'B{000000}' }) : null
  const rnd = prng(7 + index)
  const tasks = {
    get: () => consume(t.get(1 + Math.floor(rnd() * N))),
    select: () => consume(t.select({ where: { city: `city${Math.floor(rnd() * 50)}` }, copy: false }).length),
    incDistinct: (i) => t.update({ score: increment(1) }, { id: 1 + index + count * (i % 1000) }),
    incHot: () => t.update({ score: increment(1) }, { id: 1 }),
    sequence: () => consume(seq.next()),
    atomics: () => Atomics.add(counter, 0, 1),
  }
  const op = tasks[task]
  // Warm up (and catch up with the log), then start together.
  const now = () => threadClock()?.cpu ?? performance.now()
  const warmStart = now()
  let i = 0
  do for (let k = 0; k < 256; k++) op(i++)
  while (i < 2000 || now() - warmStart < WARM_MS)
  // Waiting for the others, it keeps its replica caught up (a read): a worker that only spun here
  // would start its window by applying all the others' warm-up (60-80 ms of a 1 s window for
  // inc2). It does not write meanwhile: a worker writing alone runs the express path, faster than
  // a warming one applies it, and the warming one then falls a ring behind and rebuilds for ~1 s.
  const catchUp = handle !== undefined && t !== undefined ? () => consume(t.get(1)) : () => {}
  Atomics.add(barrier, 0, 1)
  while (Atomics.load(barrier, 0) < count) catchUp()
  const clock = threadClock()
  const start = performance.now()
  const end = start + WINDOW_MS
  let n = 0
  while (true) {
    for (let k = 0; k < 64; k++) op(n++)
    if (performance.now() >= end) break
  }
  const ms = performance.now() - start
  const after = threadClock()
  const cpu = clock && after ? { cpu: after.cpu - clock.cpu, wait: after.wait - clock.wait } : null
  parentPort.postMessage({ ops: n, ms, cpu, control: controlNs() })
}

/**
 * Runs one figure in fresh workers (a new V8 isolate each: no JIT state from another figure);
 * ops/s summed over the workers, each worker's CPU and run-queue wait as shares of its window.
 */
async function inWorkers({ task, workers: count, db: kind }, db) {
  const barrier = new Int32Array(new SharedArrayBuffer(8))
  const handle = kind === 'shared' ? db.handle() : undefined
  const workers = Array.from({ length: count }, (_, index) => new Worker(fileURLToPath(import.meta.url), {
    workerData: { role: 'window', task, index, count, barrier, db: handle, own: kind === 'own', counter: sharedCounter },
  }))
  const results = await Promise.all(workers.map((w) => new Promise((resolve, reject) => {
    w.once('message', resolve)
    w.once('error', reject)
  })))
  await Promise.all(workers.map((w) => w.terminate()))
  const ops = results.reduce((sum, r) => sum + r.ops / (r.ms / 1000), 0)
  const timed = results.every((r) => r.cpu !== null)
  return {
    ops,
    cpuShare: timed ? results.map((r) => r.cpu.cpu / r.ms) : null,
    waitShare: timed ? results.map((r) => r.cpu.wait / r.ms) : null,
    opsPerCpuSecond: timed ? results.reduce((sum, r) => sum + r.ops, 0) / (results.reduce((sum, r) => sum + r.cpu.cpu, 0) / 1000) : null,
    control: results.map((r) => r.control),
  }
}

/** ROUNDS rounds of the named figures, in reverse order every other round: samples per figure. */
async function workerRounds(names, db) {
  const samples = Object.fromEntries(names.map((name) => [name, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) samples[name].push(await inWorkers(CONFIGS[name], db))
  }
  return samples
}

/** Median and min–max of every figure, with CPU per worker and ops per CPU-second. */
function figureRows(samples) {
  return Object.entries(samples).map(([name, runs]) => {
    const ops = runs.map((r) => r.ops)
    const cpu = runs.flatMap((r) => r.cpuShare ?? [])
    const wait = runs.flatMap((r) => r.waitShare ?? [])
    const control = runs.flatMap((r) => r.control ?? []).filter(Number.isFinite)
    return [`${CONFIGS[name].label} [${name}]`, fmtOps(median(ops)), spread(ops, fmtOps), cpu.length ? `${pct(median(cpu))} (min ${pct(Math.min(...cpu))})` : '—', pct(median(wait)), fmtOps(median(runs.map((r) => r.opsPerCpuSecond))),
      control.length ? spread(control, (x) => x.toFixed(0)) : '—']
  })
}

/** Each ratio per round, then its median, min–max, and the same ratio of ops per CPU-second. */
function ratioFigures(samples) {
  return RATIOS.filter((r) => samples[r.of] && samples[r.over]).map((r) => {
    const perRound = samples[r.of].map((s, i) => s.ops / samples[r.over][i].ops)
    const perCpu = samples[r.of].map((s, i) => s.opsPerCpuSecond / samples[r.over][i].opsPerCpuSecond)
    // Each round's control (ns, the slowest worker's) of both figures: a round whose two figures ran
    // on CPUs of different speed shows as two different controls.
    const worst = (s) => Math.max(...(s.control ?? []).filter(Number.isFinite))
    const controls = samples[r.of].map((s, i) => `${worst(s).toFixed(0)}/${worst(samples[r.over][i]).toFixed(0)}`)
    return { ...r, median: median(perRound), min: Math.min(...perRound), max: Math.max(...perRound), perRound, perCpuSecond: median(perCpu), controls }
  })
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
  const perRound = runs.shared.map((s, i) => s / runs.local[i])
  console.log(`isolated get, ops/s per CPU second, ${GET_ROUNDS} rounds: local ${runs.local.map(fmtOps).join(', ')}; shared ${runs.shared.map(fmtOps).join(', ')}`)
  return { local: median(runs.local), shared: median(runs.shared), runs, perRound }
}

/** The get figures: each kind in its own processes, then the old in-process method, labelled. */
function getFigures(rows, figures) {
  const isolated = isolatedGets()
  figures.isolatedGet = isolated
  const ratio = isolated.shared / isolated.local
  rows.push(['get, local database, own process (CPU clock)', fmtOps(isolated.local), spread(isolated.runs.local, fmtOps), ''])
  rows.push(['get, shared database, own process (CPU clock)', fmtOps(isolated.shared), spread(isolated.runs.shared, fmtOps),
    `${fmtRatio(ratio)} of local (per round ${spread(isolated.perRound, fmtRatio)}; target ≥ 0.8×)`])
  // The method before session 5, kept so the change of method shows: both in this process, local first.
  const lt = fill(new Database())
  const st = fill(new Database({ shared: true }))
  const keys = getKeys()
  const localGet = measure('local get', (i) => consume(lt.get(keys[i & 4095])), CLOCK).opsPerSec
  const sharedGet = measure('shared get', (i) => consume(st.get(keys[i & 4095])), CLOCK).opsPerSec
  const localInc = measure('local increment', (i) => lt.update({ score: increment(1) }, { id: keys[i & 4095] }), CLOCK).opsPerSec
  rows.push(['get, local database, one process, timed first', fmtOps(localGet), '', ''])
  rows.push(['get, shared database, one process, timed second', fmtOps(sharedGet), '', `${fmtRatio(sharedGet / localGet)} of local (old method)`])
  rows.push(['increment by key, local database, main thread (old denominator)', fmtOps(localInc), '', ''])
  Object.assign(figures, { ratio, localGet, sharedGet, localInc })
  return localInc
}

async function main() {
  const env = environment()
  console.log(`worker_threads bench: ${N.toLocaleString()} records, ${ROUNDS} rounds of ${WINDOW_MS} ms windows, ${env.cpu} ×${env.cores}, load ${env.loadAvg.join(' ')}`)
  const figures = {}
  const getRows = []
  const names = process.env.BENCH_CONFIGS?.split(',') ?? [...Object.keys(CONFIGS), ...Object.keys(PAIRED), ...Object.keys(SCALING)]
  const workerNames = part('workers') ? names.filter((n) => n in CONFIGS) : []
  // --only=get keeps the get pair, --only=workers the increment pair.
  const pairNames = names.filter((n) => n in PAIRED && (part('paired') || part(n === 'getPair' ? 'get' : 'workers')))
  const scaleNames = part('scaling') ? names.filter((n) => n in SCALING) : []
  const localInc = part('get') ? getFigures(getRows, figures) : null
  if (workerNames.length > 0 || pairNames.length > 0 || scaleNames.length > 0) {
    const db = new Database({ shared: true })
    warmRing(db, fill(db))
    if (workerNames.length > 0) {
      const samples = await workerRounds(workerNames, db)
      const ratios = ratioFigures(samples)
      Object.assign(figures, { samples, ratios })
      if (samples.seq4) console.log(`(sequence handed out ${db.sequence('bench').current} values; the checks of gap-free, duplicate-free values are in tests/workers)`)
      printTable([['worker figure', 'ops/s, median', 'min–max', 'CPU per worker, median', 'run-queue wait', 'ops per CPU-second', 'control ns'], ...figureRows(samples)],
        { title: `Worker figures: ${ROUNDS} rounds, fresh workers each time` })
      printTable([['ratio (same round)', 'median', 'min–max', 'per round', 'per CPU-second', 'control ns per round', 'target'],
        ...ratios.map((r) => [r.label, fmtR(r.median), spread([r.min, r.max], fmtR), r.perRound.map(fmtR).join(' '), fmtR(r.perCpuSecond), r.controls.join(' '), r.target])])
      if (localInc !== null) {
        // Before session 6 the write ratios divided one window by the main thread's local increment.
        const old = ['inc1', 'inc2', 'hot2'].filter((n) => samples[n]).map((n) => [`${CONFIGS[n].label} ÷ main-thread local increment (old method)`, fmtRatio(median(samples[n].map((s) => s.ops)) / localInc)])
        if (old.length) printTable([['old-method ratio', 'value'], ...old])
      }
    }
    // The scaling figures before the paired ones: pinning a paired worker forks (taskset), which
    // leaves every page of the ring copy-on-write, and the scaling round after it paid a page
    // fault per ring page written (~9,000 per writer in its first round, against ~3,500).
    if (scaleNames.length > 0) {
      figures.scaling = await scalingFigures(scaleNames, db)
      printScaling(figures.scaling, figures.ratios)
    }
    if (pairNames.length > 0) {
      figures.paired = await pairedFigures(pairNames, db)
      printPaired(figures.paired, figures)
    }
  }
  if (getRows.length) printTable([['get', 'ops/s', 'min–max', 'ratio'], ...getRows], { title: 'get' })
  // BENCH_OUT=path: the JSON goes there instead (runs side by side, an A/B script).
  const out = process.env.BENCH_OUT || join(dirname(fileURLToPath(import.meta.url)), 'results', 'workers.json')
  mkdirSync(dirname(out), { recursive: true })
  // The per-batch times of the paired rounds and the per-window figures of the scaling rounds are kept (they are what the figures are made of).
  writeFileSync(out, JSON.stringify({ environment: env, loadAtEnd: environment().loadAvg, windowMs: WINDOW_MS, rounds: ROUNDS, records: N, pairs: PAIRS, figures }, null, 2))
  console.log(`load at end ${environment().loadAvg.join(' ')}; written ${out}`)
}
