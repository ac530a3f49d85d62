// Canonical JSON encoding of 100k records: dictdb's encoder (src/persist/canonical-form.ts)
// against fast-json-stable-stringify, with plain JSON.stringify (not canonical) for scale.
// Records as the database holds them: frozen, fields in the order they were given (not sorted),
// and the same records with their fields already in canonical order (as after a load).
//
//   node --expose-gc bench/canonical.mjs [--quick] [--records=N]
//
// fast-json-stable-stringify is not a dependency; to include it:
//   npm install --no-save fast-json-stable-stringify

import { fileURLToPath } from 'node:url'
import { buildSync } from 'esbuild'
import { fmtRatio, measure, parseArgs, printTable, prng } from './harness.mjs'

const args = parseArgs()
const quick = Boolean(args.quick || process.env.BENCH_QUICK)
const N = Number(args.records ?? 100_000)
const opts = { minTimeMs: quick ? 300 : 1500, warmupMs: quick ? 100 : 500, samples: quick ? 3 : 5 }

// The encoder straight from the sources (it is internal: not exported by the package).
const bundle = buildSync({
  entryPoints: [fileURLToPath(new URL('../src/persist/json-values.ts', import.meta.url))],
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'node',
})
const { toJsonText } = await import(`data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0].text).toString('base64')}`)
let stable = null
try {
  stable = (await import('fast-json-stable-stringify')).default
} catch {
  console.log('(fast-json-stable-stringify is not installed: npm install --no-save fast-json-stable-stringify)\n')
}

const rnd = prng(20240611)
const rows = Array.from({ length: N }, (_, i) =>
  Object.freeze({ id: i + 1, name: `name ${Math.floor(rnd() * 1e6)}`, age: 18 + Math.floor(rnd() * 60), city: `city-${Math.floor(rnd() * 50)}`, score: Math.floor(rnd() * 10_000) }),
)
const sorted = rows.map((r) => Object.freeze(Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1)))))
const run = (encode, list) => () => {
  let n = 0
  for (let i = 0; i < list.length; i++) n += encode(list[i]).length
  return n
}

const results = []
for (const [label, list] of [['fields as given', rows], ['fields already sorted', sorted]]) {
  const plain = measure(`JSON.stringify, ${label}`, run(JSON.stringify, list), opts)
  const ours = measure(`dictdb canonical, ${label}`, run(toJsonText, list), opts)
  const theirs = stable === null ? null : measure(`fast-json-stable-stringify, ${label}`, run(stable, list), opts)
  const ms = (r) => 1000 / r.opsPerSec
  results.push([label, ms(plain).toFixed(1), ms(ours).toFixed(1), theirs === null ? '—' : ms(theirs).toFixed(1), theirs === null ? '—' : fmtRatio(ms(theirs) / ms(ours))])
}
printTable([['records', 'JSON.stringify ms (not canonical)', 'dictdb canonical ms', 'fast-json-stable-stringify ms', 'fjss ÷ dictdb'], ...results], {
  title: `Canonical JSON of ${N.toLocaleString('en-US')} records, one string per record (median of ${opts.samples})`,
})
