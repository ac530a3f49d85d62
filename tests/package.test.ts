// The public build, used as users use it: `node` imports the package by name ('dictdb' resolves to
// this package through the `exports` of package.json — Node's package self-reference), from ES
// modules and from CommonJS. Needs dist/: `npm test` builds it first (the `pretest` script).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { CHILD_LIMIT_MS } from './support/limits'

const root = fileURLToPath(new URL('..', import.meta.url))

/** Runs `node` on a script given inline, from the package root (so 'dictdb' is this package). */
function node(args: string[], script?: string, timeout = CHILD_LIMIT_MS): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, script === undefined ? args : [...args, script], { cwd: root, encoding: 'utf8', timeout })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

// A tiny round trip: what it prints is compared below, the same for both module systems.
const ROUND_TRIP = `
const db = new Database()
const users = db.createTable('users', { indexes: [{ field: 'age', type: 'sorted' }] })
users.insert([{ name: 'Ada', age: 36 }, { name: 'Alan', age: 41 }, { name: 'Grace', age: 45 }])
const rows = users.select({ where: users.field('age').gte(40), orderBy: '-age', columns: ['name'] })
let code = null
try { users.insert({ id: 1 }) } catch (e) { code = e instanceof DictDBError ? e.code : 'not a DictDBError' }
console.log(JSON.stringify({ rows, strategy: users.explain(users.field('age').gte(40)).strategy, code }))
`
const EXPECTED = { rows: [{ name: 'Grace' }, { name: 'Alan' }], strategy: 'index', code: 'DuplicateKeyError' }

describe('the built package', () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it first)')
  })

  it('works from an ES module: import { Database } from "dictdb"', () => {
    const out = node(['--input-type=module', '-e'], `import { Database, DictDBError } from 'dictdb'\n${ROUND_TRIP}`)
    expect(out.stderr).toBe('')
    expect(out.status).toBe(0)
    expect(JSON.parse(out.stdout)).toEqual(EXPECTED)
  })

  it('works from CommonJS: require("dictdb")', () => {
    const out = node(['--input-type=commonjs', '-e'], `const { Database, DictDBError } = require('dictdb')\n${ROUND_TRIP}`)
    expect(out.stderr).toBe('')
    expect(out.status).toBe(0)
    expect(JSON.parse(out.stdout)).toEqual(EXPECTED)
  })

  it('resolves import and require to the ESM and CJS builds', () => {
    const esm = node(['--input-type=module', '-e'], "console.log(import.meta.resolve('dictdb'))")
    const cjs = node(['--input-type=commonjs', '-e'], "console.log(require.resolve('dictdb'))")
    expect(esm.stdout.trim()).toMatch(/\/dist\/index\.js$/)
    expect(cjs.stdout.trim()).toMatch(/[\\/]dist[\\/]index\.cjs$/)
  })

  it('ships type declarations for both module systems', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
    expect(pkg.types).toBe('./dist/index.d.ts')
    for (const file of [pkg.types, pkg.exports['.'].import.types, pkg.exports['.'].require.types]) {
      expect(existsSync(join(root, file)), `${file} exists`).toBe(true)
    }
    expect(readFileSync(join(root, 'dist', 'index.d.ts'), 'utf8')).toMatch(/\bDatabase\b/)
  })

  it('exports every public name (scripts/check-exports.mjs)', () => {
    const out = node([join(root, 'scripts', 'check-exports.mjs')])
    expect(out.stderr.split('\n').filter((l) => l.startsWith('✗'))).toEqual([])
    expect(out.status).toBe(0)
    expect(out.stdout).toMatch(/^check-exports: ok/)
  })

  it('has an export check that fails on a missing name', () => {
    const out = node([join(root, 'scripts', 'check-exports.mjs'), '--require', 'NoSuchExport'])
    expect(out.status).toBe(1)
    expect(out.stderr).toContain('`NoSuchExport` is not exported from the package root')
  })

  it('keeps internals (exportState, fromState, definition, acquireSync…) out of the type declarations', () => {
    // Every declaration file: with code splitting, index.d.ts re-exports from shared chunks.
    const files = readdirSync(join(root, 'dist')).filter((f) => /\.d\.c?ts$/.test(f))
    expect(files).toContain('index.d.ts')
    for (const file of files) {
      const text = readFileSync(join(root, 'dist', file), 'utf8')
      for (const internal of ['exportState', 'fromState', 'definition()', 'acquireSync', 'openConnected', 'lockSlot', 'TableStore', '@internal']) {
        expect(text, `${file} mentions ${internal}`).not.toContain(internal)
      }
    }
  })

  it('has type declarations a strict consumer compiles against (nothing stripped is still referenced)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dictdb-consumer-'))
    try {
      writeFileSync(join(dir, 'consumer.ts'), CONSUMER)
      const config = { compilerOptions: { strict: true, noEmit: true, skipLibCheck: false, module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], typeRoots: [join(root, 'node_modules', '@types')], paths: { dictdb: [join(root, 'dist', 'index.d.ts')] } }, files: ['consumer.ts'] }
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config))
      const out = node([join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], undefined, 170_000)
      expect(out.stdout + out.stderr).toBe('')
      expect(out.status).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    // A full type-check of @types/node and the declarations: 5-10 s alone, several times that on
    // a loaded machine. The limit is for a compile that never ends, not a speed requirement.
  }, 180_000)
})

