// Seed 000 on a node:cluster: four server processes, one database on PostgreSQL.
// Two users click "Create property" at the same moment on two different processes, then a stress
// of many. Every property gets the next PRO number: zero duplicates, zero gaps, across processes.
// PostgreSQL: the server DICTDB_PG_URL names, else a throwaway one from npm (as the tests do).
// Run: npm run demo -- postgres   (or, after npm run build: node --import tsx examples/postgres-cluster.ts)
import cluster from 'node:cluster'
import { createServer } from 'node:http'
import { connect } from 'dictdb/postgres'
import { startPostgres } from '../scripts/pg-server.mjs'

const PROCESSES = 4
const STRESS = 400
const IN_FLIGHT = 32

function check(ok: boolean, what: string): void {
  if (!ok) {
    console.error(`✗ ${what}`)
    process.exitCode = 1
  } else {
    console.log(`✓ ${what}`)
  }
}

/** A server process: POST /properties creates a property with the next id. */
async function serve(): Promise<void> {
  const db = await connect({ url: process.env.DICTDB_PG_URL!, name: process.env.DEMO_DB! })
  const server = createServer((req, res) => {
    const owner = new URL(req.url ?? '/', 'http://x').searchParams.get('owner') ?? 'anonymous'
    db.transactionAsync(() => {
      const properties = db.hasTable('properties') ? db.getTable('properties') : db.createTable('properties')
      const id = db.sequence('property', { format: 'PRO-{YYYY}-{0000}' }).next()
      properties.insert({ id, owner, servedBy: process.pid })
      return id
    }).then(
      (id) => res.end(JSON.stringify({ id, pid: process.pid })),
      (error: Error) => ((res.statusCode = 500), res.end(error.message)),
    )
  })
  // Port 0 in a cluster: the primary picks one free port once, and every worker shares it.
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as { port: number }).port))
  process.on('message', async (message) => {
    if (message !== 'stop') return
    server.close()
    await db.close()
    process.exit(0)
  })
}

async function create(port: number, owner: string): Promise<{ id: string; pid: number }> {
  const res = await fetch(`http://127.0.0.1:${port}/properties?owner=${owner}`, { method: 'POST' })
  if (!res.ok) throw new Error(await res.text())
  return (await res.json()) as { id: string; pid: number }
}

async function primary(): Promise<void> {
  const pg = await startPostgres()
  const env = { DICTDB_PG_URL: pg.url, DEMO_DB: `demo-${process.pid}-${Date.now()}` }
  const workers = Array.from({ length: PROCESSES }, () => cluster.fork(env))
  try {
    const ports = await Promise.all(workers.map((w) => new Promise<number>((resolve) => w.once('message', resolve))))
    const port = ports[0] as number
    // Two users, the same moment, two connections (the cluster spreads them over processes).
    const [ada, bob] = await Promise.all([create(port, 'ada'), create(port, 'bob')])
    console.log(`ada got ${ada.id} (process ${ada.pid}), bob got ${bob.id} (process ${bob.pid})`)
    check(ada.id !== bob.id, 'two users creating a property at the same moment get two ids')
    const ids = [ada.id, bob.id]
    const pids = new Set([ada.pid, bob.pid])
    const started = performance.now()
    for (let next = 0; next < STRESS; next += IN_FLIGHT) {
      const batch = await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, STRESS - next) }, (_, i) => create(port, `user${next + i}`)))
      for (const r of batch) (ids.push(r.id), pids.add(r.pid))
    }
    const ms = performance.now() - started
    console.log(`${STRESS} properties in ${ms.toFixed(0)} ms (${((STRESS / ms) * 1000).toFixed(0)}/s) served by ${pids.size} processes`)
    const year = new Date().getFullYear()
    const expected = Array.from({ length: STRESS + 2 }, (_, i) => `PRO-${year}-${String(i + 1).padStart(4, '0')}`)
    check(new Set(ids).size === ids.length, `zero duplicates among ${ids.length} ids`)
    check(JSON.stringify([...ids].sort()) === JSON.stringify(expected), 'zero gaps: PRO-0001 up to the last, each once')
    const db = await connect({ url: pg.url, name: env.DEMO_DB })
    check(db.getTable('properties').count() === ids.length, 'a process joining afterwards reads every property')
    await db.close()
  } finally {
    for (const w of workers) w.send('stop')
    await Promise.all(workers.map((w) => new Promise((resolve) => (w.isDead() ? resolve(null) : w.once('exit', resolve)))))
    await pg.stop()
  }
}

if (cluster.isPrimary) await primary()
else await serve()
