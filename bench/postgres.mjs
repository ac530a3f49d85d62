// Connected databases (issue 12): dictdb/postgres against the same work in hand-written SQL
// through the same client (pg), from 4 processes. PostgreSQL: DICTDB_PG_URL, else a throwaway
// one from npm (fsync on, as a real server).
// Run from the repo root: npm run build && node bench/postgres.mjs   (writes bench/results/postgres.json)
import { fork } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { increment } from '../dist/index.js'
import { connect } from '../dist/postgres.js'
import { startPostgres } from '../scripts/pg-server.mjs'
import { environment, printTable } from './harness.mjs'

const PROCESSES = 4
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 3000)
// Each workload first runs this long, timed but not counted, so both engines are measured with
// their code optimized (a server process runs for hours). V8 optimizes by how often code ran:
// a dictdb client's compiler threads stop only after ~2,500 commits (seen per thread in /proc),
// which is 5-6 s at the idle machine's ~450 commits/s per process; 2 s (BENCH_WARM_MS=2000,
// the method of session 5) left them running in the window and counted their CPU as commits'.
const WARM_MS = Number(process.env.BENCH_WARM_MS ?? 10000)
const IN_FLIGHT = 16
// BENCH_ONLY=<regex>: run only the workloads whose label matches (e.g. '1 in flight').
const ONLY = new RegExp(process.env.BENCH_ONLY ?? '')
const JOIN_RECORDS = 100_000
const AB_ROUNDS = Number(process.env.BENCH_AB_ROUNDS ?? 1)
const self = fileURLToPath(import.meta.url)

if (process.argv[2] === 'child') await child(JSON.parse(process.argv[3]))
else await main()

/** One process's share of a workload: `streams` loops of transactions for WINDOW_MS; latencies. */
async function child(task) {
  const ops = await workload(task)
  process.send({ ready: true })
  await new Promise((resolve) => process.once('message', resolve))
  const loop = (ms, latencies) => {
    const end = performance.now() + ms
    return Promise.all(Array.from({ length: task.streams }, async () => {
      while (performance.now() < end) {
        const t = performance.now()
        await ops.run()
        latencies.push(performance.now() - t)
      }
    }))
  }
  const warm = []
  await loop(WARM_MS, warm)
  const latencies = []
  const cpu = process.cpuUsage()
  await loop(WINDOW_MS, latencies)
  const used = process.cpuUsage(cpu)
  process.send({ latencies, all: warm.length + latencies.length, cpuUs: used.user + used.system })
  // Closed once the parent has read the server sessions' CPU time.
  await new Promise((resolve) => process.once('message', resolve))
  await ops.close()
  process.disconnect()
}

async function workload({ engine, url, name, key, groupCommit, commitPath }) {
  if (engine === 'dictdb') {
    // The commit path (src/postgres/early.ts): the library's default unless the row names one.
    if (commitPath !== undefined) process.env.DICTDB_PG_COMMIT = commitPath
    const db = await connect({ url, name, groupCommit })
    const hits = db.getTable('hits')
    return { run: () => db.transactionAsync(() => hits.update({ n: increment(1) }, { id: key })), close: () => db.close() }
  }
  const client = new pg.Client({ connectionString: url, application_name: name })
  await client.connect()
  const sql = engine === 'sql-update' ? 'UPDATE bench_hits SET n = n + 1 WHERE id = $1 RETURNING n' : 'INSERT INTO bench_ids (id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING id'
  let i = 0
  const run = engine === 'sql-update' ? () => client.query(sql, [key]) : () => client.query(sql, [`${key}-${i++}`])
  return { run, close: () => client.end() }
}

async function runProcesses(task, keyOf) {
  const children = Array.from({ length: PROCESSES }, (_, p) => fork(self, ['child', JSON.stringify({ ...task, key: keyOf(p) })]))
  const messages = children.map((c) => new Promise((resolve) => c.on('message', (m) => m.latencies && resolve(m))))
  await Promise.all(children.map((c) => new Promise((resolve) => c.once('message', resolve))))
  const backends = await serverCpu(task.url, task.name)
  for (const c of children) c.send('go')
  const done = await Promise.all(messages)
  const serverUs = backends.used()
  for (const c of children) c.send('close')
  await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve() : c.once('exit', resolve)))))
  const latencies = done.flatMap((m) => m.latencies).sort((a, b) => a - b)
  const pct = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]
  const clientUs = done.reduce((sum, m) => sum + m.cpuUs, 0)
  const n = latencies.length
  // The server's CPU is read from before the warm-up: per commit of the whole run.
  const all = done.reduce((sum, m) => sum + m.all, 0)
  return {
    commitsPerSec: Math.round(n / (WINDOW_MS / 1000)),
    p50: pct(0.5),
    p99: pct(0.99),
    // CPU time per commit: a figure that a loaded machine distorts far less than throughput.
    clientCpuUs: Math.round(clientUs / n),
    serverCpuUs: serverUs === null ? null : Math.round(serverUs / all),
  }
}

/**
 * CPU time used by the server sessions of a workload (by application_name), read from /proc:
 * only for a server on this machine (a throwaway one), else null.
 */
async function serverCpu(url, name) {
  const client = new pg.Client(url)
  await client.connect()
  const { rows } = await client.query('SELECT pid FROM pg_stat_activity WHERE application_name IN ($1, $2)', [name, `dictdb:${name}`.slice(0, 63)])
  await client.end()
  const read = () => {
    try {
      return rows.reduce((sum, { pid }) => {
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
        return sum + (Number(fields[11]) + Number(fields[12])) * (1e6 / 100)
      }, 0)
    } catch {
      return null
    }
  }
  const start = rows.length === 0 ? null : read()
  return { used: () => (start === null ? null : read() - start) }
}

