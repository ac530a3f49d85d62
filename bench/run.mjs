// Core benchmark: dictdb against better-sqlite3, LokiJS and a plain Map, on 100k records.
//
//   npm run bench                      (from the repo root: builds dist/, installs bench/, runs this)
//   node --expose-gc run.mjs [--quick] [--only=insert,get,...] [--engines=dictdb,sqlite,...]
//                            [--records=N] [--samples=N] [--min-time=MS] [--clock=cpu] [--out=FILE]
//                            [--runs=N]   (default 3, 1 with --quick: each run in its own process,
//                                          then the median of each ratio across the runs)
//
// See README.md for what each workload does and how to read the ratios.

import { createRequire } from 'node:module'
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import {
  measureGroup,
  printTable,
  environment,
  evaluateTargets,
  fmtOps,
  fmtRatio,
  fmtInt,
  gcExposed,
  busyWarning,
  cpuShareWarning,
  collectGarbage,
  DEFAULTS,
  parseArgs,
} from './harness.mjs'
import { AGE_MAX, AGE_MIN, CITIES, CITY_COUNT, SEED, makeRecords, randomKeys } from './data.mjs'
import { runSeveral } from './runs.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)

// ---------------------------------------------------------------- options

const args = parseArgs()
const quick = Boolean(args.quick || process.env.BENCH_QUICK)
const N = Number(args.records ?? 100_000)
const harnessOpts = {
  minTimeMs: Number(args['min-time'] ?? (quick ? 100 : DEFAULTS.minTimeMs)),
  warmupMs: quick ? 50 : DEFAULTS.warmupMs,
  samples: Number(args.samples ?? (quick ? 3 : DEFAULTS.samples)),
  clock: args.clock === 'cpu' ? 'cpu' : 'wall',
}
const onlyWorkloads = args.only ? String(args.only).split(',') : null
const onlyEngines = args.engines ? String(args.engines).split(',') : null
const outFile = resolve(here, String(args.out ?? 'results/core.json'))
const runs = Number(args.runs ?? (quick ? 1 : 3))
if (!(Number.isInteger(runs) && runs >= 1)) {
  console.error(`--runs takes a positive integer, got ${args.runs}`)
  process.exit(2)
}

// ---------------------------------------------------------------- data

const records = makeRecords(N)

// Access pattern for get/update: 2^17 uniformly random ids (same sequence for every engine).
const KEYS_BITS = 17
const MASK = (1 << KEYS_BITS) - 1
const keys = randomKeys(N, KEYS_BITS)
// Range queries: age between x and x+2 for x cycling through 18..78.
const RANGE_WIDTH = 2
const RANGE_STARTS = Array.from({ length: AGE_MAX - RANGE_WIDTH - AGE_MIN + 1 }, (_, i) => AGE_MIN + i)

function stats(xs) {
  const sum = xs.reduce((a, b) => a + b, 0)
  return { min: Math.min(...xs), avg: Math.round(sum / xs.length), max: Math.max(...xs) }
}
const cityCounts = (() => {
  const m = new Map(CITIES.map((c) => [c, 0]))
  for (const r of records) m.set(r.city, m.get(r.city) + 1)
  return [...m.values()]
})()
const rangeCounts = (() => {
  const byAge = new Array(AGE_MAX + 1).fill(0)
  for (const r of records) byAge[r.age]++
  return RANGE_STARTS.map((x) => byAge.slice(x, x + RANGE_WIDTH + 1).reduce((a, b) => a + b, 0))
})()

// ---------------------------------------------------------------- engines

function pkgVersion(name) {
  try {
    return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version
  } catch {
    return undefined
  }
}

const engineStatus = {}

