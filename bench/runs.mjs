// Several runs of run.mjs, each in a process of its own, and the median of each figure across them
// (a single run's figures move with the heap's state and whatever else the machine was doing).
// run.mjs calls this itself unless given --runs=1; every run writes results/core-run-N.json, and
// the medians go to the --out file (results/core.json).

import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { fmtOps, fmtRatio, printTable } from './harness.mjs'

const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b)
  if (s.length === 0) return null
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Runs `script` `runs` times with `args` (each with its own --out), then prints and writes the medians. */
export function runSeveral(script, args, runs, outFile) {
  const passed = args.filter((a) => !a.startsWith('--runs') && !a.startsWith('--out'))
  const files = []
  for (let i = 1; i <= runs; i++) {
    const file = outFile.replace(/\.json$/, `-run-${i}.json`)
    console.log(`\n======== run ${i} of ${runs} (its own process) ========`)
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(script), ...passed, '--runs=1', `--out=${file}`], { stdio: 'inherit' })
    if (child.status !== 0) process.exitCode = child.status ?? 1
    try {
      files.push(JSON.parse(readFileSync(file, 'utf8')))
    } catch {
      console.log(`!! run ${i} wrote no results`)
    }
  }
  if (files.length === 0) return
  report(files, outFile)
}

function report(runs, outFile) {
  const load = (r) => `${r.environment.loadAvg?.[0] ?? '?'}→${r.environment.loadAvgAtEnd?.[0] ?? '?'}`
  const head = ['ratio', ...runs.map((r, i) => `run ${i + 1}${r.environment.busy ? ' (busy)' : ''}`), 'median', 'target', 'met']
  const rows = [head]
  const ratios = []
  for (const first of runs[0].ratios) {
    const same = (t) => t.workload === first.workload && t.peer === first.peer
    const each = runs.map((r) => r.ratios.find(same)?.ratio ?? null)
    const m = median(each)
    const met = first.target == null || m == null ? null : m >= first.target
    ratios.push({ ...first, ratio: m, runs: each, met })
    rows.push([`${first.workload}: dictdb ÷ ${first.peer}`, ...each.map(fmtRatio), fmtRatio(m), first.target == null ? '(info)' : `≥ ${first.target}×`, met == null ? '' : met ? '✓' : '✗'])
  }
  rows.push(['load average (1 min) start→end', ...runs.map(load), '', '', ''])
  printTable(rows, { title: `medians of ${runs.length} runs (dictdb ops/s ÷ peer ops/s; > 1 means dictdb is faster)` })
  const busy = runs.filter((r) => r.environment.busy).length
  if (busy > 0) console.log(`warning: the machine was busy during ${busy} of ${runs.length} runs (load average or CPU share, see each run): the medians are noisy`)
  const missed = ratios.filter((t) => t.met === false)
  console.log(`targets (medians): ${ratios.filter((t) => t.met === true).length} met, ${missed.length} missed`)
  const opsPerSec = {}
  for (const wl of Object.keys(runs[0].results)) {
    opsPerSec[wl] = {}
    for (const engine of Object.keys(runs[0].results[wl])) opsPerSec[wl][engine] = median(runs.map((r) => r.results[wl]?.[engine]?.opsPerSec))
  }
  const out = {
    benchmark: 'core',
    statistic: `median of ${runs.length} runs, each run's figures the median of its interleaved samples`,
    busyRuns: busy,
    runs: runs.map((r) => ({ date: r.environment.date, loadAvg: r.environment.loadAvg, loadAvgAtEnd: r.environment.loadAvgAtEnd, busy: r.environment.busy })),
    opsPerSec,
    ratios,
    summary: { met: ratios.filter((t) => t.met === true).length, missed: missed.length },
  }
  writeFileSync(outFile, JSON.stringify(out, null, 2) + '\n')
  console.log(`\nwrote ${outFile} (medians) and one file per run beside it`)
  console.log(Object.entries(opsPerSec).map(([wl, e]) => `${wl}: ${Object.entries(e).map(([k, v]) => `${k} ${fmtOps(v)}`).join(', ')}`).join('\n'))
}
