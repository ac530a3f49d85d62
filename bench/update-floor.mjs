// The floor of an update by key on 100k records (issue 13's speed goal, the core write path).
//
//   npm run build && node --expose-gc bench/update-floor.mjs [--rounds=5] [--updates=10000] [--only=arr-freeze,dictdb]
//   node --expose-gc bench/update-floor.mjs --mode=arr-freeze --loop=150000   # one mode, untimed: for cachegrind
//
// What any JS store must do to update one record of 100k by a random key, without dictdb: read
// the record, copy it with one field changed, freeze the copy (stored records are frozen: SPEC,
// "Values"), store it: in an array indexed by key (as dictdb's store while keys rise) and in a
// Map; each also without the freeze. Then dictdb's own update by key (`update({ v: increment(1) },
// { id })`), bare and with the issue's watch (1% of the table). Keys are a fixed random sequence
// of 2^17 ids over the whole table (cache-cold, like real traffic and bench/run.mjs's update).
// Each mode runs in a fresh child process (its own heap and JIT state), the modes in turn, in
// reverse order every other round; a child times 10 chunks of UPDATES updates by CPU time (GC
// threads included) after 30k untimed ones and a full collection, and reports its median chunk.
// The figure is the median over rounds, with min-max. Read it beside the load average.
// DICTDB_MODULE=/path/to/dist/index.js measures another build.

import { spawnSync } from 'node:child_process'
import { loadavg } from 'node:os'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { collectGarbage, parseArgs, prng } from './harness.mjs'

const args = parseArgs()
const N = 100_000
const GROUPS = 100
const UPDATES = Number(args.updates ?? 10_000)
const ROUNDS = Number(args.rounds ?? 5)
const MODES = {
  'arr-freeze': 'array[key], literal copy, Object.freeze, store',
  'arr-copy': 'array[key], literal copy, store (no freeze)',
  'map-freeze': 'Map.get, literal copy, Object.freeze, Map.set',
  'map-copy': 'Map.get, literal copy, Map.set (no freeze)',
  dictdb: 'dictdb update({ v: increment(1) }, { id }), no watch',
  'dictdb-watch': 'the same, with a watch of 1% of the table (group 7)',
}
const modulePath = process.env.DICTDB_MODULE ?? fileURLToPath(new URL('../dist/index.js', import.meta.url))

const KEY_COUNT = 1 << 17
function keys() {
  const random = prng(42)
  const out = new Int32Array(KEY_COUNT)
  for (let i = 0; i < KEY_COUNT; i++) out[i] = 1 + Math.floor(random() * N)
  return out
}

const record = (i) => ({ id: i + 1, group: i % GROUPS, v: 0, name: `item ${i}` })

/** The update of one mode, as a function of the key. */
async function updater(mode) {
  if (mode.startsWith('dictdb')) {
    const { Database, increment } = await import(pathToFileURL(modulePath).href)
    const t = new Database().createTable('items', { indexes: [{ field: 'group' }] })
    t.insert(Array.from({ length: N }, (_, i) => record(i)))
    if (mode === 'dictdb-watch') t.watch({ where: { group: 7 } }, () => {})
    return (k) => t.update({ v: increment(1) }, { id: k })
  }
  if (mode.startsWith('map')) {
    const m = new Map()
    for (let i = 0; i < N; i++) m.set(i + 1, Object.freeze(record(i)))
    if (mode === 'map-freeze') return (k) => { const old = m.get(k); m.set(k, Object.freeze({ id: old.id, group: old.group, v: old.v + 1, name: old.name })) }
    return (k) => { const old = m.get(k); m.set(k, { id: old.id, group: old.group, v: old.v + 1, name: old.name }) }
  }
  const a = []
  for (let i = 0; i < N; i++) a[i + 1] = Object.freeze(record(i))
  if (mode === 'arr-freeze') return (k) => { const old = a[k]; a[k] = Object.freeze({ id: old.id, group: old.group, v: old.v + 1, name: old.name }) }
  return (k) => { const old = a[k]; a[k] = { id: old.id, group: old.group, v: old.v + 1, name: old.name } }
}

const cpuUs = () => {
  const { user, system } = process.cpuUsage()
  return user + system
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]

async function child(mode) {
  const update = await updater(mode)
  const ks = keys()
  const mask = KEY_COUNT - 1
  let j = 0
  for (let i = 0; i < 30_000; i++) update(ks[j++ & mask])
  if (args.loop !== undefined) {
    // For instruction counts: run twice with two loop lengths and take the difference.
    collectGarbage()
    for (let i = 0, n = Number(args.loop); i < n; i++) update(ks[j++ & mask])
    return
  }
  if (!args.nogc) collectGarbage()
  const chunks = []
  for (let c = 0; c < 10; c++) {
    const start = cpuUs()
    for (let i = 0; i < UPDATES; i++) update(ks[j++ & mask])
    chunks.push((cpuUs() - start) / UPDATES)
  }
  console.log(JSON.stringify(median(chunks)))
}

if (args.mode !== undefined) {
  await child(args.mode)
} else {
  const modes = args.only === undefined ? Object.keys(MODES) : String(args.only).split(',')
  const results = Object.fromEntries(modes.map((m) => [m, []]))
  const load = [loadavg()[0]]
  for (let r = 0; r < ROUNDS; r++) {
    for (const mode of r % 2 === 0 ? modes : [...modes].reverse()) {
      const run = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), `--mode=${mode}`, `--updates=${UPDATES}`], { encoding: 'utf8' })
      if (run.status !== 0) throw new Error(`${mode} failed: ${run.stderr}`)
      results[mode].push(JSON.parse(run.stdout))
    }
  }
  load.push(loadavg()[0])
  console.log(`update by key, 100k records, random keys: CPU µs per update (GC included), median of ${ROUNDS} rounds (min-max); load average ${load.map((l) => l.toFixed(2)).join(' -> ')}`)
  for (const mode of modes) {
    const xs = results[mode]
    console.log(`  ${mode.padEnd(13)} ${median(xs).toFixed(3)} µs (${Math.min(...xs).toFixed(3)}-${Math.max(...xs).toFixed(3)})   ${MODES[mode]}`)
  }
}