async function loadDictdb() {
  const url = process.env.DICTDB_MODULE
    ? pathToFileURL(resolve(process.env.DICTDB_MODULE)).href
    : new URL('../dist/index.js', import.meta.url).href
  const mod = await import(url)
  for (const name of ['Database', 'increment']) {
    if (typeof mod[name] !== 'function') throw new Error(`${url} does not export ${name}`)
  }
  let version
  try {
    version = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version
  } catch {}
  const { Database, increment } = mod
  const inc1 = increment(1)
  void inc1
  const create = () => {
    const db = new Database()
    const t = db.createTable('people')
    t.createIndex('age', { type: 'sorted' })
    t.createIndex('city', { type: 'hash' })
    return { db, t }
  }
  const close = ({ db }) => {
    if (typeof db.close === 'function') db.close()
  }
  return {
    key: 'dictdb',
    label: 'dictdb',
    version,
    insert: {
      setup: create,
      fn: ({ t }) => {
        for (let i = 0; i < records.length; i++) t.insert(records[i])
        return t
      },
      teardown: close,
    },
    insertList: {
      setup: create,
      fn: ({ t }) => t.insert(records),
      teardown: close,
    },
    loaded() {
      const s = create()
      for (let i = 0; i < records.length; i++) s.t.insert(records[i])
      return s
    },
    ops: ({ t }) => {
      const age = t.field('age')
      return {
        get: (i) => t.get(keys[i & MASK]),
        city: (i) => t.select({ where: { city: CITIES[i % CITY_COUNT] } }),
        'city:nocopy': (i) => t.select({ where: { city: CITIES[i % CITY_COUNT] }, copy: false }),
        range: (i) => {
          const x = RANGE_STARTS[i % RANGE_STARTS.length]
          return t.select({ where: age.between(x, x + RANGE_WIDTH) })
        },
        'range:nocopy': (i) => {
          const x = RANGE_STARTS[i % RANGE_STARTS.length]
          return t.select({ where: age.between(x, x + RANGE_WIDTH), copy: false })
        },
        update: (i) => t.update({ score: increment(1) }, { id: keys[i & MASK] }),
      }
    },
    check: ({ t }) => ({
      get: t.get(records[0].id),
      city: t.select({ where: { city: CITIES[0] } }).length,
      range: t.select({ where: t.field('age').between(RANGE_STARTS[0], RANGE_STARTS[0] + RANGE_WIDTH) }).length,
      cityNoCopy: t.select({ where: { city: CITIES[0] }, copy: false }).length,
    }),
    close,
  }
}

async function loadSqlite() {
  const Sqlite = require('better-sqlite3')
  const create = () => {
    const db = new Sqlite(':memory:')
    db.exec(
      'CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER NOT NULL, city TEXT NOT NULL, score INTEGER NOT NULL);' +
        'CREATE INDEX people_age ON people(age);' +
        'CREATE INDEX people_city ON people(city);',
    )
    const ins = db.prepare('INSERT INTO people (id, name, age, city, score) VALUES (?, ?, ?, ?, ?)')
    const insertAll = db.transaction((rows) => {
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]
        ins.run(r.id, r.name, r.age, r.city, r.score)
      }
    })
    return { db, insertAll }
  }
  const close = ({ db }) => db.close()
  // Fail early (and visibly) if the native module cannot load.
  close(create())
  const insertAll = {
    setup: create,
    fn: (s) => {
      s.insertAll(records)
      return s
    },
    teardown: close,
  }
  return {
    key: 'sqlite',
    label: 'better-sqlite3',
    version: pkgVersion('better-sqlite3'),
    insert: insertAll,
    // Already one prepared statement run per record inside one transaction: the same for a list.
    insertList: insertAll,
    loaded() {
      const s = create()
      s.insertAll(records)
      return s
    },
    ops: ({ db }) => {
      const byId = db.prepare('SELECT * FROM people WHERE id = ?')
      const byCity = db.prepare('SELECT * FROM people WHERE city = ?')
      const byAge = db.prepare('SELECT * FROM people WHERE age BETWEEN ? AND ?')
      const bump = db.prepare('UPDATE people SET score = score + 1 WHERE id = ?')
      return {
        get: (i) => byId.get(keys[i & MASK]),
        city: (i) => byCity.all(CITIES[i % CITY_COUNT]),
        range: (i) => {
          const x = RANGE_STARTS[i % RANGE_STARTS.length]
          return byAge.all(x, x + RANGE_WIDTH)
        },
        update: (i) => bump.run(keys[i & MASK]).changes,
      }
    },
    check: ({ db }) => ({
      get: db.prepare('SELECT * FROM people WHERE id = ?').get(records[0].id),
      city: db.prepare('SELECT * FROM people WHERE city = ?').all(CITIES[0]).length,
      range: db
        .prepare('SELECT * FROM people WHERE age BETWEEN ? AND ?')
        .all(RANGE_STARTS[0], RANGE_STARTS[0] + RANGE_WIDTH).length,
    }),
    close,
  }
}

