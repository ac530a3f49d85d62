// Persistence benchmark: save + load of 100k records in JSON and binary against a bare
// JSON.stringify + writeFileSync + readFileSync + JSON.parse of the same rows, and the longest
// event-loop stall of saveAsync/loadAsync on 1M records.
//
//   npm run build && node --expose-gc bench/persist.mjs [--quick] [--records=N] [--stall-records=N] [--clock=cpu] [--out=FILE]
//
// --clock=cpu: figures per second of this process's CPU time (steadier on a busy machine; it counts
// the GC's helper threads too). The load average is printed beside the figures.
//
// Targets (issue 4): JSON save+load within 2x of the bare baseline; binary faster than JSON;
// saveAsync's longest stall under 50 ms while saving 1M records.

import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import os, { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { DEFAULTS, collectGarbage, environment, fmtInt, fmtRatio, measure, parseArgs, printTable, prng } from './harness.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const args = parseArgs()
const quick = Boolean(args.quick || process.env.BENCH_QUICK)
const N = Number(args.records ?? 100_000)
const STALL_N = Number(args['stall-records'] ?? (quick ? 200_000 : 1_000_000))
const outFile = resolve(here, String(args.out ?? 'results/persist.json'))
const opts = { minTimeMs: quick ? 300 : 1500, warmupMs: quick ? 100 : 500, samples: quick ? 3 : 5, clock: args.clock === 'cpu' ? 'cpu' : 'wall' }

const modulePath = process.env.DICTDB_MODULE ?? fileURLToPath(new URL('../dist/index.js', import.meta.url))
const { Database } = await import(pathToFileURL(modulePath).href)
const dir = mkdtempSync(join(tmpdir(), 'dictdb-bench-'))

// The rows of bench/run.mjs: { id, name, age, city, score } from a seeded PRNG.
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'to', 'vi', 'ya', 'zo', 'be', 'di', 'fu', 'ga', 'hi', 'jo']
function makeRows(n) {
  const rnd = prng(20240611)
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1))
  const word = (k) => {
    let s = ''
    for (let j = 0; j < k; j++) s += SYLLABLES[int(0, SYLLABLES.length - 1)]
    return s[0].toUpperCase() + s.slice(1)
  }
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    name: `${word(int(2, 3))} ${word(int(2, 4))}`,
    age: int(18, 80),
    city: `city-${String(int(0, 49)).padStart(2, '0')}`,
    score: int(0, 10_000),
  }))
}

function database(rows, indexed) {
  const db = new Database()
  const people = db.createTable('people')
  if (indexed) {
    people.createIndex('age', { type: 'sorted' })
    people.createIndex('city', { type: 'hash' })
  }
  people.insert(rows)
  return db
}

const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(', ')
console.log(`dictdb persistence bench: ${fmtInt(N)} records, node ${process.version}${quick ? ' (quick)' : ''}, clock ${opts.clock}, load average ${loadavg()}\n`)
const rows = makeRows(N)
const plain = database(rows, false)
const indexed = database(rows, true)
const file = (name) => join(dir, name)
const ms = (r) => 1000 / r.opsPerSec

// ------------------------------------------------------------------ save + load, 100k records

const results = {}
results.bare = measure('bare stringify+write+read+parse', () => {
  writeFileSync(file('bare.json'), JSON.stringify(rows))
  return JSON.parse(readFileSync(file('bare.json'), 'utf8')).length
}, opts)
for (const [label, db] of [['plain', plain], ['indexed', indexed]]) {
  for (const format of ['json', 'binary']) {
    const f = file(`${label}.${format}`)
    results[`${label} ${format} save`] = measure(`${label} ${format} save`, () => db.save(f, { format }), opts)
    results[`${label} ${format} load`] = measure(`${label} ${format} load`, () => Database.load(f).listTables().length, opts)
    results[`${label} ${format} save+load`] = measure(`${label} ${format} save+load`, () => {
      db.save(f, { format })
      return Database.load(f).listTables().length
    }, opts)
    results[`${label} ${format} size`] = statSync(f).size
  }
}
const bareSize = statSync(file('bare.json')).size
const bareMs = ms(results.bare)
const table = [['workload', 'save ms', 'load ms', 'save+load ms', 'vs bare', 'file size']]
table.push(['bare JSON (stringify+write+read+parse)', '—', '—', bareMs.toFixed(1), '1.00×', fmtInt(bareSize)])
for (const label of ['plain', 'indexed']) {
  for (const format of ['json', 'binary']) {
    const k = `${label} ${format}`
    table.push([
      `dictdb ${format}${label === 'indexed' ? ' (2 indexes rebuilt on load)' : ''}`,
      ms(results[`${k} save`]).toFixed(1),
      ms(results[`${k} load`]).toFixed(1),
      ms(results[`${k} save+load`]).toFixed(1),
      fmtRatio(ms(results[`${k} save+load`]) / bareMs),
      fmtInt(results[`${k} size`]),
    ])
  }
}
printTable(table, { title: `Save + load of ${fmtInt(N)} records (median of ${opts.samples} samples, ${opts.clock} clock; save includes fsync of file and directory; load average now ${loadavg()})` })

