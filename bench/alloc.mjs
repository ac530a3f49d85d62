// Bytes allocated per operation: dictdb's write path (and get/select) next to a plain Map with
// copies, on the records of run.mjs. Unlike ops/s, these figures hardly move when other
// processes share the machine, so they are what to compare before and after a change.
//
//   npm run build && node bench/alloc.mjs [--ops=N] [--only=get,update,...] [--out=FILE]
//
// How: the young generation is made large (the script re-runs itself with
// --min/--max-semi-space-size), so a loop of N operations runs without a single garbage
// collection; the growth of the heap across the loop, divided by N, is what one operation
// allocated (what it keeps plus what it throws away). "kept" is the growth that survives a full
// collection afterwards. A loop during which V8 did collect is measured again with fewer
// operations, and marked if it still collects.

import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { PerformanceObserver } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { CITIES, CITY_COUNT, makeRecords, randomKeys } from './data.mjs'
import { environment, fmtInt, parseArgs, printTable } from './harness.mjs'

const SEMI_SPACE_MB = 256
const here = dirname(fileURLToPath(import.meta.url))

if (typeof globalThis.gc !== 'function') {
  const flags = ['--expose-gc', `--min-semi-space-size=${SEMI_SPACE_MB}`, `--max-semi-space-size=${SEMI_SPACE_MB}`]
  const child = spawnSync(process.execPath, [...flags, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' })
  process.exit(child.status ?? 1)
}

const args = parseArgs()
const OPS = Number(args.ops ?? 20_000)
const outFile = resolve(here, String(args.out ?? 'results/alloc.json'))
const modulePath = process.env.DICTDB_MODULE ?? fileURLToPath(new URL('../dist/index.js', import.meta.url))
const { Database, increment } = await import(pathToFileURL(modulePath).href)

const N = 100_000
const records = makeRecords(N)
const keys = randomKeys(N, 17)

let gcCount = 0
new PerformanceObserver((list) => (gcCount += list.getEntries().length)).observe({ entryTypes: ['gc'] })
/** Lets the observer report collections that happened so far. */
const settle = () => new Promise((r) => setTimeout(r, 5))

function dictdbTable() {
  const db = new Database()
  const t = db.createTable('people')
  t.createIndex('age', { type: 'sorted' })
  t.createIndex('city', { type: 'hash' })
  return t
}

function loadedTable() {
  const t = dictdbTable()
  t.insert(records)
  return t
}

function loadedMap() {
  const map = new Map()
  for (const r of records) map.set(r.id, { ...r })
  return map
}

/**
 * Each case: `setup()` makes the state (untimed, before the first collection), `run(state, n)`
 * performs n operations. Cases run twice: the first pass warms the code up.
 */
const CASES = [
  {
    name: 'insert one by one (fresh table, 2 indexes)',
    setup: dictdbTable,
    run: (t, n) => {
      for (let i = 0; i < n; i++) t.insert(records[i])
    },
  },
  {
    name: 'insert a list (fresh table, 2 indexes)',
    setup: dictdbTable,
    run: (t, n) => t.insert(records.slice(0, n)),
    // The slice is the caller's: not counted.
    extra: (n) => 16 + 8 * n,
  },
  { name: 'update by key (increment)', setup: loadedTable, run: (t, n) => updates(t, n) },
  { name: 'get by key (copy)', setup: loadedTable, run: (t, n) => gets(t, n) },
  {
    name: 'select city = c (per row returned)',
    setup: loadedTable,
    run: (t, n) => {
      for (let i = 0; i < n; i++) t.select({ where: { city: CITIES[i % CITY_COUNT] } })
    },
    ops: (n) => Math.ceil(n / 500),
    perRow: N / CITY_COUNT,
  },
  {
    name: 'Map+copy: insert',
    setup: () => new Map(),
    run: (map, n) => {
      for (let i = 0; i < n; i++) map.set(records[i].id, { ...records[i] })
    },
  },
  {
    name: 'Map+copy: update',
    setup: loadedMap,
    run: (map, n) => {
      for (let i = 0; i < n; i++) {
        const id = keys[i]
        const old = map.get(id)
        map.set(id, Object.freeze({ ...old, score: old.score + 1 }))
      }
    },
  },
  {
    name: 'Map+copy: get',
    setup: loadedMap,
    run: (map, n) => {
      let s
      for (let i = 0; i < n; i++) s = { ...map.get(keys[i]) }
      return s
    },
  },
]

const inc = increment(1)
function updates(t, n) {
  for (let i = 0; i < n; i++) t.update({ score: inc }, { id: keys[i] })
}
function gets(t, n) {
  let s
  for (let i = 0; i < n; i++) s = t.get(keys[i])
  return s
}

const heapUsed = () => process.memoryUsage().heapUsed

async function measureOnce(c, n) {
  let state = c.setup()
  global.gc()
  global.gc()
  await settle()
  const gcBefore = gcCount
  const h0 = heapUsed()
  c.run(state, n)
  const h1 = heapUsed()
  await settle()
  const collected = gcCount !== gcBefore
  global.gc()
  const h2 = heapUsed()
  state = null
  const extra = c.extra?.(n) ?? 0
  return { allocated: (h1 - h0 - extra) / n, kept: (h2 - h0 - extra) / n, collected }
}

async function measureCase(c) {
  const ops = c.ops?.(OPS) ?? OPS
  // Warm-up: enough calls for the optimizing compiler, whose code is the steady state measured.
  for (let i = 0; i < 3; i++) await measureOnce(c, ops)
  let n = ops
  let m = await measureOnce(c, n)
  while (m.collected && n > 500) {
    n = Math.floor(n / 4)
    m = await measureOnce(c, n)
  }
  return { name: c.name, ops: n, ...m, perRow: c.perRow }
}

const env = environment()
console.log(`dictdb allocation per operation — ${env.date}, node ${env.node} (V8 ${env.v8})`)
console.log(`young generation ${SEMI_SPACE_MB} MiB per semi-space; ${fmtInt(OPS)} operations per case after a warm-up pass`)
const results = []
const only = args.only ? String(args.only).split(',') : null
for (const c of CASES) if (!only || only.some((w) => c.name.includes(w))) results.push(await measureCase(c))

const fmtBytes = (b) => (Math.abs(b) >= 10_000 ? fmtInt(b) : b.toFixed(0))
const rows = [['operation', 'ops', 'bytes allocated / op', 'bytes kept / op', 'note']]
for (const r of results) {
  const note = [r.collected ? 'a GC ran: too low' : '', r.perRow ? `${(r.allocated / r.perRow).toFixed(0)} B per row returned` : '']
  rows.push([r.name, fmtInt(r.ops), fmtBytes(r.allocated), fmtBytes(r.kept), note.filter(Boolean).join('; ')])
}
printTable(rows, { title: 'bytes per operation (heap growth over the loop ÷ operations; "kept" survives a full GC)' })

mkdirSync(dirname(outFile), { recursive: true })
writeFileSync(outFile, JSON.stringify({ benchmark: 'alloc', environment: env, semiSpaceMB: SEMI_SPACE_MB, results }, null, 2) + '\n')
console.log(`\nwrote ${outFile}`)