async function prepare(url, name) {
  // The v3 rows' database (a database once written with early release refuses v3 commits).
  for (const [db, path] of [[name, undefined], [`${name}-v3`, 'v3']]) {
    if (path !== undefined) process.env.DICTDB_PG_COMMIT = path
    await createHits(await connect({ url, name: db }))
    delete process.env.DICTDB_PG_COMMIT
  }
  const client = new pg.Client(url)
  await client.connect()
  await client.query('CREATE TABLE IF NOT EXISTS bench_hits (id text PRIMARY KEY, n bigint NOT NULL)')
  await client.query("INSERT INTO bench_hits SELECT 'k' || i, 0 FROM generate_series(0, 9) i ON CONFLICT DO NOTHING")
  await client.query('CREATE TABLE IF NOT EXISTS bench_ids (id text PRIMARY KEY)')
  await client.end()
}

async function createHits(db) {
  await db.transactionAsync(() => db.createTable('hits').insert(Array.from({ length: PROCESSES }, (_, i) => ({ id: `k${i}`, n: 0 }))))
  await db.close()
}

async function readAfterSync(url, name) {
  const db = await connect({ url, name })
  const hits = db.getTable('hits')
  const n = 500
  const t = performance.now()
  for (let i = 0; i < n; i++) (await db.sync(), hits.get('k0'))
  const ms = (performance.now() - t) / n
  await db.close()
  return ms
}

async function joinTime(url) {
  const name = `bench-join-${Date.now()}`
  const db = await connect({ url, name, snapshotEvery: 2 })
  await db.transactionAsync(() => db.createTable('people', { indexes: [{ field: 'age', type: 'sorted' }] }))
  await db.transactionAsync(() => db.getTable('people').insert(Array.from({ length: JOIN_RECORDS }, (_, i) => ({ id: i, name: `person${i}`, age: i % 80 }))))
  await db.sync()
  await db.close()
  const t = performance.now()
  const late = await connect({ url, name })
  const ms = performance.now() - t
  if (late.getTable('people').count() !== JOIN_RECORDS) throw new Error('the joiner did not load every record')
  await late.close()
  return ms
}

async function main() {
  const server = await startPostgres()
  try {
    const url = server.url
    const name = `bench-${Date.now()}`
    await prepare(url, name)
    const rows = []
    const add = async (label, task, keyOf) => {
      if (!ONLY.test(label)) return
      const r = await runProcesses({ url, name, ...task }, keyOf)
      rows.push({ workload: label, ...r })
      console.log(`${label}: ${r.commitsPerSec}/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, CPU per commit: client ${r.clientCpuUs} µs, server ${r.serverCpuUs ?? '?'} µs`)
    }
    const distinct = (p) => `k${p}`
    const hot = () => 'k0'
    await add(`dictdb distinct, group commit, ${IN_FLIGHT} in flight/process`, { engine: 'dictdb', groupCommit: true, streams: IN_FLIGHT }, distinct)
    await add(`dictdb distinct, no group commit, ${IN_FLIGHT} in flight/process`, { engine: 'dictdb', groupCommit: false, streams: IN_FLIGHT }, distinct)
    await add(`dictdb hot record, group commit, ${IN_FLIGHT} in flight/process`, { engine: 'dictdb', groupCommit: true, streams: IN_FLIGHT }, hot)
    // The single-write goal: the default path (early lock release on PostgreSQL 17+) against v3,
    // interleaved in the same run (BENCH_AB_ROUNDS pairs), then the SQL it is compared with.
    for (let round = 0; round < AB_ROUNDS; round++) {
      await add('dictdb distinct, 1 in flight/process (latency)', { engine: 'dictdb', groupCommit: true, streams: 1 }, distinct)
      await add('dictdb distinct, 1 in flight/process, v3 commit (A/B)', { engine: 'dictdb', groupCommit: true, streams: 1, commitPath: 'v3', name: `${name}-v3` }, distinct)
    }
    await add('SQL UPDATE … RETURNING distinct, 1 in flight/process', { engine: 'sql-update', streams: 1 }, distinct)
    await add('SQL UPDATE … RETURNING hot, 1 in flight/process', { engine: 'sql-update', streams: 1 }, hot)
    await add('SQL INSERT unique check, 1 in flight/process', { engine: 'sql-insert', streams: 1 }, distinct)
    const syncMs = await readAfterSync(url, name)
    console.log(`read after sync(): ${syncMs.toFixed(3)} ms`)
    const joinMs = await joinTime(url)
    console.log(`join a ${JOIN_RECORDS}-record database: ${joinMs.toFixed(0)} ms`)
    printTable([
      ['workload', 'commits/s', 'p50 ms', 'p99 ms', 'CPU µs/commit client + server'],
      ...rows.map((r) => [r.workload, String(r.commitsPerSec), r.p50.toFixed(2), r.p99.toFixed(2), `${r.clientCpuUs} + ${r.serverCpuUs ?? '?'}`]),
    ])
    const out = join(dirname(self), 'results', 'postgres.json')
    mkdirSync(dirname(out), { recursive: true })
    writeFileSync(out, JSON.stringify({ environment: environment(), windowMs: WINDOW_MS, warmMs: WARM_MS, processes: PROCESSES, rows, readAfterSyncMs: syncMs, joinMs, joinRecords: JOIN_RECORDS }, null, 2))
  } finally {
    await server.stop()
  }
}