// A typed consumer of the built declarations: compiles only if the public types are whole.
const CONSUMER = `
import { Database, increment, count, avg, type Table } from 'dictdb'
interface User { id?: number; name: string; age?: number }
const db = new Database()
const users: Table<User, 'id'> = db.createTable<User>('users')
const id: number = users.insert({ name: 'Ada', age: 36 })
users.update({ age: increment(1) }, { id })
const names: Array<{ name: string }> = users.select({ columns: ['name'] })
const stats: { n: number; a: number | null } = users.aggregate({ n: count(), a: avg('age') })
export { names, stats }
`

// Loads the ESM build by import and the CommonJS build by require in one process, as an app does
// when one of its CommonJS dependencies requires dictdb, then mixes what the two make.
const MIXED = `
import { createRequire } from 'node:module'
import * as esm from 'dictdb'
const cjs = createRequire(import.meta.url)('dictdb')
const out = { twoCopies: esm.Database !== cjs.Database }
const db = new esm.Database()
const users = db.createTable('users')
users.insert([{ id: 1, name: 'Ada', visits: 1 }, { id: 2, name: 'Bob', visits: 5 }])
users.update({ visits: cjs.increment(2) }, { id: 1 })
out.incremented = users.get(1).visits
out.selected = users.select({ where: new cjs.Field('visits').gt(3), columns: ['name'] })
out.combined = users.count(esm.and(cjs.and(new cjs.Field('id').eq(1)), new esm.Field('name').eq('Ada')))
out.revived = users.count(esm.Condition.from(JSON.stringify(new cjs.Field('name').eq('Bob'))))
out.conditionIsCondition = new cjs.Field('a').eq(1) instanceof esm.Condition && new esm.Field('a').eq(1) instanceof cjs.Condition
try { users.insert({ id: 1 }) } catch (e) {
  out.errorChecks = [e instanceof cjs.DictDBError, e instanceof cjs.DuplicateKeyError, e instanceof cjs.InvalidArgumentError, e instanceof esm.DuplicateKeyError]
}
const other = new cjs.Database().createTable('t')
try { other.select({ limit: -1 }) } catch (e) { out.cjsErrorInEsm = [e instanceof esm.InvalidArgumentError, e instanceof esm.DuplicateKeyError] }
out.notAnError = [{} instanceof esm.DictDBError, Object.create(null) instanceof cjs.Condition, 5 instanceof esm.Increment]
out.workerListeners = process.listenerCount('worker')
console.log(JSON.stringify(out))
`

