/**
 * Real worker_threads for the concurrency tests. A test spawns fixture scripts
 * (`tests/workers/fixtures/*.mjs`, which import the built 'dictdb'), waits until every one is
 * ready at the start gate, opens the gate so they overlap for real, and collects their results.
 * `terminate()` (in `afterEach`) stops every worker and closes every database a test opened, so
 * no thread outlives its test.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { Database, type DatabaseOptions } from 'dictdb'
import { L_WAITERS, L_WRITERS_WAITING } from '../../src/shared/layout'
import { SharedMemory } from '../../src/shared/memory'

/** One running worker: its messages, by type, in arrival order. */
export class Running {
  readonly worker: Worker
  readonly name: string
  /** Resolves with the payload of the worker's `done` message; rejects if it fails or exits first. */
  readonly result: Promise<any>
  readonly #queues = new Map<string, unknown[]>()
  readonly #waiters = new Map<string, ((payload: unknown) => void)[]>()
  #failure: ((error: Error) => void)[] = []

  constructor(worker: Worker, name: string) {
    this.worker = worker
    this.name = name
    // Settled synchronously on delivery: an `exit` right behind `done` must not win the race.
    this.result = new Promise((resolve, reject) => {
      this.#failure.push(reject)
      this.#waiters.set('done', [resolve])
    })
    this.result.catch(() => {}) // observed by whoever awaits it; never an unhandled rejection
    worker.on('message', (msg: { type: string; payload: unknown }) => this.#deliver(msg.type, msg.payload))
    worker.on('error', (error) => this.#fail(error))
    worker.on('exit', (code) => this.#fail(new Error(`worker ${name} exited (code ${code}) before it was done`)))
  }

  /** The payload of the next message of `type` (already received ones first). */
  next<T = any>(type: string): Promise<T> {
    const queued = this.#queues.get(type)
    if (queued !== undefined && queued.length > 0) return Promise.resolve(queued.shift() as T)
    return new Promise<T>((resolve, reject) => {
      const list = this.#waiters.get(type) ?? []
      list.push(resolve as (payload: unknown) => void)
      this.#waiters.set(type, list)
      this.#failure.push(reject)
    })
  }

  /** Posts a message to the worker. */
  post(message: unknown): void {
    this.worker.postMessage(message)
  }

  #deliver(type: string, payload: unknown): void {
    const waiter = this.#waiters.get(type)?.shift()
    if (waiter !== undefined) return waiter(payload)
    const queue = this.#queues.get(type) ?? []
    queue.push(payload)
    this.#queues.set(type, queue)
  }

  #fail(error: Error): void {
    const failures = this.#failure
    this.#failure = []
    for (const reject of failures) reject(error)
  }
}

/** Spawns fixtures, gates their start, and cleans everything up. */
export class Workers {
  /** Set to 1 (and notified) by {@link go}: workers blocked in `ready()` start. */
  readonly gate = new Int32Array(new SharedArrayBuffer(4))
  readonly #running: Running[] = []
  readonly #databases: Database[] = []

  /** A shared database, closed by {@link terminate}. */
  database(options?: DatabaseOptions): Database {
    const db = new Database({ shared: true, ...options })
    this.#databases.push(db)
    return db
  }

  /** Registers a database opened elsewhere (an attach) so {@link terminate} closes it. */
  track(db: Database): Database {
    this.#databases.push(db)
    return db
  }

  /** Starts `fixtures/<fixture>.mjs` with `workerData = { ...data, gate }`. */
  spawn(fixture: string, data: Record<string, unknown>, name = `${fixture}#${this.#running.length}`): Running {
    const worker = new Worker(new URL(`./fixtures/${fixture}.mjs`, import.meta.url), { workerData: { ...data, gate: this.gate } })
    const running = new Running(worker, name)
    this.#running.push(running)
    return running
  }

  /** Spawns `n` copies of a fixture; `data(i)` is each one's workerData. */
  spawnMany(fixture: string, n: number, data: (i: number) => Record<string, unknown>): Running[] {
    return Array.from({ length: n }, (_, i) => this.spawn(fixture, data(i), `${fixture}#${i}`))
  }

  /** Waits until each of `workers` is blocked at the start gate, then opens it. */
  async start(workers: readonly Running[]): Promise<void> {
    await Promise.all(workers.map((w) => w.next('ready')))
    this.go()
  }

  /** Opens the start gate. */
  go(): void {
    Atomics.store(this.gate, 0, 1)
    Atomics.notify(this.gate, 0)
  }

