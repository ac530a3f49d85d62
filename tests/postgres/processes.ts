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
 * once when every one is ready. Each is killed if still running after `limitMs`.
 */
export async function startClients(n: number, job: string, count: number, env: ClientEnv, limitMs = 300_000): Promise<Client[]> {
  const clients = Array.from({ length: n }, () => startClient(job, count, env, limitMs))
  await Promise.all(clients.map((c) => waitForLine(c, (l) => l.ready === true)))
  for (const c of clients) c.child.stdin?.write('go\n')
  return clients
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
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(JSON.parse(line) as Record<string, unknown>))
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs)
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      resolve(code ?? signal ?? 'unknown')
    })
  })
  return { child, lines, exited }
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