async function loadLoki() {
  const Loki = require('lokijs')
  let n = 0
  const create = () => {
    const db = new Loki(`bench-${n++}.db`) // never saved: purely in memory
    const coll = db.addCollection('people', { indices: ['age', 'city'], unique: ['id'] })
    return { db, coll }
  }
  return {
    key: 'loki',
    label: 'lokijs',
    version: pkgVersion('lokijs'),
    insert: {
      setup: create,
      // Loki stores the object it is given (and adds $loki/meta to it), so hand it a copy,
      // as dictdb makes one: the caller's records must stay reusable.
      fn: ({ coll }) => {
        for (let i = 0; i < records.length; i++) coll.insert({ ...records[i] })
        return coll
      },
    },
    loaded() {
      const s = create()
      for (let i = 0; i < records.length; i++) s.coll.insert({ ...records[i] })
      return s
    },
    ops: ({ coll }) => ({
      get: (i) => coll.by('id', keys[i & MASK]),
      // find() returns the live stored documents: no copy.
      'city:nocopy': (i) => coll.find({ city: CITIES[i % CITY_COUNT] }),
      'range:nocopy': (i) => {
        const x = RANGE_STARTS[i % RANGE_STARTS.length]
        return coll.find({ age: { $between: [x, x + RANGE_WIDTH] } })
      },
      update: (i) => {
        const doc = coll.by('id', keys[i & MASK])
        doc.score += 1
        return coll.update(doc)
      },
    }),
    check: ({ coll }) => ({
      get: coll.by('id', records[0].id),
      city: coll.find({ city: CITIES[0] }).length,
      range: coll.find({ age: { $between: [RANGE_STARTS[0], RANGE_STARTS[0] + RANGE_WIDTH] } }).length,
    }),
  }
}

async function loadMap() {
  return {
    key: 'map',
    label: 'Map (+copy)',
    version: process.version,
    insert: {
      setup: () => new Map(),
      fn: (map) => {
        for (let i = 0; i < records.length; i++) {
          const r = records[i]
          map.set(r.id, { ...r })
        }
        return map
      },
    },
    loaded() {
      const map = new Map()
      for (const r of records) map.set(r.id, { ...r })
      return map
    },
    ops: (map) => ({
      get: (i) => ({ ...map.get(keys[i & MASK]) }),
      update: (i) => {
        const id = keys[i & MASK]
        const old = map.get(id)
        map.set(id, Object.freeze({ ...old, score: old.score + 1 }))
        return 1
      },
    }),
    check: (map) => ({ get: { ...map.get(records[0].id) } }),
  }
}

const LOADERS = [
  ['dictdb', loadDictdb],
  ['sqlite', loadSqlite],
  ['loki', loadLoki],
  ['map', loadMap],
]

// ---------------------------------------------------------------- workloads

// Rows of the results table, in order; `op` is the key in engine.ops(); columns are engines.
const WORKLOADS = [
  { key: 'insert', title: `insert ${fmtInt(N)} one by one (records/s)` },
  { key: 'insert:list', title: `insert a list of ${fmtInt(N)} (records/s)` },
  { key: 'get', title: 'get by primary key (copy)' },
  { key: 'city', title: `select city = c (~${fmtInt(stats(cityCounts).avg)} rows, copies)` },
  { key: 'city:nocopy', title: 'select city = c (no copy / live)' },
  { key: 'range', title: `select age between x and x+2 (~${fmtInt(stats(rangeCounts).avg)} rows, copies)` },
  { key: 'range:nocopy', title: 'select age between x and x+2 (no copy / live)' },
  { key: 'update', title: 'update score += 1 by key' },
]