  /** The results of `workers`, in order. */
  results<T = any>(workers: readonly Running[]): Promise<T[]> {
    return Promise.all(workers.map((w) => w.result as Promise<T>))
  }

  /** Terminates every worker still running and closes every database. */
  async terminate(): Promise<void> {
    Atomics.store(this.gate, 0, 1)
    Atomics.notify(this.gate, 0)
    await Promise.all(this.#running.splice(0).map((r) => r.worker.terminate()))
    for (const db of this.#databases.splice(0)) db.close()
  }
}

/** The reply of a {@link Remote} step: its value, or the error it threw (as plain data). */
export type Reply = { ok: true; value: any } | { ok: false; error: { name: string; code?: string; message: string } }

/**
 * A worker (`fixtures/rpc.mjs`) driven step by step from the test: `call(fn)` runs `fn`'s source
 * in the worker as `(db, dictdb, scope) => value`. `fn` must be self-contained (no closure).
 */
export class Remote {
  readonly running: Running
  #nextId = 0

  constructor(running: Running) {
    this.running = running
  }

  static async start(workers: Workers, db: Database, name?: string): Promise<Remote> {
    const running = workers.spawn('rpc', { db: db.handle() }, name)
    await running.next('attached')
    return new Remote(running)
  }

  /** Runs `fn` in the worker; resolves with its reply (never rejects for an error `fn` threw). */
  async try(fn: (db: Database, dictdb: typeof import('dictdb'), scope: any) => unknown): Promise<Reply> {
    const id = this.#nextId++
    this.running.post({ id, source: fn.toString() })
    const reply: Reply & { id: number } = await this.running.next('reply')
    if (reply.id !== id) throw new Error(`out-of-order reply ${reply.id}, expected ${id}`)
    return reply
  }

  /** Runs `fn` in the worker and returns its value; rejects with the worker's error. */
  async call<T = any>(fn: (db: Database, dictdb: typeof import('dictdb'), scope: any) => T): Promise<T> {
    const reply = await this.try(fn)
    if (!reply.ok) throw Object.assign(new Error(`${this.running.name}: ${reply.error.name}: ${reply.error.message}`), reply.error)
    return reply.value as T
  }
}

/** A block of shared Int32 flags and counters for a test and its workers. */
export function sharedInts(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * n))
}

/** Resolves once `condition()` holds, polling; rejects after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, timeoutMs = 10_000, what = 'a condition'): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

/** The shared memory behind a database, for looking at lock words and replica state in tests. */
export function memoryOf(db: Database): SharedMemory {
  return SharedMemory.open(db.handle().buffers)
}

/** The sum of one lock word over every table lock of a shared database. */
function overLocks(db: Database, word: number): number {
  const mem = memoryOf(db)
  let n = 0
  for (let lock = 0; lock < mem.lockCount; lock++) n += Atomics.load(mem.i32, mem.lock(lock) + word)
  return n
}

/** How many writers wait, over every lock of the database (a worker is blocked in a write). */
export function writersWaiting(db: Database): number {
  return overLocks(db, L_WRITERS_WAITING)
}

/** Waits in flight on every table lock of a shared database, in any mode (readers too). */
export function lockWaiters(db: Database): number {
  return overLocks(db, L_WAITERS)
}

/** Milliseconds `fn` took (sync or async). */
export async function timed<T>(fn: () => T | Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now()
  const value = await fn()
  return { ms: performance.now() - start, value }
}

/** How a program run by {@link runProgram} ended. */
export interface ProgramRun {
  readonly code: number | null
  readonly signal: string | null
  /** True if it was killed at the time limit (it hung). */
  readonly timedOut: boolean
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs `programs/<name>.mjs` in a child process (it imports the built 'dictdb'), killed after
 * `timeoutMs`: a scenario that could hang fails on its own instead of hanging the test run.
 * The default 20 s is part of what waits.test.ts asserts (a wait that reached a lock timeout
 * longer than it is killed, so "at once" needs no clock); where the limit is only a hang guard,
 * pass CHILD_LIMIT_MS (tests/support/limits.ts), which load does not reach.
 */
export function runProgram(name: string, args: readonly string[] = [], timeoutMs = 20_000): Promise<ProgramRun> {
  const file = fileURLToPath(new URL(`./programs/${name}.mjs`, import.meta.url))
  return new Promise((resolve) => {
    const started = Date.now()
    execFile(process.execPath, [file, ...args], { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
      const signal = error?.signal ?? null
      resolve({ code, signal, timedOut: signal === 'SIGKILL' && Date.now() - started >= timeoutMs, stdout, stderr })
    })
  })
}
