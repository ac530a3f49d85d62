// The client processes of tests/postgres/processes.test.ts are stopped on every path: these run
// them against a server that never answers (they hang connecting) or against no server at all.
import { createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { startClients, stopClients, type Client } from './processes'

const started: Client[] = []
const servers: Server[] = []
const sockets: Socket[] = []
afterEach(async () => {
  await stopClients(started.splice(0))
  for (const s of sockets.splice(0)) s.destroy()
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
})

/** A TCP server that accepts connections and never answers; its port. */
async function silentServer(): Promise<number> {
  const server = createServer((socket) => void sockets.push(socket))
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as { port: number }).port
}

const ended = (c: Client) => c.child.exitCode !== null || c.child.signalCode !== null

describe('the client processes of the multi-process tests', () => {
  it('stopClients kills the clients still running and resolves once each has exited', async () => {
    const port = await silentServer()
    const starting = startClients(2, 'increment', 1, { url: `postgres://u@127.0.0.1:${port}/x`, name: 'n', lockTimeoutMs: 600_000 }, 600_000, started)
    const refused = starting.then(
      () => 'ready',
      () => 'refused',
    )
    // Both are hanging on connect (the server never answers) until stopped.
    while (sockets.length < 2) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(started.every(ended)).toBe(false)
    await stopClients(started)
    expect(await Promise.all(started.map((c) => c.exited))).toEqual(['SIGKILL', 'SIGKILL'])
    expect(await refused).toBe('refused')
  })

  it('startClients, when clients exit before they are ready, rejects only once every one has exited', async () => {
    const port = await silentServer()
    await new Promise<void>((resolve) => (servers.pop() as Server).close(() => resolve()))
    // Nothing listens on the port any more: every client fails to connect and exits.
    await expect(startClients(3, 'increment', 1, { url: `postgres://u@127.0.0.1:${port}/x`, name: 'n' }, 600_000, started)).rejects.toThrow(/exited before/)
    expect(started.length).toBe(3)
    expect(started.every(ended)).toBe(true)
  })
})