// Targets of issue 14 (the write path); the select ones are "no loss" floors.
const TARGETS = [
  { workload: 'insert', engine: 'dictdb', peer: 'sqlite', min: 1.5 },
  { workload: 'insert', engine: 'dictdb', peer: 'loki', min: 10 },
  { workload: 'insert:list', engine: 'dictdb', peer: 'sqlite', min: 2 },
  { workload: 'get', engine: 'dictdb', peer: 'map', min: 0.9 },
  { workload: 'get', engine: 'dictdb', peer: 'sqlite', min: 1.5 },
  { workload: 'city', engine: 'dictdb', peer: 'sqlite', min: 8 },
  { workload: 'city:nocopy', engine: 'dictdb', peer: 'loki', min: 1 },
  { workload: 'range', engine: 'dictdb', peer: 'sqlite', min: 8 },
  { workload: 'update', engine: 'dictdb', peer: 'sqlite', min: 1.5 },
  { workload: 'update', engine: 'dictdb', peer: 'map', min: 0.6 },
  { workload: 'update', engine: 'dictdb', peer: 'loki', min: 50 },
]
// Extra ratios printed for information (no target).
const INFO = [
  { workload: 'insert', engine: 'dictdb', peer: 'map' },
  { workload: 'get', engine: 'dictdb', peer: 'loki' },
  { workload: 'range:nocopy', engine: 'dictdb', peer: 'loki' },
]

// ---------------------------------------------------------------- run

