// dictdb/postgres as users load it: the built package, by name, from both module systems.
import { spawnSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { CHILD_LIMIT_MS } from '../support/limits'

const root = fileURLToPath(new URL('../..', import.meta.url))

function node(type: 'module' | 'commonjs', script: string): string {
  const result = spawnSync(process.execPath, [`--input-type=${type}`, '-e', script], { cwd: root, encoding: 'utf8', timeout: CHILD_LIMIT_MS })
  if (result.status !== 0) throw new Error(result.stderr)
  return result.stdout.trim()
}

// A server that is not there: connect() rejects with the root's ConnectionError class.
const REFUSED = "{ url: 'postgres://nobody@127.0.0.1:1/none', lockTimeoutMs: 200 }"

describe('the dictdb/postgres entry', () => {
  it('import of dictdb alone never loads the PostgreSQL client', () => {
    // ESM: no file the root entry can reach names pg (only dist/postgres.* does).
    const reachable = readdirSync(join(root, 'dist')).filter((f) => /\.(c?js)$/.test(f) && !f.startsWith('postgres.'))
    for (const file of reachable) expect(readFileSync(join(root, 'dist', file), 'utf8'), file).not.toMatch(/(from |require\()["']pg["']/)
    expect(node('commonjs', "require('dictdb'); console.log(Object.keys(require.cache).some((k) => k.includes('/node_modules/pg/')))")).toBe('false')
  })

  it('connect from ES modules rejects an unreachable server with the ConnectionError of dictdb', () => {
    const out = node('module', `import { DictDBError } from 'dictdb'; import { connect } from 'dictdb/postgres'; const e = await connect(${REFUSED}).catch((e) => e); console.log(e instanceof DictDBError, e.code)`)
    expect(out).toBe('true ConnectionError')
  })

  it('connect from CommonJS rejects an unreachable server with the ConnectionError of dictdb', () => {
    const out = node('commonjs', `const { DictDBError } = require('dictdb'); const { connect } = require('dictdb/postgres'); connect(${REFUSED}).catch((e) => console.log(e instanceof DictDBError, e.code))`)
    expect(out).toBe('true ConnectionError')
  })

  it('ConnectedDatabase, from either module system, extends the Database of dictdb', () => {
    expect(node('module', "import { Database } from 'dictdb'; import { ConnectedDatabase } from 'dictdb/postgres'; console.log(ConnectedDatabase.prototype instanceof Database)")).toBe('true')
    expect(node('commonjs', "const { Database } = require('dictdb'); const { ConnectedDatabase } = require('dictdb/postgres'); console.log(ConnectedDatabase.prototype instanceof Database)")).toBe('true')
  })
})
