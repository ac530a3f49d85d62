// A live view of open orders, streamed to browsers as Server-Sent Events.
//
// A tiny node:http server answers GET /orders/open with an event stream: first the open orders
// (`rows`), then one `diff` event per commit that changes them (`table.watch`). Meanwhile another
// part of the program places orders and ships them. A local client reads the stream for a few
// seconds, rebuilds the open orders from the first rows and the diffs alone, and checks that it
// ends with exactly what the database holds. Exit code 1 on a wrong result.
// Run: npm run demo -- live  (or: node --import tsx examples/live-orders.ts)
import { get, createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Database, type WatchDiff } from 'dictdb'

interface Order {
  id?: number
  customer: string
  total: number
  status: 'open' | 'shipped'
}

const RUN_MS = Number(process.env.LIVE_MS ?? 2500)
const db = new Database()
const orders = db.createTable<Order>('orders', { indexes: [{ field: 'status' }] })
const OPEN = { where: { status: 'open' as const }, orderBy: 'id' as const }

// --- the server: one watch per connected client, closed when the client goes away -----------
function streamOpenOrders(req: IncomingMessage, res: ServerResponse): void {
  if (req.url !== '/orders/open') {
    res.writeHead(404).end()
    return
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
  let first = true
  const view = orders.watch(OPEN, (rows, diff) => {
    if (first) res.write(`event: rows\ndata: ${JSON.stringify(rows)}\n\n`)
    else res.write(`event: diff\ndata: ${JSON.stringify(diff)}\n\n`)
    first = false
  })
  req.on('close', () => view.close())
}

// --- the shop: places an order every few milliseconds, ships the oldest open ones ------------
const customers = ['ada', 'alan', 'grace', 'edsger', 'barbara']
let placed = 0
let shipped = 0
function placeAndShip(): void {
  orders.insert({ customer: customers[placed % customers.length] as string, total: 10 + (placed % 7) * 5, status: 'open' })
  placed++
  if (placed % 3 === 0) {
    // Ship the two oldest open orders in one transaction: one commit, one diff event.
    shipped += db.transaction(() => {
      const oldest = orders.select({ ...OPEN, limit: 2, copy: false })
      for (const o of oldest) orders.update({ status: 'shipped' }, { id: o.id as number })
      return oldest.length
    })
  }
}

// --- the client: rebuilds the open orders from the stream alone ------------------------------
function follow(url: string, until: Promise<void>): Promise<{ open: Map<number, Order>; events: number }> {
  return new Promise((resolve, reject) => {
    const open = new Map<number, Order>()
    let events = 0
    let buffer = ''
    const request = get(url, (res) => {
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        buffer += chunk
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const [eventLine = '', dataLine = ''] = buffer.slice(0, end).split('\n')
          buffer = buffer.slice(end + 2)
          const data = JSON.parse(dataLine.slice('data: '.length))
          events++
          if (eventLine === 'event: rows') for (const o of data as Order[]) open.set(o.id as number, o)
          else {
            const diff = data as WatchDiff<Order>
            for (const o of diff.removed) open.delete(o.id as number)
            for (const o of [...diff.added, ...diff.changed]) open.set(o.id as number, o)
          }
        }
      })
      void until.then(() => {
        request.destroy()
        resolve({ open, events })
      })
    })
    request.on('error', (error) => (request.destroyed ? undefined : reject(error)))
  })
}

function check(ok: boolean, what: string): void {
  console.log(`${ok ? '✓' : '✗'} ${what}`)
  if (!ok) process.exitCode = 1
}

const server = createServer(streamOpenOrders)
server.listen(0, '127.0.0.1', async () => {
  const { port } = server.address() as AddressInfo
  orders.insert([{ customer: 'ada', total: 20, status: 'open' }, { customer: 'alan', total: 30, status: 'shipped' }])
  placed = 1
  let stop!: () => void
  const stopped = new Promise<void>((resolve) => (stop = resolve))
  const client = follow(`http://127.0.0.1:${port}/orders/open`, stopped)
  await new Promise((r) => setTimeout(r, 100)) // the client is connected and has its first rows
  const shop = setInterval(placeAndShip, 5)
  await new Promise((r) => setTimeout(r, RUN_MS))
  clearInterval(shop)
  await new Promise((r) => setTimeout(r, 100)) // the last events reach the client
  stop()
  const { open, events } = await client
  server.close()

  const truth = orders.select(OPEN)
  console.log(`placed ${placed} orders, shipped ${shipped}; the client got ${events} events and holds ${open.size} open orders`)
  check(events > 10, 'the client received a stream of events, not only the first rows')
  check(open.size === truth.length, `the client holds as many open orders as the database (${truth.length})`)
  check(
    truth.every((o) => JSON.stringify(open.get(o.id as number)) === JSON.stringify(o)),
    'every open order the client holds is the one in the database, field for field',
  )
  check(![...open.values()].some((o) => o.status !== 'open'), 'no shipped order is left in the client view')
})