async function main() {
  const env = environment()
  console.log(`dictdb core benchmark — ${env.date}`)
  console.log(`node ${env.node} (V8 ${env.v8}) on ${env.cpu} ×${env.cores}, ${env.memoryGiB} GiB, ${env.platform}`)
  if (!gcExposed()) console.log('note: gc() not exposed; run with node --expose-gc for steadier figures')
  const busy = busyWarning()
  if (busy) console.log(busy)
  if (quick) console.log('note: --quick: short samples, figures are rough')
  if (harnessOpts.clock === 'cpu') console.log('note: --clock=cpu: operations per second of this process\'s CPU time (not of the wall clock)')
  console.log(
    `harness: per engine a warm-up of ${harnessOpts.warmupMs} ms, then ${harnessOpts.samples} samples of >= ${harnessOpts.minTimeMs} ms each, taken round-robin across the engines; median reported`,
  )
  const cs = stats(cityCounts)
  const rs = stats(rangeCounts)
  console.log(
    `data: ${fmtInt(N)} records {id,name,age,city,score}, seed ${SEED}; ages ${AGE_MIN}–${AGE_MAX}, ${CITY_COUNT} cities`,
  )
  console.log(`  rows per city query:  min ${fmtInt(cs.min)}, avg ${fmtInt(cs.avg)}, max ${fmtInt(cs.max)}`)
  console.log(
    `  rows per age range query (between x and x+${RANGE_WIDTH}, x = ${RANGE_STARTS[0]}..${RANGE_STARTS.at(-1)}): min ${fmtInt(rs.min)}, avg ${fmtInt(rs.avg)}, max ${fmtInt(rs.max)}`,
  )

  // Load engines; a peer that fails is reported and skipped.
  const engines = []
  for (const [key, load] of LOADERS) {
    if (onlyEngines && !onlyEngines.includes(key)) continue
    try {
      const e = await load()
      engines.push(e)
      engineStatus[key] = { label: e.label, version: e.version ?? null, loaded: true }
    } catch (err) {
      const why = err?.code ? `${err.code}: ${err.message}` : String(err?.message ?? err)
      engineStatus[key] = { loaded: false, error: why }
      console.log(`\n!! ${key} could not be loaded, continuing without it:\n   ${why.split('\n').slice(0, 4).join('\n   ')}`)
    }
  }
  console.log(
    `engines: ${engines.map((e) => `${e.label}${e.version && e.key !== 'map' ? ' ' + e.version : ''}`).join(', ')}`,
  )

  const results = {} // results[workload][engine] = measurement or { error }
  const wants = (wl) => !onlyWorkloads || onlyWorkloads.some((w) => wl === w || wl.startsWith(w + ':'))

  // 1. insert: a fresh, indexed, empty store per run; timed = inserting all records.
  for (const [workload, key] of [['insert', 'insert'], ['insert:list', 'insertList']]) {
    if (!wants(workload)) continue
    console.log(`\n[${workload}] ${WORKLOADS.find((w) => w.key === workload).title}`)
    results[workload] = measureGroup(
      engines
        .filter((e) => e[key] !== undefined)
        .map((e) => ({
          key: e.key,
          name: e.label,
          fn: e[key].fn,
          setup: e[key].setup,
          teardown: e[key].teardown,
          opsPerCall: records.length,
        })),
      harnessOpts,
    )
  }

  // 2–5: stores loaded once with all records.
  const readWorkloads = WORKLOADS.filter((w) => !w.key.startsWith('insert') && wants(w.key))
  if (readWorkloads.length) {
    const loaded = new Map()
    const checks = {}
    for (const e of engines) {
      try {
        const state = e.loaded()
        const ops = e.ops(state)
        loaded.set(e.key, { state, ops })
        checks[e.key] = e.check(state)
      } catch (err) {
        console.log(`\n!! ${e.label}: loading ${fmtInt(N)} records failed: ${err?.stack ?? err}`)
      }
      collectGarbage()
    }
    // Sanity: same answers everywhere.
    const exp = { city: cityCounts[0], range: rangeCounts[0] }
    for (const [k, c] of Object.entries(checks)) {
      const bad = []
      for (const f of ['city', 'range', 'cityNoCopy']) {
        const want = f === 'cityNoCopy' ? exp.city : exp[f]
        if (c[f] !== undefined && c[f] !== want) bad.push(`${f}: ${c[f]} rows, expected ${want}`)
      }
      const g = c.get
      const r0 = records[0]
      if (!g || g.id !== r0.id || g.name !== r0.name || g.age !== r0.age || g.city !== r0.city || g.score !== r0.score)
        bad.push(`get(${r0.id}) = ${JSON.stringify(g)}`)
      if (bad.length) console.log(`!! sanity check failed for ${k}: ${bad.join('; ')}`)
    }

    for (const w of readWorkloads) {
      console.log(`\n[${w.key}] ${w.title}`)
      const entries = []
      for (const e of engines) {
        const fn = loaded.get(e.key)?.ops[w.key]
        if (fn) entries.push({ key: e.key, name: e.label, fn })
      }
      results[w.key] = measureGroup(entries, harnessOpts)
    }
    for (const e of engines) {
      const l = loaded.get(e.key)
      if (l && e.close) e.close(l.state)
    }
  }

  // ------------------------------------------------------------ report
  const engineKeys = engines.map((e) => e.key)
  const header = ['workload', ...engines.map((e) => e.label)]
  const rows = [header]
  for (const w of WORKLOADS) {
    if (!results[w.key]) continue
    rows.push([
      w.title,
      ...engineKeys.map((k) => {
        const r = results[w.key][k]
        if (!r) return '—'
        if (r.error) return 'error'
        return fmtOps(r.opsPerSec)
      }),
    ])
  }
  printTable(rows, { title: 'ops/s (median; higher is better)' })

  const evaluated = evaluateTargets(results, TARGETS)
  const info = evaluateTargets(
    results,
    INFO.map((t) => ({ ...t, min: null })),
  )
  const label = (k) => engineStatus[k]?.label ?? k
  const ratioRows = [['ratio', 'dictdb ÷ peer', 'target', 'met']]
  const wlTitle = (k) => ({ 'city:nocopy': 'city copy:false', 'range:nocopy': 'range copy:false', 'insert:list': 'insert a list' })[k] ?? k
  for (const t of evaluated) {
    ratioRows.push([
      `${wlTitle(t.workload)}: dictdb ÷ ${label(t.peer)}`,
      fmtRatio(t.ratio),
      `≥ ${t.target}×`,
      t.met == null ? 'n/a' : t.met ? '✓' : '✗',
    ])
  }
  for (const t of info) {
    if (t.ratio == null) continue
    ratioRows.push([`${wlTitle(t.workload)}: dictdb ÷ ${label(t.peer)}`, fmtRatio(t.ratio), '(info)', ''])
  }
  printTable(ratioRows, { title: 'ratios (dictdb ops/s ÷ peer ops/s; > 1 means dictdb is faster)' })
  const met = evaluated.filter((t) => t.met === true).length
  const missed = evaluated.filter((t) => t.met === false)
  const na = evaluated.filter((t) => t.met == null).length
  console.log(`targets: ${met} met, ${missed.length} missed${na ? `, ${na} not measured` : ''}`)
  for (const t of missed) console.log(`  ✗ ${wlTitle(t.workload)} vs ${label(t.peer)}: ${fmtRatio(t.ratio)} < ${t.target}×`)

  const json = {
    benchmark: 'core',
    environment: env,
    harness: { ...harnessOpts, statistic: 'median', interleaved: true, quick },
    dataset: {
      records: N,
      seed: SEED,
      fields: ['id', 'name', 'age', 'city', 'score'],
      ages: [AGE_MIN, AGE_MAX],
      cities: CITY_COUNT,
      rowsPerCityQuery: cs,
      rangeWidth: RANGE_WIDTH,
      rowsPerRangeQuery: rs,
    },
    engines: engineStatus,
    workloads: Object.fromEntries(WORKLOADS.map((w) => [w.key, w.title])),
    results: Object.fromEntries(
      Object.entries(results).map(([wl, byEngine]) => [
        wl,
        Object.fromEntries(
          Object.entries(byEngine).map(([k, r]) => [
            k,
            r.error
              ? { error: r.error }
              : {
                  opsPerSec: Math.round(r.opsPerSec),
                  samples: r.samples.map((x) => Math.round(x)),
                  spreadPct: Math.round(r.spreadPct * 10) / 10,
                  iterationsPerSample: r.iterations,
                  msPerSample: Math.round(r.msPerSample),
                  cpuShare: Math.round(r.cpuShare * 100) / 100,
                },
          ]),
        ),
      ]),
    ),
    ratios: [...evaluated, ...info.filter((t) => t.ratio != null)].map((t) => ({
      workload: t.workload,
      engine: t.engine,
      peer: t.peer,
      ratio: t.ratio == null ? null : Math.round(t.ratio * 1000) / 1000,
      target: t.target,
      met: t.met,
    })),
    summary: { met, missed: missed.length, notMeasured: na },
  }
  json.environment.loadAvgAtEnd = (await import('node:os')).loadavg().map((x) => Math.round(x * 100) / 100)
  const busyEnd = busyWarning()
  if (busyEnd) console.log(busyEnd)
  const starved = cpuShareWarning(results)
  if (starved) console.log(starved)
  json.environment.busy = Boolean(busy || busyEnd || starved)
  mkdirSync(dirname(outFile), { recursive: true })
  writeFileSync(outFile, JSON.stringify(json, null, 2) + '\n')
  console.log(`\nwrote ${outFile}`)

  if (!engineStatus.dictdb?.loaded && (!onlyEngines || onlyEngines.includes('dictdb'))) {
    console.log('dictdb was not measured (see above): exit code 1')
    process.exitCode = 1
  }
}

if (runs > 1) runSeveral(new URL(import.meta.url), process.argv.slice(2), runs, outFile)
else await main()
