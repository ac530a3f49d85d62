import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const CLIENT = fileURLToPath(new URL('./fixtures/client.mjs', import.meta.url))

/** One child process of a connected test, and the lines it printed. */
export interface Client {
  readonly child: ChildProcess
  readonly lines: Record<string, unknown>[]
  /** Resolves with the exit code (or signal) once the process ended. */
  readonly exited: Promise<number | string>
}

/**
 * Starts `n` processes running `job` `count` times against the database `name`, all released at
 * once when every one is ready. Each is killed if still running after `limitMs`. Each is also
 * pushed onto `started` as it starts, if given, for a caller that stops them after its test
 * (`stopClients`) whatever happened, a timeout while they start included.
 */
export async function startClients(n: number, job: string, count: number, env: ClientEnv, limitMs = 300_000, started?: Client[]): Promise<Client[]> {
  const clients = Array.from({ length: n }, () => startClient(job, count, env, limitMs))
  started?.push(...clients)
  try {
    await Promise.all(clients.map((c) => waitForLine(c, (l) => l.ready === true)))
  } catch (error) {
    // One exited before it was ready: the others, given to no caller, are stopped here.
    await stopClients(clients)
    throw error
  }
  for (const c of clients) c.child.stdin?.write('go\n')
  return clients
}

/** Kills each of `clients` still running and resolves once every one has exited. */
export async function stopClients(clients: readonly Client[]): Promise<void> {
  for (const c of clients) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL')
  await Promise.all(clients.map((c) => c.exited))
}

/**
 * The server and database of the clients; `commitPath`: the path they commit on
 * (DICTDB_PG_COMMIT), else the default; `lockTimeoutMs`: their `connect()` option (default 5000).
 */
export interface ClientEnv {
  url: string
  name: string
  commitPath?: 'v3' | 'early'
  lockTimeoutMs?: number
}

function startClient(job: string, count: number, env: ClientEnv, limitMs: number): Client {
  const path = env.commitPath === undefined ? {} : { DICTDB_PG_COMMIT: env.commitPath }
  const timeout = env.lockTimeoutMs === undefined ? {} : { DICTDB_TEST_LOCK_TIMEOUT_MS: String(env.lockTimeoutMs) }
  const child = spawn(process.execPath, [CLIENT, job, String(count)], {
    env: { ...process.env, DICTDB_TEST_URL: env.url, DICTDB_TEST_NAME: env.name, ...path, ...timeout },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines: Record<string, unknown>[] = []
  // A line that is not JSON (a stray print) is kept as text, not thrown in the test's process.
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(parsed(line)))
  // Writing 'go' to a client that has just died fails with EPIPE: its exit tells the test.
  child.stdin?.on('error', () => {})
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs)
  const exited = new Promise<number | string>((resolve) => {
    const ended = (outcome: number | string) => {
      clearTimeout(timer)
      resolve(outcome)
    }
    child.once('exit', (code, signal) => ended(code ?? signal ?? 'unknown'))
    // Not started at all (no exit event follows).
    child.once('error', (error) => {
      if (child.pid === undefined) ended(`spawn failed: ${error.message}`)
    })
  })
  return { child, lines, exited }
}

function parsed(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>
  } catch {
    return { text: line }
  }
}

/** Resolves once the client printed a line matching `match` (rejects if it exits first). */
export function waitForLine(client: Client, match: (line: Record<string, unknown>) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = setInterval(() => {
      if (client.lines.some(match)) {
        clearInterval(check)
        resolve()
      } else if (client.child.exitCode !== null || client.child.signalCode !== null) {
        clearInterval(check)
        reject(new Error(`The client exited before printing the awaited line: ${JSON.stringify(client.lines.slice(-3))}`))
      }
    }, 10)
  })
}

/** Every acknowledged result of the clients. */
export function acks(clients: Client[]): unknown[] {
  return clients.flatMap((c) => c.lines.filter((l) => 'ack' in l).map((l) => l.ack))
}
