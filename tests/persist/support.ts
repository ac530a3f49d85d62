import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildSync } from 'esbuild'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { Database } from '../../src/index'
import { LOCK_NAME } from '../../src/persist/backup/folder-lock'
import { limits } from '../../src/persist/document'
import { replaceFileSystem } from '../../src/persist/fs'

/** Calls `onLine` with each whole line a child writes to stdout; resolves once it has exited. */
export function eachLine(child: ChildProcessByStdio<null, import('node:stream').Readable, null>, onLine: (line: string) => void): Promise<void> {
  let buffer = ''
  return new Promise((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString()
      const lines = buffer.split('\n')
      buffer = lines.pop() as string
      for (const line of lines) onLine(line)
    })
    child.on('exit', () => resolve())
  })
}

/** A fresh temp directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dictdb-test-'))
  dirs.push(dir)
  return dir
}
const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** Sets chunking limits for one test (restored after it). */
export function withLimits(overrides: Partial<typeof limits>): void {
  const saved = { ...limits }
  Object.assign(limits, overrides)
  restores.push(() => Object.assign(limits, saved))
}
const restores: (() => void)[] = []
afterEach(() => {
  for (const restore of restores.splice(0).reverse()) restore()
})

export const FORMATS = ['json', 'binary'] as const

/**
 * A database with every kind of thing a file must keep: several tables (a system table too),
 * every value type, nested values, keys that look like JSON tags, a deleted record (the key
 * counter must stay past it), string keys, indexes of each kind, a type-string schema.
 */
export function richDatabase(): Database {
  const db = new Database()
  const users = db.createTable('users', {
    schema: { name: 'string', age: 'integer', born: { type: 'date', optional: true }, balance: { type: 'bigint', optional: true }, tags: { type: 'array', optional: true }, meta: { type: 'object', optional: true } },
    indexes: [{ field: 'age', type: 'sorted' }, { field: 'name', unique: true }],
  })
  users.insert({ name: 'Ada', age: 36, born: new Date('1815-12-10T00:00:00.000Z'), balance: 2n ** 80n, tags: ['math', 'poetry'], meta: { a: { b: [1, 'x', null, true] } } })
  users.insert({ name: 'Alan', age: 41, meta: { $date: 'not a tag', n: -0.5 } })
  users.insert({ name: 'Grace', age: 85, meta: { $object: { $bigint: '1' } }, tags: [] })
  users.insert({ name: 'Édith ✓ 😀', age: 30, meta: { 'line\nbreak': 'tab\there "quoted" \\ back', empty: '' } })
  users.insert({ name: 'Temp', age: 1 })
  users.delete({ name: 'Temp' })
  const cities = db.createTable('cities', { primaryKey: 'code', indexes: [{ field: 'country' }] })
  cities.insert([
    { code: 'PAR', country: 'FR', pop: 2.1e6 },
    { code: 'LON', country: 'UK', pop: 8.9e6, big: -123456789012345678901234567890n },
  ])
  db.createTable('empty')
  const sys = db.createTable('_counters', { primaryKey: 'name' })
  sys.insert({ name: 'hits', value: 42 })
  return db
}

/**
 * Bundles a child-process fixture (tests/persist/fixtures/<name>.ts, with the sources it
 * imports) into one .mjs, once per test run: a child then starts in ~50 ms under plain node,
 * instead of a second under a TypeScript loader.
 */
export function fixture(name: string): string {
  const out = join(fileURLToPath(new URL('../../node_modules/.cache/dictdb-tests/', import.meta.url)), `${name}-${process.pid}.mjs`)
  if (!built.has(out)) {
    buildSync({
      entryPoints: [fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: out,
      packages: 'external',
      logLevel: 'error',
    })
    built.add(out)
  }
  return out
}
const built = new Set<string>()
afterAll(() => {
  for (const file of built) rmSync(file, { force: true })
  built.clear()
})

/**
 * Turns fsync off for the calling suite: for property tests that save and load hundreds of
 * times and test content, not durability (fsync on a busy disk costs them seconds).
 */
export function withoutFsync(): void {
  let restore: () => void = () => {}
  beforeAll(() => {
    restore = replaceFileSystem({ fsyncSync() {}, fsync: async () => {} })
  })
  afterAll(() => restore())
}

/** The files of a backup folder, without its lock file. */
export function backupFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => name !== LOCK_NAME)
}

/** A child process running a fixture, its output lines, and a hard time limit (it is killed past it). */
export interface Child {
  readonly pid: number
  /** Resolves with the first line (past or future) that matches. */
  line(pattern: RegExp): Promise<string>
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>
  kill(signal: NodeJS.Signals): void
}

export function startChild(name: string, args: readonly string[], limitMs = 20_000): Child {
  const child = spawn(process.execPath, [fixture(name), ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines: string[] = []
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = []
  const limit = setTimeout(() => child.kill('SIGKILL'), limitMs)
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  void eachLine(child, (line) => {
    lines.push(line)
    for (const w of waiters.splice(0)) (w.pattern.test(line) ? w.resolve(line) : waiters.push(w))
  }).then(() => clearTimeout(limit))
  return {
    pid: child.pid as number,
    exited,
    kill: (signal) => child.kill(signal),
    line: (pattern) =>
      new Promise((resolve, reject) => {
        const seen = lines.find((l) => pattern.test(l))
        if (seen !== undefined) return resolve(seen)
        waiters.push({ pattern, resolve })
        void exited.then(() => reject(new Error(`the child exited without a line matching ${pattern}; it wrote: ${lines.join(' | ')}`)))
      }),
  }
}