// ------------------------------------------------------------------ event-loop stalls, 1M records

/** Runs `fn` while measuring the event loop: the longest delay seen by monitorEventLoopDelay and by a 1 ms heartbeat. */
async function stall(fn) {
  collectGarbage()
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  let last = performance.now()
  let longestGap = 0
  const heartbeat = setInterval(() => {
    const now = performance.now()
    longestGap = Math.max(longestGap, now - last)
    last = now
  }, 1)
  histogram.enable()
  const started = performance.now()
  await fn()
  const total = performance.now() - started
  histogram.disable()
  clearInterval(heartbeat)
  return { totalMs: total, maxDelayMs: histogram.max / 1e6, p99DelayMs: histogram.percentile(99) / 1e6, longestGapMs: longestGap }
}

console.log(`\nBuilding ${fmtInt(STALL_N)} records for the stall measurement...`)
const big = database(makeRows(STALL_N), false)
const stalls = {}
for (const format of ['json', 'binary']) {
  const f = file(`big.${format}`)
  stalls[`saveAsync ${format}`] = await stall(() => big.saveAsync(f, { format }))
  stalls[`loadAsync ${format}`] = await stall(() => Database.loadAsync(f))
  const t0 = performance.now()
  big.save(f, { format })
  stalls[`save (sync) ${format}`] = { totalMs: performance.now() - t0, maxDelayMs: performance.now() - t0, p99DelayMs: null, longestGapMs: performance.now() - t0 }
}
const stallTable = [['operation', 'total ms', 'longest stall ms (histogram max)', 'p99 delay ms', 'longest 1 ms-timer gap ms']]
for (const [name, s] of Object.entries(stalls)) {
  stallTable.push([name, s.totalMs.toFixed(0), s.maxDelayMs.toFixed(1), s.p99DelayMs == null ? '—' : s.p99DelayMs.toFixed(1), s.longestGapMs.toFixed(1)])
}
printTable(stallTable, { title: `Event-loop stalls with ${fmtInt(STALL_N)} records (a sync save, for comparison, stalls for its whole duration)` })

// ------------------------------------------------------------------ targets

const jsonRatio = ms(results['plain json save+load']) / bareMs
const binaryVsJson = ms(results['plain binary save+load']) / ms(results['plain json save+load'])
const saveStall = Math.max(stalls['saveAsync json'].maxDelayMs, stalls['saveAsync binary'].maxDelayMs)
const targets = [
  { label: 'JSON save+load within 2× of bare JSON', value: `${jsonRatio.toFixed(2)}×`, met: jsonRatio <= 2 },
  { label: 'binary save+load faster than JSON', value: `${binaryVsJson.toFixed(2)}× of JSON`, met: binaryVsJson < 1 },
  { label: `saveAsync longest stall < 50 ms (${fmtInt(STALL_N)} records)`, value: `${saveStall.toFixed(1)} ms`, met: saveStall < 50 },
]
printTable([['target', 'measured', 'met'], ...targets.map((t) => [t.label, t.value, t.met ? 'yes' : 'NO'])], { title: 'Targets' })

mkdirSync(dirname(outFile), { recursive: true })
const json = {
  environment: { ...environment(), records: N, stallRecords: STALL_N, quick, harness: { ...DEFAULTS, ...opts } },
  saveLoad: Object.fromEntries(Object.entries(results).map(([k, r]) => [k, typeof r === 'number' ? { bytes: r } : { ms: ms(r), spreadPct: r.spreadPct }])),
  bare: { ms: bareMs, bytes: bareSize },
  stalls,
  targets,
}
writeFileSync(outFile, `${JSON.stringify(json, null, 2)}\n`)
console.log(`\nwrote ${outFile}`)
rmSync(dir, { recursive: true, force: true })
