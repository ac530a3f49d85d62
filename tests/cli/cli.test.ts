import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildSync } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BackupManager, Database } from '../../src/index'
import { snapshot } from '../support/helpers'
import { tempDir } from '../persist/support'
import { CHILD_LIMIT_MS } from '../support/limits'

const root = fileURLToPath(new URL('../../', import.meta.url))
let cli: string

/** Newest modification time under `dir`. */
function newest(dir: string): number {
  let t = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    t = Math.max(t, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return t
}

beforeAll(() => {
  // The package's own build (npm test builds first). If dist/ is missing or older than the
  // sources (vitest run by hand), the same entry is bundled aside, so as not to race other
  // suites that read dist/.
  const dist = join(root, 'dist', 'cli.js')
  if (existsSync(dist) && statSync(dist).mtimeMs >= newest(join(root, 'src'))) {
    cli = dist
    return
  }
  cli = join(root, 'node_modules', '.cache', 'dictdb-tests', `cli-${process.pid}.mjs`)
  buildSync({ entryPoints: [join(root, 'src', 'cli', 'main.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: cli, packages: 'external', logLevel: 'error' })
})

afterAll(() => {
  if (cli.includes('.cache')) rmSync(cli, { force: true })
})

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: CHILD_LIMIT_MS })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

function sample(dir: string, format: 'json' | 'binary' = 'json'): string {
  const db = new Database()
  db.createTable('users', { schema: { name: 'string', age: 'integer' }, indexes: [{ field: 'age', type: 'sorted' }, { field: 'name', unique: true }] }).insert([
    { name: 'Ada', age: 36 },
    { name: 'Alan', age: 41 },
  ])
  db.createTable('empty')
  const file = join(dir, format === 'json' ? 'db.json' : 'db.bin')
  db.save(file, { format })
  return file
}

/** A folder of `n` incremental backups (a full one, then deltas), one inserted record each. */
async function backupFolder(n: number): Promise<{ db: Database; dir: string }> {
  const db = new Database()
  const dir = tempDir()
  const backups = new BackupManager(db, dir, { incremental: true })
  const t = db.createTable('t')
  for (let i = 0; i < n; i++) {
    t.insert({ i })
    await backups.backupNow()
  }
  await backups.stop()
  return { db, dir }
}

describe('the dictdb command', () => {
  it('is the package bin, with a #! line', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
    expect(pkg.bin).toEqual({ dictdb: './dist/cli.js' })
    expect(readFileSync(join(root, 'src', 'cli', 'main.ts'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true)
    expect(readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true)
  })

  it('prints help, and exits 2 on a wrong command line', () => {
    expect(run('--help')).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage: dictdb <command>') })
    expect(run('frobnicate')).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown command `frobnicate`[\s\S]*--help/) })
    expect(run('inspect')).toMatchObject({ code: 2, stderr: expect.stringContaining('expected: dictdb inspect <file>') })
    expect(run('inspect', 'a', '--bogus')).toMatchObject({ code: 2, stderr: expect.stringContaining('--bogus') })
    expect(run('--version').stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })

  it.each(['json', 'binary'] as const)('inspect shows tables, counts, indexes, schemas and sizes (%s)', (format) => {
    const file = sample(tempDir(), format)
    const r = run('inspect', file)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(new RegExp(`dictdb database file, ${format} format version ${format === 'json' ? 1 : 3}`))
    expect(r.stdout).toMatch(/users\s+2\s+id\s+3\s+age \(sorted\), name \(hash, unique\)\s+\{ age, name \}\s+\d+ B/)
    expect(r.stdout).toMatch(/empty\s+0\s+id\s+1\s+-\s+none/)
    const json = JSON.parse(run('inspect', file, '--json').stdout)
    expect(json.tables.map((t: { name: string; records: number }) => [t.name, t.records])).toEqual([
      ['users', 2],
      ['empty', 0],
    ])
  })

  it('verify says OK for a good file, and exits 1 with the reason for a damaged one', () => {
    const dir = tempDir()
    const file = sample(dir)
    expect(run('verify', file)).toMatchObject({ code: 0, stdout: expect.stringContaining('OK') })
    const bytes = readFileSync(file)
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] as number) ^ 1
    writeFileSync(file, bytes)
    expect(run('verify', file)).toMatchObject({ code: 1, stderr: expect.stringMatching(/dictdb: .* is corrupt/) })
    expect(run('inspect', join(dir, 'missing.json'))).toMatchObject({ code: 1, stderr: expect.stringContaining('no such file') })
  })

  it('verify and restore a backup directory: 0 when whole, 3 when files are lost', async () => {
    const { db, dir } = await backupFolder(4)
    const out = join(tempDir(), 'restored.json')
    expect(run('verify', dir)).toMatchObject({ code: 0, stdout: expect.stringContaining('Restored to backup #4') })
    expect(run('restore', dir, out)).toMatchObject({ code: 0 })
    expect(snapshot(Database.load(out))).toEqual(snapshot(db))
    writeFileSync(join(dir, 'delta-000000000003.json'), 'damaged')
    const verified = run('verify', dir)
    expect(verified.code).toBe(3)
    expect(verified.stdout).toMatch(/CORRUPT\s+delta-000000000003\.json/)
    expect(verified.stdout).toMatch(/LOST\s+delta-000000000004\.json/)
    const restored = run('restore', dir, join(tempDir(), 'partial.bin'))
    expect(restored.code).toBe(3)
    expect(restored.stdout).toMatch(/LOST\s+delta-000000000003\.json/)
    expect(run('restore', tempDir(), out)).toMatchObject({ code: 1, stderr: expect.stringContaining('holds no full backup') })
  })

  it('exports a table as CSV, and imports one into a database file', () => {
    const dir = tempDir()
    const file = sample(dir)
    const csv = join(dir, 'users.csv')
    expect(run('export', file, 'users', '--csv', csv, '--delimiter', ';')).toMatchObject({ code: 0, stdout: expect.stringContaining('Exported 2 row(s)') })
    expect(readFileSync(csv, 'utf8')).toBe('id;age;name\n1;36;Ada\n2;41;Alan\n')
    expect(run('export', file, 'nope', '--csv', csv)).toMatchObject({ code: 1, stderr: expect.stringContaining('No table named `nope`') })
    expect(run('export', file, 'users')).toMatchObject({ code: 2 })

    writeFileSync(join(dir, 'cities.csv'), 'code,name\nPAR,Paris\nLON,London\n')
    expect(run('import', file, join(dir, 'cities.csv'), '--table', 'cities', '--primary-key', 'code')).toMatchObject({ code: 0, stdout: expect.stringContaining('Imported 2 row(s)') })
    const db = Database.load(file)
    expect(db.listTables()).toEqual(['users', 'empty', 'cities'])
    expect(db.getTable('cities').get('LON')).toEqual({ code: 'LON', name: 'London' })
    expect(run('import', file, join(dir, 'cities.csv'), '--table', 'cities')).toMatchObject({ code: 1, stderr: expect.stringContaining('already exists') })

    const fresh = join(dir, 'new.bin')
    expect(run('import', fresh, join(dir, 'cities.csv'), '--table', 'cities', '-q')).toMatchObject({ code: 0 })
    expect(readFileSync(fresh).subarray(1, 4).toString()).toBe('DDB')
  })

  it('prints plain status lines when the output is not a terminal, progress bars when it is', () => {
    const file = sample(tempDir())
    const piped = run('verify', file)
    expect(piped.stderr).toMatch(/^Loading: .*2 records\n$/)
    expect(piped.stderr).not.toMatch(/\[[█░]+\]|\x1b\[/)
    // `script` runs the command on a pseudo-terminal.
    const tty = spawnSync('script', ['-qec', `${process.execPath} ${cli} verify ${file}`, '/dev/null'], { encoding: 'utf8', timeout: CHILD_LIMIT_MS })
    if (tty.error !== undefined) return // no `script` here
    expect(tty.status).toBe(0)
    expect(tty.stdout).toMatch(/Loading\s+\[[█░]+\] 100%/)
  })

  it('export --csv - writes the CSV to stdout and no file named -', () => {
    const dir = tempDir()
    const file = sample(dir)
    const r = spawnSync(process.execPath, [cli, 'export', file, 'users', '--csv', '-'], { encoding: 'utf8', timeout: CHILD_LIMIT_MS, cwd: dir })
    expect(r.status).toBe(0)
    expect(r.stdout).toBe('id,age,name\n1,36,Ada\n2,41,Alan\n')
    expect(existsSync(join(dir, '-'))).toBe(false)
    expect(readdirSync(dir)).toEqual(['db.json'])
  })

  it('a wrong command line of 5,000 characters is shown by its start', () => {
    const long = 'x'.repeat(5_000)
    for (const args of [[long], ['inspect', sample(tempDir()), `--${long}`], ['inspect', join(tempDir(), long)]]) {
      const r = run(...args)
      expect(r.code).not.toBe(0)
      expect(r.stderr.length).toBeLessThan(600)
    }
  })

  it('an unknown option gets a did-you-mean, not the raw Node message', () => {
    const file = sample(tempDir())
    const r = run('inspect', file, '--jsn')
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('dictdb: unknown option `--jsn`. Did you mean `--json`?')
    expect(r.stderr).not.toMatch(/positional argument|"--jsn/)
    expect(run('inspect', file, '--frobnicate').stderr).toMatch(/unknown option `--frobnicate`\. Options: --format, --delimiter/)
    expect(run('export', file, 'users', '--csv')).toMatchObject({ code: 2, stderr: expect.stringContaining('option `--csv` needs a value') })
  })

  it('inspect --json prints each schema as an object', () => {
    const db = new Database()
    db.createTable('users', { schema: { name: 'string', age: { type: 'integer', optional: true } } })
    db.createTable('free')
    const file = join(tempDir(), 'db.json')
    db.save(file)
    const tables = JSON.parse(run('inspect', file, '--json').stdout).tables
    expect(tables.map((t: { schema: unknown }) => t.schema)).toEqual([{ name: 'string', age: { type: 'integer', optional: true } }, null])
    expect(run('inspect', file).stdout).toMatch(/users\s+0\s+id\s+1\s+-\s+\{ age, name \}/)
  })

  it('restore reports the lost backup files once', async () => {
    const { dir } = await backupFolder(3)
    writeFileSync(join(dir, 'delta-000000000003.json'), 'damaged')
    const r = run('restore', dir, join(tempDir(), 'out.json'))
    expect(r.code).toBe(3)
    const said = `${r.stdout}\n${r.stderr}`
    // Once: the LOST line of the report, not also a warning saying the same.
    expect(said.match(/^.*delta-000000000003\.json.*$/gm)).toEqual([expect.stringMatching(/^LOST\s+delta-000000000003\.json/)])
  })
})
