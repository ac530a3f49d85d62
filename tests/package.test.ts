// The public build, used as users use it: `node` imports the package by name ('dictdb' resolves to
// this package through the `exports` of package.json — Node's package self-reference), from ES
// modules and from CommonJS. Needs dist/: `npm test` builds it first (the `pretest` script).
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))

/** Runs `node` on a script given inline, from the package root (so 'dictdb' is this package). */
function node(args: string[], script?: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, script === undefined ? args : [...args, script], { cwd: root, encoding: 'utf8', timeout: 30_000 })
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
})