describe('the ESM and CommonJS builds loaded in one process (the dual-package hazard)', () => {
  it('names every exported class of both builds and both entries as it is exported, and gives each error the code of its name (or of the listed class it extends)', () => {
    // The bundler may rename a class (`class _Database` for one that refers to itself, `X2` for two
    // of one name): its `name`, and an error's `name` and `code`, must still be the exported name
    // (ChangeFeedOverflowError carries the code of the class it extends, InvalidStateError).
    const script = `
      const out = []
      const Base = { esm: (await import('dictdb')).DictDBError, cjs: require('dictdb').DictDBError }
      for (const entry of ['dictdb', 'dictdb/postgres']) {
        for (const [system, m] of [['esm', await import(entry)], ['cjs', require(entry)]]) {
          for (const [key, value] of Object.entries(m)) {
            if (typeof value !== 'function' || !/^[A-Z]/.test(key)) continue
            if (value.name !== key) out.push(entry + ' ' + system + ' ' + key + ' is named ' + value.name)
            if (value.prototype instanceof Base[system] || value === Base[system]) {
              const e = new value('x')
              const code = key === 'ChangeFeedOverflowError' ? 'InvalidStateError' : key
              if (e.name !== key || e.code !== code) out.push(entry + ' ' + system + ' ' + key + ' makes errors named ' + e.name + ', code ' + e.code)
            }
          }
        }
      }
      console.log(JSON.stringify(out))`
    const out = node(['--input-type=module', '-e'], `import { createRequire } from 'node:module'\nconst require = createRequire(import.meta.url)\n${script}`)
    expect(out.stderr).toBe('')
    expect(JSON.parse(out.stdout)).toEqual([])
  })

  it('keeps class names in the build: an error code is its class name, DictDBError included', () => {
    const script = "const d = require('dictdb'); console.log(JSON.stringify([new d.DictDBError('x').code, new d.DuplicateKeyError('x').name, d.Condition.name, d.Increment.name, d.Database.name]))"
    expect(JSON.parse(node(['--input-type=commonjs', '-e'], script).stdout)).toEqual(['DictDBError', 'DuplicateKeyError', 'Condition', 'Increment', 'Database'])
  })


  it('share one state: each recognises what the other makes, and one worker listener serves both', () => {
    const out = node(['--input-type=module', '-e'], MIXED)
    expect(out.stderr).toBe('')
    expect(JSON.parse(out.stdout)).toEqual({
      twoCopies: true,
      incremented: 3,
      selected: [{ name: 'Bob' }],
      combined: 1,
      revived: 1,
      conditionIsCondition: true,
      errorChecks: [true, true, false, true],
      cjsErrorInEsm: [true, false],
      notAnError: [false, false, false],
      workerListeners: 1,
    })
  })

  it('importing dictdb adds one process listener and its shared state, nothing else (package.json "sideEffects": false)', () => {
    const script = `
      const before = process.eventNames().map((n) => [String(n), process.listenerCount(n)])
      await import('dictdb')
      const after = process.eventNames().map((n) => [String(n), process.listenerCount(n)])
      const globals = Object.getOwnPropertySymbols(globalThis).map(String).filter((s) => s.includes('dictdb')).sort()
      console.log(JSON.stringify({ before, after, globals }))`
    const out = JSON.parse(node(['--input-type=module', '-e'], script).stdout)
    expect(out.after).toEqual([...out.before, ['worker', 1]])
    // The process-wide state both builds share, under Symbol.for keys.
    expect(out.globals).toEqual(['Symbol(dictdb.local-waits)', 'Symbol(dictdb.lock-context)', 'Symbol(dictdb.shared-databases)', 'Symbol(dictdb.worker-reaper)'])
  })
})
